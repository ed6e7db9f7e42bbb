"""karyo.features.zernike (being written)."""
