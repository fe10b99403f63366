"""Check-in schedules as values: parsing what an admin types (time, days, zone, channel) and
when a schedule's occurrences fall, as plain date arithmetic (no scheduler library: the cron
trigger that fires them is built in ``bot.scheduler``).

An occurrence is ``time`` on a local date in the schedule's zone: 09:00 stays 09:00 local
across daylight-saving changes. A local time that does not exist on a spring-forward day is
taken with the offset from before the change (02:30 becomes 03:30), and an ambiguous one on a
fall-back day is its first instance: exactly what APScheduler's ``CronTrigger`` does (the
scheduler's tests hold the two to it), and the claim on the local date makes sure such a day
still gets one post.

A channel reaches the core as the adapter hands it over: a platform's own channel markup is
the adapter's to translate into the channel's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from difflib import SequenceMatcher, get_close_matches
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.commands import OptionError
from bot.days import DAY_NAMES, DAYS
from bot.models import PostKind, Schedule

EVERY_DAY = ",".join(DAYS)
WEEKDAYS = ",".join(DAYS[:5])
WEEKENDS = ",".join(DAYS[5:])
KINDS = (PostKind.CHECKIN, PostKind.RECAP)  # on a schedule; a check-in before a recap

_HHMM = re.compile(r"^(\d{1,2})[:.h](\d{2})$")
_COMPACT = re.compile(r"^(\d{2})(\d{2})$")
_HOUR = re.compile(r"^(\d{1,2})$")
_AMPM = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)


# -- parsing what an admin types -------------------------------------------------------------

def parse_time(text: str, option: str = "time") -> str:
    """'09:00', '9:00', '0900' -> '09:00'. Anything else is an OptionError that says exactly
    what was wrong and, where it can, which time was probably meant."""
    raw = text.strip()
    m = _HHMM.match(raw) or _COMPACT.match(raw)
    if m:
        hour, minute = int(m.group(1)), int(m.group(2))
        if hour == 24 and minute == 0:
            raise OptionError(f"`{option}`: {raw} isn't on the clock. For midnight, use 00:00.",
                              option)
        if hour > 23:
            raise OptionError(f"`{option}`: {raw} isn't a time of day: hours go from 00 to 23, "
                              "like 09:00 or 18:30.", option)
        if minute > 59:
            raise OptionError(f"`{option}`: {raw} isn't a time of day: minutes go from 00 to 59, "
                              "like 09:00 or 18:30.", option)
        return f"{hour:02d}:{minute:02d}"
    m = _AMPM.match(raw)
    if m:
        hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3).lower()
        if 1 <= hour <= 12 and minute <= 59:
            hour = hour % 12 + (12 if half == "p" else 0)
            guess = f"{hour:02d}:{minute:02d}"
            raise OptionError(f"`{option}` takes a 24-hour time. Did you mean `{option}:{guess}`?",
                              option)
    m = _HOUR.match(raw)
    if m and int(m.group(1)) <= 23:
        raise OptionError(f"`{option}` needs hours and minutes. Did you mean "
                          f"`{option}:{int(m.group(1)):02d}:00`?", option)
    raise OptionError(f"`{option}` takes a 24-hour time like 09:00 or 18:30, not “{raw}”.",
                      option)


def _day(word: str) -> int | None:
    for i, name in enumerate(DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return i
    return {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}.get(word)


def parse_days(text: str, option: str = "days") -> str:
    """daily, weekdays, weekends, or days like 'mon,wed,fri' (also 'mon-fri') -> the cron
    day_of_week list in week order, e.g. 'mon,wed,fri'."""
    low = " ".join(text.lower().split())
    if low in ("daily", "every day", "everyday", "all", "*"):
        return EVERY_DAY
    if low in ("weekdays", "weekday", "workdays", "mon-fri"):
        return WEEKDAYS
    if low in ("weekends", "weekend"):
        return WEEKENDS
    chosen: set[int] = set()
    for token in filter(None, re.split(r"[,\s/;&+]+|\band\b", low)):
        first, dash, last = token.partition("-")
        a = _day(first)
        b = _day(last) if dash else a
        bad = first if a is None else last
        if a is None or b is None:
            close = get_close_matches(bad, DAY_NAMES + DAYS + ("daily", "weekdays"), n=1,
                                      cutoff=0.6)
            did = f" Did you mean {close[0]}?" if close else ""
            raise OptionError(f"`{option}`: I don't know the day “{bad}”.{did} Use daily, "
                              "weekdays, or a list like mon,wed,fri.", option)
        i = a
        while True:
            chosen.add(i)
            if i == b:
                break
            i = (i + 1) % 7
    if not chosen:
        raise OptionError(f"`{option}` is empty. Use daily, weekdays, or a list like mon,wed,fri.",
                          option)
    return ",".join(DAYS[i] for i in sorted(chosen))


# Names in the zone database that are no place: the host's own zone under its file's name
# ("localtime": whatever the server runs in), a placeholder, and the alternative trees.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def known_zones() -> frozenset[str]:
    """The zones a member or a community may pick: the IANA database's places (read once)."""
    return frozenset(z for z in available_timezones() if z not in _NOT_PLACES
                     and not z.startswith(("posix/", "right/"))) | {"UTC"}


