"""karyo.polygon (being written)."""
