"""The leaderboard's correctness: against a straightforward recomputation (random logs, undos
and resolutions in several zones), and when the community moves to another zone."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.handlers.board import period_start
from storage.sqlite import SqliteRepository
from tests.helpers import COMMUNITY, FakeClock, caller, run


def text(reply) -> str:
    return reply.plain_text()


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
