"""Issue 15: a check-in covers everything since the previous check-in, promises what it posts,
groups a member's identical promises, and a recap carries its dates and the community's name
and never ends on the check-in's challenge. Real scheduler, real database, a fake clock."""

from dataclasses import replace
from datetime import UTC, date, datetime

from bot import prompts
from bot.checkin_posts import daily_reply, date_range, recap_reply, weekly_recap
from bot.ids import MemberRef, Platform
from bot.invocation import Caller
from bot.models import Activity, Attempt, Commitment, Schedule
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc


async def admin(app, text, name=None):
    who = replace(caller("ana", admin=True), community_name=name)
    reply = await app.run_text("checkin", text, who)
    assert not reply.error, reply.plain_text()
    return reply


async def log(app, clock, when, line, who="ana"):
    clock.set(when)
    reply = await run(app, line, who)
    assert not reply.error, reply.plain_text()


def invite(text: str) -> str:
    found = [line for line in prompts.CHECKIN_INVITES if line in text]
    assert len(found) == 1, text
    return found[0]


# -- 1. the time /checkin set promises is the time it posts ---------------------------------------

async def test_a_time_moved_later_on_a_day_already_posted_promises_the_next_real_one(
        app, repo, clock):
    await repo.save_schedule(schedule(time="09:00", zone="UTC"), utc(2026, 11, 20))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        clock.set(utc(2026, 11, 26, 9))  # Thursday 09:00: today's check-in goes out
        assert (await sched.fire(COMMUNITY.key, "checkin")).posted == 1
        clock.set(utc(2026, 11, 26, 15, 50))
        text = (await admin(app, "set time:15:52")).plain_text()
        assert "Next check-in: Fri 27 Nov, 15:52 (UTC), as today's went out already" in text
        assert "Thu 26 Nov, 15:52" not in text
        shown = (await admin(app, "show")).plain_text()
        assert "Next check-in: Fri 27 Nov, 15:52 (UTC)" in shown
        clock.set(utc(2026, 11, 26, 15, 52))  # the new time, today: as promised, nothing
        assert (await sched.fire(COMMUNITY.key, "checkin")).posted == 0
        assert len(poster.posts) == 1
        clock.set(utc(2026, 11, 27, 15, 52))  # the promised one
        assert (await sched.fire(COMMUNITY.key, "checkin")).posted == 1
        assert poster.texts()[-1].startswith("Check-in · Friday 27 Nov")
    finally:
        await sched.stop()


async def test_a_time_later_today_before_todays_post_is_today(app, repo, clock):
    await repo.save_schedule(schedule(time="09:00", zone="UTC"), utc(2026, 11, 20))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        clock.set(utc(2026, 11, 26, 8))
        text = (await admin(app, "set time:15:52")).plain_text()
        assert "Next check-in: Thu 26 Nov, 15:52 (UTC)" in text and "already" not in text
        clock.set(utc(2026, 11, 26, 15, 52))
        assert (await sched.fire(COMMUNITY.key, "checkin")).posted == 1
        assert poster.texts()[0].startswith("Check-in · Thursday 26 Nov")
    finally:
        await sched.stop()


# -- 2. everything since the previous check-in ---------------------------------------------------

async def test_asks_logged_this_morning_are_in_this_afternoons_check_in(app, repo, clock):
    await repo.save_schedule(schedule(time="15:00", zone="UTC"), utc(2026, 11, 20))
    await log(app, clock, utc(2026, 11, 25, 14, 59), "/rejected told yesterday")
    for i in range(10):
        await log(app, clock, utc(2026, 11, 26, 10, i), f"/rejected morning ask {i}")
    await log(app, clock, utc(2026, 11, 26, 15, 0), "/rejected at three: tomorrow's")
    poster = RecordingPoster()
    report = await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 26, 15))
    assert report.posted == 1
    text = poster.texts()[0]
    print(text)
    assert "Since yesterday's check-in: 10 asks: 10 no's." in text
    assert "Logged by @ana (10)." in text
    assert "morning ask 9" in text and "told yesterday" not in text and "at three" not in text
    assert not any(line in text for line in prompts.CHECKIN_QUIET)


async def test_the_period_is_named_after_the_check_in_before(app, repo, clock):
    # Mon, Wed, Fri at 09:00: Monday's covers since Friday's check-in.
    await repo.save_schedule(schedule(time="09:00", zone="UTC", days="mon,wed,fri"),
                             utc(2026, 11, 1))
    await log(app, clock, utc(2026, 11, 27, 8, 59), "/rejected before Friday's")
    await log(app, clock, utc(2026, 11, 28, 12), "/accepted on Saturday")
    poster = RecordingPoster()
    assert (await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 30, 9))
            ).posted == 2  # the check-in, then Monday's recap
    text = poster.texts()[0]
    assert "Since Friday's check-in: 1 ask: 1 yes." in text
    assert "on Saturday" in text and "before Friday's" not in text

    weekly = Schedule(COMMUNITY, "general", "UTC", "09:00", "mon", None)
    act = Activity((Attempt(1, MemberRef(Platform.CONSOLE, "ana"), "rejected", "an ask",
                            utc(2026, 11, 29, 10)),), {"console:ana": "ana"}, {}, ())
    text = daily_reply(weekly, date(2026, 11, 30), date(2026, 11, 23), act).plain_text()
    assert "Since last Monday's check-in: 1 ask" in text


