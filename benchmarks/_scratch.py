"""Scratch databases for the benchmarks: a fresh, migrated one for each measured run, on the
backend a ``--database`` URL names, removed afterwards (also when a run fails or is
interrupted with Ctrl-C).

- SQLite (the default, or ``sqlite:///path/name.db``): a new file per run, in a temporary
  folder, or beside the named file as ``name_<pid>_<n>.db``; deleted with its -wal and -shm.
- PostgreSQL (``postgresql://user@host:port/db``): a new database per run on that server,
  ``whosnext_bench_<pid>_<n>``, created and dropped through the named database (which is
  itself left alone).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

from storage import migrate
from storage.connect import POSTGRESQL, SQLITE, backend, sqlite_path

PREFIX = "whosnext_bench"


def database_url(server: str, name: str) -> str:
    """The server's URL naming another database."""
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def migrate_postgresql(url: str) -> None:
    """Bring a PostgreSQL database to the latest schema, as the repository does on open."""
    from storage.postgres import connect, upgrade

    conn = await connect(url)
    try:
        await upgrade(conn)
    finally:
        await conn.close()


def migrate_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate.apply(conn)
    finally:
        conn.close()


class Scratch:
    """Makes and removes the scratch databases of one benchmark run. Use it as a context
    manager around the whole run: leaving it removes whatever a failed or interrupted run
    left behind."""

    def __init__(self, url: str | None) -> None:
        self.server = url
        self.backend = backend(url) if url else SQLITE
        self._made: list[str] = []  # URLs (PostgreSQL) or paths (SQLite) not yet removed
        self._n = 0
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.backend == SQLITE:
            if url is None:
                self._tmp = tempfile.TemporaryDirectory(prefix=f"{PREFIX}_")
                self._folder, self._stem = Path(self._tmp.name), "run"
            else:
                named = sqlite_path(url)
                self._folder, self._stem = named.parent, named.stem

    @property
    def is_postgresql(self) -> bool:
        return self.backend == POSTGRESQL

    def describe(self) -> str:
        """Where the scratch databases go, for the header line."""
        if self.is_postgresql:
            assert self.server is not None
            parts = urlsplit(self.server)
            return (f"PostgreSQL at {parts.hostname or 'localhost'}:{parts.port or 5432}, "
                    f"scratch databases {PREFIX}_{os.getpid()}_<n>")
        return f"SQLite, scratch files in {self._folder}"

    def _next_name(self) -> str:
        self._n += 1
        return f"{PREFIX}_{os.getpid()}_{self._n}"

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A fresh database at the latest schema, as a URL, removed on the way out."""
        url = await self.create()
        try:
            yield url
        finally:
            await self.remove(url)

    async def create(self) -> str:
        if not self.is_postgresql:
            self._n += 1
            path = self._folder / f"{self._stem}_{os.getpid()}_{self._n}.db"
            self._made.append(str(path))
            migrate_sqlite(path)
            return f"sqlite:///{path}"
        assert self.server is not None
        url = database_url(self.server, self._next_name())
        self._made.append(url)  # before CREATE: an interrupted create is still cleaned up
        # Run the CREATE to its end even if we are cancelled meanwhile, so that the drop
        # that follows finds the database rather than racing its creation.
        task = asyncio.ensure_future(self._create_postgresql(url))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise
        await migrate_postgresql(url)
        return url

    async def _create_postgresql(self, url: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.server, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{database_name(url)}"')
        finally:
            await conn.close()

    async def remove(self, url: str) -> None:
        if not self.is_postgresql:
            path = sqlite_path(url)
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
            self._made.remove(str(path))
            return
        import asyncpg

        conn = await asyncpg.connect(self.server, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
        finally:
            await conn.close()
        self._made.remove(url)

    def remove_leftovers(self) -> None:
        """Remove every scratch database still there (after an error or Ctrl-C), from sync
        code, outside any event loop."""
        for made in list(self._made):
            url = made if self.is_postgresql else f"sqlite:///{made}"
            asyncio.run(self.remove(url))
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove_leftovers()
