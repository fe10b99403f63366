"""Storage: the core's Repository on SQLite (Python's sqlite3, on a database thread of its own)."""
