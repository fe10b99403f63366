"""Streaks, goal pace and milestones: pure functions, no I/O."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot import prompts
from bot.models import Goal

WEEKLY_TARGET = 3  # attempts that make a week count for the weekly streak
# How far back a celebration looks when it counts a streak.
STREAK_WINDOW = timedelta(days=400)


@dataclass(frozen=True)
class Streak:
    current: int
    best: int


def _runs(units: list[int], today: int) -> Streak:
    """Longest run of consecutive integers, and the run that ends today or yesterday."""
    if not units:
        return Streak(0, 0)
    best = run = 1
    for prev, cur in zip(units, units[1:], strict=False):
        run = run + 1 if cur == prev + 1 else 1
        best = max(best, run)
    current = run if units[-1] >= today - 1 else 0
    return Streak(current, best)


def _held_runs(units: list[int], today: int, held: set[int]) -> Streak:
    """``_runs`` with the ``held`` units that have nothing of their own taken out of the line:
    a run goes on across them, and one that ended just before them is still current."""
    skip = sorted(held.difference(units))
    if not skip:
        return _runs(units, today)

    def squeeze(unit: int) -> int:
        return unit - bisect_left(skip, unit)
    return _runs([squeeze(u) for u in units], squeeze(today))


def paused_days(paused: Iterable[tuple[date, date]]) -> set[int]:
    """The days of breaks (/pause), each (first day, last day) with both paused, as ordinals."""
    return {n for first, last in paused for n in range(first.toordinal(), last.toordinal() + 1)}


def daily_streak(days: Iterable[date], today: date,
                 paused: Iterable[tuple[date, date]] = ()) -> Streak:
    """Consecutive days with at least one attempt. Today still counts as alive while it's
    young: a streak that ended yesterday is current until today is over. A paused day
    (``paused``: breaks, each (first day, last day)) holds it: neither breaks nor grows it
    (an ask on one counts as on any day)."""
    units = sorted({d.toordinal() for d in days})
    return _held_runs(units, today.toordinal(), paused_days(paused))


def _week(d: date) -> int:
    """The Monday-based week number of a day."""
    return (d.toordinal() - 1) // 7  # date(1, 1, 1) was a Monday


def weekly_streak(days: Mapping[date, int], today: date,
                  paused: Iterable[tuple[date, date]] = ()) -> Streak:
    """Consecutive weeks with at least WEEKLY_TARGET attempts (``days``: each day with its
    number of attempts); a quiet day inside doesn't matter. The current week is still open,
    so a streak ending last week is current. A week with a paused day in it (``paused`` as
    for ``daily_streak``) that falls short is held: it neither breaks the streak nor grows
    it; one that reaches WEEKLY_TARGET counts as any week."""
    counts: Counter[int] = Counter()
    for d, n in days.items():
        counts[_week(d)] += n
    units = sorted(w for w, n in counts.items() if n >= WEEKLY_TARGET)
    held = {(n - 1) // 7 for n in paused_days(paused)}  # as _week reckons them
    return _held_runs(units, _week(today), held)


def goal_counts(goal: Goal, zone: ZoneInfo, today: date) -> str:
    """What a goal counts, as every place showing its progress says it: 'counting from
    Tue 1 Dec' (a whole day; with the year when it isn't this one, with the time when it
    counts from a moment of that day), or 'counting every no you've logged here'."""
    if goal.counts_all:
        return "counting every no you've logged here"
    start = (goal.counts_from or goal.set_at).astimezone(zone)
    year = f" {start.year}" if start.year != today.year else ""
    at = f", {start:%H:%M}" if (start.hour, start.minute, start.second) != (0, 0, 0) else ""
    return f"counting from {start:%a} {start.day} {start:%b}{year}{at}"


def goal_pace(remaining: int, today: date, by: date | None) -> str | None:
    """How many a week gets the member there: None without a date or when already there."""
    if by is None or remaining <= 0:
        return None
    days_left = (by - today).days + 1
    if days_left <= 0:
        return "The date has passed. Set a new one with /goal, no shame in that."
    weeks = days_left / 7
    if weeks <= 1:
        return f"{remaining} more by {by.isoformat()}: that's {math.ceil(remaining / days_left)} a day."
    per_week = math.ceil(remaining / weeks)
    return f"{per_week} a week gets you there by {by.isoformat()}."


def milestones_reached(count: int) -> list[int]:
    return [m for m in prompts.ATTEMPT_MILESTONES if m <= count]


def next_milestone(count: int) -> int | None:
    return next((m for m in prompts.ATTEMPT_MILESTONES if m > count), None)
