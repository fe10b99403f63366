"""What only PostgreSQL has to show: the same schema as SQLite's, migrations that several
processes can start at once, leases on the server's clock, and clear words when the server or
the database isn't there. (The core's and repository's tests run on both backends through the
``backend`` fixture; these are the PostgreSQL-specific ones.)"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from storage import migrate
from storage.db import DatabaseUnusable
from storage.postgres import PostgresRepository, dollar, dsn, schema_version
from tests import postgres
from tests.helpers import FakeClock, caller, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def fresh():
    """A database of its own (not the run's shared one), dropped afterwards."""
    postgres.server_or_skip()
    url = await postgres.create_database()
    yield url
    await postgres.drop_database(url)


def sqlite_schema(path: Path) -> tuple[dict[str, list[str]], set[str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        columns = {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    finally:
        conn.close()
    return columns, indexes


async def pg_schema(url: str) -> tuple[dict[str, list[str]], set[str]]:
    conn = await postgres.connect(url)
    try:
        rows = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = current_schema() "
                                "ORDER BY table_name, ordinal_position")
        columns: dict[str, list[str]] = {}
        for r in rows:
            columns.setdefault(r["table_name"], []).append(r["column_name"])
        indexes = {r[0] for r in await conn.fetch(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
            "AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'")}
    finally:
        await conn.close()
    columns.pop("whosnext_schema")
    return columns, indexes


async def test_the_schema_is_the_same_on_both_backends(fresh, tmp_path):
    lite = await PostgresRepository.open(fresh)
    await lite.close()
    conn = sqlite3.connect(tmp_path / "same.db", isolation_level=None)
    migrate.apply(conn)
    conn.close()
    sq_columns, sq_indexes = sqlite_schema(tmp_path / "same.db")
    pg_columns, pg_indexes = await pg_schema(fresh)
    assert pg_columns == sq_columns  # same tables, same columns, in the same order
    assert pg_indexes == sq_indexes
    assert await schema_version(fresh) == migrate.latest()


async def test_processes_starting_together_migrate_once(fresh):
    """Five processes opening an empty database at the same moment: one applies each
    migration, the others wait for it, and all of them start."""
    repos = await asyncio.gather(*(PostgresRepository.open(fresh) for _ in range(5)))
    try:
        assert await schema_version(fresh) == migrate.latest()
        conn = await postgres.connect(fresh)
        try:
            assert await conn.fetchval("SELECT COUNT(*) FROM whosnext_schema") == 1
        finally:
            await conn.close()
        clock = FakeClock()
        await run(App(repos[0], clock), "/rejected first")
        assert (await repos[4].totals(caller().community, caller().member)).rejected == 1
    finally:
        for repo in repos:
            await repo.close()


async def test_a_failing_migration_changes_nothing(fresh, monkeypatch):
    repo = await PostgresRepository.open(fresh)
    await run(App(repo, FakeClock()), "/rejected kept")
    await repo.close()
    known = migrate.migrations("postgresql")
    bad = migrate.Migration(migrate.latest() + 1, "9999_bad.sql",
                            "CREATE TABLE half_done (x INTEGER); CREATE TABLE members (x INTEGER)")
    monkeypatch.setattr(migrate, "migrations", lambda backend="sqlite": [*known, bad])
    monkeypatch.setattr(migrate, "latest", lambda: bad.version)
    with pytest.raises(DatabaseUnusable, match="already exists"):
        await PostgresRepository.open(fresh)
    conn = await postgres.connect(fresh)
    try:
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT version FROM whosnext_schema") == bad.version - 1
        assert await conn.fetchval("SELECT COUNT(*) FROM attempts") == 1
    finally:
        await conn.close()


async def test_a_newer_database_is_refused(fresh):
    repo = await PostgresRepository.open(fresh)
    await repo.close()
    conn = await postgres.connect(fresh)
    await conn.execute("UPDATE whosnext_schema SET version = 999")
    await conn.close()
    with pytest.raises(RuntimeError, match="newer than this"):
        await PostgresRepository.open(fresh)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_a_database_filled_under_the_previous_schema_loses_nothing(
        kind, tmp_path, monkeypatch):
    """Filled at the schema before the newest migration, then upgraded by the next start: every
    row is still there and the bot carries on from the same counts. (The newest migration is
    stood in for by one that adds a column and fills it, as a real one would.)"""
    if kind == "sqlite":
        database = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        postgres.server_or_skip()
        database = await postgres.create_database()
    try:
        await fill_then_upgrade(database, monkeypatch)
    finally:
        if kind == "postgresql":
            await postgres.drop_database(database)


async def fill_then_upgrade(database, monkeypatch):
    newest = migrate.Migration(
        migrate.latest() + 1, "9999_next.sql",
        "ALTER TABLE members ADD COLUMN nickname TEXT; UPDATE members SET nickname = display_name")
    known = {b: migrate.migrations(b) for b in ("sqlite", "postgresql")}
    clock = FakeClock()
    from storage.connect import open_repository

    repo = await open_repository(database, db_clock=False)
    app = App(repo, clock, max_logs_per_hour=1000)
    for who in ("ana", "sam", "lee"):
        for n in range(5):
            await run(app, f"/rejected ask {n} of {who}", who=who)
        await run(app, f"/who-next follow up {who}", who=who)
        await run(app, "/goal 8", who=who)
    await run(app, "/checkin set channel:general time:09:00 zone:Europe/Berlin", who="ana")
    before = await snapshot(repo)
    await repo.close()

    monkeypatch.setattr(migrate, "migrations",
                        lambda b="sqlite": [*known[b], newest])
    monkeypatch.setattr(migrate, "latest", lambda: newest.version)
    repo = await open_repository(database, db_clock=False)
    try:
        after = await snapshot(repo)
        after["members"] = [r[:-1] for r in after["members"]]  # less the new column
        assert after == before
        nick = await repo._read(lambda tx: tx.execute(
            "SELECT nickname FROM members ORDER BY member_id").fetchall())
        assert [r[0] for r in nick] == ["ana", "lee", "sam"]
        reply = await run(App(repo, clock, max_logs_per_hour=1000), "/rejected one more")
        assert "6 asks so far" in reply.plain_text()
    finally:
        await repo.close()


async def snapshot(repo) -> dict[str, list[tuple]]:
    tables = ("members", "attempts", "commitments", "goals", "member_periods", "schedules")

    def unit(tx):
        return {t: [tuple(r) for r in tx.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()]
                for t in tables}
    return await repo._read(unit)


async def test_leases_follow_the_servers_clock(fresh):
    """A real process (db_clock on) takes lease times from the server, whatever its own clock
    says: processes on several machines agree on when a lease lapses."""
    from bot.ids import CommunityRef, Platform
    from bot.models import NewPost, PostKind

    repo = await PostgresRepository.open(fresh)
    try:
        skewed = datetime(2020, 1, 1, tzinfo=UTC)  # this machine's clock, years behind
        community = CommunityRef(Platform.CONSOLE, "c")
        await repo.enqueue_posts([NewPost(community, PostKind.CHECKIN, "2020-01-01", "general",
                                          skewed, skewed + timedelta(days=3650))], skewed)
        claimed, _ = await repo.claim_posts("me", skewed, timedelta(seconds=60), 10)
        assert len(claimed) == 1
        lease = await repo._read(lambda tx: tx.execute(
            "SELECT lease_until FROM outbox").fetchone()[0])
        server_now = datetime.now(UTC)  # the server runs on this machine
        assert abs(datetime.fromisoformat(lease) - (server_now + timedelta(seconds=60))) < \
            timedelta(seconds=30)
    finally:
        await repo.close()


async def test_an_unreachable_server_is_a_clear_start_up_error(tmp_path):
    with pytest.raises(DatabaseUnusable, match=r"127\.0\.0\.1:1/whosnext: can't reach"):
        await PostgresRepository.open("postgresql://postgres@127.0.0.1:1/whosnext")
    env = {"DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/whosnext", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-m", "bot", "console"], input="", env=env,
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("whosnext: DATABASE_URL: can't use the database at "
                                 "127.0.0.1:1/whosnext: can't reach the PostgreSQL server")
    assert "secret" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


async def test_a_database_that_does_not_exist_says_so():
    postgres.server_or_skip()
    url = postgres.database_url("whosnext_nobody_made_this")
    with pytest.raises(DatabaseUnusable, match='"whosnext_nobody_made_this" does not exist; '
                                               r"create it \(createdb\)"):
        await PostgresRepository.open(url)


@pytest.mark.parametrize("url", ["postgresql://", "postgres://host:port/db", "mysql://x/y",
                                 "postgresql://host:5432/", "sqlite:///"])
def test_a_bad_url_names_the_variable(url, tmp_path):
    env = {"DATABASE_URL": url, "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-m", "bot", "console"], input="", env=env,
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 2, out.stderr
    assert re.match(r"whosnext: (Bad configuration: )?DATABASE_URL: ", out.stderr), out.stderr
    assert "postgresql://user@host:5432/database" in out.stderr


def test_postgres_urls_are_checked_for_the_driver():
    assert dsn("postgres://u@h:1/d") == "postgres://u@h:1/d"
    assert dsn("postgresql://u@h/d?x=1") == "postgresql://u@h/d?x=1"
    for bad in ("mysql://u@h/d", "postgresql://", "postgresql"):
        with pytest.raises(ValueError):
            dsn(bad)


def test_placeholders_become_numbered():
    assert dollar("SELECT ? , ?") == "SELECT $1 , $2"
    assert dollar("SELECT 1") == "SELECT 1"


def test_no_statement_has_a_question_mark_inside_a_string_literal():
    """``dollar`` numbers every ``?``: one inside a quoted literal would be numbered too."""
    for path in (ROOT / "storage").glob("*.py"):
        for sql in re.findall(r'"[^"\n]*"', path.read_text()):
            sql = re.sub(r"\{[^}]*\}", "", sql)  # an f-string's code isn't SQL
            for literal in re.findall(r"'[^']*'", sql):
                assert "?" not in literal, f"{path.name}: {sql}"


async def test_a_unit_reads_rows_by_position_and_name_and_counts_what_it_touched(fresh):
    from storage import bridge
    from storage.postgres import PgTx, connect

    def unit(c: PgTx) -> tuple[Any, ...]:
        c.run("CREATE TEMPORARY TABLE t (n INTEGER, name TEXT)")
        c.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
        touched = c.execute("UPDATE t SET name = ? WHERE n >= ?", ("z", 2)).rowcount
        cursor = c.execute("SELECT n, name FROM t ORDER BY n")
        first = cursor.fetchone()
        rest = cursor.fetchall()
        return touched, (first[0], first["name"]), [tuple(r) for r in rest], cursor.fetchone()

    conn = await connect(fresh)
    try:
        touched, first, rest, after = await bridge.run(unit, PgTx(conn, False))
        assert touched == 2
        assert first == (1, "a")
        assert rest == [(2, "z"), (3, "z")]
        assert after is None
    finally:
        await conn.close()


async def test_a_write_whose_connection_breaks_before_commit_runs_again_once(fresh):
    """The server ends a write's session halfway through (after its first statement, before
    COMMIT): nothing of it was kept, so it runs again from the start on a new connection, and
    its rows are there once."""
    from storage.postgres import PgTx

    repo = await PostgresRepository.open(fresh, db_clock=False)
    tries: list[int] = []

    def unit(c: PgTx) -> str:
        tries.append(c.execute("SELECT pg_backend_pid()").fetchone()[0])
        c.execute("INSERT INTO kv (key, value) VALUES (?, ?)", ("half", "way"))
        if len(tries) == 1:
            c.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return "done"
    try:
        assert await repo._write(unit) == "done"
    finally:
        await repo.close()
    assert len(tries) == 2 and tries[0] != tries[1]  # a second run, on another session
    conn = await postgres.connect(fresh)
    try:
        assert await conn.fetch("SELECT value FROM kv WHERE key = 'half'") == [("way",)]
    finally:
        await conn.close()


async def test_a_server_restart_between_commands_costs_no_command(fresh):
    """The server ends every session of the bot's (as a restart or an idle timeout does): the
    next commands find their pooled connections dead, and run on new ones."""
    repo = await PostgresRepository.open(fresh, db_clock=False)
    try:
        app = App(repo, FakeClock(), max_logs_per_hour=1000)
        for n in range(3):  # several pooled connections, all alive
            await asyncio.gather(*(run(app, f"/rejected warm {n} {i}", who=f"m{i}")
                                   for i in range(4)))
        conn = await postgres.connect(fresh)
        try:
            ended = await conn.fetchval(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = 'whosnext') t")
        finally:
            await conn.close()
        assert ended >= 1
        reply = await run(app, "/rejected after the restart")
        assert not reply.error and "1 ask so far" in reply.plain_text()
        board = await run(app, "/leaderboard")
        assert not board.error
    finally:
        await repo.close()


async def test_a_server_that_goes_away_is_one_outage_in_the_log_not_a_crash(fresh, caplog):
    """The server vanishes mid-run: every command gets the friendly "try again" answer and
    changes nothing, the log says so once (no traceback per command), the scheduler's runs
    keep going; when the server is back, so is everything, and the log says that too."""
    import logging

    from bot.ids import Platform
    from bot.reply import UNAVAILABLE
    from bot.scheduler import Scheduler
    from tests.scheduler.helpers import RecordingPoster

    proxy = postgres.Proxy()
    await proxy.start()
    repo = await PostgresRepository.open(proxy.url(fresh), db_clock=False)
    clock = FakeClock()
    app = App(repo, clock, max_logs_per_hour=1000)
    sched = Scheduler(repo, app, {Platform.CONSOLE: RecordingPoster()}, clock)
    try:
        await run(app, "/rejected before")
        await proxy.cut()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            replies = [await run(app, f"/rejected during {n}") for n in range(20)]
            replies += [await run(app, "/leaderboard"), await run(app, "/stats")]
            await sched.drain()
            await sched.tick()
        assert all(r.error and r.plain_text().startswith(UNAVAILABLE) for r in replies)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage()[:29] for r in warnings] == ["Can't reach the database (/re"]
        assert not any(r.exc_info for r in caplog.records)

        await proxy.restore()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            await sched.drain()
            after = await run(app, "/rejected after")
        assert [r.getMessage()[:24] for r in caplog.records] == ["The database is back aft"]
        assert not after.error and "2 asks so far" in after.plain_text()
    finally:
        await repo.close()
        await proxy.cut()


def whosnext(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=60, env={"PATH": "/usr/bin"})


async def test_db_status_and_upgrade_on_postgresql(fresh, tmp_path):
    shown = fresh.split("@", 1)[1]
    out = await asyncio.to_thread(whosnext, ["db", "status", "--db", fresh], tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (f"{shown}: no Who's Next database here yet. `whosnext db upgrade` "
                          "creates it (so does starting the bot).\n")
    out = await asyncio.to_thread(whosnext, ["db", "upgrade", "--db", fresh], tmp_path)
    assert out.returncode == 0, out.stderr
    latest = migrate.latest()
    names = ", ".join(m.name.removesuffix(".sql") for m in migrate.pending(0, "postgresql"))
    assert names.startswith("0007_baseline")
    assert out.stdout == f"{shown}: applied {names}; now at schema version {latest}.\n"
    out = await asyncio.to_thread(whosnext, ["db", "status", "--db", fresh], tmp_path)
    assert out.stdout == f"{shown}: schema version {latest} of {latest}, up to date.\n"
    unreachable = await asyncio.to_thread(
        whosnext, ["db", "status", "--db", "postgresql://postgres@127.0.0.1:1/x"], tmp_path)
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("whosnext: --db: can't use the database at "
                                         "127.0.0.1:1/x: can't reach the PostgreSQL server")


async def test_the_hourly_limit_holds_under_concurrent_writers(reopen):
    """Twelve asks at once from one member, through three "processes", against a limit of
    five: five are stored, seven are refused."""
    from bot.ids import CommunityRef, Platform

    repos = [await reopen() for _ in range(3)]
    apps = [App(r, FakeClock(), max_logs_per_hour=5) for r in repos]
    who = caller("ana", community=CommunityRef(Platform.SLACK, "T0LIM"))
    replies = await asyncio.gather(*(apps[i % 3].run_text("rejected", f"ask {i}", who, f"r{i}")
                                     for i in range(12)))
    assert (await repos[0].totals(who.community, who.member)).attempts == 5
    assert sum(r.error for r in replies) == 7


@pytest.fixture
def backend() -> str:
    """This module's tests that take the shared database take the PostgreSQL one."""
    return "postgresql"
