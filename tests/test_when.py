"""``when`` phrases for /who-next: the day each names, from a fixed today, or the precise error."""

from datetime import UTC, date, datetime

import pytest

from bot.commands import OptionError
from bot.when import due_date, is_phrase
from tests.helpers import COMMUNITY, caller, run

TUE = date(2026, 12, 1)  # a Tuesday: this week is Mon 30 Nov to Sun 6 Dec, next week 7 to 13 Dec
SAT = date(2026, 12, 5)
JAN31 = date(2027, 1, 31)  # a Sunday, the last of a month
DEC31 = date(2026, 12, 31)  # a Thursday, the last of a year
LEAP = date(2028, 2, 28)  # a Monday, the day before a 29 February


def d(year: int, month: int, day: int) -> date:
    return date(year, month, day)


PAST, FAR, UNREAD = "already past", "at most a year ahead", "couldn't read"

CASES = [
    # today and tomorrow
    ("today", TUE, d(2026, 12, 1)),
    ("Today", TUE, d(2026, 12, 1)),
    ("TODAY", TUE, d(2026, 12, 1)),
    ("tonight", TUE, d(2026, 12, 1)),
    ("now", TUE, d(2026, 12, 1)),
    ("eod", TUE, d(2026, 12, 1)),
    ("by end of day", TUE, d(2026, 12, 1)),
    ("tomorrow", TUE, d(2026, 12, 2)),
    ("Tomorrow", TUE, d(2026, 12, 2)),
    ("tmrw", TUE, d(2026, 12, 2)),
    ("tmr", TUE, d(2026, 12, 2)),
    ("tomorow", TUE, d(2026, 12, 2)),
    ("tommorow", TUE, d(2026, 12, 2)),
    ("tommorrow", TUE, d(2026, 12, 2)),
    ("tomorrrow", TUE, d(2026, 12, 2)),
    ("2morrow", TUE, d(2026, 12, 2)),
    ("tomorrow night", TUE, d(2026, 12, 2)),
    ("by tomorrow", TUE, d(2026, 12, 2)),
    ("the day after tomorrow", TUE, d(2026, 12, 3)),
    # weekdays: the next one, today if today is that day; "next" is next week's
    ("tuesday", TUE, d(2026, 12, 1)),
    ("Tuesday", TUE, d(2026, 12, 1)),
    ("TUE", TUE, d(2026, 12, 1)),
    ("tues", TUE, d(2026, 12, 1)),
    ("this tuesday", TUE, d(2026, 12, 1)),
    ("next tuesday", TUE, d(2026, 12, 8)),
    ("wednesday", TUE, d(2026, 12, 2)),
    ("wed", TUE, d(2026, 12, 2)),
    ("weds", TUE, d(2026, 12, 2)),
    ("wensday", TUE, d(2026, 12, 2)),
    ("thu", TUE, d(2026, 12, 3)),
    ("thurs", TUE, d(2026, 12, 3)),
    ("friday", TUE, d(2026, 12, 4)),
    ("FRIDAY", TUE, d(2026, 12, 4)),
    ("fri", TUE, d(2026, 12, 4)),
    ("Fri.", TUE, d(2026, 12, 4)),
    ("on friday", TUE, d(2026, 12, 4)),
    ("by friday", TUE, d(2026, 12, 4)),
    ("this friday", TUE, d(2026, 12, 4)),
    ("this coming friday", TUE, d(2026, 12, 4)),
    ("next friday", TUE, d(2026, 12, 11)),
    ("friday next week", TUE, d(2026, 12, 11)),
    ("friday this week", TUE, d(2026, 12, 4)),
    ("friday 3pm", TUE, d(2026, 12, 4)),
    ("friday at 10:30", TUE, d(2026, 12, 4)),
    ("by friday evening", TUE, d(2026, 12, 4)),
    ("saturday", TUE, d(2026, 12, 5)),
    ("sun", TUE, d(2026, 12, 6)),
    ("monday", TUE, d(2026, 12, 7)),
    ("next monday", TUE, d(2026, 12, 7)),
    ("monday this week", TUE, PAST),
    ("saturday", SAT, d(2026, 12, 5)),
    ("next saturday", SAT, d(2026, 12, 12)),
    ("sunday", JAN31, d(2027, 1, 31)),
    ("next sunday", JAN31, d(2027, 2, 7)),
    ("thursday", DEC31, d(2026, 12, 31)),
    ("next thursday", DEC31, d(2027, 1, 7)),
    ("friday", DEC31, d(2027, 1, 1)),
    ("next friday", DEC31, d(2027, 1, 8)),
    # weeks and weekends
    ("next week", TUE, d(2026, 12, 7)),
    ("next week", SAT, d(2026, 12, 7)),
    ("next week", JAN31, d(2027, 2, 1)),
    ("next week", DEC31, d(2027, 1, 4)),
    ("end of week", TUE, d(2026, 12, 4)),
    ("eow", TUE, d(2026, 12, 4)),
    ("EOW", TUE, d(2026, 12, 4)),
    ("by the end of the week", TUE, d(2026, 12, 4)),
    ("this week", TUE, d(2026, 12, 4)),
    ("eow", SAT, d(2026, 12, 6)),
    ("eow", JAN31, d(2027, 1, 31)),
    ("end of next week", TUE, d(2026, 12, 11)),
    ("weekend", TUE, d(2026, 12, 6)),
    ("this weekend", TUE, d(2026, 12, 6)),
    ("by the weekend", TUE, d(2026, 12, 6)),
    ("this weekend", JAN31, d(2027, 1, 31)),
    ("next weekend", TUE, d(2026, 12, 13)),
    # months and years
    ("end of month", TUE, d(2026, 12, 31)),
    ("eom", TUE, d(2026, 12, 31)),
    ("by the end of the month", TUE, d(2026, 12, 31)),
    ("end of month", JAN31, d(2027, 1, 31)),
    ("end of month", LEAP, d(2028, 2, 29)),
    ("next month", TUE, d(2027, 1, 1)),
    ("next month", JAN31, d(2027, 2, 1)),
    ("end of next month", TUE, d(2027, 1, 31)),
    ("end of next month", JAN31, d(2027, 2, 28)),
    ("end of year", TUE, d(2026, 12, 31)),
    ("eoy", DEC31, d(2026, 12, 31)),
    ("next year", DEC31, d(2027, 1, 1)),
    # spans
    ("in 2 weeks", TUE, d(2026, 12, 15)),
    ("in two weeks", TUE, d(2026, 12, 15)),
    ("in a week", TUE, d(2026, 12, 8)),
    ("a week from now", TUE, d(2026, 12, 8)),
    ("1 week", TUE, d(2026, 12, 8)),
    ("2w", TUE, d(2026, 12, 15)),
    ("10d", TUE, d(2026, 12, 11)),
    ("3 days", TUE, d(2026, 12, 4)),
    ("in 3 days", TUE, d(2026, 12, 4)),
    ("In 3 Days", TUE, d(2026, 12, 4)),
    ("in 3 days' time", TUE, d(2026, 12, 4)),
    ("in a few days", TUE, d(2026, 12, 4)),
    ("in a couple of days", TUE, d(2026, 12, 3)),
    ("in a fortnight", TUE, d(2026, 12, 15)),
    ("in 0 days", TUE, d(2026, 12, 1)),
    ("in 1 day", TUE, d(2026, 12, 2)),
    ("in 4 days", DEC31, d(2027, 1, 4)),
    ("in a month", TUE, d(2027, 1, 1)),
    ("in a month", JAN31, d(2027, 2, 28)),
    ("in 2 months", DEC31, d(2027, 2, 28)),
    ("in 366 days", TUE, d(2027, 12, 2)),
    ("in 367 days", TUE, FAR),
    ("in 999 days", TUE, FAR),
    ("in 53 weeks", TUE, FAR),
    ("in 13 months", TUE, FAR),
    # dates
    ("2027-01-31", TUE, d(2027, 1, 31)),
    ("2026-12-01", TUE, d(2026, 12, 1)),
    ("2026-11-30", TUE, PAST),
    ("2027-12-02", TUE, d(2027, 12, 2)),
    ("2027-12-03", TUE, FAR),
    ("2027/01/31", TUE, d(2027, 1, 31)),
    ("2027-02-30", TUE, "There's no 30 February 2027"),
    ("2027-13-01", TUE, "There's no month 13"),
    ("31 jan", TUE, d(2027, 1, 31)),
    ("jan 31", TUE, d(2027, 1, 31)),
    ("Jan 31st", TUE, d(2027, 1, 31)),
    ("31st of January", TUE, d(2027, 1, 31)),
    ("31 january 2027", TUE, d(2027, 1, 31)),
    ("January 31, 2027", TUE, d(2027, 1, 31)),
    ("on 24 dec", TUE, d(2026, 12, 24)),
    ("1 dec", TUE, d(2026, 12, 1)),
    ("30 nov", TUE, d(2027, 11, 30)),
    ("30 nov 2026", TUE, PAST),
    ("febuary 3", TUE, d(2027, 2, 3)),
    ("sept 1", TUE, d(2027, 9, 1)),
    ("1 jan", DEC31, d(2027, 1, 1)),
    ("31 feb", TUE, "There's no 31 February"),
    ("32 jan", TUE, "There's no day 32"),
    ("29 feb", TUE, "29 February isn't in the coming year"),
    ("29 feb", LEAP, d(2028, 2, 29)),
    ("29 feb", JAN31, FAR),  # 29 Feb 2028 is more than a year away
    ("the 15th", TUE, d(2026, 12, 15)),
    ("on the 1st", TUE, d(2026, 12, 1)),
    ("the 30th", JAN31, d(2027, 3, 30)),  # February has no 30th
    # numbers: only when one reading is a date
    ("31/1", TUE, d(2027, 1, 31)),
    ("1/31", TUE, d(2027, 1, 31)),
    ("31/1/2027", TUE, d(2027, 1, 31)),
    ("31/1/27", TUE, d(2027, 1, 31)),
    ("24/12", TUE, d(2026, 12, 24)),
    ("12/24", TUE, d(2026, 12, 24)),
    ("12/12", TUE, d(2026, 12, 12)),
    ("1/1", DEC31, d(2027, 1, 1)),
    ("5/6", TUE, "I can't tell whether `5/6` is 5 Jun or 6 May. Write it like 2027-06-05 or 5 Jun"),
    ("13/13", TUE, "I can't read `13/13` as a date"),
    ("31.1.2027", TUE, d(2027, 1, 31)),
    ("5.6.", TUE, d(2027, 6, 5)),
    # what it can't read
    ("someday", TUE, UNREAD),
    ("never", TUE, UNREAD),
    ("next", TUE, UNREAD),
    ("in 3", TUE, UNREAD),
    ("friday week", TUE, UNREAD),
    ("call mom", TUE, UNREAD),
]


