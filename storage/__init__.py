"""Storage: the core's Repository on SQLite (aiosqlite)."""
