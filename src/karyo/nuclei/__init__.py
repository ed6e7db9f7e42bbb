"""karyo.nuclei.__init__ (being written)."""
