"""karyo.nuclei.evaluate (being written)."""
