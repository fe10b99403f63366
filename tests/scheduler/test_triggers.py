"""Next fire times from the real CronTrigger, across daylight-saving changes, with no sleeping;
and the plain schedule math of ``bot.schedules`` agreeing with it."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import trigger_for
from bot.schedules import latest_occurrence, next_fire, occurrence_at
from tests.scheduler.helpers import schedule, utc


def fires(sched, start, n):
    """The next ``n`` fire times of the schedule's trigger from ``start``, in UTC."""
    trigger, out, prev = trigger_for(sched), [], None
    now = start
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now)
        out.append(nxt.astimezone(UTC))
        prev, now = nxt, nxt + timedelta(seconds=1)
    return out


@pytest.mark.parametrize("zone, start, expected", [
    # Europe/Berlin springs forward on Sun 28 Mar 2027: 09:00 is 08:00Z before, 07:00Z after.
    ("Europe/Berlin", utc(2027, 3, 26, 12), [utc(2027, 3, 27, 8), utc(2027, 3, 28, 7),
                                             utc(2027, 3, 29, 7)]),
    # ...and falls back on Sun 31 Oct 2027: 07:00Z before, 08:00Z after.
    ("Europe/Berlin", utc(2027, 10, 29, 12), [utc(2027, 10, 30, 7), utc(2027, 10, 31, 8),
                                              utc(2027, 11, 1, 8)]),
    # America/New_York springs forward on Sun 14 Mar 2027: 09:00 is 14:00Z, then 13:00Z.
    ("America/New_York", utc(2027, 3, 12, 18), [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13),
                                                utc(2027, 3, 15, 13)]),
    # ...and falls back on Sun 7 Nov 2027: 13:00Z, then 14:00Z.
    ("America/New_York", utc(2027, 11, 5, 18), [utc(2027, 11, 6, 13), utc(2027, 11, 7, 14),
                                                utc(2027, 11, 8, 14)]),
])
def test_nine_stays_nine_local_across_dst(zone, start, expected):
    sched = schedule(zone=zone)
    assert fires(sched, start, 3) == expected
    # Our own occurrence arithmetic agrees with the trigger on every one of those days.
    for at in expected:
        local_day = at.astimezone(trigger_for(sched).timezone).date()
        assert occurrence_at(sched, local_day) == at


def test_mon_wed_fri():
    sched = schedule(days="mon,wed,fri", zone="America/New_York")
    # Thursday 25 Mar 2027 noon in New York: next Fri 26, Mon 29, Wed 31 at 09:00 EDT (13:00Z).
    got = fires(sched, utc(2027, 3, 25, 16), 4)
    assert got == [utc(2027, 3, 26, 13), utc(2027, 3, 29, 13), utc(2027, 3, 31, 13),
                   utc(2027, 4, 2, 13)]
    assert [g.astimezone(trigger_for(sched).timezone).strftime("%a %H:%M") for g in got] == [
        "Fri 09:00", "Mon 09:00", "Wed 09:00", "Fri 09:00"]


def test_recap_trigger_is_weekly_on_its_day():
    sched = schedule(days="mon,tue,wed,thu,fri", recap="sunday")
    nxt = next_fire(sched, "recap", utc(2027, 3, 24, 12))
    assert nxt == utc(2027, 3, 28, 7)  # Sunday 28 Mar, 09:00 CEST (the spring-forward day)
    assert next_fire(schedule(recap=None), "recap", utc(2027, 3, 24)) is None


@pytest.mark.parametrize("day, expected", [
    # 02:30 does not exist on 28 Mar 2027 in Berlin: the trigger fires at 03:30 CEST (01:30Z).
    (date(2027, 3, 28), utc(2027, 3, 28, 1, 30)),
    # 02:30 happens twice on 31 Oct 2027: the first one (CEST, 00:30Z) is the occurrence.
    (date(2027, 10, 31), utc(2027, 10, 31, 0, 30)),
])
def test_times_inside_a_dst_change(day, expected):
    sched = schedule(time="02:30")
    assert occurrence_at(sched, day) == expected
    before = utc(day.year, day.month, day.day) - timedelta(hours=2)
    # (Compared in UTC: Python never calls a wall time inside a DST change equal to another
    # zone's datetime.)
    assert trigger_for(sched).get_next_fire_time(None, before).astimezone(UTC) == expected


