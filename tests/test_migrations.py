"""Numbered migrations on a fresh database, and re-runs that change nothing."""

import sqlite3

import pytest

from storage import migrate
from storage.sqlite import SqliteRepository


def tables(path):
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def version(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


async def test_fresh_database_gets_every_migration(tmp_path):
    path = tmp_path / "fresh.db"
    repo = await SqliteRepository.open(path)
    await repo.close()
    assert version(path) == len(migrate.migrations()) >= 1
    assert {"members", "attempts", "commitments", "cheers"} <= tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_rerun_is_a_no_op_and_keeps_data(tmp_path, clock):
    from bot.app import App
    from tests.conftest import caller

    path = tmp_path / "again.db"
    repo = await SqliteRepository.open(path)
    await App(repo, clock).run_text("rejected", "first ask", caller())
    await repo.close()
    before = version(path)
    repo = await SqliteRepository.open(path)
    assert (await repo.totals(caller().community, caller().member)).rejected == 1
    await repo.close()
    assert version(path) == before


def test_each_migration_is_one_transaction(tmp_path, monkeypatch):
    """A migration that fails half-way leaves the database exactly as it was."""
    path = tmp_path / "broken.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate.apply(conn)
    good = version(path)
    bad = migrate.Migration(good + 1, "9999_bad.sql",
                            "CREATE TABLE half_done (x INTEGER); CREATE TABLE members (x);")
    known = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [*known, bad])
    with pytest.raises(sqlite3.OperationalError):
        migrate.apply(conn)
    assert "half_done" not in tables(path)
    assert version(path) == good
    conn.close()


def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than this"):
        migrate.apply(conn)
    conn.close()
