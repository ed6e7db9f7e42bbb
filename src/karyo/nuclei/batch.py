"""karyo.nuclei.batch (being written)."""
