"""Parsing ``when`` for /who-next: a commitment is due at the end of that day, local time.

Phrases are day-granular and read in any case; "by", "on", "due" and "the" may be added
("by friday", "by the end of the month", "on the 15th"), and a time of day after a day is
that day ("friday 3pm", "tomorrow night"):

- today, tonight, now, asap, eod; tomorrow (also tmrw, tmr, tomorow and close misspellings);
  the day after tomorrow.
- A weekday (friday, fri, Friday; "this friday", "on friday", "by friday"): the next one, and
  today if today is that day. "next friday" and "friday next week" are that day in next week
  (weeks run Monday to Sunday): on a Tuesday "next tuesday" is a week away, "next friday" ten
  days away. "friday this week" is this week's.
- "next week": the coming Monday (the start of next week; "in a week" is 7 days).
  "end of week", "eow", "this week": this week's Friday (on a weekend, its Sunday).
  "weekend", "this weekend": the coming Sunday. "next weekend", "end of next week".
- "end of month", "eom", "this month": its last day; "next month": the 1st of next month;
  "end of next month"; "end of year", "eoy"; "next year": 1 January.
- Spans: "in 3 days", "3 days", "3d", "in 2 weeks", "2w", "1 week", "in a week",
  "a week from now", "in a few days" (3), "in a couple of days" (2), "in a fortnight",
  "in 2 months" (the same day then, or that month's last day).
- Dates: 2027-01-31, "31 jan", "jan 31", "31st of january 2027", "the 15th"; 31/1 and 1/31
  when only one reading is a date (5/6 is an error asking for 2027-06-05 or 5 Jun);
  31.1.2027 (day first). A date without a year is the next one from today.

Nothing in the past, nothing more than a year (366 days) ahead. ``is_phrase`` says whether
text reads as a phrase at all, whatever today is: the text grammar uses it to take
``when:next friday`` without quotes.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from difflib import get_close_matches
from zoneinfo import ZoneInfo

from bot.commands import OptionError
from bot.days import DAY_NAMES

MAX_DAYS_AHEAD = 366
EXAMPLES = "today, tomorrow, friday, next friday, in 2 weeks, end of month, 2027-01-31 or 31 Jan"

Resolver = Callable[[date], date]

_MONTHS = tuple(calendar.month_name[i].lower() for i in range(1, 13))
_TOMORROW = {"tomorrow", "tmrw", "tmr", "tmw", "tmrow", "tmro", "tomorow", "tommorow", "tommorrow",
             "tomorrw", "tomoro", "tomorro", "tomrow", "tomrrow", "2morrow", "2moro", "2morow"}
_TODAY = {"today", "tonight", "tonite", "now", "asap", "right now", "right away", "eod",
          "end of day", "end of today", "later today", "this morning", "this afternoon",
          "this evening"}
_WEEKDAY_EXTRA = {"weds": 2, "wensday": 2, "wendsday": 2, "thurs": 3, "thrusday": 3}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
            "few": 3, "a few": 3, "couple": 2, "a couple": 2, "couple of": 2, "a couple of": 2}
_UNITS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
          "fortnight": 14, "fortnights": 14, "mo": 0, "mos": 0, "month": 0, "months": 0}
_SHORT_UNITS = {"d", "w", "wk", "wks", "mo", "mos"}  # only straight after a number: 3d, 2w

_SPAN = re.compile(r"(?:in )?(\d+) ?([a-z]+)|(?:in )?([a-z]+(?: [a-z]+)?(?: of)?) ([a-z]+)")
_SPAN_TAIL = re.compile(r" (?:from (?:now|today)|time|later)$")
_WEEKDAY = re.compile(r"(?:(this|coming|this coming|next) )?([a-z]+)(?: (this|next) week)?")
_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?(?: of)? ([a-z]+)(?: (\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?: (\d{4}))?")
_ORDINAL = re.compile(r"(\d{1,2})(?:st|nd|rd|th)")
_NUMERIC = re.compile(r"(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2}|\d{4}))?")
_TIME_OF_DAY = re.compile(
    r"(.+?) (?:(?:at )?\d{1,2}(?::\d{2})? ?[ap]\.?m|(?:at )?\d{1,2}:\d{2}|at \d{1,2}|"
    r"(?:at )?(?:noon|midnight)|morning|afternoon|evening|night|eod|end of day)")


class PastDay(OptionError):
    """The phrase names a day already gone."""


class TooFar(OptionError):
    """The phrase names a day more than MAX_DAYS_AHEAD ahead."""


def _too_far() -> OptionError:
    return TooFar(f"`when` can be at most a year ahead ({MAX_DAYS_AHEAD} days). "
                  "Pick a nearer day.", "when")


def _weekday(word: str) -> int | None:
    if word in _WEEKDAY_EXTRA:
        return _WEEKDAY_EXTRA[word]
    for i, name in enumerate(DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return i
    close = get_close_matches(word, DAY_NAMES, n=1, cutoff=0.8) if len(word) >= 5 else []
    return DAY_NAMES.index(close[0]) if close else None


def _month(word: str) -> int | None:
    word = word.rstrip(".")
    for i, name in enumerate(_MONTHS):
        if len(word) >= 3 and name.startswith(word):
            return i + 1
    close = get_close_matches(word, _MONTHS, n=1, cutoff=0.8) if len(word) >= 4 else []
    return _MONTHS.index(close[0]) + 1 if close else None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _next_month(day: date) -> date:
    """The 1st of the month after ``day``'s."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day if it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _end_of_week(day: date) -> date:
    """This week's Friday; on a weekend, its Sunday."""
    return day + timedelta(days=(4 if day.weekday() <= 4 else 6) - day.weekday())


