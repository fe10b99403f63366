"""Exactly once: a job fired twice, a restart mid-day, two schedulers on one database,
a fall-back day whose 02:30 happens twice; and the grace window for missed check-ins."""

import asyncio
import logging

from bot.app import App
from bot.ids import Platform
from tests.helpers import FakeClock, caller
from tests.scheduler.helpers import RecordingPoster, community, make_scheduler, schedule, utc

SET_AT = utc(2026, 11, 20, 12)
NINE_BERLIN = utc(2026, 11, 26, 8)  # Thu 26 Nov 2026, 09:00 in Berlin


async def test_a_job_fired_twice_posts_once(app, repo, clock):
    await repo.save_schedule(schedule(), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        ids = {job.id for job in sched.aps.get_jobs()}
        assert ids == {"checkin@Europe/Berlin@09:00@mon,tue,wed,thu,fri,sat,sun",
                       "recap@Europe/Berlin@09:00@mon", "tick", "outbox"}
        job = sched.job_for(community(), "checkin")
        assert job.trigger.get_next_fire_time(None, utc(2026, 11, 26, 7)) == NINE_BERLIN
        clock.set(NINE_BERLIN)
        first = await job.func(*job.args)  # what APScheduler runs at 09:00
        assert job.func == sched.fire_group
        clock.advance(seconds=1)
        second = await sched.fire("console:test", "checkin")
        both = await asyncio.gather(sched.fire("console:test", "checkin"),
                                    sched.fire("console:test", "checkin"))
    finally:
        await sched.stop()
    assert (first.posted, second.posted, second.taken) == (1, 0, 1)
    assert sum(r.posted for r in both) == 0
    assert len(poster.posts) == 1


async def test_restart_mid_day_does_not_post_again(reopen):
    clock = FakeClock(NINE_BERLIN)
    repo = await reopen()
    await repo.save_schedule(schedule(), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, App(repo, clock), poster, clock)
    assert (await sched.start()).posted == 1  # the 09:00 check-in, at 09:00
    await sched.stop()
    await repo.close()

    clock.set(utc(2026, 11, 26, 9, 30))  # back up at 10:30 Berlin, well within the grace window
    repo = await reopen()
    again = make_scheduler(repo, App(repo, clock), poster, clock)
    report = await again.start()
    assert report.posted == 0 and report.taken == 1
    assert len(poster.posts) == 1
    clock.set(utc(2026, 11, 27, 8))  # the next morning: a new day, a new post
    assert (await again.fire("console:test", "checkin")).posted == 1
    await again.stop()
    await repo.close()
    assert len(poster.posts) == 2


async def test_two_schedulers_on_one_database_post_each_check_in_once(reopen):
    clock = FakeClock(NINE_BERLIN)
    repo_a = await reopen()
    repo_b = await reopen()
    try:
        for i in range(30):
            await repo_a.save_schedule(schedule(f"c{i}"), SET_AT)
        poster_a, poster_b = RecordingPoster(), RecordingPoster()
        sched_a = make_scheduler(repo_a, App(repo_a, clock), poster_a, clock)
        sched_b = make_scheduler(repo_b, App(repo_b, clock), poster_b, clock)
        a, b = await asyncio.gather(sched_a.run_due(NINE_BERLIN), sched_b.run_due(NINE_BERLIN))
        # And both processes' cron jobs firing at once, too.
        await sched_a.start(catch_up=False, paused=True)
        await sched_b.start(catch_up=False, paused=True)
        await asyncio.gather(*(s.fire(f"console:c{i}", "checkin")
                               for i in range(30) for s in (sched_a, sched_b)))
        await sched_a.stop()
        await sched_b.stop()
    finally:
        await repo_a.close()
        await repo_b.close()
    posted = sorted(c.id for c, _, _ in poster_a.posts + poster_b.posts)
    assert posted == sorted(f"c{i}" for i in range(30))
    assert a.posted + b.posted == 30 and a.taken + b.taken == 30


async def test_a_fall_back_day_posts_its_0230_check_in_once(app, repo, clock):
    # 31 Oct 2027 in Berlin: 02:30 happens twice, and APScheduler fires at both.
    await repo.save_schedule(schedule(time="02:30", recap=None), utc(2027, 10, 1))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        for when in (utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)):
            clock.set(when)
            await sched.fire("console:test", "checkin")
    finally:
        await sched.stop()
    assert len(poster.posts) == 1


