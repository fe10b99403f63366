"""The repository on PostgreSQL: the same units as on SQLite (``storage.attempts``,
``storage.outbox`` and the rest), each run as one transaction on a pooled connection.

SQLAlchemy 2's async engine over asyncpg provides the pool, and ``AsyncConnection.run_sync``
runs a whole unit in one hop: inside it each statement is an await on asyncpg, while the unit
stays a plain function (so both backends share it). Writes take turns where they must through
the advisory locks the units ask for (``storage.db.PgTx.lock``) and the row locks their
upserts take; a transaction PostgreSQL ends for a deadlock or a serialization failure, or one
that lost a race to insert the same key (two processes handed one retried request), is run
again from the start, and the second run sees what the first one lost to.

A write, once started, runs to its COMMIT or ROLLBACK even if its caller is cancelled, as on
SQLite; ``close`` waits for the ones in flight. A server that can't be reached is
``bot.errors.Unavailable``: the core answers "try again in a minute" and logs one outage.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.errors import Unavailable
from storage import migrate
from storage.db import DatabaseUnusable, PgTx, Tx
from storage.repository import Repository

T = TypeVar("T")
log = logging.getLogger(__name__)

RETRIES = 8
RETRY_STATES = {"40001", "40P01", "23505"}  # serialization failure, deadlock, unique violation
CONNECT_TIMEOUT = 10.0


def engine_url(url: str) -> str:
    """``postgresql://…`` or ``postgres://…`` as SQLAlchemy's asyncpg URL."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("postgresql", "postgres") or not rest:
        raise ValueError(f"not a PostgreSQL URL: {url}")
    return f"postgresql+asyncpg://{rest}"


def where(url: str) -> str:
    """The server and database a URL names, without its password (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 5432
    return f"{host}:{port}/{parts.path.lstrip('/') or '(default database)'}"


def _state(err: DBAPIError) -> str | None:
    state = getattr(err.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


class PostgresRepository(Repository):
    def __init__(self, engine: AsyncEngine, url: str, db_clock: bool) -> None:
        self._engine = engine
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
        engine = create_async_engine(
            engine_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
            connect_args={"timeout": CONNECT_TIMEOUT, "server_settings": {
                "application_name": "whosnext"}})
        try:
            async with engine.connect() as conn:
                await conn.run_sync(migrate.apply_postgresql)
        except (OSError, DBAPIError) as err:  # TimeoutError is an OSError
            await engine.dispose()
            raise unusable(url, err) from None
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, url, db_clock)

    async def close(self) -> None:
        """Let the writes in flight finish, then close the pool."""
        self._closed = True
        while self._writes:
            await asyncio.wait(set(self._writes))
        await self._engine.dispose()

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
        """``fn`` in one transaction (committed if ``write``), run again when that is safe."""
        for attempt in range(RETRIES):
            txs: list[PgTx] = []

            def unit(c: Any, txs: list[PgTx] = txs) -> T:
                tx = PgTx(c, self._db_clock)
                txs.append(tx)
                return fn(tx)
            try:
                async with (self._engine.begin() if write else self._engine.connect()) as conn:
                    return await conn.run_sync(unit)
            except OSError as err:  # refused, unreachable, timed out: no connection at all
                raise Unavailable(f"{where(self._url)}: {err}") from err
            except DBAPIError as err:
                if attempt == RETRIES - 1 or not _worth_again(err, write, txs):
                    if err.connection_invalidated:
                        raise Unavailable(f"{where(self._url)}: the connection broke "
                                          f"({_first_line(err)})") from err
                    raise
                log.debug("Running a %s again after %s.", "write" if write else "read",
                          _state(err) or "a lost connection")
                await asyncio.sleep(random.uniform(0, 0.002 * 2 ** attempt))
        raise AssertionError("unreachable")


def _worth_again(err: DBAPIError, write: bool, txs: list[PgTx]) -> bool:
    """A transaction PostgreSQL ended (deadlock, serialization failure, a lost insert race)
    changed nothing: run it again. So did a write on a connection the server had closed (it
    restarted, or ended idle sessions) before its first statement; SQLAlchemy then drops every
    older pooled connection, and the next try gets a new one. A write whose connection broke
    later may have committed: it is not repeated blindly (a platform's retry of the same request
    is de-duplicated instead)."""
    if err.connection_invalidated:
        return not write or not txs or txs[0].statements == 0
    return _state(err) in RETRY_STATES


def _first_line(err: BaseException) -> str:
    cause: BaseException = err.orig if isinstance(err, DBAPIError) and err.orig else err
    text = str(cause).strip()
    return text.splitlines()[0] if text else type(cause).__name__


def unusable(url: str, err: BaseException) -> DatabaseUnusable:
    """Why the database at ``url`` can't be used, in a sentence for an operator."""
    message = _first_line(err)
    if isinstance(err, (OSError, InterfaceError)) or (
            isinstance(err, OperationalError) and "connect" in message.lower()):
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
    engine = create_async_engine(engine_url(url), poolclass=NullPool,
                                 connect_args={"timeout": CONNECT_TIMEOUT})
    try:
        async with engine.connect() as conn:
            return int(await conn.run_sync(migrate.version_postgresql))
    except (OSError, DBAPIError) as err:
        raise unusable(url, err) from None
    finally:
        await engine.dispose()
