"""``whosnext db copy``: a whole Who's Next database into another one, either backend
(SQLite to PostgreSQL above all; PostgreSQL to SQLite and SQLite to SQLite run the same code).

What is copied: every table of ours (``TABLES``), parents before children (members before the
attempts and promises that name them, attempts before their cheers), each streamed in pages of
``BATCH`` rows in primary-key order (``WHERE key > last ORDER BY key LIMIT n``), so no table is
ever held in memory whole; the next page is read while the last one is written. Ids stay as
they were (cheers name attempts, attempts name promises); on PostgreSQL each identity sequence
is then moved past the largest id copied, so the bot's next insert takes a fresh id.

The source is only read: over a read-only connection (SQLite ``mode=ro``; a ``READ ONLY``
transaction on PostgreSQL), in one snapshot (one read transaction on SQLite, ``REPEATABLE
READ`` on PostgreSQL), so a bot still writing to it can't make the copy inconsistent: what it
writes after the snapshot is simply not copied (stop the bot first). The source must be at this
Who's Next's schema version; an older one is refused with the ``db upgrade`` to run.

How a failed copy leaves the target empty: before anything is created, the target is read to
check that no table of ours holds a row (otherwise the copy is refused, naming them). Then it
is created or migrated (as opening the bot's repository does) and written in ONE transaction
(``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL one transaction that first locks our tables
``EXCLUSIVE``, so nothing else writes meanwhile), which checks again that it is empty, copies
every table, and compares the counts with the source's snapshot before ``COMMIT``. Whatever
goes wrong before the commit (an error, a row the target refuses, a lost connection, counts
that differ, Ctrl-C, a killed process) ends that transaction in a rollback, ours or the
server's (or SQLite's journal's, at the next open), so the target holds no row of ours, as it
was found: at most an empty, migrated schema. The one thing a rollback doesn't undo is a
PostgreSQL sequence (``setval`` isn't transactional); they are set last, just before the
comparison, so a failed copy may leave them advanced: harmless, a later copy sets them again.

Every statement runs through ``storage.db.Tx``, the same on both backends; what differs (the
catalogue, the version, locks, sequences) is in the "Dialects" section below.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO, TypeVar
from urllib.parse import urlsplit, urlunsplit

from storage import migrate
from storage.connect import POSTGRESQL, SQLITE, backend, describe, open_repository, sqlite_path
from storage.db import DatabaseUnusable, SqliteTx, Tx

T = TypeVar("T")

CLOSE_TIMEOUT = 5.0  # seconds for a PostgreSQL connection to say goodbye (a rollback, if open)
BATCH = 2_000  # rows per page read and per executemany written
PROGRESS_FROM = 10_000  # rows in all: a bar from here, just the summary below


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]  # the primary key: the pages' order
    identity: str | None = None  # the id column PostgreSQL numbers from a sequence


# Parents before children: attempts and commitments name members, cheers name attempts.
TABLES: tuple[Table, ...] = (
    Table("members", ("community_id", "member_id")),
    Table("commitments", ("id",), identity="id"),
    Table("attempts", ("id",), identity="id"),
    Table("cheers", ("attempt_id", "member_id")),
    Table("goals", ("community_id", "member_id")),
    Table("member_periods", ("community_id", "period", "member_id")),
    Table("member_days", ("community_id", "member_id", "day")),
    Table("member_areas", ("community_id", "member_id", "area")),
    Table("pauses", ("community_id", "member_id", "first_day")),
    Table("reminds", ("community_id", "member_id")),
    Table("schedules", ("community_id",)),
    Table("dares", ("community_id", "number")),
    Table("member_dares", ("community_id", "member_id")),
    Table("seasons", ("id",), identity="id"),
    Table("outbox", ("id",), identity="id"),
    Table("processed_requests", ("key",)),
    Table("kv", ("key",)),
    Table("installations", ("platform", "enterprise_id", "team_id")),
    Table("oauth_states", ("state",)),
    Table("identify_slots", ("bucket",)),
    Table("sync_claims", ("key",)),
)

# What the summary calls each table's rows (singular, plural); the rest is bookkeeping.
NOUNS = {
    "members": ("member", "members"),
    "attempts": ("attempt", "attempts"),
    "commitments": ("promise", "promises"),
    "cheers": ("cheer", "cheers"),
    "goals": ("goal", "goals"),
    "schedules": ("check-in schedule", "check-in schedules"),
    "outbox": ("scheduled post", "scheduled posts"),
}
# Checked besides the row counts: what the leaderboards and /stats read.
SUMS = ("attempts_count", "rejections_count")
COMMUNITIES = "communities"


class CopyError(Exception):
    """Why the copy didn't happen or didn't stick, in a sentence for an operator. Either way
    the source is untouched and the target holds no row of ours."""


class CopyRefused(CopyError):
    """Refused before writing anything: the target was not changed at all."""


class CopyFailed(CopyError):
    """It started and was rolled back: the target is empty again."""


class _DriverError(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Copied:
    """A finished copy: what was copied (rows per table, the sums, the communities)."""

    source: str  # described: a path or host:port/database, never a password
    target: str
    counts: dict[str, int]

    def summary(self) -> str:
        c = self.counts
        named = ", ".join(_count(c[table], *nouns) for table, nouns in NOUNS.items())
        rest = sum(c[t.name] for t in TABLES if t.name not in NOUNS)
        extra = (f", and {_count(rest, 'row', 'rows')} of bookkeeping (period, day and area "
                 "counts, processed requests, settings)") if rest else ""
        return (f"Copied {_count(c[COMMUNITIES], 'community', 'communities')}: {named}{extra} "
                f"from {self.source} to {self.target}; counts match.\n"
                f"Set DATABASE_URL to it and start the bot: it carries on from the same counts. "
                f"{self.source} is left as it was.")


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


# -- Progress -------------------------------------------------------------------------------


class Progress:
    """A progress bar on ``stream``: one line redrawn in place (``\\r``) on a terminal; a line
    every 10 % otherwise, so logs stay readable."""

    WIDTH = 20

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream
        self.tty = stream.isatty()
        self._shown = -1
        if not self.tty:
            stream.write(f"Copying {total:,} rows…\n")

    def advance(self, rows: int, table: str) -> None:
        self.done += rows
        percent = min(100, self.done * 100 // self.total)
        step = percent if self.tty else percent // 10  # a line per tenth crossed
        if step == self._shown:
            return
        self._shown = step
        if self.tty:
            filled = self.WIDTH * percent // 100
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\rCopying {table:<18} [{bar}] {percent:3d}%  "
                              f"{self.done:,}/{self.total:,}\033[K")  # 80 columns fit it
        elif step:
            self.stream.write(f"Copying: {percent}% ({self.done:,} of {self.total:,} rows, "
                              f"{table})\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._shown >= 0:
            self.stream.write("\n")
            self.stream.flush()


# -- Dialects: every statement that isn't the same on both backends ---------------------------


def _tables(tx: Tx) -> set[str]:
    if tx.backend == SQLITE:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        sql = ("SELECT table_name FROM information_schema.tables "
               "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'")
    return {str(r[0]) for r in tx.execute(sql).fetchall()}


def _columns(tx: Tx, table: str) -> list[str]:
    if tx.backend == SQLITE:
        sql = "SELECT name FROM pragma_table_info(?) ORDER BY cid"
    else:
        sql = ("SELECT column_name FROM information_schema.columns WHERE table_schema = "
               "current_schema() AND table_name = ? ORDER BY ordinal_position")
    return [str(r[0]) for r in tx.execute(sql, (table,)).fetchall()]


def _version(tx: Tx) -> int:
    """The schema version (0: none of ours), read only."""
    if tx.backend == SQLITE:
        return int(tx.execute("PRAGMA user_version").fetchone()[0])
    if "whosnext_schema" not in _tables(tx):
        return 0
    row = tx.execute("SELECT version FROM whosnext_schema").fetchone()
    return 0 if row is None else int(row[0])


def _snapshot(tx: Tx) -> None:
    """The first statement of the source's transaction: one snapshot, read only. (SQLite's
    read transaction is one snapshot already, and its connection is read-only.)"""
    if tx.backend == POSTGRESQL:
        tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _lock(tx: Tx) -> None:
    """Nobody else writes to the target during the copy (SQLite: BEGIN IMMEDIATE did it)."""
    if tx.backend == POSTGRESQL:
        tx.execute(f"LOCK TABLE {', '.join(t.name for t in TABLES)} IN EXCLUSIVE MODE")


def _reset_identities(tx: Tx) -> None:
    """Each id sequence past the largest id copied (SQLite's next rowid already is)."""
    if tx.backend != POSTGRESQL:
        return
    for t in TABLES:
        if t.identity:
            tx.execute(f"SELECT setval(pg_get_serial_sequence('{t.name}', '{t.identity}'), "
                       f"COALESCE(MAX({t.identity}), 0) + 1, FALSE) FROM {t.name}")


# -- The units: the same on both backends ---------------------------------------------------


def _occupied(tx: Tx) -> dict[str, int]:
    """The tables of ours that hold rows (of those there are), with their counts."""
    present = _tables(tx)
    found = {t.name: int(tx.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0])
             for t in TABLES if t.name in present}
    return {name: n for name, n in found.items() if n}


