"""Which backend a database URL names, and opening the repository on it. Each backend's
modules are imported only when its URL is used, so a SQLite bot never loads asyncpg."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from storage.repository import Repository

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
URL_HELP = "use sqlite:///path/to/file.db or postgresql://user@host:5432/database"


def backend(url: str) -> str:
    """``sqlite`` or ``postgresql``; ValueError (a sentence naming the fix) for anything else."""
    if url.startswith("sqlite:///"):
        if len(url) == len("sqlite:///"):
            raise ValueError(f"that SQLite URL names no file; {URL_HELP}")
        return SQLITE
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that isn't a number
        except ValueError as err:
            raise ValueError(f"that PostgreSQL URL can't be read ({err}); {URL_HELP}") from None
        if not rest or not parts.path.strip("/"):
            raise ValueError(f"that PostgreSQL URL names no database; {URL_HELP}")
        return POSTGRESQL
    raise ValueError(URL_HELP)


def as_url(value: str) -> str:
    """A URL as given, or a plain file path as its SQLite URL (``--db whosnext.db``)."""
    return value if "://" in value else f"sqlite:///{value}"


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def describe(url: str) -> str:
    """The database a URL names, for messages: a file path, or host:port/database (never a
    password)."""
    if backend(url) == SQLITE:
        return str(sqlite_path(url))
    from storage.postgres import where

    return where(url)


async def open_repository(url: str, *, db_clock: bool = True) -> Repository:
    """Open (creating or migrating as needed) the repository at ``url``. ``db_clock``: on
    PostgreSQL, leases on the database's clock. Raises ``DatabaseUnusable`` with the reason."""
    if backend(url) == SQLITE:
        from storage.sqlite import SqliteRepository

        return await SqliteRepository.open(sqlite_path(url))
    from storage.postgres import PostgresRepository

    return await PostgresRepository.open(url, db_clock=db_clock)
