"""A season ends on its date (the end of its last day in its zone) by the scheduler's tick,
and its post goes out through the outbox exactly once: not twice when run again, not twice
from two schedulers; to the check-in channel if there is one, else where it was started."""

import asyncio

from bot.handlers.season import season_post
from bot.ports import Delivery
from bot.reply import Image
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc


async def admin(app, line: str):
    command, _, rest = line.lstrip("/").partition(" ")
    return await app.run_text(command, rest, caller("boss", admin=True))


def season_posts(poster: RecordingPoster) -> list[tuple[str, str]]:
    return [(channel, reply.plain_text()) for _, channel, reply in poster.posts
            if reply.plain_text().startswith("Season over")]


async def busy_season(app, repo, clock, checkins: bool = True):
    """A season ending on Mon 30 Nov, with asks in it: in Berlin (the check-ins' zone), at
    23:00 UTC; without check-ins in the default zone (UTC), at midnight."""
    clock.set(utc(2026, 11, 26, 12))
    if checkins:  # check-ins in #asks, Berlin time, at 09:00
        await repo.save_schedule(schedule(channel="asks", recap=None), clock.now())
    assert not (await admin(app, '/season start name:"Winter push" end:2026-11-30')).error
    await run(app, "/rejected asked for a raise fear:8", who="ana")
    await run(app, "/rejected my hidden ask fear:10 private:true", who="ben")
    await run(app, "/accepted asked for a table", who="ben")
    clock.set(utc(2026, 11, 30, 22, 59))
    await run(app, "/rejected just in time", who="ben")  # 23:59 in Berlin: still in it
    clock.set(utc(2026, 11, 30, 23, 30))
    await run(app, "/rejected after the end", who="cy")  # 00:30 on 1 Dec in Berlin: not


async def test_the_season_ends_on_its_date_and_posts_once(app, repo, clock):
    await busy_season(app, repo, clock)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.run_due(utc(2026, 11, 30, 22, 59, 59))
    assert season_posts(poster) == [] and await repo.running_season(COMMUNITY) is not None
    await sched.run_due(utc(2026, 11, 30, 23, 0, 1))
    ((channel, post),) = season_posts(poster)
    assert channel == "asks"  # the check-in channel
    assert post.startswith("Season over · Winter push")
    assert "26 Nov to Mon 30 Nov 2026: 4 asks from 2 members, 3 no's among them." in post
    assert "Most asks: @ben with 3 asks" in post and "Most no's: @ben with 2 no's" in post
    assert "Bravest ask: @ana · asked for a raise (fear 8/10)" in post
    assert "hidden" not in post and "after the end" not in post and "cy" not in post
    reply = next(r for _, _, r in poster.posts if r.plain_text().startswith("Season over"))
    (image,) = [b for b in reply.blocks if isinstance(b, Image)]
    assert image.data.startswith(b"\x89PNG") and "Winter push" in image.alt
    ended = (await repo.season_history(COMMUNITY))[0].season
    assert ended.ended_at == utc(2026, 11, 30, 23)  # the end of its last day, not later
    # Run again, tick, drain: nothing more.
    await sched.run_due(utc(2026, 11, 30, 23, 1))
    clock.set(utc(2026, 11, 30, 23, 2))
    await sched.tick()
    await sched.drain()
    assert len(season_posts(poster)) == 1


async def test_the_tick_finds_it_and_two_schedulers_post_it_once(app, repo, clock, reopen):
    await busy_season(app, repo, clock)
    first, second = RecordingPoster(), RecordingPoster()
    other_repo = await reopen()  # another process on the same database
    one = make_scheduler(repo, app, first, clock)
    two = make_scheduler(other_repo, app, second, clock)
    clock.set(utc(2026, 12, 1, 0, 0, 30))
    await asyncio.gather(one.tick(), two.tick())
    await asyncio.gather(one.drain(), two.drain())
    assert len(season_posts(first)) + len(season_posts(second)) == 1
    assert await repo.running_season(COMMUNITY) is None


async def test_without_checkins_it_goes_where_the_season_started(app, repo, clock):
    await busy_season(app, repo, clock, checkins=False)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(utc(2026, 11, 30, 23, 59))
    await sched.tick()
    assert season_posts(poster) == []  # the end of 30 Nov in UTC is still to come
    clock.set(utc(2026, 12, 1, 0, 0, 30))
    await sched.tick()
    ((channel, post),) = season_posts(poster)
    assert channel == "general" and "Winter push" in post


async def test_ended_by_command_it_posts_once_and_no_more_on_its_date(app, repo, clock):
    await busy_season(app, repo, clock)
    clock.set(utc(2026, 11, 29, 10))
    assert not (await admin(app, "/season end")).error
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.drain()
    ((_, post),) = season_posts(poster)
    assert "2 asks from 1 member" not in post and "3 asks from 2 members" in post
    clock.set(utc(2026, 12, 1, 0, 0, 30))
    await sched.tick()
    await sched.run_due()
    assert len(season_posts(poster)) == 1


async def test_a_failed_try_is_retried_and_still_posts_once(app, repo, clock):
    assert await season_post(repo, COMMUNITY, 12345, None) is None  # no such season
    await busy_season(app, repo, clock, checkins=False)
    poster = RecordingPoster(fail={COMMUNITY.id: [Delivery.retry("Slack is busy")]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(utc(2026, 12, 1, 0, 0, 30))
    report = await sched.run_due()
    assert report.retrying == 1 and season_posts(poster) == []
    clock.advance(minutes=1)
    await sched.drain()
    await sched.drain()
    assert len(season_posts(poster)) == 1