def _refusal(message: str) -> Resolver:
    """A phrase that reads, but names no day: saying why is the resolver's answer."""
    def resolve(today: date) -> date:
        raise OptionError(message, "when")
    return resolve


def _days(n: int) -> Resolver:
    return lambda today: today + timedelta(days=n)


_FIXED: dict[str, Resolver] = {
    **{word: _days(0) for word in _TODAY},
    **{word: _days(1) for word in _TOMORROW},
    "day after tomorrow": _days(2),
    "next week": lambda d: _monday(d) + timedelta(days=7),
    **{p: _end_of_week for p in ("end of week", "eow", "this week", "end of this week",
                                 "week end")},
    "end of next week": lambda d: _monday(d) + timedelta(days=11),
    **{p: (lambda d: d + timedelta(days=6 - d.weekday()))
       for p in ("weekend", "this weekend", "end of weekend", "end of this weekend")},
    "next weekend": lambda d: _monday(d) + timedelta(days=13),
    **{p: (lambda d: _month_end(d.year, d.month))
       for p in ("end of month", "eom", "this month", "end of this month", "month end")},
    **{p: _next_month for p in ("next month", "start of next month", "beginning of next month")},
    "end of next month": lambda d: _next_month(_next_month(d)) - timedelta(days=1),
    **{p: (lambda d: date(d.year, 12, 31))
       for p in ("end of year", "eoy", "this year", "end of this year", "year end")},
    "next year": lambda d: date(d.year + 1, 1, 1),
}


def _span(text: str) -> Resolver | None:
    """``in 3 days``, ``2w``, ``a week from now``, ``in 2 months``…"""
    text = _SPAN_TAIL.sub("", text)
    m = _SPAN.fullmatch(text)
    if not m:
        return None
    if m.group(1) is not None:
        count, unit = int(m.group(1)), m.group(2)
    elif m.group(3) in _NUMBERS and m.group(4) not in _SHORT_UNITS:
        count, unit = _NUMBERS[m.group(3)], m.group(4)
    else:
        return None
    if unit not in _UNITS:
        return None
    per = _UNITS[unit]

    def resolve(today: date) -> date:
        if per == 0:  # months
            if count > 12:
                raise _too_far()
            return _add_months(today, count)
        if count * per > MAX_DAYS_AHEAD:
            raise _too_far()
        return today + timedelta(days=count * per)
    return resolve


def _weekday_phrase(text: str) -> Resolver | None:
    m = _WEEKDAY.fullmatch(text)
    if not m:
        return None
    before, word, week = m.groups()
    wd = _weekday(word)
    if wd is None or (before and week):
        return None
    if before == "next" or week == "next":
        return lambda today: _monday(today) + timedelta(days=7 + wd)
    if week == "this":
        return lambda today: _monday(today) + timedelta(days=wd)
    return lambda today: today + timedelta(days=(wd - today.weekday()) % 7)


