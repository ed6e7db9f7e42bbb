"""karyo.euler (being written)."""
