"""Numbered SQL migrations, recorded in ``PRAGMA user_version``, each in one transaction.

Migrations live in ``storage/migrations/NNNN_name.sql``; the number is the version a database
has after applying it. Applying is idempotent: a database at version N only runs N+1 onwards.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda mig: mig.version)
    for expected, mig in enumerate(found, start=1):
        if mig.version != expected:
            raise RuntimeError(f"migration numbers must run 1, 2, 3…; found {mig.name}")
    return found


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (our migrations hold no triggers or string semicolons)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def apply(conn: sqlite3.Connection) -> int:
    """Bring the database up to date; returns the new version. ``conn`` must be in autocommit
    mode (isolation_level=None) so each migration's BEGIN/COMMIT is ours."""
    current = version(conn)
    known = migrations()
    if current > len(known):
        raise RuntimeError(f"the database is at version {current}, newer than this Who's Next "
                           f"(which knows {len(known)}). Upgrade the bot.")
    for mig in known[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in _statements(mig.sql):
                conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {mig.version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(known)


def version(conn: sqlite3.Connection) -> int:
    """The schema version a database is at (0: empty, or not one of ours yet)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def pending(current: int) -> list[Migration]:
    """The migrations a database at version ``current`` still needs, in order."""
    return migrations()[current:]
