"""karyo.features.lbp (being written)."""
