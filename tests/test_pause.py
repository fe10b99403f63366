"""/pause: the streak rules over paused days (pure), the command and its bad input, /stats
showing a break (its reason to its member alone), follow-ups deferred to the day after a
break and sent once, and the terminal."""

from collections import Counter
from datetime import date, timedelta

import pytest

from bot import stats
from bot.handlers.board import card_facts
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc
from tests.test_console import whosnext


def d(s: str) -> date:
    return date.fromisoformat(s)


def days(*isos: str) -> list[date]:
    return [d(s) for s in isos]


# -- the streak rules ---------------------------------------------------------------------------

def test_paused_days_hold_the_daily_streak():
    logged = days("2026-11-20", "2026-11-21", "2026-11-25")
    pause = [(d("2026-11-22"), d("2026-11-24"))]
    assert stats.daily_streak(logged, d("2026-11-25")) == stats.Streak(1, 2)  # no break: broken
    assert stats.daily_streak(logged, d("2026-11-25"), pause) == stats.Streak(3, 3)
    # An ask on a paused day counts like any other.
    assert stats.daily_streak([*logged, d("2026-11-23")], d("2026-11-25"), pause) == \
        stats.Streak(4, 4)
    # A gap only partly paused still breaks it.
    assert stats.daily_streak(logged, d("2026-11-25"), [(d("2026-11-22"), d("2026-11-23"))]) \
        == stats.Streak(1, 2)
    # Breaks alone make no streak.
    assert stats.daily_streak([], d("2026-11-25"), pause) == stats.Streak(0, 0)


def test_daily_streak_waits_through_a_break_then_the_usual_rule_resumes():
    logged = days("2026-11-20", "2026-11-21")
    pause = [(d("2026-11-22"), d("2026-11-24"))]
    for today in ("2026-11-22", "2026-11-23", "2026-11-24"):  # on the break
        assert stats.daily_streak(logged, d(today), pause) == stats.Streak(2, 2)
    # The day after the break is like the day after an ask: still alive until it is over...
    assert stats.daily_streak(logged, d("2026-11-25"), pause) == stats.Streak(2, 2)
    # ...and a day after that without an ask ends it, as usual.
    assert stats.daily_streak(logged, d("2026-11-26"), pause) == stats.Streak(0, 2)


def test_a_week_with_a_break_in_it_holds_the_weekly_streak():
    # Weeks from Monday 2 Nov: three asks, then one ask, then three asks.
    logged = Counter({d("2026-11-02"): 3, d("2026-11-10"): 1, d("2026-11-16"): 3})
    today = d("2026-11-18")
    assert stats.weekly_streak(logged, today) == stats.Streak(1, 1)  # the short week broke it
    partly = [(d("2026-11-12"), d("2026-11-13"))]  # two days of the short week
    assert stats.weekly_streak(logged, today, partly) == stats.Streak(2, 2)
    wholly = [(d("2026-11-09"), d("2026-11-15"))]
    assert stats.weekly_streak(logged, today, wholly) == stats.Streak(2, 2)
    # A paused week with three asks counts as a week.
    logged[d("2026-11-11")] = 2
    assert stats.weekly_streak(logged, today, partly) == stats.Streak(3, 3)


def test_weekly_streak_stays_current_through_a_paused_week_then_resumes_the_rule():
    logged = Counter({d("2026-11-02"): 3})
    pause = [(d("2026-11-09"), d("2026-11-15"))]
    assert stats.weekly_streak(logged, d("2026-11-18")) == stats.Streak(0, 1)
    assert stats.weekly_streak(logged, d("2026-11-18"), pause) == stats.Streak(1, 1)
    # A whole week after the break without three asks ends it.
    assert stats.weekly_streak(logged, d("2026-11-25"), pause) == stats.Streak(0, 1)


def test_the_stats_card_reads_the_same_streak():
    logged = Counter({d("2026-11-20"): 1, d("2026-11-21"): 1, d("2026-11-25"): 1})
    pause = [(d("2026-11-22"), d("2026-11-24"))]
    facts = dict(card_facts(logged, d("2026-11-25"), 3, 0, pause))
    assert facts["daily streak"] == "3 days"


# -- the command --------------------------------------------------------------------------------