def counts(tx: Tx) -> dict[str, int]:
    """What a copy must keep: the rows of every table, the members' counters summed (what
    leaderboards and /stats read), and the communities."""
    found = {t.name: int(tx.execute(f"SELECT COUNT(*) FROM {t.name}").fetchone()[0])
             for t in TABLES}
    sums = tx.execute("SELECT " + ", ".join(f"COALESCE(SUM({s}), 0)" for s in SUMS)
                      + " FROM members").fetchone()
    for i, column in enumerate(SUMS):
        found[f"members.{column} (sum)"] = int(sums[i])
    found[COMMUNITIES] = int(tx.execute(
        "SELECT COUNT(*) FROM (SELECT community_id FROM members "
        "UNION SELECT community_id FROM schedules) AS c").fetchone()[0])
    return found


def differences(source: dict[str, int], target: dict[str, int]) -> list[str]:
    """What differs between two databases' ``counts``, one phrase each (none: they match)."""
    names = list(source) + [name for name in target if name not in source]
    return [f"{name}: {source.get(name, 0):,} in the source, {target.get(name, 0):,} in the target"
            for name in names if source.get(name, 0) != target.get(name, 0)]


def _page_sql(table: Table, columns: Sequence[str], after: bool) -> str:
    keys = ", ".join(table.key)
    where = ""
    if after:
        marks = ", ".join("?" * len(table.key))
        where = (f" WHERE {keys} > {marks}" if len(table.key) == 1
                 else f" WHERE ({keys}) > ({marks})")
    return (f"SELECT {', '.join(columns)} FROM {table.name}{where} ORDER BY {keys} "
            f"LIMIT {BATCH:d}")


