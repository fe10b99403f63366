"""The PostgreSQL half of the suite: a fresh database per test run on the server at
``WHOSNEXT_TEST_POSTGRES`` (default: the local one), emptied between tests. Without a server the
PostgreSQL tests are skipped with one line saying so, unless ``WHOSNEXT_REQUIRE_POSTGRES`` is
set (``.ci/run`` sets it), in which case they fail."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

SERVER = os.environ.get("WHOSNEXT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
T = TypeVar("T")
REQUIRED = bool(os.environ.get("WHOSNEXT_REQUIRE_POSTGRES"))
SKIPPED: list[str] = []  # why, once a test found no server (the run's summary says it once)
TABLES = ("cheers", "attempts", "commitments", "goals", "member_periods", "processed_requests",
          "members", "kv", "schedules", "outbox", "identify_slots", "sync_claims")


def database_url(name: str) -> str:
    """The server's URL with another database."""
    parts = urlsplit(SERVER)
    return urlunsplit(parts._replace(path=f"/{name}"))


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end from sync code, even inside a running loop (a session
    fixture first asked for by an async one): on a thread of its own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def connect(url: str = SERVER) -> asyncpg.Connection:
    """A plain asyncpg connection (for looking at a database from outside the bot)."""
    return await asyncpg.connect(url, timeout=3)


async def _admin() -> asyncpg.Connection:
    return await connect(SERVER)


def server_or_skip() -> None:
    """Skip (or, when required, fail) when no PostgreSQL server answers."""
    async def probe() -> str | None:
        try:
            conn = await _admin()
        except (OSError, asyncpg.PostgresError) as err:  # a timeout is an OSError
            return f"{type(err).__name__}: {err}"
        await conn.close()
        return None

    if SKIPPED:
        pytest.skip(SKIPPED[0])
    problem = run(probe())
    if problem is None:
        return
    parts = urlsplit(SERVER)
    message = f"no PostgreSQL server at {parts.hostname}:{parts.port or 5432} ({problem})"
    if REQUIRED:
        pytest.fail(f"{message}, and WHOSNEXT_REQUIRE_POSTGRES is set", pytrace=False)
    SKIPPED.append(f"{message}: the PostgreSQL half is skipped")
    pytest.skip(SKIPPED[0])


async def create_database(prefix: str = "whosnext_test") -> str:
    """A new, empty database; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await _admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(name)


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty database (no schema yet) for the block, dropped after it; skipped (or
    failed, when required) without a server."""
    server_or_skip()
    url = run(create_database(prefix))
    try:
        yield url
    finally:
        run(drop_database(url))


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await _admin()
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def empty(url: str) -> None:
    """Every table of ours emptied, ids from 1 again: a fresh database in all but the schema.
    DELETE, not TRUNCATE: on a test's few rows it is a tenth of the time (TRUNCATE makes new
    files for every table and index)."""
    conn = await connect(url)
    try:
        present = {r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        async with conn.transaction():
            # Children first (the foreign keys allow it), then any table TABLES doesn't name
            # yet, so that a new migration's table never carries rows from test to test.
            rest = sorted(present - set(TABLES) - {"whosnext_schema"})
            for table in (*TABLES, *rest):
                if table in present:
                    await conn.execute(f"DELETE FROM {table}")
            for (sequence,) in await conn.fetch(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"):
                await conn.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
    finally:
        await conn.close()


class Proxy:
    """A TCP relay on 127.0.0.1 in front of the server: ``cut()`` is the server going away
    (every connection dropped, new ones refused), ``restore()`` its coming back on the same
    port."""

    def __init__(self, target: str = SERVER) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.port = 0

    def url(self, database_url: str) -> str:
        parts = urlsplit(database_url)
        host = f"{parts.username}@" if parts.username else ""
        return urlunsplit(parts._replace(netloc=f"{host}127.0.0.1:{self.port}"))

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, up_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers = []

    restore = start
