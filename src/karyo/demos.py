"""karyo.demos (being written)."""
