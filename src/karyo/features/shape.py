"""karyo.features.shape (being written)."""