async def test_grace_window(app, repo, clock, caplog):
    await repo.save_schedule(schedule("late"), SET_AT)
    await repo.save_schedule(schedule("later", time="06:00"), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock, grace_minutes=120)
    # The bot comes up at 09:30 Berlin: the 09:00 check-in is 30 minutes late (posted, with a
    # note); the 06:00 one is 3.5 hours late (skipped and logged).
    with caplog.at_level(logging.WARNING, logger="bot.scheduler"):
        report = await sched.run_due(utc(2026, 11, 26, 8, 30))
    assert (report.posted, report.skipped) == (1, 1)
    assert [c.id for c, _, _ in poster.posts] == ["late"]
    assert "a little late" in poster.texts()[0]
    assert any("Skipped the checkin of console:later" in r.getMessage() and "grace" in r.getMessage()
               for r in caplog.records)
    # Skipped stays skipped: no late post an hour afterwards either, and no second warning.
    caplog.clear()
    again = await sched.run_due(utc(2026, 11, 26, 9, 30))
    assert (again.posted, again.skipped, again.taken) == (0, 0, 2)
    assert not caplog.records
    assert len(poster.posts) == 1


async def test_a_schedule_set_after_its_time_waits_for_the_next_day(app, repo, clock):
    await repo.save_schedule(schedule(), utc(2026, 11, 26, 8, 15))  # set at 09:15 for 09:00
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 8, 30))).posted == 0
    assert (await sched.run_due(utc(2026, 11, 27, 8, 0))).posted == 1


async def test_schedules_on_platforms_without_a_poster_are_left_alone(app, repo, clock, tmp_path):
    from dataclasses import replace

    await repo.save_schedule(replace(schedule(), community=community("x").__class__(
        Platform.SLACK, "T1")), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    report = await sched.run_due(NINE_BERLIN)
    assert report.posted == report.taken == report.skipped == 0


async def test_a_schedule_changed_by_another_process_is_picked_up(reopen):
    clock = FakeClock(utc(2026, 11, 26, 12))
    repo_a = await reopen()
    repo_b = await reopen()
    app_a = App(repo_a, clock)
    sched_b = make_scheduler(repo_b, App(repo_b, clock), RecordingPoster(), clock)
    try:
        await sched_b.start(catch_up=False, paused=True)
        await app_a.run_text("checkin", "set time:09:00 zone:UTC",
                             caller("ana", True))
        assert sched_b.job_for(community(), "checkin") is None
        clock.advance(minutes=1)
        assert await sched_b.sync() == 1
        assert sched_b.job_for(community(), "checkin") is not None
        clock.advance(minutes=1)
        assert await sched_b.sync() == 0  # unchanged: the job is left alone
    finally:
        await sched_b.stop()
        await repo_a.close()
        await repo_b.close()


async def test_communities_sharing_a_trigger_share_one_job(app, repo, clock):
    for name in ("a", "b", "c"):
        await repo.save_schedule(schedule(name, recap=None), SET_AT)
    await repo.save_schedule(schedule("ny", zone="America/New_York", recap=None), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        berlin = sched.job_for(community("a"), "checkin")
        assert berlin is sched.job_for(community("c"), "checkin") or \
            berlin.id == sched.job_for(community("c"), "checkin").id
        assert sched.job_for(community("ny"), "checkin").id != berlin.id
        clock.set(NINE_BERLIN)
        report = await berlin.func(*berlin.args)
        assert report.posted == 3 and sorted(c.id for c, _, _ in poster.posts) == ["a", "b", "c"]
        # Moving one community out leaves the job; the last one out removes it.
        await repo.save_schedule(schedule("a", time="10:00", recap=None), NINE_BERLIN)
        await sched.reschedule(community("a"))
        assert sched.aps.get_job(berlin.id) is not None
        for name in ("b", "c"):
            await repo.disable_schedule(community(name), NINE_BERLIN)
            await sched.reschedule(community(name))
        assert sched.aps.get_job(berlin.id) is None
        assert len([j for j in sched.aps.get_jobs() if j.id not in ("tick", "outbox")]) == 2
    finally:
        await sched.stop()