async def test_a_new_schedules_first_check_in_covers_from_midnight_of_the_day_before(
        app, repo, clock):
    await log(app, clock, utc(2026, 11, 25, 0, 30), "/rejected just after midnight")
    await log(app, clock, utc(2026, 11, 26, 10), "/accepted this morning")
    clock.set(utc(2026, 11, 26, 11))
    await admin(app, "set time:15:00 zone:UTC")
    poster = RecordingPoster()
    assert (await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 26, 15))
            ).posted == 1
    text = poster.texts()[0]
    assert "Since yesterday: 2 asks: 1 no, 1 yes." in text  # no check-in came before it


async def test_milestones_and_private_asks_still_count_across_the_period(app, repo, clock):
    await repo.save_schedule(schedule(time="15:00", zone="UTC"), utc(2026, 11, 20))
    for i in range(9):
        await log(app, clock, utc(2026, 11, 25, 14, i), f"/rejected earlier {i}", "sam")
    await log(app, clock, utc(2026, 11, 26, 9), "/rejected a secret private:true", "sam")
    poster = RecordingPoster()
    await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 26, 15))
    text = poster.texts()[0]
    assert "Plus 1 private ask, counted with thanks." in text and "secret" not in text
    assert "• @sam reached 10 asks" in text


# -- 3. a member's identical promises, once, counted ----------------------------------------------

def test_identical_promises_of_one_member_are_one_item_counted():
    ana, sam = (MemberRef(Platform.CONSOLE, n) for n in ("ana", "sam"))
    due, made = datetime(2026, 11, 26, 23, 59, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
    promises = (Commitment(1, ana, "call the landlord", due, made, "open"),
                Commitment(2, sam, "call the landlord", due, made, "open"),
                Commitment(3, ana, "call the landlord", due, made, "open"),
                Commitment(4, ana, "ask for a raise", due, made, "open"))
    act = Activity((), {"console:ana": "ana", "console:sam": "sam"}, {}, promises)
    text = daily_reply(schedule(zone="UTC"), date(2026, 11, 26), date(2026, 11, 25), act
                       ).plain_text()
    assert ("Promised for today: @ana: call the landlord (×2), @sam: call the landlord and "
            "@ana: ask for a raise. You've got this!") in text


async def test_the_same_promise_made_twice_reads_once_in_the_check_in(app, repo, clock):
    await repo.save_schedule(schedule(time="09:00", zone="UTC"), utc(2026, 11, 20))
    for minute in (0, 1):
        await log(app, clock, utc(2026, 11, 25, 10, minute),
                  "/who-next call the landlord when:tomorrow")
    poster = RecordingPoster()
    await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 26, 9))
    text = poster.texts()[0]
    assert "@ana: call the landlord (×2)" in text
    assert "call the landlord and @ana: call the landlord" not in text


# -- 4. a recap and the check-in posted with it end on different challenges ----------------------

async def test_a_recap_and_its_check_in_end_on_different_challenges(app, repo, clock):
    await repo.save_schedule(schedule(time="09:00", zone="UTC"), utc(2026, 11, 1))
    await log(app, clock, utc(2026, 11, 27, 10), "/rejected asked for a raise")
    poster = RecordingPoster()
    assert (await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 11, 30, 9))
            ).posted == 2
    checkin, recap = poster.texts()
    assert recap.startswith("Weekly recap")
    assert invite(checkin) != invite(recap)
    # Whatever the day.
    act = Activity((Attempt(1, MemberRef(Platform.CONSOLE, "ana"), "rejected", "an ask",
                            utc(2026, 11, 1)),), {}, {}, ())
    for n in range(14):
        day = date(2026, 12, 1 + n)
        posted = daily_reply(schedule(zone="UTC"), day, date(2026, 11, 30), act).plain_text()
        summed = recap_reply(day, act, list(act.attempts), 0, [1] * 7, None).plain_text()
        assert invite(posted) != invite(summed), day


# -- 5. the recap's dates and the community's name -------------------------------------------------

class RecordingCharts:
    """Charts that keep what they were asked to draw (and draw a token PNG)."""

    def __init__(self):
        self.calls: list[dict[str, object]] = []

    def week_chart(self, days, counts, title, subtitle=""):
        self.calls.append({"days": list(days), "title": title, "subtitle": subtitle})
        return b"\x89PNG chart"

    def stats_card(self, *args, **kwargs):
        return b"\x89PNG card"


