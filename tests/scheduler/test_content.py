"""The daily check-in's content: a busy day, a quiet day, private attempts, due promises."""

from datetime import date

from bot import prompts
from bot.checkin_posts import daily_post
from bot.reply import Mention
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


async def admin(app, text):
    reply = await app.run_text("checkin", text, caller("ana", admin=True))
    assert not reply.error, reply.plain_text()
    return reply


async def at(app, clock, when, line, who="ana"):
    clock.set(when)
    reply = await run(app, line, who)
    assert not reply.error, reply.plain_text()
    return reply


async def test_busy_day(app, repo, clock):
    clock.set(utc(2026, 11, 19, 12))
    await admin(app, "set time:09:00 days:daily zone:Europe/Berlin")
    for i in range(9):  # sam's first nine asks, the week before
        await at(app, clock, utc(2026, 11, 20, 8 + i), f"/rejected old ask {i}", "sam")
    await at(app, clock, utc(2026, 11, 24, 12), "/rejected the day before yesterday")
    # Since yesterday's check-in: Wed 25 Nov 09:00 Berlin (08:00Z) to Thu 26 Nov 09:00 (08:00Z).
    await at(app, clock, utc(2026, 11, 25, 7, 59), "/rejected told in yesterday's check-in")
    await at(app, clock, utc(2026, 11, 25, 9), "/accepted asked for a discount", "sam")
    await at(app, clock, utc(2026, 11, 25, 10), "/pending asked the bank", "lee")
    await at(app, clock, utc(2026, 11, 25, 22, 59), "/accepted asked for feedback", "lee")
    await at(app, clock, utc(2026, 11, 26, 7, 30), "/rejected asked for a raise this morning")
    await at(app, clock, utc(2026, 11, 26, 8, 0), "/rejected asked at nine: the next one's")

    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    report = await sched.run_due(utc(2026, 11, 26, 8, 0))  # 09:00 in Berlin
    assert report.posted == 1 and report.failed == 0
    community, channel, reply = poster.posts[0]
    assert community == COMMUNITY and channel == "general"
    text = reply.plain_text()
    print(text)
    assert "Check-in · Thursday 26 Nov" in text
    assert "Since yesterday's check-in: 4 asks: 1 no, 2 yeses, 1 still waiting." in text
    assert "Logged by @lee (2), @ana (1) and @sam (1)." in text
    assert "@ana got a no: asked for a raise this morning" in text  # logged today, before 09:00
    for told_elsewhere in ("the day before yesterday", "told in yesterday's", "at nine"):
        assert told_elsewhere not in text
    # Milestones crossed yesterday: sam's 10th ask and first yes, lee's first ask and first yes.
    assert "• @sam reached 10 asks and got their first yes" in text
    assert "• @lee logged their first ask and got their first yes" in text
    assert "@lee is waiting to hear back on: asked the bank" in text
    mentioned = {m.id for m in reply.mentions()}
    assert mentioned == {"ana", "sam", "lee"}
    assert "Who's" in text or "ask" in text.splitlines()[-2]
    assert not reply.private


async def test_quiet_day_is_encouraging(app, repo, clock):
    clock.set(utc(2026, 11, 19, 12))
    await admin(app, "set time:09:00 zone:Europe/Berlin")
    await at(app, clock, utc(2026, 11, 20, 12), "/rejected an ask long ago")
    reply = await daily_post(repo, await repo.get_schedule(COMMUNITY), date(2026, 11, 26))
    text = reply.plain_text().lower()
    print(reply.plain_text())
    assert "since yesterday's check-in:" in text
    assert any(line.lower() in text for line in prompts.CHECKIN_QUIET)
    for word in ("nobody", "no one", "disappoint", "should have", "failed", "lazy", "shame"):
        assert word not in text
    assert "log an ask with /rejected" in text
    assert not reply.mentions()


async def test_private_attempts_are_counted_but_never_described(app, repo, clock):
    clock.set(utc(2026, 11, 19, 12))
    await admin(app, "set time:09:00 zone:UTC")
    await at(app, clock, utc(2026, 11, 25, 9), "/rejected asked my landlord for a rent cut "
             "private:true who:landlord lesson:\"be brave\"", "sam")
    await at(app, clock, utc(2026, 11, 25, 10), "/rejected asked for a raise")
    reply = await daily_post(repo, await repo.get_schedule(COMMUNITY), date(2026, 11, 26))
    text = reply.plain_text()
    print(text)
    assert "2 asks: 2 no's" in text
    assert "landlord" not in text and "rent" not in text and "be brave" not in text
    assert "@ana got a no: asked for a raise" in text
    assert "Plus 1 private ask" in text
    assert "@sam (1)" in text  # counted and thanked, not described
    assert "• @sam logged their first ask and collected their first no" in text


