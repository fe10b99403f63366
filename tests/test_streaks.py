"""Streaks: daily and weekly, counted in the member's own days (DST included), and celebrated
when they grow."""

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import stats
from tests.helpers import COMMUNITY, caller, run


def text(reply) -> str:
    return reply.plain_text()


def d(s: str) -> date:
    return date.fromisoformat(s)


def test_daily_streak_counts_consecutive_days_and_survives_until_tonight():
    days = [d("2026-11-20"), d("2026-11-21"), d("2026-11-22"), d("2026-11-24"), d("2026-11-25")]
    assert stats.daily_streak(days, d("2026-11-25")) == stats.Streak(2, 3)
    assert stats.daily_streak(days, d("2026-11-26")) == stats.Streak(2, 3)  # not over yet today
    assert stats.daily_streak(days, d("2026-11-27")) == stats.Streak(0, 3)  # a skipped day ends it
    assert stats.daily_streak([], d("2026-11-27")) == stats.Streak(0, 0)


async def days_logged(app, clock, zone: str, times: list[datetime], who: str) -> list[date]:
    """The member's days after logging at ``times`` with ``zone`` as their /timezone."""
    await run(app, f"/timezone {zone}", who=who)
    for t in times:
        clock.set(t)
        await run(app, f"/rejected at {t.isoformat()}", who=who)
    profile = await app.deps.repo.profile(COMMUNITY, caller(who).member)
    return [day for day, _ in profile.days]


async def test_a_day_ends_at_the_members_local_midnight(app, clock):
    # 23:30 and 00:30 Berlin time are two days there, though the same UTC day.
    times = [datetime(2026, 11, 24, 22, 30, tzinfo=UTC), datetime(2026, 11, 24, 23, 30, tzinfo=UTC)]
    assert await days_logged(app, clock, "Europe/Berlin", times, "ana") == \
        [d("2026-11-24"), d("2026-11-25")]
    assert await days_logged(app, clock, "UTC", times, "sam") == [d("2026-11-24")]


@pytest.mark.parametrize("zone, days", [
    ("Europe/Berlin", ("2026-03-28", "2026-03-29", "2026-03-30")),  # spring forward on the 29th
    ("Europe/Berlin", ("2026-10-24", "2026-10-25", "2026-10-26")),  # fall back on the 25th
    ("America/New_York", ("2026-03-07", "2026-03-08", "2026-03-09")),
    ("America/New_York", ("2026-10-31", "2026-11-01", "2026-11-02")),
])
async def test_streaks_run_straight_through_dst_changes(app, clock, zone, days):
    tz = ZoneInfo(zone)
    # just after local midnight and just before the next one, on each day
    times = []
    for day in days:
        local = date.fromisoformat(day)
        times.append(datetime(local.year, local.month, local.day, 0, 5, tzinfo=tz))
        times.append(datetime(local.year, local.month, local.day, 23, 55, tzinfo=tz))
    logged = await days_logged(app, clock, zone, [t.astimezone(UTC) for t in times], "ana")
    assert logged == [date.fromisoformat(x) for x in days]
    assert stats.daily_streak(logged, date.fromisoformat(days[-1])) == stats.Streak(3, 3)


def test_weekly_streak_needs_exactly_three_and_forgives_quiet_days():
    # weeks starting Mon 2026-11-09, 11-16 (3 asks, with quiet days), 11-23 (2 so far)
    asks = [d("2026-11-09"), d("2026-11-09"), d("2026-11-13"),
            d("2026-11-16"), d("2026-11-20"), d("2026-11-22"),
            d("2026-11-23"), d("2026-11-24")]

    def streak(days, today):  # each day with its number of asks, as storage keeps them
        return stats.weekly_streak(Counter(days), today)
    assert streak(asks, d("2026-11-25")) == stats.Streak(2, 2)  # this week still open
    assert streak(asks + [d("2026-11-26")], d("2026-11-26")) == stats.Streak(3, 3)
    assert streak(asks[:2] + asks[3:], d("2026-11-25")) == stats.Streak(1, 1)
    assert streak(asks, d("2026-12-08")).current == 0


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