async def test_checkin_set_keeps_the_communitys_name_for_the_recap(app, repo, clock):
    clock.set(utc(2026, 11, 20, 12))
    await admin(app, "set time:09:00 zone:UTC", name="Ask Club")
    assert (await repo.get_schedule(COMMUNITY)).community_name == "Ask Club"
    await admin(app, "set time:10:00")  # a caller whose platform says no name keeps it
    saved = await repo.get_schedule(COMMUNITY)
    assert (saved.time, saved.community_name) == ("10:00", "Ask Club")
    assert [s.community_name for s in await repo.list_schedules()] == ["Ask Club"]
    await log(app, clock, utc(2026, 11, 24, 10), "/rejected asked for a raise")
    charts = RecordingCharts()
    reply = await weekly_recap(repo, saved, date(2026, 11, 30), charts)
    assert reply.plain_text().startswith("Weekly recap · Ask Club · 23–29 Nov")
    assert charts.calls == [{"days": [date(2026, 11, 23 + i) for i in range(7)],
                             "title": "Asks per day, by outcome",
                             "subtitle": "Ask Club · 23–29 Nov"}]


async def test_a_recap_without_a_name_carries_its_dates_alone(app, repo, clock):
    await repo.save_schedule(schedule(zone="UTC"), utc(2026, 11, 20))
    await log(app, clock, utc(2026, 12, 1, 10), "/accepted asked for a discount")
    charts = RecordingCharts()
    reply = await weekly_recap(repo, await repo.get_schedule(COMMUNITY), date(2026, 12, 7),
                               charts)
    assert reply.plain_text().startswith("Weekly recap · 30 Nov – 6 Dec\n")
    assert charts.calls[0]["subtitle"] == "30 Nov – 6 Dec"


def test_date_ranges_read_short():
    assert date_range(date(2026, 12, 1), date(2026, 12, 7)) == "1–7 Dec"
    assert date_range(date(2026, 11, 30), date(2026, 12, 6)) == "30 Nov – 6 Dec"
    assert date_range(date(2026, 12, 28), date(2027, 1, 3)) == "28 Dec – 3 Jan"


def test_a_caller_carries_no_community_name_unless_the_platform_says():
    ref = MemberRef(Platform.CONSOLE, "ana")
    assert Caller(ref, "ana", COMMUNITY).community_name is None


# -- 6. a private preview of the next post, with what was just logged ------------------------------

async def test_preview_shows_what_was_logged_since_the_last_check_in(app, repo, clock):
    await repo.save_schedule(schedule(time="09:00", zone="UTC"), utc(2026, 11, 20))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await log(app, clock, utc(2026, 11, 26, 8), "/rejected told at nine")
    assert (await sched.run_due(utc(2026, 11, 26, 9))).posted == 1
    await log(app, clock, utc(2026, 11, 26, 14), "/accepted asked for a table")
    posts = await repo.last_posts(COMMUNITY)
    reply = await admin(app, "preview")
    text = reply.plain_text()
    assert reply.private
    assert text.startswith("Preview of the next check-in (Fri 27 Nov, 09:00), as it reads now. "
                           "Nothing is posted.\nCheck-in · Friday 27 Nov\n")
    assert "Since yesterday's check-in: 1 ask: 1 yes." in text
    assert "@ana got a yes: asked for a table" in text and "told at nine" not in text
    assert len(poster.posts) == 1 and await repo.last_posts(COMMUNITY) == posts


async def test_preview_right_after_setting_up_shows_the_asks_of_today(app, repo, clock):
    """The terminal's try-it: set check-ins up, log an ask, preview the next check-in."""
    clock.set(utc(2026, 11, 26, 14))
    await admin(app, "set time:09:00 zone:UTC")
    await log(app, clock, utc(2026, 11, 26, 14, 1), "/rejected asked for a raise")
    text = (await admin(app, "preview")).plain_text()
    assert "Check-in · Friday 27 Nov" in text
    assert "Since yesterday: 1 ask: 1 no." in text
    assert "@ana got a no: asked for a raise" in text


async def test_preview_with_no_check_ins_coming_says_so_and_claims_none_happened(app, clock):
    """No schedule: a sample, counted from midnight (no check-in ever ran), and how to start
    them. Switched off: it says nothing will post."""
    clock.set(utc(2026, 11, 26, 14))
    await log(app, clock, utc(2026, 11, 26, 14, 1), "/rejected asked for a raise")
    sample = (await admin(app, "preview")).plain_text()
    assert sample.startswith("No check-ins are scheduled, so nothing will post.")
    assert "/checkin set time:09:00" in sample
    assert "check-in:" not in sample and "Since yesterday: 1 ask: 1 no." in sample
    await admin(app, "set time:09:00 zone:UTC")
    await admin(app, "off")
    off = (await admin(app, "preview")).plain_text()
    assert off.startswith("Check-ins are off, so nothing will post.")
    assert "Preview of the next check-in" not in off
