"""The one query layer both backends share, and every difference between them.

The repository's statements are written once, as plain functions over a ``Tx`` (one
transaction): ``tx.execute(sql, params)`` with ``?`` placeholders, rows readable by position and
by column name. SQLite runs them straight on ``sqlite3`` (``storage.sqlite``); PostgreSQL runs
the same functions on an asyncpg connection, through ``storage.postgres.PgTx`` (kept there, so
that a SQLite bot loads nothing of PostgreSQL's). The SQL itself stays portable (``ON CONFLICT
… DO UPDATE``, ``RETURNING``, ``CASE`` rather than summed booleans, ``TRUE`` rather than ``1``,
timestamps as sortable UTC text); what can't be portable is a method of ``Tx``:

- ``skip_locked``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, nothing on SQLite (whose writers
  take turns anyway);
- ``lock(*keys)``: a transaction's advisory locks on PostgreSQL, so that writes to one member's
  counters, or a community's time zone, take turns across processes as SQLite's one writer
  makes them; nothing on SQLite;
- ``now(given)``: the database's clock on PostgreSQL (for leases, which processes on several
  machines must agree on), the given time on SQLite (every process sharing a file shares its
  machine's clock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar


class Row(Protocol):
    """A result row: by position or by column name (``sqlite3.Row`` is one)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Tx(Protocol):
    """One transaction on either backend."""

    backend: str  # "sqlite" | "postgresql"
    skip_locked: str

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Cursor: ...
    def executemany(self, sql: str, params: Iterable[Sequence[Any]], /) -> Cursor: ...
    def lock(self, key: str, *, shared: bool = False) -> None: ...
    def now(self, given: datetime) -> datetime: ...


class DatabaseUnusable(Exception):
    """The database can't be opened for writing: the reason, in a sentence for an operator."""


class SqliteTx:
    """``sqlite3``'s own methods, bound: no layer between a unit and the driver."""

    backend = "sqlite"
    skip_locked = ""

    def __init__(self, conn: Any) -> None:
        self.conn = conn  # the sqlite3 connection itself (the storage tests look at it)
        self.execute = conn.execute
        self.executemany = conn.executemany

    def lock(self, key: str, *, shared: bool = False) -> None:
        """SQLite has one writer at a time: every write already takes its turn."""

    def now(self, given: datetime) -> datetime:
        return given


T = TypeVar("T")
Unit = Callable[[Tx], Any]


class Store:
    """What the repository's parts by concern (``storage.attempts``, ``storage.outbox``, …)
    stand on: a backend runs a unit as a read or as a write (one transaction each)."""

    async def _read(self, fn: Callable[[Tx], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        raise NotImplementedError
