"""karyo.io (being written)."""
