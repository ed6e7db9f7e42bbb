"""karyo.nuclei.segment (being written)."""
