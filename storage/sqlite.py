"""The repository on SQLite: the units of ``storage.attempts``, ``storage.outbox`` and the rest,
run on ``sqlite3`` (through ``storage.db.SqliteTx``, which is the driver's own methods).

One long-lived ``sqlite3`` connection, made on and used only from one worker thread of our own
(a one-thread ``ThreadPoolExecutor``), WAL, ``synchronous=NORMAL``, foreign keys on. Every
command's writes form one unit, and writes that arrive together are group-committed: the writer
takes whatever is queued, runs each command inside its own SAVEPOINT (so one failing command
rolls back alone) and commits the batch once. A caller's await returns only after its batch has
committed, so every acknowledged command is durable.

Each unit runs as one plain function on that thread: one thread hop per batch instead of one
per statement (see PLATFORM-NOTES on the per-await cost of a thread hop). A unit that has
started always runs to its end on the thread, whatever happens to the coroutine awaiting it,
and the thread never leaves a transaction open between units.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from storage import migrate
from storage.db import DatabaseUnusable, SqliteTx, Tx
from storage.repository import Repository

T = TypeVar("T")
Unit = Callable[[Tx], Any]


MAX_BATCH = 512

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
)


def _check_usable(path: str | Path) -> None:
    """Open the file as the repository will, and make a write that changes nothing: SQLite
    refuses it when the file (or its folder, where the WAL lives) is read-only. Without this a
    read-only database would open fine and then fail every write. A connection of its own,
    closed here, so that a database that can't be used leaves nothing open behind."""
    c = sqlite3.connect(str(path), isolation_level=None)
    try:
        c.execute(PRAGMAS[0])  # WAL: needs the folder to be writable too
        c.execute("BEGIN IMMEDIATE")
        try:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            c.execute(f"PRAGMA user_version = {version}")
        finally:
            c.execute("ROLLBACK")
    finally:
        c.close()


def _unusable(path: str | Path, err: sqlite3.Error) -> DatabaseUnusable:
    message = str(err)
    if "readonly" in message or "read-only" in message:
        why = "it is read-only; make the file and its folder writable for this user"
    elif "unable to open" in message:
        why = ("it can't be opened for writing; check that its folder exists and is writable "
               "(SQLite keeps a -wal file beside it)")
    elif "not a database" in message:
        why = "that file is not a SQLite database"
    else:
        why = f"SQLite says: {message}"
    return DatabaseUnusable(f"can't use the database at {path}: {why}.")


