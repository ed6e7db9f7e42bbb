"""karyo.thin (being written)."""
