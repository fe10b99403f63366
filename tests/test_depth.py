"""Streaks, goals, cheers, privacy, fair play and the leaderboard's correctness."""

import asyncio
import csv
import io
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import stats
from bot.app import App
from bot.handlers.board import period_start
from bot.reply import Attachment
from storage.sqlite import SqliteRepository
from tests.conftest import COMMUNITY, FakeClock, caller, press, run

BERLIN = ZoneInfo("Europe/Berlin")


def text(reply) -> str:
    return reply.plain_text()


# -- streaks (pure) ---------------------------------------------------------------------------

def d(s: str) -> date:
    return date.fromisoformat(s)


def test_daily_streak_counts_consecutive_days_and_survives_until_tonight():
    days = [d("2026-11-20"), d("2026-11-21"), d("2026-11-22"), d("2026-11-24"), d("2026-11-25")]
    assert stats.daily_streak(days, d("2026-11-25")) == stats.Streak(2, 3)
    assert stats.daily_streak(days, d("2026-11-26")) == stats.Streak(2, 3)  # not over yet today
    assert stats.daily_streak(days, d("2026-11-27")) == stats.Streak(0, 3)  # a skipped day ends it
    assert stats.daily_streak([], d("2026-11-27")) == stats.Streak(0, 0)


def test_a_day_ends_at_the_members_local_midnight():
    # 23:30 and 00:30 Berlin time are two days there, though the same UTC day.
    times = [datetime(2026, 11, 24, 22, 30, tzinfo=UTC), datetime(2026, 11, 24, 23, 30, tzinfo=UTC)]
    assert stats.daily_streak(stats.local_days(times, BERLIN), d("2026-11-25")).current == 2
    assert stats.daily_streak(stats.local_days(times, ZoneInfo("UTC")), d("2026-11-25")).current == 1


@pytest.mark.parametrize("zone, days", [
    ("Europe/Berlin", ("2026-03-28", "2026-03-29", "2026-03-30")),  # spring forward on the 29th
    ("Europe/Berlin", ("2026-10-24", "2026-10-25", "2026-10-26")),  # fall back on the 25th
    ("America/New_York", ("2026-03-07", "2026-03-08", "2026-03-09")),
    ("America/New_York", ("2026-10-31", "2026-11-01", "2026-11-02")),
])
def test_streaks_run_straight_through_dst_changes(zone, days):
    tz = ZoneInfo(zone)
    # just after local midnight and just before the next one, on each day
    times = []
    for day in days:
        local = date.fromisoformat(day)
        times.append(datetime(local.year, local.month, local.day, 0, 5, tzinfo=tz))
        times.append(datetime(local.year, local.month, local.day, 23, 55, tzinfo=tz))
    local_days = stats.local_days([t.astimezone(UTC) for t in times], tz)
    assert sorted(set(local_days)) == [date.fromisoformat(x) for x in days]
    assert stats.daily_streak(local_days, date.fromisoformat(days[-1])) == stats.Streak(3, 3)


def test_weekly_streak_needs_exactly_three_and_forgives_quiet_days():
    # weeks starting Mon 2026-11-09, 11-16 (3 asks, with quiet days), 11-23 (2 so far)
    days = [d("2026-11-09"), d("2026-11-09"), d("2026-11-13"),
            d("2026-11-16"), d("2026-11-20"), d("2026-11-22"),
            d("2026-11-23"), d("2026-11-24")]
    assert stats.weekly_streak(days, d("2026-11-25")) == stats.Streak(2, 2)  # this week still open
    assert stats.weekly_streak(days + [d("2026-11-26")], d("2026-11-26")) == stats.Streak(3, 3)
    assert stats.weekly_streak(days[:2] + days[3:], d("2026-11-25")) == stats.Streak(1, 1)
    assert stats.weekly_streak(days, d("2026-12-08")).current == 0


def test_goal_pace_arithmetic():
    today = d("2026-11-26")
    assert stats.goal_pace(100, today, None) is None
    assert stats.goal_pace(0, today, d("2027-01-01")) is None
    # 28 days left including today: 4 weeks, 16 to go -> 4 a week
    assert stats.goal_pace(16, today, d("2026-12-23")).startswith("4 a week")
    assert stats.goal_pace(17, today, d("2026-12-23")).startswith("5 a week")  # rounds up
    assert "2 a day" in stats.goal_pace(5, today, d("2026-11-28"))  # 3 days left
    assert "passed" in stats.goal_pace(5, today, d("2026-11-25"))


# -- streaks and goals through the bot --------------------------------------------------------

