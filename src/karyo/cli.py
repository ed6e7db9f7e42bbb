"""The `karyo` command (being written)."""
