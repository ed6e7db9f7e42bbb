"""karyo.segmentation (being written)."""