def parse_zone(text: str, option: str = "zone") -> str:
    """An IANA zone name, checked against the zone database; a typo gets close suggestions."""
    raw = text.strip()
    zones = known_zones()
    if raw in zones:
        return raw
    key = raw.replace(" ", "_").lower()
    by_lower = {z.lower(): z for z in zones}
    if key in by_lower:
        return by_lower[key]
    close = get_close_matches(key, list(by_lower), n=3, cutoff=0.75)
    if not close:  # a city alone, or a misspelt one: "Berlin", "Nwe_York"
        cities: dict[str, str] = {}
        for z in sorted(zones):
            if "/" in z:
                cities.setdefault(z.rsplit("/", 1)[1].lower(), z.lower())
        city = key.rsplit("/", 1)[-1]
        close = [cities[c] for c in get_close_matches(city, list(cities), n=3, cutoff=0.7)]
    if close:  # keep only the suggestions about as good as the best one
        best = SequenceMatcher(None, key, close[0]).ratio()
        close = [c for c in close if SequenceMatcher(None, key, c).ratio() >= best - 0.03]
    names = [by_lower[c] for c in close]
    did = ""
    if len(names) == 1:
        did = f" Did you mean {names[0]}?"
    elif names:
        did = f" Did you mean {', '.join(names[:-1])} or {names[-1]}?"
    raise OptionError(f"“{raw}” isn't a time zone I know.{did} Zones are written Area/City, "
                      "like Europe/Berlin or America/New_York.", option)


def parse_channel(raw: str, option: str = "channel") -> str:
    """A channel as the adapter hands it over: its id, or a name typed as '#asks' or 'asks'.
    Markup an adapter left untranslated is refused rather than stored as a channel."""
    text = raw.strip()
    if "<" in text or ">" in text:
        raise OptionError(f"`{option}`: “{text}” isn't a channel I can post to. Name one, like "
                          "channel:#asks.", option)
    return text.lstrip("#")


# -- describing -----------------------------------------------------------------------------

