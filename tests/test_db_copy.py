"""``whosnext db copy`` on real databases: a community's whole history moved from a SQLite file
to PostgreSQL through the real ``python -m bot``, after which the bot carries on from the same
counts; a target that isn't empty and a source at an older schema refused with nothing changed;
a copy that fails midway leaving the target empty; the progress lines of a larger database;
the count check catching a difference; and PostgreSQL back to SQLite, row for row."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from bot.app import App
from bot.ids import CommunityRef, Platform
from bot.models import OutboxState
from storage import copy as db_copy
from storage import migrate
from storage.connect import open_repository
from tests import postgres
from tests.helpers import COMMUNITY, FakeClock, caller, press, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc
from tests.test_console import whosnext

OTHER = CommunityRef(Platform.CONSOLE, "other")
NAMES = [t.name for t in db_copy.TABLES]


@pytest.fixture
def pg_url():
    """A new PostgreSQL database of its own, without any schema yet; dropped afterwards."""
    postgres.server_or_skip()
    url = postgres.run(postgres.create_database("whosnext_copy"))
    yield url
    postgres.run(postgres.drop_database(url))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def new_app(repo, clock) -> App:
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000)


async def say(app: App, line: str, who: str = "ana", community: CommunityRef = COMMUNITY,
              admin: bool = False, request_id: str | None = None):
    command, _, text = line.lstrip("/").partition(" ")
    return await app.run_text(command, text, caller(who, admin=admin, community=community),
                              request_id)


async def populate(url: str, clock: FakeClock) -> None:
    """A lived-in database, made by the real core: two communities, five members, asks of
    every outcome, a kept promise and an open one, cheers, a goal, a check-in schedule in a
    zone, and a check-in that went out."""
    repo = await open_repository(url, db_clock=False)
    app = new_app(repo, clock)
    try:
        first = await run(app, '/rejected asked for a raise who:"my boss" fear:7',
                          request_id="req-1")
        await press(app, first.buttons()[0].action, who="sam")  # a cheer
        await press(app, first.buttons()[0].action, who="kim")
        await run(app, "/rejected asked for a discount", who="sam")
        clock.advance(minutes=5)
        await run(app, "/accepted asked for a table by the window", who="sam")
        await run(app, "/pending asked the bank for a better rate")
        await run(app, "/rejected asked to present at the all-hands private:true")
        await run(app, "/goal 10 by:2027-06-30")
        await run(app, "/who-next ask Lee for an intro when:tomorrow")
        await run(app, "/who-next ask for feedback when:today")
        kept = (await run(app, "/asks")).buttons()[1]  # Accepted, on the feedback promise
        assert kept.label == "Accepted" and "got a yes" in (await press(app, kept.action)
                                                            ).plain_text()
        await run(app, "/rejected asked for a refund", who="kim")
        await run(app, "/timezone zone:America/New_York", who="kim")
        for i in range(4):
            clock.advance(hours=1)
            await say(app, f"/rejected cold call number {i}", "lee", OTHER)
        await say(app, "/accepted asked for a mentor", "joy", OTHER)
        schedule = await say(app, "/checkin set time:09:00 days:daily zone:Europe/Berlin",
                             admin=True)
        assert not schedule.error, schedule.plain_text()
        clock.set(utc(2026, 11, 27, 8))  # Fri 27 Nov, 09:00 in Berlin: the check-in goes out
        poster = RecordingPoster()
        assert (await make_scheduler(repo, app, poster, clock).run_due(clock.now())).posted == 1
        assert [p.state for p in await repo.last_posts(COMMUNITY)] == [OutboxState.SENT]
    finally:
        await repo.close()


# What a member sees, asked of both databases: it must read the same after the copy.
VIEWS = [("/leaderboard", "ana", COMMUNITY), ("/leaderboard period:month by:rejections", "sam",
                                               COMMUNITY),
         ("/stats", "ana", COMMUNITY), ("/stats", "kim", COMMUNITY), ("/goal", "ana", COMMUNITY),
         ("/asks", "ana", COMMUNITY), ("/leaderboard", "lee", OTHER), ("/stats", "joy", OTHER)]


async def views(url: str, clock: FakeClock) -> dict[str, object]:
    repo = await open_repository(url, db_clock=False)
    app = new_app(repo, clock)
    try:
        seen: dict[str, object] = {}
        for line, who, community in VIEWS:
            seen[f"{who} {line}"] = (await say(app, line, who, community)).plain_text()
        seen["checkin show"] = (await say(app, "/checkin show", admin=True)).plain_text()
        for who in ("ana", "sam", "kim"):
            seen[f"totals {who}"] = await repo.totals(COMMUNITY, caller(who).member)
            seen[f"open {who}"] = await repo.open_items(COMMUNITY, caller(who).member)
        seen["goal"] = await repo.goal(COMMUNITY, caller().member)
        seen["schedule"] = await repo.get_schedule(COMMUNITY)
        seen["posts"] = await repo.last_posts(COMMUNITY)
        return seen
    finally:
        await repo.close()


def sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t.name: conn.execute(f"SELECT * FROM {t.name} ORDER BY {', '.join(t.key)}")
                .fetchall() for t in db_copy.TABLES}


async def pg_fetch(url: str, sql: str) -> list[tuple]:
    conn = await asyncpg.connect(url, timeout=3)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def pg_counts(url: str) -> dict[str, int]:
    present = {r[0] for r in await pg_fetch(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    return {name: (await pg_fetch(url, f"SELECT COUNT(*) FROM {name}"))[0][0]
            for name in NAMES if name in present}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_sqlite_moves_to_postgresql_and_the_bot_carries_on(tmp_path, pg_url):
    db = tmp_path / "whosnext.db"
    clock = FakeClock()
    await populate(sqlite_url(db), clock)
    before = await views(sqlite_url(db), clock)
    ids = {t: [r[0] for r in sqlite_rows(db)[t]] for t in ("attempts", "commitments", "outbox")}
    source = digest(db)

    out = whosnext(["db", "copy", "--from", str(db), "--to", pg_url], "", tmp_path)
    assert out.returncode == 0, out.stderr
    where = pg_url.rpartition("@")[2]
    assert out.stdout.splitlines()[0] == (
        f"Copied 2 communities: 5 members, 12 attempts, 2 promises, 2 cheers, 1 goal, "
        f"1 check-in schedule, 1 scheduled post, and {sum_bookkeeping(db)} rows of bookkeeping "
        f"(period, day and area counts, processed requests, settings) from {db} to {where}; "
        "counts match.")
    assert out.stderr == ""  # a small database: just the summary
    assert digest(db) == source  # the source is only read

    assert await views(pg_url, clock) == before  # every member sees the same
    for table, kept in ids.items():  # the same ids: cheers and follow-ups still point right
        assert [r[0] for r in await pg_fetch(pg_url, f"SELECT id FROM {table} ORDER BY id")] == kept

    # The bot carries on: the same counts, the next ask and promise take fresh ids, and a
    # request the platform retries is still recognised.
    repo = await open_repository(pg_url, db_clock=False)
    app = new_app(repo, clock)
    try:
        again = await run(app, '/rejected asked for a raise who:"my boss" fear:7',
                          request_id="req-1")
        assert not again.error and "asked for a raise" in again.plain_text()
        totals = await repo.totals(COMMUNITY, caller().member)
        assert totals == before["totals ana"]  # the retry logged nothing twice
        reply = await run(app, "/rejected asked for a second opinion")
        assert not reply.error and f"{totals.attempts + 1} asks so far" in reply.plain_text()
        assert (await repo.totals(COMMUNITY, caller().member)).attempts == totals.attempts + 1
        assert not (await run(app, "/who-next ask Sam for a reference")).error
    finally:
        await repo.close()
    assert (await pg_fetch(pg_url, "SELECT MAX(id) FROM attempts"))[0][0] == max(ids["attempts"]) + 1
    assert (await pg_fetch(pg_url, "SELECT MAX(id) FROM commitments"))[0][0] == (
        max(ids["commitments"]) + 1)


def sum_bookkeeping(db: Path) -> int:
    rows = sqlite_rows(db)
    return sum(len(rows[name]) for name in ("member_periods", "member_days", "member_areas",
                                            "processed_requests", "kv"))


async def test_a_target_that_isnt_empty_is_refused_and_left_as_it_was(tmp_path, pg_url):
    db = tmp_path / "whosnext.db"
    await populate(sqlite_url(db), FakeClock())
    repo = await open_repository(pg_url, db_clock=False)
    await run(new_app(repo, FakeClock()), "/rejected asked first, on the new server")
    await repo.close()
    before = await pg_counts(pg_url)

    out = whosnext(["db", "copy", "--from", str(db), "--to", pg_url], "", tmp_path)
    assert out.returncode == 1 and out.stdout == ""
    where = pg_url.rpartition("@")[2]
    assert out.stderr.strip() == (
        f"whosnext: the target {where} isn't empty (members has 1 row, attempts has 1 row, "
        "member_periods has 2 rows, member_days has 1 row); nothing was changed. Copy into a new, "
        "empty database.")
    assert await pg_counts(pg_url) == before


async def test_an_older_target_with_rows_is_refused_before_it_is_migrated(tmp_path, monkeypatch):
    source, target = tmp_path / "new.db", tmp_path / "old.db"
    await populate(sqlite_url(source), FakeClock())
    conn = sqlite3.connect(target, isolation_level=None)
    known = migrate.migrations()
    with monkeypatch.context() as m:
        m.setattr(migrate, "migrations", lambda: known[:5])
        migrate.apply(conn)
    conn.execute("INSERT INTO members (community_id, member_id, display_name, created_at) "
                 "VALUES ('console:t', 'console:ana', 'ana', '2026-01-01T00:00:00.000000Z')")
    conn.close()
    with pytest.raises(db_copy.CopyRefused, match=r"isn't empty \(members has 1 row\)"):
        await db_copy.copy(sqlite_url(source), sqlite_url(target))
    assert migrate.version(sqlite3.connect(target)) == 5  # not even migrated


async def test_a_source_at_an_older_schema_is_refused_and_nothing_is_created(tmp_path,
                                                                              monkeypatch):
    old, target = tmp_path / "old.db", tmp_path / "copy.db"
    conn = sqlite3.connect(old, isolation_level=None)
    known = migrate.migrations()
    with monkeypatch.context() as m:
        m.setattr(migrate, "migrations", lambda: known[:5])
        migrate.apply(conn)
    conn.close()
    source = digest(old)
    out = whosnext(["db", "copy", "--from", str(old), "--to", str(target)], "", tmp_path)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (
        f"whosnext: the source {old} is at schema version 5 and this Who's Next copies "
        f"version {len(known)}: run `whosnext db upgrade --db {old}` first (the copy never "
        "changes its source).")
    assert digest(old) == source and not target.exists()


async def test_a_copy_that_fails_midway_leaves_the_target_empty(tmp_path, pg_url):
    db = tmp_path / "whosnext.db"
    await populate(sqlite_url(db), FakeClock())
    with sqlite3.connect(db) as conn:  # SQLite keeps a NUL in text; PostgreSQL refuses it
        conn.execute("INSERT INTO kv (key, value) VALUES ('zz', ?)", ("a\x00b",))
    out = whosnext(["db", "copy", "--from", str(db), "--to", pg_url], "", tmp_path)
    assert out.returncode == 1 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr.startswith("whosnext: the copy stopped at kv, so nothing was kept in the "
                                 "target (it is empty again): "), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    counts = await pg_counts(pg_url)
    assert set(counts) == set(NAMES) and not any(counts.values())  # migrated, and empty
    # Mend the source and copy again: the empty target takes it.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM kv WHERE key = 'zz'")
    assert not await db_copy.verify(sqlite_url(db), sqlite_url(db))
    copied = await db_copy.copy(sqlite_url(db), pg_url)
    assert copied.counts["attempts"] == 12
    assert not await db_copy.verify(sqlite_url(db), pg_url)


async def test_a_copy_whose_counts_differ_is_not_kept(tmp_path, monkeypatch):
    source, target = tmp_path / "whosnext.db", tmp_path / "copy.db"
    await populate(sqlite_url(source), FakeClock())
    real = db_copy._insert

    def lossy(tx, *, sql, rows):  # a copy that silently loses a row
        real(tx, sql=sql, rows=rows[:-1] if sql.startswith("INSERT INTO cheers") else rows)

    monkeypatch.setattr(db_copy, "_insert", lossy)
    with pytest.raises(db_copy.CopyFailed) as failed:
        await db_copy.copy(sqlite_url(source), sqlite_url(target))
    assert str(failed.value) == ("the copy doesn't match its source, so nothing was kept in the "
                                 "target: cheers: 2 in the source, 1 in the target")
    assert not any(len(rows) for rows in sqlite_rows(target).values())


async def test_verify_names_what_differs(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    await populate(sqlite_url(a), FakeClock())
    await db_copy.copy(sqlite_url(a), sqlite_url(b))
    assert await db_copy.verify(sqlite_url(a), sqlite_url(b)) == []
    with sqlite3.connect(b) as conn:
        conn.execute("DELETE FROM cheers WHERE member_id = 'console:kim'")
        conn.execute("UPDATE members SET attempts_count = attempts_count + 1 "
                     "WHERE member_id = 'console:sam'")
    assert await db_copy.verify(sqlite_url(a), sqlite_url(b)) == [
        "cheers: 2 in the source, 1 in the target",
        "members.attempts_count (sum): 12 in the source, 13 in the target"]


def seed_attempts(path: Path, n: int) -> None:
    """``n`` attempts by 50 members in three communities, inserted straight into a migrated
    file (the core would take a while), with the members' counters to match."""
    conn = sqlite3.connect(path)
    migrate.apply(sqlite3.connect(path, isolation_level=None))
    with conn:
        conn.executemany(
            "INSERT INTO members (community_id, member_id, display_name, created_at) "
            "VALUES (?, ?, ?, '2026-01-01T00:00:00.000000Z')",
            [(f"console:c{m % 3}", f"console:m{m}", f"m{m}") for m in range(50)])
        conn.executemany(
            "INSERT INTO attempts (id, community_id, member_id, outcome, ask, created_at, "
            "local_day) VALUES (?, ?, ?, ?, ?, ?, '2026-01-01')",
            ((i, f"console:c{i % 50 % 3}", f"console:m{i % 50}",
              ("rejected", "accepted", "pending")[i % 3], f"ask number {i}",
              f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.000000Z") for i in range(1, n + 1)))
        conn.execute("UPDATE members SET attempts_count = (SELECT COUNT(*) FROM attempts a WHERE "
                     "a.community_id = members.community_id AND a.member_id = members.member_id)")
    conn.close()


def test_a_larger_database_shows_its_progress_a_line_every_ten_percent(tmp_path):
    source, target = tmp_path / "big.db", tmp_path / "copy.db"
    seed_attempts(source, 12_000)
    out = whosnext(["db", "copy", "--from", str(source), "--to", str(target)], "", tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()  # not a terminal: plain lines, no \r
    assert lines[0] == "Copying 12,050 rows…" and "\r" not in out.stderr
    percents = [int(line.removeprefix("Copying: ").split("%")[0]) for line in lines[1:]]
    assert len(percents) >= 5 and percents[-1] == 100  # as the pages go by: a line a tenth
    assert len({p // 10 for p in percents}) == len(percents) and percents == sorted(percents)
    assert lines[-1] == "Copying: 100% (12,050 of 12,050 rows, attempts)"
    assert "Copied 3 communities: 50 members, 12,000 attempts" in out.stdout
    assert len(sqlite_rows(target)["attempts"]) == 12_000


def test_on_a_terminal_the_bar_is_one_line_redrawn():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = db_copy.Progress(20_000, screen)
    for _ in range(4):
        bar.advance(5_000, "attempts")
    assert "\n" not in screen.getvalue()
    bar.finish()
    text = screen.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert text.split("\r")[-1] == f"Copying attempts{' ' * 11}[{'#' * 20}] 100%  20,000/20,000\033[K\n"
    assert text.split("\r")[1].startswith(f"Copying attempts{' ' * 11}[{'#' * 5}{'-' * 15}]  25%")


async def test_postgresql_back_to_sqlite_row_for_row(tmp_path, pg_url):
    original, back = tmp_path / "whosnext.db", tmp_path / "back.db"
    await populate(sqlite_url(original), FakeClock())
    await db_copy.copy(sqlite_url(original), pg_url)
    tables = {r[0] for r in await pg_fetch(
        pg_url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert tables - {"whosnext_schema"} == set(NAMES)  # the copy knows every table there is
    copied = await db_copy.copy(pg_url, sqlite_url(back))
    assert copied.target == str(back) and copied.counts["members"] == 5
    assert sqlite_rows(back) == sqlite_rows(original)


def test_the_copy_knows_every_table_and_its_key(tmp_path):
    path = tmp_path / "fresh.db"
    with sqlite3.connect(path, isolation_level=None) as conn:
        migrate.apply(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == set(NAMES)
        for t in db_copy.TABLES:
            key = [r[1] for r in sorted(conn.execute(f"PRAGMA table_info({t.name})"),
                                        key=lambda r: r[5]) if r[5]]
            assert tuple(key) == t.key, t.name


def test_mistakes_are_one_line_and_change_nothing(tmp_path):
    db = tmp_path / "whosnext.db"
    seed_attempts(db, 10)
    source = digest(db)
    cases = [
        (["--from", str(db), "--to", str(db)], 1,
         f"whosnext: the source and the target are the same database ({db}); copy into "
         "another one."),
        (["--from", str(db), "--to", "postgresql://ana:s3cret@127.0.0.1:1/whosnext"], 2,
         "whosnext: can't use the database at 127.0.0.1:1/whosnext: can't reach the PostgreSQL "
         "server"),
        (["--from", str(db), "--to", "mysql://127.0.0.1/whosnext"], 2,
         "whosnext: --to: use sqlite:///path/to/file.db or postgresql://user@host:5432/database"),
        (["--from", str(tmp_path / "missing.db"), "--to", str(tmp_path / "new.db")], 2,
         f"whosnext: can't use the database at {tmp_path / 'missing.db'}: there is no such file."),
    ]
    for args, code, message in cases:
        out = whosnext(["db", "copy", *args], "", tmp_path)
        assert out.returncode == code and out.stdout == "", (args, out.stderr)
        assert out.stderr.startswith(message) and len(out.stderr.splitlines()) == 1, out.stderr
        assert "s3cret" not in out.stderr
    assert digest(db) == source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whosnext.db"]


def test_the_upgrade_hint_never_shows_a_password(tmp_path):
    assert db_copy.upgrade_hint(sqlite_url(tmp_path / "old.db")) == str(tmp_path / "old.db")
    assert db_copy.upgrade_hint("postgresql://ana:s3cret@db.internal:5432/whosnext") == (
        "postgresql://ana:PASSWORD@db.internal:5432/whosnext")
    assert db_copy.upgrade_hint("postgresql://ana@db.internal/whosnext") == (
        "postgresql://ana@db.internal/whosnext")
