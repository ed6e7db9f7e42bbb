"""karyo.features.__init__ (being written)."""
