"""karyo.distance (being written)."""