def describe_days(days: str) -> str:
    if days == EVERY_DAY:
        return "every day"
    if days == WEEKDAYS:
        return "weekdays"
    if days == WEEKENDS:
        return "weekends"
    names = [DAY_NAMES[DAYS.index(d)].capitalize() for d in days.split(",")]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_when(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b')}, {local.strftime('%H:%M')}"


# -- when occurrences fall ------------------------------------------------------------------

def clock_time(schedule: Schedule) -> time:
    """The schedule's local time of day ('09:00' -> 09:00)."""
    hour, minute = schedule.time.split(":")
    return time(int(hour), int(minute))


def weekdays_of(schedule: Schedule, kind: PostKind) -> frozenset[int]:
    if kind == PostKind.RECAP:
        return _recap_day(schedule.recap_day)
    return _days(schedule.days)


@lru_cache(maxsize=256)  # a handful of distinct day lists, read for every post of a busy minute
def _days(days: str) -> frozenset[int]:
    return frozenset(DAYS.index(d) for d in days.split(","))


@lru_cache(maxsize=16)
def _recap_day(day: str | None) -> frozenset[int]:
    return frozenset({DAY_NAMES.index(day)}) if day else frozenset()


def next_fire(schedule: Schedule, kind: PostKind, now: datetime, done: date | None = None
              ) -> datetime | None:
    """When the schedule's next check-in (or recap) falls, at or after ``now``, in UTC; None
    if it has no day for it. The same times its cron trigger fires at. ``done``: the local
    date of the latest one already queued or sent; a date posts once, so none falls on it or
    before (a time moved later on a day whose check-in went out waits for the next day)."""
    days = weekdays_of(schedule, kind)
    if not days:
        return None
    today = now.astimezone(ZoneInfo(schedule.timezone)).date()
    for ahead in range(9):  # today's may have passed or be done: then at most a week on
        day = today + timedelta(days=ahead)
        if done is not None and day <= done:
            continue
        if day.weekday() in days and (at := occurrence_at(schedule, day)) >= now:
            return at
    return None


def occurrence_at(schedule: Schedule, day: date) -> datetime:
    """When the schedule's time falls on a local date, in UTC."""
    local = datetime.combine(day, clock_time(schedule), tzinfo=ZoneInfo(schedule.timezone))
    return local.astimezone(UTC)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Occurrence:
    schedule: Schedule
    kind: PostKind
    local_date: date
    at: datetime  # UTC


def latest_occurrence(schedule: Schedule, kind: PostKind, now: datetime, lookback_days: int = 2
                      ) -> Occurrence | None:
    """The most recent occurrence at or before ``now`` within ``lookback_days``, if it is after
    the schedule was last set (a schedule never posts for a time before it existed)."""
    days = weekdays_of(schedule, kind)
    if not days or not schedule.enabled:
        return None
    zone = ZoneInfo(schedule.timezone)
    today = now.astimezone(zone).date()
    for back in range(lookback_days + 1):
        day = today - timedelta(days=back)
        if day.weekday() not in days:
            continue
        at = occurrence_at(schedule, day)
        if at > now:
            continue
        if schedule.updated_at is not None and at <= schedule.updated_at:
            return None
        return Occurrence(schedule, kind, day, at)
    return None


def previous_day(schedule: Schedule, day: date) -> date:
    """The local date of the check-in before the one on ``day`` (at most a week back)."""
    days = weekdays_of(schedule, PostKind.CHECKIN)
    for back in range(1, 8):
        earlier = day - timedelta(days=back)
        if earlier.weekday() in days:
            return earlier
    return day - timedelta(days=7)


@dataclass(frozen=True)
class CheckinPeriod:
    """What the check-in on a local date covers: asks logged in [start, end), ``end`` being
    its own scheduled time. ``start`` is the previous check-in's scheduled time, or, when the
    schedule was set (or changed) on or after the previous check-in's day began (its first
    check-in, or one whose time may have moved), midnight of that day: an ask may be told
    twice then, never left out."""

    since_day: date  # the previous check-in's local date
    start: datetime  # UTC
    end: datetime  # UTC
    after_checkin: bool  # start is the previous check-in's time (else midnight of since_day)


def checkin_period(schedule: Schedule, day: date) -> CheckinPeriod:
    zone = ZoneInfo(schedule.timezone)
    since = previous_day(schedule, day)
    midnight = local_midnight(since, zone)
    fresh = schedule.updated_at is not None and schedule.updated_at >= midnight
    start = midnight if fresh else occurrence_at(schedule, since)
    return CheckinPeriod(since, start, occurrence_at(schedule, day), not fresh)


def period_label(day: date, period: CheckinPeriod) -> str:
    """How a check-in names what it covers: 'Since yesterday's check-in', 'Since Friday's
    check-in', 'Since last Monday's check-in'; 'Since yesterday' … from midnight."""
    back = (day - period.since_day).days
    name = period.since_day.strftime("%A")
    when = "yesterday" if back == 1 else f"last {name}" if back == 7 else name
    if not period.after_checkin:
        return f"Since {when}"
    return f"Since {when}'s check-in"
