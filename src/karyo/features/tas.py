"""karyo.features.tas (being written)."""
