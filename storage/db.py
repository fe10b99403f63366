"""The one query layer both backends share, and every difference between them.

The repository's statements are written once, as plain functions over a ``Tx`` (one
transaction): ``tx.execute(sql, params)`` with ``?`` placeholders, rows readable by position and
by column name. SQLite runs them straight on ``sqlite3`` (``storage.sqlite``); PostgreSQL runs
the same functions on a SQLAlchemy connection over asyncpg (``storage.postgres``), through
``PgTx`` below. The SQL itself stays portable (``ON CONFLICT … DO UPDATE``, ``RETURNING``,
``CASE`` rather than summed booleans, ``TRUE`` rather than ``1``, timestamps as sortable UTC
text); what can't be portable is a method of ``Tx``:

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

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import lru_cache
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


class Record:
    """A PostgreSQL row read by position or name, like ``sqlite3.Row``."""

    __slots__ = ("_values", "_names")

    def __init__(self, values: Sequence[Any], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: int | str) -> Any:
        return self._values[self._names[key] if isinstance(key, str) else key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


class PgCursor:
    def __init__(self, result: Any) -> None:
        self.rowcount: int = result.rowcount
        self._result = result if result.returns_rows else None
        self._names = ({name: i for i, name in enumerate(result.keys())}
                       if self._result is not None else {})

    def _record(self, row: Any) -> Record | None:
        return None if row is None else Record(tuple(row), self._names)

    def fetchone(self) -> Record | None:
        return None if self._result is None else self._record(self._result.fetchone())

    def fetchall(self) -> list[Record]:
        if self._result is None:
            return []
        names = self._names
        return [Record(tuple(r), names) for r in self._result.fetchall()]

    def __iter__(self) -> Iterator[Record]:
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


class PgTx:
    """A unit's transaction on PostgreSQL: a SQLAlchemy ``Connection`` (inside
    ``AsyncConnection.run_sync``, so each statement is one await on asyncpg underneath)."""

    backend = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, conn: Any, db_clock: bool) -> None:
        self._conn = conn
        self._db_clock = db_clock
        self._locked: dict[str, bool] = {}  # key: held shared
        self.statements = 0  # run to their end so far (none: the connection did nothing)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        cursor = PgCursor(self._conn.exec_driver_sql(dollar(sql), tuple(params)))
        self.statements += 1
        return cursor

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Cursor:
        rows = [tuple(p) for p in params]
        if not rows:
            return _NO_ROWS
        cursor = PgCursor(self._conn.exec_driver_sql(dollar(sql), rows))
        self.statements += 1
        return cursor

    def lock(self, key: str, *, shared: bool = False) -> None:
        """An advisory lock held to the end of the transaction: shared ones side by side, an
        exclusive one alone. Taken once per transaction (a second call is free; asking for
        the exclusive lock after the shared one waits for the others' shared ones). Should two
        units ever wait on each other, PostgreSQL ends one and the runner tries it again."""
        held = self._locked.get(key)
        if held is not None and (shared or not held):
            return
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        self._conn.exec_driver_sql(f"SELECT {fn}($1)", (lock_id(key),))
        self.statements += 1
        self._locked[key] = shared

    def now(self, given: datetime) -> datetime:
        if not self._db_clock:
            return given
        value: datetime = self._conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
        return value


class _NoRows:
    rowcount = 0

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[Any]:
        return []

    def __iter__(self) -> Iterator[Any]:
        return iter(())


_NO_ROWS: Cursor = _NoRows()


T = TypeVar("T")
Unit = Callable[[Tx], Any]


class Store:
    """What the repository's parts by concern (``storage.attempts``, ``storage.outbox``, …)
    stand on: a backend runs a unit as a read or as a write (one transaction each)."""

    async def _read(self, fn: Callable[[Tx], T]) -> T:
        raise NotImplementedError

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        raise NotImplementedError