def _page(tx: Tx, *, sql: str, after: Sequence[Any]) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in tx.execute(sql, after).fetchall()]


def _insert(tx: Tx, *, sql: str, rows: list[tuple[Any, ...]]) -> None:
    tx.executemany(sql, rows)


# -- The two ends ---------------------------------------------------------------------------


async def _to_the_end(work: Awaitable[T]) -> T:
    """Await ``work`` to its end even when cancelled meanwhile (then the cancel goes on): a
    statement cut off halfway would leave its connection unusable for the ROLLBACK after."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


class _Side:
    """One end of the copy: one connection, one transaction at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = describe(url)

    async def run(self, fn: Callable[[Tx], T]) -> T:
        raise NotImplementedError

    async def begin(self, write: bool) -> None:
        raise NotImplementedError

    async def commit(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Roll back what's open (if anything) and close. Never raises: a connection that died
        has rolled back on its own."""
        raise NotImplementedError


class _SqliteSide(_Side):
    """A ``sqlite3`` connection of our own, on a thread of its own (made and used only
    there). The source's is read-only (``mode=ro``): the copy can't change it."""

    def __init__(self, url: str, pool: ThreadPoolExecutor, conn: sqlite3.Connection) -> None:
        super().__init__(url)
        self._pool = pool
        self.sqlite = conn

    @classmethod
    async def open(cls, url: str, write: bool) -> _SqliteSide:
        pool = ThreadPoolExecutor(1, thread_name_prefix="whosnext-copy")
        try:
            conn = await asyncio.get_running_loop().run_in_executor(
                pool, _sqlite_connect, url, write)
        except BaseException:
            pool.shutdown(wait=False)
            raise
        return cls(url, pool, conn)

    async def _call(self, fn: Callable[[], T]) -> T:
        try:
            return await _to_the_end(asyncio.get_running_loop().run_in_executor(self._pool, fn))
        except sqlite3.Error as err:
            raise _DriverError(self.where, f"SQLite says: {err}") from err

    async def run(self, fn: Callable[[Tx], T]) -> T:
        return await self._call(lambda: fn(SqliteTx(self.sqlite)))

    async def begin(self, write: bool) -> None:
        await self._call(lambda: self.sqlite.execute("BEGIN IMMEDIATE" if write else "BEGIN"))

    async def commit(self) -> None:
        await self._call(lambda: self.sqlite.execute("COMMIT"))

    async def close(self) -> None:
        def close() -> None:
            try:
                if self.sqlite.in_transaction:
                    self.sqlite.execute("ROLLBACK")
            finally:
                self.sqlite.close()

        with contextlib.suppress(Exception):
            await self._call(close)
        self._pool.shutdown(wait=False)


def _sqlite_connect(url: str, write: bool) -> sqlite3.Connection:
    path = sqlite_path(url)
    if path.is_dir():
        raise DatabaseUnusable(f"can't use the database at {path}: it is a folder; name a "
                               "database file in it.")
    if not write and not path.exists():
        raise DatabaseUnusable(f"can't use the database at {path}: there is no such file.")
    target = str(path) if write else f"{path.resolve().as_uri()}?mode=ro"
    try:
        conn = sqlite3.connect(target, uri=not write, isolation_level=None)
    except sqlite3.Error as err:
        raise DatabaseUnusable(f"can't use the database at {path}: {err}.") from None
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA foreign_keys = ON")
        if write:  # the whole copy is one transaction: its index pages stay in memory
            conn.execute("PRAGMA cache_size = -65536")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()  # is it a database?
    except sqlite3.Error as err:
        conn.close()
        raise DatabaseUnusable(f"can't use the database at {path}: {err}.") from None
    return conn


class _PostgresSide(_Side):
    """A connection of our own (no pool), on the driver, as the repository's; each unit runs
    in one hop (``storage.bridge``), as the repository's do."""

    def __init__(self, url: str, conn: Any) -> None:
        super().__init__(url)
        self.connection = conn

    @classmethod
    async def open(cls, url: str) -> _PostgresSide:
        from storage.postgres import connect

        return cls(url, await connect(url, "whosnext copy"))

    async def _call(self, work: Callable[[], Awaitable[Any]]) -> Any:
        from storage.postgres import DRIVER_ERRORS

        try:
            return await _to_the_end(work())
        except DRIVER_ERRORS as err:
            text = str(err).strip()
            message = text.splitlines()[0] if text else type(err).__name__
            raise _DriverError(self.where, f"PostgreSQL says: {message}") from err

    async def run(self, fn: Callable[[Tx], T]) -> T:
        from storage import bridge
        from storage.postgres import PgTx

        result: T = await self._call(lambda: bridge.run(fn, PgTx(self.connection, False)))
        return result

    async def begin(self, write: bool) -> None:
        await self._call(lambda: self.connection.execute("BEGIN"))

    async def commit(self) -> None:
        await self._call(lambda: self.connection.execute("COMMIT"))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.connection.close(timeout=CLOSE_TIMEOUT)
        if not self.connection.is_closed():
            self.connection.terminate()


async def _open(url: str, write: bool = False) -> _Side:
    if backend(url) == SQLITE:
        return await _SqliteSide.open(url, write)
    return await _PostgresSide.open(url)


@contextlib.asynccontextmanager
async def _reading(url: str) -> AsyncIterator[_Side]:
    """A read-only snapshot of the database at ``url``, closed after."""
    side = await _open(url)
    try:
        await side.begin(write=False)
        await side.run(_snapshot)
        yield side
    finally:
        await side.close()


# -- Copy and verify ------------------------------------------------------------------------


def same_database(a: str, b: str) -> bool:
    """Whether two URLs name one database (the same file, or host:port/database)."""
    if backend(a) != backend(b):
        return False
    if backend(a) == POSTGRESQL:
        return describe(a) == describe(b)
    pa, pb = sqlite_path(a), sqlite_path(b)
    with contextlib.suppress(OSError):
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()


def upgrade_hint(url: str) -> str:
    """``--db`` for a ``whosnext db upgrade`` of ``url``, without its password."""
    if backend(url) == SQLITE:
        return str(sqlite_path(url))
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:PASSWORD@{host}"))


async def _check_source(src: _Side) -> dict[str, int]:
    """The source's counts, once its version is right."""
    version = await src.run(_version)
    known = migrate.latest()
    if version == 0:
        raise CopyRefused(f"there is no Who's Next database at {src.where} (schema version 0) "
                          "to copy from; check --from")
    if version < known:
        raise CopyRefused(
            f"the source {src.where} is at schema version {version} and this Who's Next "
            f"copies version {known}: run `whosnext db upgrade --db {upgrade_hint(src.url)}` "
            "first (the copy never changes its source)")
    if version > known:
        raise CopyRefused(f"the source {src.where} is at schema version {version}, newer than "
                          f"this Who's Next knows ({known}); upgrade the bot first")
    return await src.run(counts)


def _not_empty(where: str, occupied: dict[str, int]) -> CopyRefused:
    rows = ", ".join(f"{name} has {_count(n, 'row', 'rows')}" for name, n in occupied.items())
    return CopyRefused(f"the target {where} isn't empty ({rows}); nothing was changed. Copy "
                       "into a new, empty database")


async def _check_target(url: str) -> None:
    """Refuse a target that holds rows of ours or is newer, reading only: before anything is
    created or migrated there."""
    if backend(url) == SQLITE and not sqlite_path(url).exists():
        return
    async with _reading(url) as dst:
        version = await dst.run(_version)
        if version > migrate.latest():
            raise CopyRefused(f"the target {dst.where} is at schema version {version}, newer "
                              f"than this Who's Next knows ({migrate.latest()}); nothing was "
                              "changed")
        occupied = await dst.run(_occupied)
    if occupied:
        raise _not_empty(dst.where, occupied)


async def _copy_table(src: _Side, dst: _Side, table: Table, columns: list[str],
                      progress: Progress | None) -> None:
    """One table, page by page: the next page is read while this one is written."""
    first, rest = _page_sql(table, columns, False), _page_sql(table, columns, True)
    insert = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
              f"VALUES ({', '.join('?' * len(columns))})")
    at = [columns.index(k) for k in table.key]
    reading = asyncio.ensure_future(src.run(partial(_page, sql=first, after=())))
    try:
        while rows := await reading:
            after = tuple(rows[-1][i] for i in at)
            reading = asyncio.ensure_future(src.run(partial(_page, sql=rest, after=after)))
            await dst.run(partial(_insert, sql=insert, rows=rows))
            if progress is not None:
                progress.advance(len(rows), table.name)
    finally:
        if not reading.done():
            reading.cancel()
            await asyncio.wait([reading])  # the next page's unit has ended before we go on


