"""karyo.histogram (being written)."""