async def test_pause_set_show_change_and_end(app, repo, clock):
    # The clock starts on Thursday 26 Nov 2026, 12:00 UTC.
    none = await run(app, "/pause")
    assert none.private and not none.error and "not on a break" in none.plain_text()
    reply = await run(app, '/pause until:friday reason:"family trip"')
    assert reply.private and not reply.error
    text = reply.plain_text()
    assert "paused until Fri 27 Nov" in text and "family trip" in text
    shown = (await run(app, "/pause")).plain_text()
    assert "On a break until Fri 27 Nov (family trip)" in shown
    (saved,) = await repo.pauses(COMMUNITY, caller().member, d("2026-11-01"))
    assert (saved.first_day, saved.last_day, saved.reason) == (d("2026-11-26"), d("2026-11-27"),
                                                               "family trip")
    assert saved.ends_at == utc(2026, 11, 28)

    # The next day it runs longer: same first day, the reason kept.
    clock.advance(days=1)
    longer = await run(app, "/pause in 2 weeks")
    assert "now runs until Fri 11 Dec" in longer.plain_text()
    (saved,) = await repo.pauses(COMMUNITY, caller().member, d("2026-11-01"))
    assert (saved.first_day, saved.last_day, saved.reason) == (d("2026-11-26"), d("2026-12-11"),
                                                               "family trip")

    clock.advance(days=2)  # Sunday 29 Nov
    back = await run(app, "/pause off")
    assert not back.error and "Welcome back" in back.plain_text()
    (saved,) = await repo.pauses(COMMUNITY, caller().member, d("2026-11-01"))
    assert saved.last_day == d("2026-11-28") and saved.ends_at == clock.now()
    assert "not on a break" in (await run(app, "/pause")).plain_text()


async def test_dates_read_as_when_does(app, repo, clock):
    for line, shown in [("/pause until:2027-01-10", "Sun 10 Jan 2027"),
                        ("/pause until:in 2 weeks reason:rest", "Thu 10 Dec"),
                        ("/pause end of month", "Mon 30 Nov"), ("/pause today", "Thu 26 Nov")]:
        reply = await run(app, line)
        assert not reply.error and shown in reply.plain_text(), line
    # One begun today and ended today is gone, as if never taken.
    assert "Welcome back" in (await run(app, "/pause off")).plain_text()
    assert await repo.pauses(COMMUNITY, caller().member, d("2026-01-01")) == ()


@pytest.mark.parametrize("line, words", [
    ("/pause until:2026-11-01", "has already been"),
    ("/pause until:2027-03-01", "at most 60 days"),
    ("/pause until:in 3 months", "at most 60 days"),
    ("/pause until:2028-01-01", "at most 60 days"),
    ("/pause until:someday", "couldn't read `until:someday`"),
    ("/pause until:in 3 dayz", "couldn't read `until:in 3 dayz`"),  # all of it, not "given twice"
    ("/pause off", "not on a break"),
    ("/pause reason:tired", "until when too"),
    ("/pause off reason:tired", "takes no reason"),
    ("/pause until:", "`until:` has no value"),
    ("/pause friday mood:sunny", "no option `mood`"),
    ("/pause friday reason:" + "x" * 201, "the most is 200"),
])
async def test_bad_input_is_explained_and_changes_nothing(app, repo, line, words):
    reply = await run(app, line)
    assert reply.error and reply.private and words in reply.plain_text(), reply.plain_text()
    assert await repo.pauses(COMMUNITY, caller().member, d("2026-01-01")) == ()


async def test_a_longer_break_counts_from_its_first_day(app, repo, clock):
    assert not (await run(app, "/pause until:in 1 week")).error
    clock.advance(days=5)  # 1 Dec, still away: 8 weeks on would be 57 days from today
    reply = await run(app, "/pause until:in 8 weeks")
    assert reply.error and "Sun 24 Jan 2027 at the latest" in reply.plain_text()
    (saved,) = await repo.pauses(COMMUNITY, caller().member, d("2026-01-01"))
    assert saved.last_day == d("2026-12-03")  # unchanged
    # 26 Nov and 59 days more: 24 Jan is the last day allowed.
    assert (await run(app, "/pause until:2027-01-25")).error
    assert not (await run(app, "/pause until:2027-01-24")).error


async def test_stats_shows_the_break_and_the_reason_only_to_its_member(app, clock):
    await run(app, "/rejected asked for a raise", "ana")
    await run(app, '/pause until:friday reason:"my wedding"', "ana")
    mine = await run(app, "/stats", "ana")
    assert not mine.private  # /stats is posted for the channel: the reason stays out of it
    assert "On a break until Fri 27 Nov." in mine.plain_text()
    assert "wedding" not in mine.plain_text()
    own = await run(app, "/pause", "ana")  # the private place the reason shows
    assert own.private and "(my wedding)" in own.plain_text()
    theirs = await run(app, "/stats member:ana", "bob")
    assert "On a break until Fri 27 Nov." in theirs.plain_text()
    assert "wedding" not in theirs.plain_text()
    clock.advance(days=2)  # over
    assert "On a break" not in (await run(app, "/stats", "ana")).plain_text()


async def test_streaks_hold_through_a_break_in_the_real_path(app, clock):
    clock.set(utc(2026, 11, 20, 12))  # Friday
    await run(app, "/rejected one")
    clock.advance(days=1)
    await run(app, "/rejected two")
    clock.advance(days=1)  # Sunday: away until Tuesday
    assert not (await run(app, "/pause until:tuesday")).error
    clock.advance(days=1)
    on_break = await run(app, "/rejected asked anyway")  # Monday, on the break
    assert "Asking while on a break" in on_break.plain_text()
    assert "3 days in a row!" in on_break.plain_text()
    clock.advance(days=2)  # Wednesday, the break over
    back = await run(app, "/rejected back at it")
    assert "4 days in a row!" in back.plain_text()
    assert "Asking while on a break" not in back.plain_text()
    assert "4 days (best 4)" in (await run(app, "/stats")).plain_text()


