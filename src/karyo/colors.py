"""karyo.colors (being written)."""
