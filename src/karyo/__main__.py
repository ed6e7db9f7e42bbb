"""`python -m karyo` runs the karyo command."""
