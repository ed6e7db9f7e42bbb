"""karyo.resize (being written)."""
