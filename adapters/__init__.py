"""Adapters: bridges from chat platforms (and the terminal) to the core."""