def test_the_table_is_big_enough():
    assert len(CASES) >= 100
    assert {TUE.weekday(), JAN31.day, DEC31.month} == {1, 31, 12}


@pytest.mark.parametrize("phrase, today, expected", CASES)
def test_when_phrases(phrase, today, expected):
    if isinstance(expected, date):
        assert due_date(phrase, today) == expected
    else:
        with pytest.raises(OptionError) as err:
            due_date(phrase, today)
        assert expected in str(err.value)
        assert err.value.option == "when"


def test_no_when_is_today():
    assert due_date(None, TUE) == TUE


def test_what_it_cannot_read_gets_examples():
    with pytest.raises(OptionError) as err:
        due_date("someday", TUE)
    message = str(err.value)
    assert "`when:someday`" in message
    assert all(example in message for example in ("tomorrow", "next friday", "in 2 weeks",
                                                  "2027-01-31", "31 Jan"))


@pytest.mark.parametrize("text, reads", [
    ("next friday", True), ("in 2 weeks", True), ("jan 31 2027", True), ("5/6", True),
    ("in 999 days", True), ("2020-01-01", True),  # they read; today decides they're refused
    ("next", False), ("in 2", False), ("someday", False), ("call", False),
    ("next friday call", False), ("in 2 weeks call mom", False),
])
def test_is_phrase_knows_the_grammar_whatever_today_is(text, reads):
    assert is_phrase(text) is reads


async def test_who_next_reads_phrases_from_text(app, clock, repo):
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # a Tuesday

    async def due_of(line: str) -> date:
        reply = await run(app, line)
        assert not reply.error, reply.plain_text()
        commitments, _ = await repo.open_items(COMMUNITY, caller().member)
        return max(commitments, key=lambda c: c.id).due_at.date()

    assert await due_of("/who-next call mom when:tuesday") == d(2026, 12, 1)
    assert await due_of("/who-next call mom when:next tuesday") == d(2026, 12, 8)
    assert await due_of("/who-next when:in 2 weeks call mom") == d(2026, 12, 15)
    assert await due_of("/who-next ask Sam when:1 week") == d(2026, 12, 8)
    commitments, _ = await repo.open_items(COMMUNITY, caller().member)
    assert {c.ask for c in commitments} == {"call mom", "ask Sam"}


async def test_an_unreadable_when_is_refused_and_stores_nothing(app, clock, repo):
    clock.set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    reply = await run(app, "/who-next call mom when:5/6")
    assert reply.error and "2027-06-05 or 5 Jun" in reply.plain_text()
    commitments, _ = await repo.open_items(COMMUNITY, caller().member)
    assert commitments == []
