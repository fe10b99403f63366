"""Fan-out: bounded concurrency per platform, as each platform's Poster declares it; one
failing community never breaks the others."""

import asyncio
import re
from pathlib import Path

import pytest

from bot.ids import Platform
from bot.ports import PostingLimits
from bot.scheduler import Scheduler
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc

NINE_BERLIN = utc(2026, 11, 26, 8)


async def test_failures_are_isolated(app, repo, clock):
    for i in range(40):
        await repo.save_schedule(schedule(f"c{i:02d}"), utc(2026, 11, 1))
    poster = RecordingPoster(fail={"c03": [RuntimeError("platform down")], "c07": False,
                                   "c11": [asyncio.CancelledError()]})
    sched = make_scheduler(repo, app, poster, clock, concurrency=3)
    report = await sched.run_due(NINE_BERLIN)
    assert (report.posted, report.retrying, report.failed) == (37, 2, 1)
    assert report.failures == ["console:c07"]  # refused for good: recorded, not retried
    assert len(poster.posts) == 37
    assert poster.most_in_flight <= 3
    assert (await sched.run_due(NINE_BERLIN)).posted == 0  # nothing new, retries not due yet
    # A raise, or a CancelledError leaking out of a client, may have posted: the retry says so.
    again = await sched.run_due(utc(2026, 11, 26, 8, 1))
    assert again.posted == 2
    retried = [(where, since) for where, _, since in poster.tries[-2:]]
    assert sorted(retried) == [("c03", NINE_BERLIN), ("c11", NINE_BERLIN)]
    assert len(poster.posts) == 39 and (await sched.run_due(utc(2026, 11, 26, 9))).posted == 0


async def test_a_hung_post_only_holds_its_own_slot(app, repo, clock):
    for i in range(10):
        await repo.save_schedule(schedule(f"c{i}"), utc(2026, 11, 1))

    class Hangs(RecordingPoster):
        async def post(self, community, channel_id, reply, **kw):
            if community.id == "c0":
                await asyncio.Event().wait()  # never answers
            return await super().post(community, channel_id, reply, **kw)

    poster = Hangs(limits=PostingLimits(2))
    sched = Scheduler(repo, app, {Platform.CONSOLE: poster}, clock, post_timeout=0.05)
    report = await sched.run_due(NINE_BERLIN)
    assert report.posted == 9 and report.retrying == 1  # timed out: tried again later


async def test_each_platform_has_its_own_bound(app, repo, clock):
    from dataclasses import replace

    from bot.ids import CommunityRef

    for i in range(12):
        await repo.save_schedule(schedule(f"c{i}"), utc(2026, 11, 1))
        await repo.save_schedule(replace(schedule(), community=CommunityRef(Platform.SLACK, f"T{i}")),
                                 utc(2026, 11, 1))
    release, full = asyncio.Event(), asyncio.Event()

    class Counting(RecordingPoster):
        async def post(self, community, channel_id, reply, **kw):
            if console.in_flight + slack.in_flight + 1 == 7:
                full.set()
            return await super().post(community, channel_id, reply, **kw)

    # Each Poster declares its own bound; the scheduler keeps to each.
    console = Counting(hold=release, limits=PostingLimits(2))
    slack = Counting(hold=release, limits=PostingLimits(5))
    sched = Scheduler(repo, app, {Platform.CONSOLE: console, Platform.SLACK: slack}, clock)
    assert sched.limits == {Platform.CONSOLE: PostingLimits(2), Platform.SLACK: PostingLimits(5)}
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


async def test_limits_given_to_the_scheduler_replace_what_the_poster_declares(app, repo, clock):
    console = RecordingPoster(limits=PostingLimits(7, per_second=3.0))
    slack = RecordingPoster(limits=PostingLimits(5))
    sched = Scheduler(repo, app, {Platform.CONSOLE: console, Platform.SLACK: slack}, clock,
                      limits={Platform.SLACK: PostingLimits(1)})
    assert sched.limits == {Platform.CONSOLE: PostingLimits(7, per_second=3.0),
                            Platform.SLACK: PostingLimits(1)}
    for i in range(6):
        await repo.save_schedule(schedule(f"c{i}"), utc(2026, 11, 1))
    sched = make_scheduler(repo, app, RecordingPoster(limits=PostingLimits(50)), clock,
                           concurrency=1)
    report = await sched.run_due(NINE_BERLIN)
    assert report.posted == 6 and sched.posters[Platform.CONSOLE].most_in_flight == 1


def test_a_poster_that_declares_no_limits_is_refused(app, repo, clock):
    class Bare:
        async def post(self, community, channel_id, reply):
            return True

        async def dm(self, community, member, reply):
            return True

    with pytest.raises(TypeError, match="console poster .Bare. declares no limits"):
        Scheduler(repo, app, {Platform.CONSOLE: Bare()}, clock)
    # ...unless the scheduler is given them.
    sched = Scheduler(repo, app, {Platform.CONSOLE: Bare()}, clock,
                      limits={Platform.CONSOLE: PostingLimits(3)})
    assert sched.limits == {Platform.CONSOLE: PostingLimits(3)}


@pytest.mark.parametrize("bad", [dict(concurrency=0), dict(per_second=0.0),
                                 dict(per_second=-1.0)])
def test_limits_that_could_never_post_are_refused(bad):
    with pytest.raises(ValueError):
        PostingLimits(**bad)


def test_the_scheduler_knows_no_platform_by_name():
    """Pacing and bounds come from the Posters: no platform is named in the scheduler or the
    schedule math (ids carry a Platform tag, which the scheduler only uses as a key)."""
    root = Path(__file__).resolve().parents[2]
    for module in ("bot/scheduler.py", "bot/outbox.py", "bot/schedules.py", "bot/ports.py"):
        source = (root / module).read_text()
        named = re.findall(r"Platform\.[A-Z]+|\b(?:[Ss]lack|[Dd]iscord)\b", source)
        assert not named, f"{module} names {sorted(set(named))}"