async def test_a_growing_streak_is_celebrated(app, clock):
    clock.set(datetime(2026, 11, 23, 9, tzinfo=UTC))
    assert "in a row" not in text(await run(app, "/rejected monday"))
    clock.advance(days=1)
    assert "2 days in a row!" in text(await run(app, "/rejected tuesday"))
    assert "in a row" not in text(await run(app, "/rejected tuesday again"))  # once a day
    body = text(await run(app, "/stats"))
    assert "Daily streak: 2 days (best 2)" in body
    assert "Weeks with 3+ asks: 1 week (best 1)" in body


async def test_three_in_a_week_is_celebrated(app, clock):
    clock.set(datetime(2026, 11, 16, 9, tzinfo=UTC))
    for i in range(3):
        reply = await run(app, f"/rejected last week {i}")
    assert "3 asks this week" in text(reply)
    clock.set(datetime(2026, 11, 23, 9, tzinfo=UTC))
    await run(app, "/rejected a")
    clock.advance(days=2)  # a quiet day in between is fine
    await run(app, "/rejected b")
    assert "2 weeks in a row with 3+ asks!" in text(await run(app, "/accepted c"))


async def test_goals_set_show_progress_reach_and_clear(app, clock):
    assert "No goal yet" in text(await run(app, "/goal"))
    await run(app, "/rejected before the goal")
    clock.advance(minutes=1)
    reply = await run(app, "/goal 3 by:2026-12-10")
    assert not reply.error and not reply.private and "Goal set: 3 no's by 2026-12-10" in text(reply)
    await run(app, "/rejected one")
    await run(app, "/accepted a yes does not count toward a rejection goal")
    assert "1 of 3 no's by 2026-12-10" in text(await run(app, "/goal"))
    assert "Goal: 1 of 3 no's" in text(await run(app, "/stats"))
    await run(app, "/rejected two")
    reached = await run(app, "/rejected three")
    assert not reached.private and "Goal reached: 3 no's!" in text(reached)
    assert "Goal reached" not in text(await run(app, "/rejected four"))  # celebrated once
    assert "Goal reached" in text(await run(app, "/goal"))
    assert "Goal cleared" in text(await run(app, "/goal off"))
    assert "No goal yet" in text(await run(app, "/goal"))


@pytest.mark.parametrize("line, words", [
    ("/goal lots", "whole number from 1"), ("/goal 0", "whole number from 1"),
    ("/goal -5", "whole number"), ("/goal 1000001", "whole number"),
    ("/goal 10 by:2020-01-01", "already past"), ("/goal 10 by:tomorrow", "takes a date"),
    ("/goal by:2027-01-01", "Give a target too"), ("/goal off by:2027-01-01", "takes no date"),
])
async def test_goal_errors(app, repo, line, words):
    reply = await run(app, line)
    assert reply.error and words in text(reply)
    profile = await repo.profile(COMMUNITY, caller().member)
    assert profile is None or profile.goal is None


# -- cheers -----------------------------------------------------------------------------------

async def test_stats_show_cheers_given_and_received(app):
    cheer = (await run(app, "/rejected asked")).buttons()[0].action
    await press(app, cheer, who="sam")
    await press(app, cheer, who="kim")
    await press(app, cheer, who="kim")  # taken back
    assert "Cheers: 1 received · 0 given" in text(await run(app, "/stats"))
    assert "Cheers: 0 received · 1 given" in text(await run(app, "/stats", who="sam"))


# -- privacy ----------------------------------------------------------------------------------

async def test_private_text_never_reaches_another_member(app, clock):
    secret = "asked my landlord for rent relief"
    outputs = [await run(app, f"/rejected {secret} who:landlord lesson:\"be bold\" private:true",
                         who="sam")]
    outputs += [await run(app, line, who="ana") for line in (
        "/leaderboard", "/leaderboard period:all by:rejections", "/stats member:sam", "/asks")]
    for reply in outputs:
        body = text(reply)
        assert "landlord" not in body and "rent relief" not in body and "be bold" not in body
    # the attempt still counts everywhere
    assert "@sam · 1" in text(outputs[1])


async def test_export_is_a_complete_parsable_csv(app, clock):
    await run(app, '/rejected asked for a raise who:"my boss, Jo" area:work fear:7 lesson:"ask, then wait"')
    await run(app, "/accepted they said yes, finally private:true")
    await run(app, "/who-next ask Lee when:tomorrow")
    await run(app, "/goal 50")
    await run(app, "/rejected not mine", who="sam")
    reply = await run(app, "/export")
    assert reply.private and len(reply.attachments) == 1
    attachment: Attachment = reply.attachments[0]
    assert attachment.mime == "text/csv" and attachment.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8"))))
    assert [r["type"] for r in rows] == ["attempt", "attempt", "commitment", "goal"]
    assert rows[0]["ask"] == "asked for a raise" and rows[0]["who"] == "my boss, Jo"
    assert rows[0]["lesson"] == "ask, then wait" and rows[0]["fear"] == "7"
    assert rows[1]["ask"] == "they said yes, finally" and rows[1]["private"] == "yes"
    assert rows[2]["ask"] == "ask Lee" and rows[2]["status"] == "open"
    assert rows[3]["target"] == "50"
    assert all("not mine" not in v for r in rows for v in r.values())


