"""karyo.features.texture (being written)."""
