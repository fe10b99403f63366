"""The repository on PostgreSQL: the same units as on SQLite (``storage.attempts``,
``storage.outbox`` and the rest), each run on a connection of an asyncpg pool, a write as one
transaction, a read on its own (every statement of it sees the data committed when it starts,
as it would inside a transaction at PostgreSQL's default isolation, READ COMMITTED).

A unit stays a plain function (so both backends share it): ``storage.bridge`` runs it in one
hop, each statement an await on the driver (``PgTx`` below). Writes take turns where they must
through the advisory locks the units ask for (``PgTx.lock``) and the row locks their upserts
take; a transaction PostgreSQL ends for a deadlock or a serialization failure, or one that lost
a race to insert the same key (two processes handed one retried request), is run again from
the start, and the second run sees what the first one lost to. So is one whose connection broke
before its COMMIT was sent (nothing of it was kept); one whose COMMIT was in flight is not
repeated blindly (a platform's retry of the same request is de-duplicated instead).

A write, once started, runs to its COMMIT or ROLLBACK even if its caller is cancelled, as on
SQLite; ``close`` waits for the ones in flight. A server that can't be reached is
``bot.errors.Unavailable``: the core answers "try again in a minute" and logs one outage.

Measured (``benchmarks/log_throughput.py``): SQLAlchemy's async engine over the same driver
cost about three times the CPU per command that the driver itself does, so this backend uses
asyncpg directly: its pool, its prepared statements, nothing in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg

from bot.errors import Unavailable
from storage import bridge, migrate
from storage.bridge import wait
from storage.db import Cursor, DatabaseUnusable, Tx
from storage.repository import Repository

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRIES = 8
RETRY_STATES = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique violation
CONNECT_TIMEOUT = 10.0
# What the driver raises: the server's errors, its own, and the network's (a TimeoutError is an
# OSError).
DRIVER_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError,
                 asyncpg.exceptions.InternalClientError)


def dsn(url: str) -> str:
    """A ``postgresql://…`` or ``postgres://…`` URL, checked, as the driver takes it."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres") or not rest:
        raise ValueError(f"not a PostgreSQL URL: {url}")
    return url


def where(url: str) -> str:
    """The server and database a URL names, without its password (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 5432
    return f"{host}:{port}/{parts.path.lstrip('/') or '(default database)'}"


class PgCursor:
    """A statement's result on PostgreSQL: its rows (``asyncpg.Record``, read by position or
    by column name, like ``sqlite3.Row``) and how many rows it touched."""

    __slots__ = ("rowcount", "_rows", "_next")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rowcount = rowcount
        self._rows = rows
        self._next = 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next:] if self._next else self._rows
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


@lru_cache(maxsize=2048)
def dollar(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2, …``. Our statements carry no ``?`` inside a
    string literal (a test checks every statement the repository runs)."""
    parts = sql.split("?")
    if len(parts) == 1:
        return sql
    out = [parts[0]]
    for n, part in enumerate(parts[1:], start=1):
        out.append(f"${n}")
        out.append(part)
    return "".join(out)


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a key (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big",
                          signed=True)


def _touched(status: str | None) -> int:
    """The row count in a command tag (``UPDATE 3``, ``INSERT 0 1``, ``SELECT 2``)."""
    tail = (status or "").rpartition(" ")[2]
    return int(tail) if tail.isdigit() else -1


STATEMENT_CACHE = 256  # statements each connection keeps prepared (the repository has ~150)


@lru_cache(maxsize=2048)
def _counts_only(sql: str) -> bool:
    """An INSERT, UPDATE or DELETE with no RETURNING: it is run for its row count (from the
    command tag) rather than for rows."""
    head = sql.lstrip()[:6].upper()
    return head in ("INSERT", "UPDATE", "DELETE") and "RETURNING" not in sql.upper()


