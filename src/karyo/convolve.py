"""karyo.convolve (being written)."""
