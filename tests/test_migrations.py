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
    from tests.helpers import caller

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


def test_0004_backfills_the_leaderboard_aggregates(tmp_path, monkeypatch):
    """Attempts logged before 0004 land in the right member, week and month counts."""
    from collections import Counter
    from datetime import date, timedelta

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    known = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: known[:3])
    migrate.apply(conn)
    conn.execute("INSERT INTO members (community_id, member_id, display_name, created_at) VALUES "
                 "('console:t', 'console:a', 'a', '2026-01-01T00:00:00.000000Z'), "
                 "('console:t', 'console:b', 'b', '2026-01-01T00:00:00.000000Z')")
    rows = [("console:a", "rejected", "2026-11-22T23:59:00.000000Z"),  # a Sunday
            ("console:a", "accepted", "2026-11-23T00:01:00.000000Z"),  # the Monday after
            ("console:a", "rejected", "2026-11-30T10:00:00.000000Z"),  # next week, next month
            ("console:b", "rejected", "2026-11-01T08:00:00.000000Z"),  # a Sunday, 1st of month
            ("console:b", "pending", "2026-11-25T08:00:00.000000Z")]
    conn.executemany("INSERT INTO attempts (community_id, member_id, outcome, ask, created_at) "
                     "VALUES ('console:t', ?, ?, 'x', ?)", rows)
    monkeypatch.setattr(migrate, "migrations", lambda: known)
    migrate.apply(conn)
    expected: Counter = Counter()
    for member, outcome, at in rows:
        day = date.fromisoformat(at[:10])
        for key in ("W" + (day - timedelta(days=day.weekday())).isoformat(), "M" + at[:7]):
            expected[(key, member, "attempts")] += 1
            expected[(key, member, "rejections")] += outcome == "rejected"
    got: Counter = Counter()
    for period, member, attempts, rejections in conn.execute(
            "SELECT period, member_id, attempts, rejections FROM member_periods"):
        got[(period, member, "attempts")] += attempts
        got[(period, member, "rejections")] += rejections
    assert +got == +expected
    assert conn.execute("SELECT member_id, attempts_count, rejections_count FROM members "
                        "ORDER BY member_id").fetchall() == [("console:a", 3, 2), ("console:b", 2, 1)]
    conn.close()



@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_0017_carries_members_forward_as_celebrated_so_far(kind, tmp_path, monkeypatch,
                                                                 clock):
    """An existing member's milestones so far count as celebrated: after 0017 one edited down and
    back up is not celebrated again, while a new one past them is; old asks have no channel."""
    from bot.app import App
    from storage.connect import open_repository
    from tests import postgres
    from tests.helpers import caller

    if kind == "sqlite":
        database = f"sqlite:///{tmp_path / 'before-edits.db'}"
    else:
        postgres.server_or_skip()
        database = await postgres.create_database()
    known = {b: migrate.migrations(b) for b in ("sqlite", "postgresql")}
    (at,) = [m.version for m in known["sqlite"] if m.name.startswith("0017_")]
    with monkeypatch.context() as m:
        m.setattr(migrate, "migrations",
                  lambda b="sqlite": [x for x in known[b] if x.version < at])
        m.setattr(migrate, "latest", lambda: at - 1)
        repo = await open_repository(database, db_clock=False)

        def fill(tx):
            tx.execute("INSERT INTO members (community_id, member_id, display_name, created_at, "
                       "attempts_count, rejections_count, accepted_count) VALUES ('console:test', "
                       "'console:ana', 'ana', '2026-01-01T00:00:00.000000Z', 1, 1, 0)")
            tx.execute("INSERT INTO attempts (community_id, member_id, outcome, ask, created_at, "
                       "local_day, member_day) VALUES ('console:test', 'console:ana', 'rejected', "
                       "'old ask', '2026-11-25T10:00:00.000000Z', '2026-11-25', '2026-11-25')")
        await repo._write(fill)
        await repo.close()
    repo = await open_repository(database, db_clock=False)
    try:
        def read(tx):
            return (tuple(tx.execute("SELECT best_attempts, best_rejections, best_accepted FROM "
                                     "members").fetchone()),
                    tuple(tx.execute("SELECT channel_id, edited_at FROM attempts").fetchone()))
        assert await repo._read(read) == ((1, 1, 0), (None, None))
        app = App(repo, clock)
        first_yes = (await app.run_text("edit", "outcome:yes", caller())).plain_text()
        assert "Your first yes!" in first_yes  # past what was celebrated before 0017
        back = (await app.run_text("edit", "outcome:no", caller())).plain_text()
        assert "Updated" in back and "first no" not in back.lower()
        yes = (await app.run_text("accepted", "asked for help", caller())).plain_text()
        assert "got a yes" in yes and "Your first yes!" not in yes
    finally:
        await repo.close()
        if kind == "postgresql":
            await postgres.drop_database(database)
