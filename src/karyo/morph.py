"""karyo.morph (being written)."""