class PgTx:
    """A unit's connection on PostgreSQL: an asyncpg connection, inside ``storage.bridge.run``
    (so each statement is one await on the driver). asyncpg prepares each statement once per
    connection and keeps it (``STATEMENT_CACHE``), so a statement costs one round trip."""

    backend = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, conn: Any, db_clock: bool) -> None:
        self.conn = conn
        self._db_clock = db_clock
        self._locked: dict[str, bool] = {}  # key: held shared

    def query(self, sql: str, args: Sequence[Any]) -> PgCursor:
        """One statement with ``$n`` placeholders."""
        if _counts_only(sql):
            return PgCursor([], _touched(wait(self.conn.execute(sql, *args))))
        rows = wait(self.conn.fetch(sql, *args))
        return PgCursor(rows, len(rows))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return self.query(dollar(sql), params)

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Cursor:
        rows = [tuple(p) for p in params]
        if rows:
            wait(self.conn.executemany(dollar(sql), rows))
        return _NO_ROWS

    def run(self, sql: str) -> None:
        """A statement with no parameters and no result (``BEGIN``, a migration's DDL), sent
        as it is, unprepared."""
        wait(self.conn.execute(sql))

    def lock(self, key: str, *, shared: bool = False) -> None:
        """An advisory lock held to the end of the transaction: shared ones side by side, an
        exclusive one alone. Taken once per transaction (a second call is free; asking for
        the exclusive lock after the shared one waits for the others' shared ones). Should two
        units ever wait on each other, PostgreSQL ends one and the runner tries it again."""
        held = self._locked.get(key)
        if held is not None and (shared or not held):
            return
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        self.query(f"SELECT {fn}($1)", (lock_id(key),))
        self._locked[key] = shared

    def now(self, given: datetime) -> datetime:
        if not self._db_clock:
            return given
        value: datetime = self.query("SELECT clock_timestamp()", ()).fetchone()[0]
        return value


class _NoRows:
    rowcount = -1  # as sqlite3 reports for executemany of anything but DML

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())


_NO_ROWS: Cursor = _NoRows()


async def connect(url: str, name: str = "whosnext") -> Any:
    """One connection of our own (no pool), or ``DatabaseUnusable`` saying why not."""
    try:
        return await asyncpg.connect(dsn(url), timeout=CONNECT_TIMEOUT,
                                     statement_cache_size=STATEMENT_CACHE,
                                     server_settings={"application_name": name})
    except DRIVER_ERRORS as err:
        raise unusable(url, err) from None


async def upgrade(conn: Any) -> list[migrate.Migration]:
    """Bring the database of a connection (not in a transaction) up to date."""
    applied: list[migrate.Migration] = await bridge.run(migrate.apply_postgresql,
                                                        PgTx(conn, False))
    return applied


async def _nothing_to_reset(conn: Any) -> None:
    """A unit leaves nothing on its connection: a write ends in COMMIT or ROLLBACK, its locks
    are the transaction's, and nothing else is set. So a connection goes back to the pool as
    it is (asyncpg still rolls back a transaction left open), without a reset query."""


def _broken(err: BaseException) -> bool:
    """The connection is gone (the server restarted or closed it, the network dropped it)."""
    if isinstance(err, (OSError, asyncpg.PostgresConnectionError,
                        asyncpg.exceptions.ConnectionDoesNotExistError)):
        return True
    if isinstance(err, asyncpg.PostgresError):
        return str(err.sqlstate).startswith("57P")  # shut down, crashed, starting up
    # The driver's own: a closed connection, or one left in a state it can't go on from (a
    # server's goodbye that arrived while it was idle, say).
    return isinstance(err, asyncpg.exceptions.InternalClientError) or (
        isinstance(err, asyncpg.InterfaceError) and "closed" in str(err))


def _stale_statement(err: BaseException) -> bool:
    """A prepared statement another process's migration changed the tables under."""
    return isinstance(err, asyncpg.exceptions.InvalidCachedStatementError) or (
        isinstance(err, asyncpg.PostgresError) and err.sqlstate == "0A000"
        and "cached plan" in str(err))


