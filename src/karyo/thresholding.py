"""karyo.thresholding (being written)."""
