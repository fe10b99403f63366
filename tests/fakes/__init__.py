"""Loopback fakes of the chat platforms, for the adapter tests."""
