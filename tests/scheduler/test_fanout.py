"""Fan-out: bounded concurrency per platform; one failing community never breaks the others."""

import asyncio

from bot.ids import Platform
from bot.scheduler import PlatformLimit, Scheduler
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc

NINE_BERLIN = utc(2026, 11, 26, 8)


async def test_failures_are_isolated(app, repo, clock):
    for i in range(40):
        await repo.save_schedule(schedule(f"c{i:02d}"), utc(2026, 11, 1))
    poster = RecordingPoster(fail={"c03": RuntimeError("platform down"), "c07": False,
                                   "c11": asyncio.CancelledError()})
    sched = make_scheduler(repo, app, poster, clock, concurrency=3)
    report = await sched.run_due(NINE_BERLIN)
    assert report.posted == 37 and report.failed == 3
    assert sorted(report.failures) == ["console:c03", "console:c07", "console:c11"]
    assert len(poster.posts) == 37
    assert poster.most_in_flight <= 3
    # A failed occurrence stays claimed: no double post if the platform did take it after all.
    assert (await sched.run_due(NINE_BERLIN)).posted == 0


async def test_a_hung_post_only_holds_its_own_slot(app, repo, clock):
    for i in range(10):
        await repo.save_schedule(schedule(f"c{i}"), utc(2026, 11, 1))

    class Hangs(RecordingPoster):
        async def post(self, community, channel_id, reply):
            if community.id == "c0":
                await asyncio.Event().wait()  # never answers
            return await super().post(community, channel_id, reply)

    poster = Hangs()
    sched = Scheduler(repo, app, {Platform.CONSOLE: poster}, clock,
                      limits={Platform.CONSOLE: PlatformLimit(2)}, post_timeout=0.05)
    report = await sched.run_due(NINE_BERLIN)
    assert report.posted == 9 and report.failures == ["console:c0"]


async def test_each_platform_has_its_own_bound(app, repo, clock):
    from dataclasses import replace

    from bot.ids import CommunityRef

    for i in range(12):
        await repo.save_schedule(schedule(f"c{i}"), utc(2026, 11, 1))
        await repo.save_schedule(replace(schedule(), community=CommunityRef(Platform.SLACK, f"T{i}")),
                                 utc(2026, 11, 1))
    release, full = asyncio.Event(), asyncio.Event()

    class Counting(RecordingPoster):
        async def post(self, community, channel_id, reply):
            if console.in_flight + slack.in_flight + 1 == 7:
                full.set()
            return await super().post(community, channel_id, reply)

    console, slack = Counting(hold=release), Counting(hold=release)
    sched = Scheduler(repo, app, {Platform.CONSOLE: console, Platform.SLACK: slack}, clock,
                      limits={Platform.CONSOLE: PlatformLimit(2), Platform.SLACK: PlatformLimit(5)})
    run = asyncio.create_task(sched.run_due(NINE_BERLIN))
    await asyncio.wait_for(full.wait(), timeout=10)
    for _ in range(50):
        await asyncio.sleep(0)
    assert (console.in_flight, slack.in_flight) == (2, 5)
    release.set()
    report = await run
    assert report.posted == 24
    assert (console.most_in_flight, slack.most_in_flight) == (2, 5)


async def test_make_scheduler_defaults(app, repo, clock):
    sched = make_scheduler(repo, app, RecordingPoster(), clock)
    assert sched.grace.total_seconds() == 7200