# -- follow-ups ---------------------------------------------------------------------------------

async def test_a_promise_due_on_a_break_is_asked_about_the_day_after_it_once(app, repo, clock):
    clock.set(utc(2026, 11, 26, 10))  # Thursday
    assert not (await run(app, "/who-next ask Lee for an intro when:tomorrow", "ana")).error
    assert not (await run(app, "/who-next ask for a discount when:tomorrow", "sam")).error
    assert not (await run(app, "/pause until:saturday", "ana")).error
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)

    assert (await sched.run_followups(utc(2026, 11, 28, 0, 0, 30))).followups == 1  # sam only
    assert [m.id for _, m, _ in poster.dms] == ["sam"]
    assert (await sched.run_followups(utc(2026, 11, 28, 20))).followups == 0  # ana: on a break
    report = await sched.run_followups(utc(2026, 11, 29, 0, 0, 30))  # Sunday: she's back
    assert report.followups == 1
    assert [m.id for _, m, _ in poster.dms] == ["sam", "ana"]
    assert "ask Lee for an intro" in poster.dms[1][2].plain_text()
    # Once: later runs and a catch-up send nothing more.
    assert (await sched.run_followups(utc(2026, 11, 29, 0, 2))).followups == 0
    assert (await sched.run_due(utc(2026, 11, 29, 0, 3))).followups == 0
    assert len(poster.dms) == 2


async def test_a_promise_made_on_a_break_says_its_check_in_waits_for_the_end(app, clock):
    clock.set(utc(2026, 11, 26, 10))  # Thursday
    await run(app, "/pause until:saturday")
    for i in range(3):  # whichever cheer its id picks
        during = (await run(app, f"/who-next ask {i} when:tomorrow")).plain_text()
        assert "I'll check in when it's due" not in during
        assert "on a break until Sat 28 Nov, so I'll check in the day after" in during
    after = (await run(app, "/who-next ask later when:2026-12-10")).plain_text()
    assert "break" not in after


async def test_a_long_break_still_gets_its_follow_up_and_off_sends_it_at_once(app, repo, clock):
    clock.set(utc(2026, 11, 26, 10))
    await run(app, "/who-next ask Lee for an intro when:tomorrow", "ana")
    await run(app, "/who-next call the gallery when:tomorrow", "bob")
    await run(app, "/pause until:2026-12-20", "ana")
    await run(app, "/pause until:2026-12-20", "bob")
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    # Bob comes back early: his follow-up goes at the next run.
    clock.set(utc(2026, 12, 5, 9))
    assert not (await run(app, "/pause off", "bob")).error
    assert (await sched.run_followups(utc(2026, 12, 5, 9, 1))).followups == 1
    assert [m.id for _, m, _ in poster.dms] == ["bob"]
    # Ana's promise fell due weeks before her break ended, and is still asked about after it.
    assert (await sched.run_followups(utc(2026, 12, 20, 23))).followups == 0
    assert (await sched.run_followups(utc(2026, 12, 21, 0, 1))).followups == 1
    assert [m.id for _, m, _ in poster.dms] == ["bob", "ana"]


# -- the terminal -------------------------------------------------------------------------------

def test_terminal_transcript(tmp_path):
    script = "\n".join(["/pause", '/pause until:in 2 weeks reason:"a long walk"', "/pause",
                        "/pause until:2020-01-01", "/rejected asked the neighbour", "/pause off",
                        "/pause off", "/help pause", ""])
    done = whosnext(["console", "--db", str(tmp_path / "t.db"), "--user", "ana"], script,
                    tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    print(out)
    until = date.today() + timedelta(days=14)  # the console runs on the real clock
    assert f"You're paused until {until:%a} {until.day} {until:%b}" in out
    assert "Your reason, just for you: a long walk" in out
    assert "(a long walk). Your streaks are holding." in out
    assert "2020-01-01 has already been" in out
    assert "Asking while on a break: that's the spirit!" in out
    assert "Welcome back!" in out
    assert out.count("not on a break") == 2  # before the break, and off again after it
    assert "The last day of your break" in out  # /help pause


@pytest.mark.parametrize("line, says", [
    ('/pause until:"31 nov"', "There's no 31 November"),
    ("/pause until:feb 30", "There's no 30 February"),
    ("/pause until:4/12", "I can't tell whether `4/12`"),
])
async def test_a_day_it_cannot_tell_says_so_not_that_the_break_is_too_long(app, line, says):
    reply = await run(app, line)
    assert reply.error and says in reply.plain_text(), reply.plain_text()
    assert "at most 60 days" not in reply.plain_text()
