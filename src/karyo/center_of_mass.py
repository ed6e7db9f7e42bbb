"""karyo.center_of_mass (being written)."""
