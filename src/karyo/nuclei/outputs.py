"""Writing one image's outputs (being written)."""
