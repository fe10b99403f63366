"""/remind nudges through the scheduler and the outbox: at the member's local time (DST-safe),
only on the chosen days, none on a day already logged (also when the ask comes after queueing),
none with reminders off or on a break, exactly once across runs and schedulers."""

from datetime import timedelta

from bot.reply import Action
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


def nudges(poster: RecordingPoster) -> list:
    return [(m.id, r) for _, m, r in poster.dms if "Any ask in you today?" in r.plain_text()]


async def berlin_evenings(app, who: str = "ana", days: str = "daily") -> None:
    await run(app, "/timezone Europe/Berlin", who=who)
    assert not (await run(app, f"/remind time:18:00 days:{days}", who=who)).error


async def test_the_nudge_comes_at_the_members_local_time_once_a_day(app, repo, clock):
    # Thursday 26 Nov 2026, 12:00 UTC; 18:00 in Berlin is 17:00 UTC.
    await berlin_evenings(app)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 16, 59))).nudges == 0
    report = await sched.run_due(utc(2026, 11, 26, 17, 0, 30))
    assert report.nudges == 1
    ((member, reply),) = nudges(poster)
    assert member == "ana" and reply.private
    assert "Hi ana!" in reply.plain_text()
    assert reply.buttons()[0].action == Action("log", "rejected")
    # Later runs and a second scheduler find nothing more that day.
    assert (await sched.run_due(utc(2026, 11, 26, 17, 2))).nudges == 0
    other = make_scheduler(repo, app, poster, clock)
    assert (await other.run_due(utc(2026, 11, 26, 20))).nudges == 0
    assert (await sched.run_due(utc(2026, 11, 27, 17, 1))).nudges == 1  # the next day's
    assert len(nudges(poster)) == 2


async def test_two_schedulers_at_the_same_minute_send_one(app, repo, clock):
    await berlin_evenings(app)
    poster = RecordingPoster()
    first, second = (make_scheduler(repo, app, poster, clock) for _ in range(2))
    at = utc(2026, 11, 26, 17, 0, 10)
    total = (await first.run_due(at)).nudges + (await second.run_due(at)).nudges
    assert total == 1 and len(nudges(poster)) == 1


async def test_only_on_the_chosen_days_and_dst_safe(app, repo, clock):
    clock.set(utc(2026, 3, 26, 12))  # Thursday; Berlin moves to summer time on Sunday 29 Mar
    await berlin_evenings(app, days="weekends")
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_due(utc(2026, 3, 27, 17, 1))).nudges == 0  # Friday: not chosen
    assert (await sched.run_due(utc(2026, 3, 28, 17, 1))).nudges == 1  # Saturday, UTC+1
    assert (await sched.run_due(utc(2026, 3, 29, 16, 1))).nudges == 1  # Sunday, UTC+2
    assert (await sched.run_due(utc(2026, 3, 30, 16, 1))).nudges == 0  # Monday


async def test_none_on_a_day_already_logged(app, repo, clock):
    await berlin_evenings(app)
    await berlin_evenings(app, who="sam")
    clock.set(utc(2026, 11, 26, 9))  # 10:00 in Berlin
    assert not (await run(app, "/rejected asked for a discount")).error
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.run_due(utc(2026, 11, 26, 17, 0, 30))
    assert [m for m, _ in nudges(poster)] == ["sam"]
    # The next day nothing is logged yet: ana gets hers.
    await sched.run_due(utc(2026, 11, 27, 17, 0, 30))
    assert [m for m, _ in nudges(poster)] == ["sam", "ana", "sam"]


async def test_an_ask_logged_after_queueing_cancels_the_nudge(app, repo, clock):
    await berlin_evenings(app)
    at = utc(2026, 11, 26, 17, 0, 30)
    assert await repo.enqueue_reminds(at, timedelta(hours=2), "UTC") == 1
    clock.set(at)
    assert not (await run(app, "/pending asked to join the band")).error
    poster = RecordingPoster()
    report = await make_scheduler(repo, app, poster, clock).outbox.drain(at)
    assert report.nudges == 0 and nudges(poster) == []


async def test_none_with_reminders_off_or_on_a_break(app, repo, clock):
    for who in ("ana", "sam", "kim"):
        await berlin_evenings(app, who=who)
    await run(app, "/reminders off", who="ana")
    await run(app, "/pause until:friday", who="sam")
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.run_due(utc(2026, 11, 26, 17, 0, 30))
    assert [m for m, _ in nudges(poster)] == ["kim"]
    # Sam's break ends with Friday: Saturday he hears from us again.
    await sched.run_due(utc(2026, 11, 28, 17, 0, 30))
    assert sorted(m for m, _ in nudges(poster)) == ["kim", "kim", "sam"]


async def test_reminders_off_or_a_break_after_queueing_hold_it_back(app, repo, clock):
    await berlin_evenings(app)
    await berlin_evenings(app, who="sam")
    at = utc(2026, 11, 26, 17, 0, 30)
    assert await repo.enqueue_reminds(at, timedelta(hours=2), "UTC") == 2
    clock.set(at)
    await run(app, "/reminders off")
    await run(app, "/pause until:friday", who="sam")
    poster = RecordingPoster()
    assert (await make_scheduler(repo, app, poster, clock).outbox.drain(at)).nudges == 0
    assert poster.dms == []


async def test_remind_off_after_queueing_holds_it_back_and_late_ones_are_skipped(app, repo,
                                                                                 clock):
    await berlin_evenings(app)
    at = utc(2026, 11, 26, 17, 0, 30)
    assert await repo.enqueue_reminds(at, timedelta(hours=2), "UTC") == 1
    await run(app, "/remind off")
    poster = RecordingPoster()
    assert (await make_scheduler(repo, app, poster, clock).outbox.drain(at)).nudges == 0
    # Back on, and the bot down all evening: no stale nudge hours later, the next day's instead.
    await berlin_evenings(app)
    clock.set(utc(2026, 11, 27, 23))
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_due(utc(2026, 11, 27, 23))).nudges == 0
    assert (await sched.run_due(utc(2026, 11, 28, 17, 1))).nudges == 1
    assert (await repo.get_remind(COMMUNITY, caller().member)).next_at == utc(2026, 11, 29, 17)

