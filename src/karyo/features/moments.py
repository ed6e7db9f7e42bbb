"""karyo.features.moments (being written)."""