def rows_mentioning(path, needle: str) -> list[tuple[str, tuple]]:
    found = []
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in conn.execute(f"SELECT * FROM {table}"):
                if any(isinstance(v, str) and needle in v for v in row):
                    found.append((table, row))
    return found


async def test_forget_me_leaves_nothing_behind(tmp_path, clock):
    path = tmp_path / "forget.db"
    repo = await SqliteRepository.open(path)
    app = App(repo, clock, max_logs_per_hour=1000)
    mine = (await run(app, "/rejected my ask")).buttons()[0].action
    theirs = (await run(app, "/rejected their ask", who="sam")).buttons()[0].action
    await press(app, theirs)  # a cheer given
    await press(app, mine, who="sam")  # a cheer received
    await run(app, "/who-next ask Lee")
    await run(app, "/pending waiting on it")
    await run(app, "/goal 10")
    assert rows_mentioning(path, "console:ana")
    confirm = (await run(app, "/forget-me")).buttons()[0].action
    assert (await press(app, confirm, who="sam")).error  # nobody else can confirm
    assert rows_mentioning(path, "console:ana")
    done = await press(app, confirm)
    assert not done.error
    await repo.close()
    assert rows_mentioning(path, "console:ana") == []
    assert rows_mentioning(path, "my ask") == []
    assert rows_mentioning(path, "their ask")  # sam's data is untouched
    repo = await SqliteRepository.open(path)
    assert (await repo.totals(COMMUNITY, caller("sam").member)).attempts == 1
    board = await repo.leaderboard(COMMUNITY, None, "attempts", caller("sam").member)
    assert [r.name for r in board.top] == ["sam"]
    await repo.close()


# -- fair play --------------------------------------------------------------------------------

async def test_hourly_limit(repo, clock):
    app = App(repo, clock, max_logs_per_hour=5)
    for i in range(4):
        await run(app, f"/rejected {i}")
        clock.advance(minutes=1)
    await run(app, "/who-next one more promise")
    limited = await run(app, "/rejected too many")
    assert limited.error and "5 entries in the last hour" in text(limited)
    assert (await run(app, "/who-next another")).error
    assert (await repo.totals(COMMUNITY, caller().member)).attempts == 4
    assert not (await run(app, "/rejected someone else", who="sam")).error  # per member
    clock.advance(minutes=57)  # the first entry is now over an hour old
    assert not (await run(app, "/rejected back again")).error


# -- the leaderboard against a straightforward recomputation ----------------------------------

NAMES = ["ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal", "ivy", "jo", "kai", "lu"]
OPS = st.lists(st.tuples(
    st.sampled_from(["rejected", "accepted", "pending", "undo", "resolve"]),
    st.sampled_from(NAMES), st.integers(0, 40 * 24)), min_size=1, max_size=60)


def expected_board(entries, since, by, caller_name):
    counts = Counter(name for name, outcome, day in entries
                     if (since is None or day >= since) and (by == "attempts" or outcome == "rejected"))
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ranks = {name: 1 + sum(1 for n in counts.values() if n > c) for name, c in counts.items()}
    top = [(ranks[n], n, c) for n, c in ranked[:10]]
    me = (ranks[caller_name], caller_name, counts[caller_name]) if caller_name in counts else None
    return top, me, len(counts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, period=st.sampled_from(["week", "month", "all"]),
       by=st.sampled_from(["attempts", "rejections"]), who=st.sampled_from(NAMES),
       zone=st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland"]))
def test_leaderboard_matches_a_recomputation(tmp_path_factory, ops, period, by, who, zone):
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_check_board(tmp_path_factory.mktemp("board"), ops, period, by,
                                             who, zone))
    finally:
        loop.close()


def _period_rows(c):
    return sorted(tuple(r) for r in c.execute(
        "SELECT period, member_id, attempts, rejections FROM member_periods"))