def test_latest_occurrence_ignores_times_before_the_schedule_existed():
    sched = schedule()
    occ = latest_occurrence(sched, "checkin", utc(2027, 3, 29, 10))
    assert occ is not None and occ.local_date == date(2027, 3, 29) and occ.at == utc(2027, 3, 29, 7)
    from dataclasses import replace
    newer = replace(sched, updated_at=utc(2027, 3, 29, 9))
    assert latest_occurrence(newer, "checkin", utc(2027, 3, 29, 10)) is None
    assert latest_occurrence(newer, "checkin", utc(2027, 3, 30, 7, 1)).local_date == date(2027, 3, 30)


def posts(sched, kind, start, end):
    """When the scheduler really posts between ``start`` and ``end``: the cron job's fire times
    one after another, as APScheduler computes them, each local date once (the claim makes a
    second fire on a fall-back day a no-op)."""
    trigger, out, seen, prev, now = trigger_for(sched, kind), [], set(), None, start
    zone = ZoneInfo(sched.timezone)
    while (nxt := trigger.get_next_fire_time(prev, now)) is not None and nxt < end:
        if nxt.astimezone(zone).date() not in seen:
            seen.add(nxt.astimezone(zone).date())
            out.append(nxt.astimezone(UTC))
        prev, now = nxt, nxt.astimezone(UTC) + timedelta(seconds=1)  # (in UTC: real time)
    return out


@pytest.mark.parametrize("zone, time, days, recap", [
    ("Europe/Berlin", "09:00", "mon,tue,wed,thu,fri,sat,sun", "monday"),
    ("Europe/Berlin", "02:30", "sun", "sunday"),  # inside both of the year's DST changes
    ("America/New_York", "02:00", "sat,sun", None),
    ("America/New_York", "01:30", "sun", "sunday"),  # twice on the fall-back day
    ("Australia/Lord_Howe", "01:45", "mon,wed,fri,sun", "sunday"),  # a half-hour DST shift
    ("Asia/Kolkata", "00:00", "mon", "friday"),
    ("UTC", "23:59", "tue,thu", "saturday"),
])
def test_the_plain_math_agrees_with_the_cron_job_all_year(zone, time, days, recap):
    """``next_fire`` (what /checkin shows) is plain date arithmetic in ``bot.schedules``; the
    scheduler posts when its CronTrigger fires. Every six hours through 2027, and just before,
    at and after every post, ``next_fire`` names the scheduler's next post, also on the days
    of a DST change."""
    sched = schedule(zone=zone, time=time, days=days, recap=recap)
    start, end = utc(2026, 12, 20), utc(2028, 1, 20)
    probes = [utc(2027, 1, 1) + timedelta(hours=6 * i) for i in range(4 * 365)]
    for kind in ("checkin", "recap"):
        if recap is None and kind == "recap":
            assert next_fire(sched, kind, probes[0]) is None
            continue
        real = posts(sched, kind, start, end)
        assert real and len(real) == len(set(real))
        edges = [t + d for t in real if utc(2027, 1, 1) <= t < utc(2028, 1, 1)
                 for d in (timedelta(minutes=-1), timedelta(0), timedelta(seconds=1))]
        for now in sorted(probes + edges):
            expected = next(t for t in real if t >= now)
            assert next_fire(sched, kind, now) == expected, (kind, now)
        # and each post falls where ``occurrence_at`` puts its local date
        for at in real:
            assert occurrence_at(sched, at.astimezone(ZoneInfo(zone)).date()) == at


def test_next_fire_is_in_utc_and_includes_the_very_minute():
    sched = schedule()  # 09:00 Berlin, daily
    at = next_fire(sched, "checkin", utc(2027, 3, 29, 7))
    assert at == utc(2027, 3, 29, 7) and at.tzinfo is UTC
    assert next_fire(sched, "checkin", utc(2027, 3, 29, 7, 0, 1)) == utc(2027, 3, 30, 7)
    weekly = schedule(days="mon")
    assert next_fire(weekly, "checkin", datetime(2027, 3, 29, 7, 0, 1, tzinfo=UTC)) == utc(
        2027, 4, 5, 7)