async def test_due_and_still_open_promises(app, repo, clock):
    clock.set(utc(2026, 11, 19, 12))
    await admin(app, "set time:09:00 days:daily zone:Europe/Berlin")
    for who in ("lee", "sam"):
        assert not (await run(app, "/timezone Europe/Berlin", who)).error
    await at(app, clock, utc(2026, 11, 25, 7), "/who-next ask Kim for an intro when:tomorrow", "lee")
    await at(app, clock, utc(2026, 11, 25, 8), "/who-next ask for a sample when:today", "sam")
    await at(app, clock, utc(2026, 11, 25, 9), "/who-next pitch the editor when:friday", "sam")
    reply = await daily_post(repo, await repo.get_schedule(COMMUNITY), date(2026, 11, 26))
    text = reply.plain_text()
    print(text)
    assert "Promised for today: @lee: ask Kim for an intro" in text
    assert "Promises still open: @sam: ask for a sample" in text
    assert "pitch the editor" not in text  # due Friday: not today's business
    owners = [s for b in reply.blocks for s in getattr(b, "spans", ()) if isinstance(s, Mention)]
    assert {m.member.id for m in owners} == {"lee", "sam"}


def test_a_crowd_of_milestones_is_named_up_to_a_point():
    """150 first asks in a day: eight members are named with their milestone, the rest counted,
    so the post keeps its promises, invitation and how-to within every platform's limits."""
    from datetime import UTC, datetime

    from bot.checkin_posts import MAX_MILESTONES, daily_reply
    from bot.ids import MemberRef, Platform
    from bot.models import Activity, Attempt, Schedule

    members = [MemberRef(Platform.CONSOLE, f"m{i:03d}") for i in range(150)]
    attempts = tuple(Attempt(i, m, "rejected", f"ask {i}", datetime(2026, 11, 25, 9, tzinfo=UTC))
                     for i, m in enumerate(members))
    act = Activity(attempts, {m.key: m.id for m in members}, {}, ())
    schedule = Schedule(COMMUNITY, "general", "UTC", "09:00", "mon,tue,wed,thu,fri,sat,sun")
    text = daily_reply(schedule, date(2026, 11, 26), date(2026, 11, 25), act).plain_text()
    named = [line for line in text.splitlines() if line.startswith("• @") and "first ask" in line]
    assert len(named) == MAX_MILESTONES
    assert f"…and {150 - MAX_MILESTONES} more of you reached one too" in text
    assert prompts.CHECKIN_HOW_TO in text


def test_long_promises_are_shortened_so_the_line_keeps_them_all():
    from datetime import UTC, datetime

    from bot.checkin_posts import MAX_COMMITMENTS, MAX_LISTED_ASK, daily_reply
    from bot.ids import MemberRef, Platform
    from bot.models import Activity, Commitment, Schedule

    members = [MemberRef(Platform.CONSOLE, f"m{i}") for i in range(10)]
    due = datetime(2026, 11, 26, 23, 59, tzinfo=UTC)
    made = datetime(2026, 11, 25, 9, tzinfo=UTC)
    promises = tuple(Commitment(i, m, f"promise {i} " + "x" * 490, due, made, "open")
                     for i, m in enumerate(members))
    act = Activity((), {m.key: m.id for m in members}, {}, promises)
    schedule = Schedule(COMMUNITY, "general", "UTC", "09:00", "mon,tue,wed,thu,fri,sat,sun")
    reply = daily_reply(schedule, date(2026, 11, 26), date(2026, 11, 25), act)
    line = next(t for t in reply.plain_text().splitlines() if t.startswith("Promised for today"))
    assert all(f"promise {i} " in line for i in range(MAX_COMMITMENTS))
    assert "(and 2 more). You've got this!" in line
    assert len(line) < MAX_COMMITMENTS * (MAX_LISTED_ASK + 20) + 100