class PostgresRepository(Repository):
    def __init__(self, pool: Any, url: str, db_clock: bool) -> None:
        self._pool = pool
        self._url = url
        self._db_clock = db_clock
        self._writes: set[asyncio.Task[Any]] = set()
        self._closed = False

    @classmethod
    async def open(cls, url: str, *, db_clock: bool = True, pool_size: int = 10
                   ) -> PostgresRepository:
        """Connect, check the server answers, and migrate. ``db_clock``: leases on the
        database's clock (the bot; tests on a fake clock turn it off). ``DatabaseUnusable``
        says why a database can't be used; a failed open leaves no connection behind."""
        try:
            pool = await asyncpg.create_pool(
                dsn(url), min_size=0, max_size=pool_size, statement_cache_size=STATEMENT_CACHE,
                reset=_nothing_to_reset, timeout=CONNECT_TIMEOUT,
                server_settings={"application_name": "whosnext"})
            # (no floor of idle connections: asyncpg would log a traceback each time it failed
            # to keep one during an outage, which is logged once, as ours)
        except DRIVER_ERRORS as err:
            raise unusable(url, err) from None
        try:
            async with pool.acquire() as conn:
                await upgrade(conn)
        except DRIVER_ERRORS as err:
            await pool.close()
            raise unusable(url, err) from None
        except BaseException:
            pool.terminate()
            raise
        return cls(pool, url, db_clock)

    async def close(self) -> None:
        """Let the writes in flight finish, then close the pool."""
        self._closed = True
        while self._writes:
            await asyncio.wait(set(self._writes))
        await self._pool.close()

    async def _read(self, fn: Callable[[Tx], T]) -> T:
        if self._closed:
            raise RuntimeError("the database is closed")
        return await self._run(fn, write=False)

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        if self._closed:
            raise RuntimeError("the database is closed")
        task = asyncio.ensure_future(self._run(fn, write=True))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)
        return await asyncio.shield(task)

    async def _run(self, fn: Callable[[Tx], T], write: bool) -> T:
        """``fn`` on a pooled connection (in one transaction, committed, if ``write``), run
        again when that is safe."""
        for attempt in range(RETRIES):
            try:
                conn = await self._pool.acquire()
            except DRIVER_ERRORS as err:
                raise Unavailable(f"{where(self._url)}: {_first_line(err)}") from err
            committing = False
            try:
                tx = PgTx(conn, self._db_clock)
                if not write:
                    return await bridge.run(fn, tx)
                async with conn.transaction():
                    result = await bridge.run(fn, tx)
                    committing = True
                return result
            except DRIVER_ERRORS as err:
                broken = _broken(err)
                if broken:  # the pool connects afresh for the next unit
                    with contextlib.suppress(asyncpg.InterfaceError):  # (if not closed yet)
                        conn.terminate()
                again = ((broken and not committing) or _stale_statement(err)
                         or getattr(err, "sqlstate", None) in RETRY_STATES)
                if not again or attempt == RETRIES - 1:
                    if broken:
                        raise Unavailable(f"{where(self._url)}: the connection broke "
                                          f"({_first_line(err)})") from err
                    raise
                log.debug("Running a %s again after %s.", "write" if write else "read",
                          getattr(err, "sqlstate", None) or "a lost connection")
            finally:
                await self._pool.release(conn)
            await asyncio.sleep(random.uniform(0, 0.002 * 2 ** attempt))
        raise AssertionError("unreachable")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def unusable(url: str, err: BaseException) -> DatabaseUnusable:
    """Why the database at ``url`` can't be used, in a sentence for an operator."""
    message = _first_line(err)
    if isinstance(err, OSError) or _broken(err):
        why = f"can't reach the PostgreSQL server ({message}); check that it runs and the host and port"
    elif "does not exist" in message:
        why = f"{message}; create it (createdb) or name another"
    elif "password" in message or "authentication" in message:
        why = f"the server refused the login ({message})"
    else:
        why = f"PostgreSQL says: {message}"
    return DatabaseUnusable(f"can't use the database at {where(url)}: {why}.")


async def schema_version(url: str) -> int:
    """The schema version of the PostgreSQL database at ``url``, read only (0: none of ours
    yet). ``DatabaseUnusable`` if it can't be reached."""
    conn = await connect(url)
    try:
        return int(await bridge.run(migrate.version_postgresql, PgTx(conn, False)))
    except DRIVER_ERRORS as err:
        raise unusable(url, err) from None
    finally:
        await conn.close()
