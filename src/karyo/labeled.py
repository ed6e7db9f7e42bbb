"""karyo.labeled (being written)."""
