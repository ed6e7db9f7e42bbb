"""karyo.nuclei.report (being written)."""
