"""Next fire times from the real CronTrigger, across daylight-saving changes, with no sleeping."""

from datetime import UTC, date, timedelta

import pytest

from bot.schedules import latest_occurrence, next_fire, occurrence_at, trigger_for
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