def _on(day: int, month: int, year: int | None, today: date) -> date:
    """That calendar day: in ``year``, or the next one from ``today``."""
    if not 1 <= month <= 12:
        raise OptionError(f"There's no month {month}. Write a date like 2027-01-31.", "when")
    name = calendar.month_name[month]
    if not 1 <= day <= 31:
        raise OptionError(f"There's no day {day} in a month. Try a date like 2027-01-31.", "when")
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            raise OptionError(f"There's no {day} {name} {year}. Check the day and month.",
                              "when") from None
    for y in (today.year, today.year + 1):
        try:
            found = date(y, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    if day > calendar.monthrange(2024, month)[1]:  # 2024: a leap year, the longest February
        raise OptionError(f"There's no {day} {name}. Check the day and month.", "when")
    raise OptionError(f"{day} {name} isn't in the coming year. Pick another day.", "when")


def _calendar_day(day: int, month: int, year: int | None) -> Resolver:
    return lambda today: _on(day, month, year, today)


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _numeric(m: re.Match[str]) -> Resolver:
    a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), _year(m.group(4))
    if sep == ".":  # 31.1.2027 is written day first
        return _calendar_day(a, b, y)
    readings = {(d, mo) for d, mo in ((a, b), (b, a)) if 1 <= mo <= 12 and 1 <= d <= 31}

    if not readings:
        return _refusal(f"I can't read `{m.group(0)}` as a date. Write it like 2027-01-31 "
                        "or 31 Jan.")

    def resolve(today: date) -> date:
        if len(readings) > 1:
            first = _on(a, b, y, today)
            raise OptionError(
                f"I can't tell whether `{m.group(0)}` is {a} {calendar.month_abbr[b]} or "
                f"{b} {calendar.month_abbr[a]}. Write it like {first.isoformat()} or "
                f"{a} {calendar.month_abbr[b]}.", "when")
        ((d, mo),) = readings
        return _on(d, mo, y, today)
    return resolve


def _date(text: str) -> Resolver | None:
    if m := _ISO.fullmatch(text):
        return _calendar_day(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    if m := _NUMERIC.fullmatch(text):
        return _numeric(m)
    for pattern, day_group, month_group in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        if m := pattern.fullmatch(text):
            month = _month(m.group(month_group))
            if month is None:
                continue
            return _calendar_day(int(m.group(day_group)), month, _year(m.group(3)))
    if m := _ORDINAL.fullmatch(text):
        d = int(m.group(1))

        def the_nth(today: date) -> date:
            for months in range(13):
                first = _add_months(today.replace(day=1), months)
                if d <= calendar.monthrange(first.year, first.month)[1]:
                    found = first.replace(day=d)
                    if found >= today:
                        return found
            raise OptionError(f"There's no day {d} in a month. Try a date like 2027-01-31.",
                              "when")
        return the_nth
    return None


def _normal(text: str) -> str:
    text = re.sub(r"['\u2018\u2019]", "", text.casefold())  # "in 3 days' time"
    words = re.sub(r"[,!?;]", " ", text).strip(" .").split()
    while words and words[0] in ("by", "on", "due", "until", "the"):
        words = words[1:]
    return " ".join(words).replace(" of the ", " of ")  # "by the end of the month"


def _core(text: str) -> Resolver | None:
    return _FIXED.get(text) or _span(text) or _weekday_phrase(text) or _date(text) or (
        _days(1) if " " not in text and len(text) >= 5
        and get_close_matches(text, ["tomorrow"], n=1, cutoff=0.8) else None)


def _read(text: str) -> Resolver | None:
    found = _core(text)
    if found is None and (m := _TIME_OF_DAY.fullmatch(text)):
        found = _core(m.group(1))
    return found


def is_phrase(text: str) -> bool:
    """Whether ``text`` reads as a ``when`` phrase (today's date aside)."""
    return _read(_normal(text)) is not None


def due_date(when: str | None, today: date) -> date:
    """The local date a ``when`` names, relative to ``today``."""
    resolve = _read(_normal(when or "today"))
    if resolve is None:
        raise OptionError(f"I couldn't read `when:{when}`. Try {EXAMPLES}.", "when")
    day = resolve(today)
    if day < today:
        raise PastDay(f"{day.isoformat()} is already past. Pick today or a later day.", "when")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise _too_far()
    return day


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of ``day`` in ``zone``: 23:59:59 local, as an aware datetime."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)