class _DatabaseThread:
    """One worker thread owning one ``sqlite3`` connection: the connection is made on the
    thread and used only there (``check_same_thread`` stays on, so a slip is an error). Jobs
    run in submission order, one at a time; each is one hop there and one back. A job that has
    been submitted runs to its end whatever happens to whoever awaits it; only its answer is
    then dropped. A ``ThreadPoolExecutor`` of one, so that even a repository never closed
    doesn't keep the interpreter from exiting."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whosnext-sqlite")
        self._sqlite: sqlite3.Connection | None = None  # touched on the thread only
        self._closing: asyncio.Future[None] | None = None

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...],
               done: Callable[[bool, Any], None]) -> None:
        """Run ``fn(*args)`` on the thread, then ``done(True, result)`` or ``done(False,
        exception)`` on the calling event loop."""
        if self._closing is not None:
            raise RuntimeError("the database is closed")
        self._executor.submit(_job, asyncio.get_running_loop(), fn, args, done)

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on the thread, as a future."""
        fut = asyncio.get_running_loop().create_future()
        self.submit(fn, args, lambda ok, value: _resolve(fut, ok, value))
        return fut

    def run(self, unit: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """``unit(connection)`` on the thread, as a future."""
        return self.call(self.on_connection, unit)

    def connect(self, path: str | Path) -> asyncio.Future[None]:
        return self.call(self._connect, path)

    def on_connection(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """On the thread: run ``unit`` on the connection. Whatever it did, the next unit
        starts outside a transaction."""
        c = self._sqlite
        if c is None:
            raise RuntimeError("the database is not open")
        try:
            return unit(c)
        finally:
            if c.in_transaction:
                c.execute("ROLLBACK")

    def _connect(self, path: str | Path) -> None:
        c = sqlite3.connect(str(path), isolation_level=None)
        try:
            c.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                c.execute(pragma)
        except BaseException:
            c.close()
            raise
        self._sqlite = c

    def _disconnect(self) -> None:
        c, self._sqlite = self._sqlite, None
        if c is not None:
            c.close()

    async def close(self) -> None:
        """Close the connection once what's already submitted has run, and end the thread.
        Work submitted afterwards is refused. Safe to call again."""
        if self._closing is None:
            self._closing = self.call(self._disconnect)
            self._executor.shutdown(wait=False)  # what's queued, the disconnect last, still runs
        try:
            await asyncio.shield(self._closing)
        finally:
            if self._closing.done():
                self._executor.shutdown(wait=True)  # nothing left for the thread: join it


def _job(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], args: tuple[Any, ...],
         done: Callable[[bool, Any], None]) -> None:
    """On the database thread: run one job and hand its outcome back to the loop."""
    try:
        value, ok = fn(*args), True
    except BaseException as err:  # it belongs to the awaiting coroutine, not to this thread
        value, ok = err, False
    try:
        loop.call_soon_threadsafe(done, ok, value)
    except RuntimeError:  # the loop has closed: nobody is left to tell
        pass


def _fail(fut: asyncio.Future[Any], err: BaseException) -> None:
    if isinstance(err, StopIteration):  # a future can't carry one
        wrapped = RuntimeError(f"a unit raised {err!r}")
        wrapped.__cause__ = err
        err = wrapped
    fut.set_exception(err)


def _resolve(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():  # its caller was cancelled
        return
    if ok:
        fut.set_result(value)
    else:
        _fail(fut, value)


def _settle(batch: list[tuple[Unit, asyncio.Future[Any]]], ok: bool, value: Any) -> None:
    """Tell each caller in a batch how its unit ended."""
    if ok:
        for (_, fut), (unit_ok, result) in zip(batch, value, strict=True):
            _resolve(fut, unit_ok, result)
        return
    err = value if isinstance(value, Exception) else RuntimeError(f"write failed: {value!r}")
    for _, fut in batch:  # the transaction itself failed: nothing in it landed
        _resolve(fut, False, err)


class SqliteRepository(Repository):

    def __init__(self, thread: _DatabaseThread):
        self._thread = thread
        self._queue: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path) -> SqliteRepository:
        """Open (creating if needed), check it takes writes, and migrate the database at
        ``path``. ``DatabaseUnusable`` says why one can't be used. A failed open leaves no
        connection or thread behind."""
        thread = _DatabaseThread()
        try:
            try:
                await thread.call(_check_usable, path)
            except sqlite3.Error as err:
                raise _unusable(path, err) from None
            await thread.connect(path)
            await thread.run(migrate.apply)
        except BaseException:
            await thread.close()
            raise
        return cls(thread)

    async def close(self) -> None:
        """Let the queued writes finish and commit, then close the connection and its thread."""
        while not self._thread.closing:
            writer = self._writer
            if writer is not None and not writer.done():
                await asyncio.wait([writer])  # as a shield: cancelling close() leaves it running
            elif self._queue:  # a writer cancelled midway left these: they still run
                self._writer = asyncio.create_task(self._drain())
            else:
                break
        if self._writer is not None and self._writer.done() and not self._writer.cancelled():
            self._writer.exception()  # seen here; each caller was told its own outcome
        await self._thread.close()

    async def _read(self, fn: Callable[[Tx], T]) -> T:
        return await self._thread.run(lambda conn: fn(SqliteTx(conn)))

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        if self._thread.closing:
            raise RuntimeError("the database is closed")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, fut))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        """Run what's queued, a batch (one transaction, one thread hop) at a time; what arrives
        meanwhile forms the next batch. A caller cancelled before its batch is taken is left
        out: nothing of it ran. Once a batch is on the thread it runs to its COMMIT or ROLLBACK
        there, and its callers hear how it ended even if this task is cancelled meanwhile."""
        loop = asyncio.get_running_loop()
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            batch = [(fn, fut) for fn, fut in batch if not fut.done()]
            if not batch:
                continue
            units = [fn for fn, _ in batch]
            finished = loop.create_future()

            def done(ok: bool, value: Any, batch: list[tuple[Unit, asyncio.Future[Any]]] = batch,
                     finished: asyncio.Future[None] = finished) -> None:
                _settle(batch, ok, value)
                if not finished.done():
                    finished.set_result(None)
            try:
                self._thread.submit(self._thread.on_connection,
                                    (lambda c, units=units: run_batch(c, units),), done)
            except Exception as err:  # closed under us
                _settle(batch, False, err)
                continue
            await finished


def run_batch(c: sqlite3.Connection, units: list[Unit]) -> list[tuple[bool, Any]]:
    """Run every unit in one transaction, each inside its own savepoint; commit once."""
    outcomes: list[tuple[bool, Any]] = []
    tx = SqliteTx(c)
    c.execute("BEGIN IMMEDIATE")
    try:
        for unit in units:
            c.execute("SAVEPOINT unit")
            try:
                value = unit(tx)
            except Exception as err:  # this command fails alone; the others still commit
                c.execute("ROLLBACK TO unit")
                c.execute("RELEASE unit")
                outcomes.append((False, err))
            else:
                c.execute("RELEASE unit")
                outcomes.append((True, value))
        c.execute("COMMIT")
    except BaseException:
        if c.in_transaction:
            c.execute("ROLLBACK")
        raise
    return outcomes
