"""Commitment follow-ups: reminders on -> one DM with the resolve buttons; off -> none."""

from bot.reply import Buttons
from tests.helpers import caller, press, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


async def test_one_dm_with_buttons_when_a_promise_comes_due(app, repo, clock):
    clock.set(utc(2026, 11, 26, 10))
    assert not (await run(app, "/who-next ask Lee for an intro when:today", "ana")).error
    assert not (await run(app, "/who-next ask for a discount when:today", "sam")).error
    assert not (await run(app, "/reminders off", "sam")).error
    assert not (await run(app, "/who-next pitch the editor when:tomorrow", "ana")).error
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)

    assert (await sched.run_followups(utc(2026, 11, 26, 23, 59))).followups == 0  # not yet due
    report = await sched.run_followups(utc(2026, 11, 27, 0, 0, 30))
    assert (report.followups, report.quiet_followups) == (1, 1)
    assert len(poster.dms) == 1
    community, member, reply = poster.dms[0]
    assert member == caller("ana").member
    text = reply.plain_text()
    print(text)
    assert "How did your ask go?" in text and "ask Lee for an intro" in text
    buttons = reply.buttons()
    assert [b.label for b in buttons] == ["Rejected", "Accepted", "Still waiting", "Didn't ask"]
    assert any(isinstance(b, Buttons) for b in reply.blocks)

    # Sent once: the next minutes, a restart's catch-up, nothing new.
    assert (await sched.run_followups(utc(2026, 11, 27, 0, 1, 30))).followups == 0
    assert (await sched.run_due(utc(2026, 11, 27, 0, 2))).followups == 0
    assert len(poster.dms) == 1

    # The DM's button works: the promise becomes a logged no.
    clock.set(utc(2026, 11, 27, 8))
    resolved = await press(app, buttons[0].action, "ana")
    assert not resolved.error and "ask Lee for an intro" in resolved.plain_text()
    # Tomorrow's promise follows up tomorrow night.
    assert (await sched.run_followups(utc(2026, 11, 28, 0, 0, 30))).followups == 1
    assert "pitch the editor" in poster.dms[1][2].plain_text()


async def test_reminders_off_means_no_dm(app, repo, clock):
    clock.set(utc(2026, 11, 26, 10))
    reply = await run(app, "/reminders off", "ana")
    assert "Reminders off" in reply.plain_text() and reply.private
    await run(app, "/who-next ask for a raise when:today", "ana")
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    report = await sched.run_followups(utc(2026, 11, 27, 1))
    assert report.followups == 0 and report.quiet_followups == 1
    assert poster.dms == []
    # Turning reminders back on does not resend an old one; new promises get their DM.
    assert "Reminders on" in (await run(app, "/reminders on", "ana")).plain_text()
    assert (await sched.run_followups(utc(2026, 11, 27, 2))).followups == 0
    clock.set(utc(2026, 11, 27, 10))
    await run(app, "/who-next ask again when:today", "ana")
    assert (await sched.run_followups(utc(2026, 11, 28, 0, 1))).followups == 1


async def test_follow_up_time_follows_the_members_zone(app, repo, clock):
    clock.set(utc(2026, 11, 26, 10))
    assert not (await run(app, "/timezone America/New_York", "ana")).error
    await run(app, "/who-next ask for a raise when:today", "ana")  # due 23:59:59 New York
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_followups(utc(2026, 11, 27, 1))).followups == 0
    assert (await sched.run_followups(utc(2026, 11, 27, 5, 1))).followups == 1
