"""Parsing ``when`` for /who-next: a commitment is due at the end of that day, local time."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.commands import OptionError
from bot.days import DAY_NAMES

_IN_DAYS = re.compile(r"^in\s+(\d{1,3})\s+days?$")
MAX_DAYS_AHEAD = 366


def _weekday(word: str) -> int | None:
    for i, name in enumerate(DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return i
    return None


def due_date(when: str | None, today: date) -> date:
    """The local date a ``when`` names, relative to ``today``."""
    text = " ".join((when or "today").lower().split())
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    m = _IN_DAYS.match(text)
    if m:
        days = int(m.group(1))
        if days > MAX_DAYS_AHEAD:
            raise OptionError(f"`when` can be at most a year ahead ({MAX_DAYS_AHEAD} days).", "when")
        return today + timedelta(days=days)
    wd = _weekday(text.removeprefix("next ").removeprefix("on "))
    if wd is not None:
        ahead = (wd - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise OptionError(
            f"I couldn't read `when:{when}`. Try today, tomorrow, a weekday like friday, "
            "in 3 days, or a date like 2027-01-31.", "when") from None
    if day < today:
        raise OptionError(f"{day.isoformat()} is already past. Pick today or a later day.", "when")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise OptionError("`when` can be at most a year ahead.", "when")
    return day


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of ``day`` in ``zone``: 23:59:59 local, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)
