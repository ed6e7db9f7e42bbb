"""karyo.stretch (being written)."""
