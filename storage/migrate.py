"""Numbered SQL migrations, one series for both backends, each applied in one transaction.

Migrations live in ``storage/migrations/NNNN_name.sql``; the number is the version a database
has after applying it. Applying is idempotent: a database at version N only runs N+1 onwards.

- SQLite records the version in ``PRAGMA user_version``.
- PostgreSQL records it in the one-row table ``whosnext_schema``. PostgreSQL support began at
  version 7: a new PostgreSQL database takes ``migrations/postgresql/0007_baseline.sql`` (the
  whole schema at version 7) and then 0008 onwards like SQLite. A later migration whose SQL
  must differ on PostgreSQL has its twin of the same name in ``migrations/postgresql/``. Each
  migration's transaction first takes an advisory lock and reads the version again, so
  processes starting together apply each migration once, one after another.

What SQL can't do (a time zone's days) a migration does in Python after its statements, in
its transaction: ``AFTER``, by version, on both backends.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.rows import from_ts

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
PG_BASELINE = 7
PG_LOCK = 0x5748_4F53_4E45_5854  # "WHOSNEXT": the advisory lock migrations take
PG_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS whosnext_schema (version INTEGER NOT NULL)"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def _files(folder: Any) -> dict[int, Migration]:
    found = {}
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found[int(m.group(1))] = Migration(int(m.group(1)), entry.name,
                                               entry.read_text("utf-8"))
    return found


def _days_in_own_zones(db: Any) -> None:
    """0010: the SQL gave every attempt its community's day. A member with a zone of their own
    asked on their own days: their attempts' days, and their days' counts, in that zone."""
    for community, member, zone in db.execute(
            "SELECT community_id, member_id, timezone FROM members "
            "WHERE timezone IS NOT NULL").fetchall():
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # never stored by /timezone, which checks it
        days = [(from_ts(at).astimezone(tz).date().isoformat(), ident) for ident, at in
                db.execute("SELECT id, created_at FROM attempts WHERE community_id = ? AND "
                           "member_id = ?", (community, member)).fetchall()]
        if not days:
            continue
        db.executemany("UPDATE attempts SET member_day = ? WHERE id = ?", days)
        db.execute("DELETE FROM member_days WHERE community_id = ? AND member_id = ?",
                   (community, member))
        db.executemany("INSERT INTO member_days (community_id, member_id, day, attempts) "
                       "VALUES (?, ?, ?, ?)", [(community, member, day, n) for day, n in
                                              Counter(day for day, _ in days).items()])


# Python run after a migration's SQL, in its transaction: ``db`` is the sqlite3 connection or
# the PostgreSQL ``PgTx`` (both take ``execute`` and ``executemany`` with ``?``).
AFTER: dict[int, Callable[[Any], None]] = {10: _days_in_own_zones}


def migrations(backend: str = "sqlite") -> list[Migration]:
    """The migrations a new database of ``backend`` takes, in order (on PostgreSQL the first
    is the baseline, which brings it to version 7 at once)."""
    folder = resources.files("storage").joinpath("migrations")
    common = _files(folder)
    numbers = sorted(common)
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migration numbers must run 1, 2, 3…; found {numbers}")
    if backend == "sqlite":
        return [common[n] for n in numbers]
    twins = _files(folder.joinpath("postgresql"))
    return [twins[PG_BASELINE]] + [twins.get(n, common[n]) for n in numbers if n > PG_BASELINE]


def latest() -> int:
    """The version this Who's Next brings a database to (the same on both backends)."""
    return len(migrations())


def statements(sql: str) -> list[str]:
    """Split a migration into statements (our migrations hold no triggers or string semicolons)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def _newer(current: int) -> RuntimeError:
    return RuntimeError(f"the database is at version {current}, newer than this Who's Next "
                        f"(which knows {latest()}). Upgrade the bot.")


def apply(conn: sqlite3.Connection) -> int:
    """Bring a SQLite database up to date; returns the new version. ``conn`` must be in
    autocommit mode (isolation_level=None) so each migration's BEGIN/COMMIT is ours."""
    current = version(conn)
    known = migrations()
    if current > len(known):
        raise _newer(current)
    for mig in known[current:]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in statements(mig.sql):
                conn.execute(stmt)
            if mig.version in AFTER:
                AFTER[mig.version](conn)
            conn.execute(f"PRAGMA user_version = {mig.version:d}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(known)


def version(conn: sqlite3.Connection) -> int:
    """The schema version a SQLite database is at (0: empty, or not one of ours yet)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def pending(current: int, backend: str = "sqlite") -> list[Migration]:
    """The migrations a database at version ``current`` still needs, in order."""
    return [m for m in migrations(backend) if m.version > current]


def apply_postgresql(c: Any) -> list[Migration]:
    """Bring a PostgreSQL database up to date, one migration per transaction, under an advisory
    lock (so processes starting at once take turns); returns the ones this call applied. ``c``
    is a ``storage.postgres.PgTx`` on a connection not in a transaction."""
    applied: list[Migration] = []
    while True:
        c.run("BEGIN")
        try:
            c.execute("SELECT pg_advisory_xact_lock(?)", (PG_LOCK,))
            current = version_postgresql(c, create=True)
            if current > latest():
                raise _newer(current)
            todo = pending(current, "postgresql")
            if not todo:
                c.run("COMMIT")
                return applied
            mig = todo[0]
            for stmt in statements(mig.sql):
                c.run(stmt)
            if mig.version in AFTER:
                AFTER[mig.version](c)
            c.execute("UPDATE whosnext_schema SET version = ?", (mig.version,))
            c.run("COMMIT")
        except BaseException:
            if not c.conn.is_closed():
                c.run("ROLLBACK")
            raise
        applied.append(mig)


def version_postgresql(c: Any, create: bool = False) -> int:
    """The schema version a PostgreSQL database is at (0: none of ours yet). With ``create``
    (inside the migration lock), makes the version table if it isn't there."""
    if create:
        c.run(PG_VERSION_TABLE)
    elif c.execute("SELECT to_regclass('whosnext_schema')").fetchone()[0] is None:
        return 0
    row = c.execute("SELECT version FROM whosnext_schema").fetchone()
    if row is None:
        c.execute("INSERT INTO whosnext_schema (version) VALUES (0)")
        return 0
    return int(row[0])