async def _check_board(tmp, ops, period, by, who, zone):
    repo = await SqliteRepository.open(tmp / "board.db")
    clock = FakeClock(datetime(2026, 10, 20, tzinfo=UTC))
    app = App(repo, clock, default_timezone=zone, max_logs_per_hour=10_000)
    tz = ZoneInfo(zone)
    live: dict[str, list[list]] = {n: [] for n in NAMES}  # per member, in logging order
    try:
        for outcome, name, hours in sorted(ops, key=lambda op: op[2]):
            clock.set(datetime(2026, 10, 20, tzinfo=UTC) + timedelta(hours=hours))
            if outcome == "undo":
                await run(app, "/undo", who=name)
                if live[name]:
                    live[name].pop()
            elif outcome == "resolve":
                pending = (await repo.open_items(COMMUNITY, caller(name).member))[1]
                if pending:
                    await repo.resolve_attempt(COMMUNITY, caller(name).member, pending[0].id,
                                               "rejected", clock.now())
                    entry = next(e for e in live[name] if e[1] == "pending")
                    entry[1] = "rejected"
            else:
                reply = await run(app, f"/{outcome} ask", who=name)
                assert not reply.error
                live[name].append([name, outcome, clock.now().astimezone(tz).date()])
        since = period_start(period, clock.now(), tz)
        entries = [tuple(e) for es in live.values() for e in es]
        top, me, total = expected_board(entries, since, by, who)
        board = await repo.leaderboard(COMMUNITY, since, by, caller(who).member, period=period)
        assert [(r.rank, r.name, r.count) for r in board.top] == top
        assert (board.caller and (board.caller.rank, board.caller.name, board.caller.count)) == me
        assert board.members == total
        # the counts kept up to date step by step equal a recount from the attempts
        kept = await repo._read(_period_rows)
        await repo.recount_periods(COMMUNITY)
        assert [r for r in kept if r[2] or r[3]] == await repo._read(_period_rows)
    finally:
        await repo.close()


async def test_stats_card_is_a_png(app, clock):
    import struct

    from bot.reply import Image

    assert not any(isinstance(b, Image) for b in (await run(app, "/stats")).blocks)  # nothing yet
    clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    await run(app, "/rejected two weeks ago")
    clock.set(datetime(2026, 11, 26, 9, tzinfo=UTC))
    await run(app, "/accepted this week")
    images = [b for b in (await run(app, "/stats")).blocks if isinstance(b, Image)]
    assert len(images) == 1 and images[0].filename.endswith(".png")
    png = images[0].data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (700, 320)


async def test_a_new_community_zone_moves_past_asks_to_its_days(app, clock, repo):
    """Sunday 23:30 UTC is Monday 00:30 in Berlin: once the community lives in Berlin, that ask
    counts for the new week, and the week and month counts match a recount."""
    clock.set(datetime(2026, 11, 29, 23, 30, tzinfo=UTC))  # Sunday in UTC
    await run(app, "/rejected late on sunday", who="bo")
    clock.set(datetime(2026, 11, 30, 12, tzinfo=UTC))  # Monday
    await run(app, "/rejected monday noon", who="cy")
    assert "@bo" not in text(await run(app, "/leaderboard"))  # UTC: bo's ask was last week
    reply = await app.run_text("checkin", "set time:09:00 zone:Europe/Berlin", caller(admin=True))
    assert not reply.error
    week = text(await run(app, "/leaderboard"))
    assert "1. @bo · 1" in week and "1. @cy · 1" in week
    month = text(await run(app, "/leaderboard period:month"))  # both on November 30 in Berlin
    assert "1. @bo · 1" in month and "1. @cy · 1" in month

    assert ("W2026-11-30", "console:bo", 1, 1) in await repo._read(_period_rows)


async def test_changing_an_open_goal_keeps_its_progress(app, clock):
    await run(app, "/goal 5")
    clock.advance(minutes=1)
    for i in range(3):
        await run(app, f"/rejected {i}")
    assert "You're at 3 already" in text(await run(app, "/goal 10 by:2027-06-30"))
    assert "3 of 10 no's by 2027-06-30" in text(await run(app, "/goal"))
    lower = await run(app, "/goal 2")
    assert "already there with 3" in text(lower)
    assert "Goal reached" in text(await run(app, "/goal"))
    clock.advance(minutes=1)
    assert "You're at" not in text(await run(app, "/goal 1"))  # after a reached goal: fresh start
    assert "0 of 1 no." in text(await run(app, "/goal"))


async def test_text_counts_read_right_for_one(app):
    await run(app, "/accepted one")
    await run(app, "/who-next one promise")
    assert "1 ask, 1 promise." in text(await run(app, "/export"))
    assert "Goal set: 1 no." in text(await run(app, "/goal 1"))
    empty = text(await run(app, "/leaderboard by:rejections"))  # a yes is not a no
    assert "No no's logged this week yet" in empty and "one no puts you there" not in empty