async def copy(source_url: str, target_url: str, *, progress: TextIO | None = None) -> Copied:
    """Copy every row of ours from ``source_url`` into the empty (or not yet existing)
    database at ``target_url``, ids and all, and check the counts before committing. A bar on
    ``progress`` for a database of over ``PROGRESS_FROM`` rows. Raises ``ValueError`` for a URL
    that names no database, ``DatabaseUnusable`` for one that can't be reached or opened,
    ``CopyRefused`` (nothing changed) and ``CopyFailed`` (rolled back: the target is empty)."""
    backend(source_url)
    backend(target_url)
    if same_database(source_url, target_url):
        raise CopyRefused(f"the source and the target are the same database "
                          f"({describe(source_url)}); copy into another one")
    async with _reading(source_url) as src:
        try:
            expected = await _check_source(src)
            await _check_target(target_url)
        except _DriverError as err:
            raise CopyRefused(f"can't read what to copy, so nothing was changed: {err}") from err
        await (await open_repository(target_url, db_clock=False)).close()  # create, migrate
        dst = await _open(target_url, write=True)
        try:
            await _fill(src, dst, expected, progress)
        finally:
            await dst.close()
    return Copied(src.where, dst.where, expected)


async def _fill(src: _Side, dst: _Side, expected: dict[str, int], progress: TextIO | None
                ) -> None:
    """Every table into the target, in one transaction that commits only if the counts match
    the source's."""
    step = "the start"
    try:
        await dst.begin(write=True)
        await dst.run(_lock)
        occupied = await dst.run(_occupied)
        if occupied:  # someone wrote to it since we looked
            raise _not_empty(dst.where, occupied)
        total = sum(expected[t.name] for t in TABLES)
        bar = (Progress(total, progress) if progress is not None and total > PROGRESS_FROM
               else None)
        for t in TABLES:
            step = t.name
            columns = await src.run(partial(_columns, table=t.name))
            theirs = await dst.run(partial(_columns, table=t.name))
            if sorted(columns) != sorted(theirs):
                raise CopyFailed(f"{t.name} has other columns in the target ({', '.join(theirs)}) "
                                 f"than in the source ({', '.join(columns)}); nothing was kept")
            await _copy_table(src, dst, t, columns, bar)
        if bar is not None:
            bar.finish()
        step = "the id sequences"
        await dst.run(_reset_identities)
        step = "the check"
        differ = differences(expected, await dst.run(counts))
        if differ:
            raise CopyFailed("the copy doesn't match its source, so nothing was kept in the "
                             f"target: {'; '.join(differ)}")
        step = "the commit"
        await dst.commit()
    except _DriverError as err:
        raise CopyFailed(f"the copy stopped at {step}, so nothing was kept in the target (it "
                         f"is empty again): {err}") from err


async def verify(source_url: str, target_url: str) -> list[str]:
    """Compare two databases' counts (each read in one snapshot): what differs, one phrase each
    (none: they match). ``copy`` does the same before it commits."""
    async with _reading(source_url) as src, _reading(target_url) as dst:
        try:
            return differences(await src.run(counts), await dst.run(counts))
        except _DriverError as err:
            raise CopyFailed(f"can't compare them: {err}") from err
