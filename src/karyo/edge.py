"""karyo.edge (being written)."""
