"""karyo.nuclei.measure (being written)."""
