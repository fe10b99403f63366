"""The repository's own database thread: every unit runs there in one hop on one connection,
a cancelled caller can't leave it mid-transaction, and open/close leave no thread behind.

The thread is held up with threading.Events (never timed sleeps) where a test needs a unit to
be under way while something happens on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from storage.sqlite import DatabaseUnusable, SqliteRepository

BOUND = 30  # seconds: only so a broken test fails instead of hanging


def db_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("whosnext-sqlite")}


class Gate:
    """Holds the database thread inside a unit until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def hold(self, c: sqlite3.Connection) -> None:
        self.entered.set()
        assert self.release.wait(BOUND)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, BOUND)


def count(c: sqlite3.Connection) -> int:
    return c.execute("SELECT COUNT(*) FROM kv").fetchone()[0]


@pytest.fixture
async def repo(tmp_path):
    repository = await SqliteRepository.open(tmp_path / "bot.db")
    yield repository
    await repository.close()


async def test_units_run_on_one_thread_of_their_own_with_the_pragmas(repo):
    def where(tx):
        c = tx.conn
        return (threading.get_ident(), id(c), type(c.execute("SELECT 1 AS x").fetchone()),
                c.execute("PRAGMA journal_mode").fetchone()[0],
                c.execute("PRAGMA synchronous").fetchone()[0],
                c.execute("PRAGMA foreign_keys").fetchone()[0],
                c.execute("PRAGMA busy_timeout").fetchone()[0], c.isolation_level)

    first = await repo._read(where)
    again = await repo._write(where)
    assert first == again  # same thread, same connection, reads and writes alike
    assert first[0] != threading.get_ident()
    assert first[2:] == (sqlite3.Row, "wal", 1, 1, 5000, None)
    assert len(db_threads()) >= 1


async def test_close_ends_the_thread_and_refuses_more_work(tmp_path):
    before = db_threads()
    repo = await SqliteRepository.open(tmp_path / "bot.db")
    assert db_threads() - before
    await repo.set_value("k", "v")
    await repo.close()
    assert db_threads() <= before
    assert not Path(f"{tmp_path / 'bot.db'}-wal").exists()  # closed properly
    await repo.close()  # again: nothing to do
    with pytest.raises(RuntimeError, match="closed"):
        await repo.set_value("k", "w")
    with pytest.raises(RuntimeError, match="closed"):
        await repo.get_value("k")


@pytest.mark.parametrize("case", ["missing folder", "not a database", "newer schema"])
async def test_a_failed_open_leaves_no_thread_behind(case, tmp_path):
    path = tmp_path / "bot.db"
    if case == "missing folder":
        path = tmp_path / "nowhere" / "bot.db"
        expected: type[Exception] = DatabaseUnusable
    elif case == "not a database":
        path.write_text("not a database\n" * 100)
        expected = DatabaseUnusable
    else:  # usable, but migrating it fails on the database thread
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA user_version = 9999")
        expected = RuntimeError
    before = db_threads()
    with pytest.raises(expected):
        await SqliteRepository.open(path)
    assert db_threads() <= before


async def test_queued_writes_finish_before_close(tmp_path):
    repo = await SqliteRepository.open(tmp_path / "bot.db")
    writes = [asyncio.create_task(repo.set_value(f"k{i}", "v")) for i in range(50)]
    await asyncio.sleep(0)  # let them queue
    await repo.close()
    assert all(w.done() and w.exception() is None for w in writes)
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM kv").fetchone()[0] == 50


async def test_a_caller_cancelled_mid_unit_leaves_no_open_transaction(repo):
    gate = Gate()

    def unit(c: sqlite3.Connection) -> str:
        c.execute("INSERT INTO kv (key, value) VALUES ('a', '1')")
        gate.hold(c)  # the caller is cancelled while the batch's transaction is open
        c.execute("INSERT INTO kv (key, value) VALUES ('b', '2')")
        return "done"

    task = asyncio.create_task(repo._write(unit))
    await gate.wait_entered()
    task.cancel()
    gate.release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The unit ran to its end on the thread and its batch committed; nothing is left open.
    assert await repo._read(lambda c: c.conn.in_transaction) is False
    assert await repo._read(count) == 2
    await repo.set_value("after", "x")
    assert await repo.get_value("after") == "x"


async def test_a_caller_cancelled_before_its_batch_starts_runs_nothing(repo):
    gate = Gate()
    first = asyncio.create_task(repo._write(gate.hold))
    await gate.wait_entered()  # the thread is busy with the first batch
    ran = []
    second = asyncio.create_task(repo._write(lambda c: ran.append(c)))
    third = asyncio.create_task(repo.set_value("k", "v"))
    await asyncio.sleep(0)  # both queued behind the first batch
    second.cancel()
    gate.release.set()
    await first
    await third
    with pytest.raises(asyncio.CancelledError):
        await second
    assert ran == []
    assert await repo.get_value("k") == "v"


async def test_a_cancelled_writer_still_tells_its_callers(tmp_path):
    repo = await SqliteRepository.open(tmp_path / "bot.db")
    gate = Gate()

    def unit(c: sqlite3.Connection) -> str:
        gate.hold(c)
        c.execute("INSERT INTO kv (key, value) VALUES ('k', 'v')")
        return "committed"

    caller = asyncio.create_task(repo._write(unit))
    await gate.wait_entered()
    later = asyncio.create_task(repo.set_value("later", "x"))
    await asyncio.sleep(0)  # queued behind the running batch
    repo._writer.cancel()  # e.g. the loop shutting down
    gate.release.set()
    assert await caller == "committed"  # its batch did commit, and it hears so
    await repo.close()  # the write queued behind it still runs before the close
    await later
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert dict(conn.execute("SELECT key, value FROM kv")) == {"k": "v", "later": "x"}


async def test_a_read_that_leaves_a_transaction_open_is_rolled_back(repo):
    def sloppy(c: sqlite3.Connection) -> None:
        c.execute("BEGIN IMMEDIATE")
        c.execute("INSERT INTO kv (key, value) VALUES ('k', 'v')")
        raise ValueError("forgot to finish")

    with pytest.raises(ValueError):
        await repo._read(sloppy)
    assert await repo._read(lambda c: c.conn.in_transaction) is False
    assert await repo.get_value("k") is None
    await repo.set_value("k", "w")  # the writer's BEGIN IMMEDIATE works
    assert await repo.get_value("k") == "w"


async def test_failed_units_fail_alone_and_close_still_works(tmp_path):
    repo = await SqliteRepository.open(tmp_path / "bot.db")

    def bad(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO kv (key, value) VALUES ('bad', '1')")
        raise ValueError("no")

    def stops(c: sqlite3.Connection) -> None:
        next(iter(()))  # a StopIteration can't travel in a future: it must not hang the caller

    results = await asyncio.gather(repo._write(bad), repo.set_value("good", "1"),
                                   repo._write(stops), repo._read(stops),
                                   repo._write(lambda c: c.execute("SELECT nonsense")),
                                   return_exceptions=True)
    assert isinstance(results[0], ValueError)
    assert results[1] is None
    assert all(isinstance(r, RuntimeError) for r in results[2:4])
    assert isinstance(results[4], sqlite3.OperationalError)
    assert await repo.get_value("good") == "1" and await repo.get_value("bad") is None
    before = db_threads()
    await repo.close()
    assert len(before - db_threads()) == 1
