"""Goals: the pace arithmetic, and /goal set, shown, reached, changed and cleared."""

from datetime import date, timedelta

import pytest

from bot import stats
from tests.helpers import COMMUNITY, caller, run


def text(reply) -> str:
    return reply.plain_text()


def d(s: str) -> date:
    return date.fromisoformat(s)


def test_goal_pace_arithmetic():
    today = d("2026-11-26")
    assert stats.goal_pace(100, today, None) is None
    assert stats.goal_pace(0, today, d("2027-01-01")) is None
    # 28 days left including today: 4 weeks, 16 to go -> 4 a week
    assert stats.goal_pace(16, today, d("2026-12-23")).startswith("4 a week")
    assert stats.goal_pace(17, today, d("2026-12-23")).startswith("5 a week")  # rounds up
    assert "2 a day" in stats.goal_pace(5, today, d("2026-11-28"))  # 3 days left
    assert "passed" in stats.goal_pace(5, today, d("2026-11-25"))


async def test_goals_set_show_progress_reach_and_clear(app, clock):
    assert "No goal yet" in text(await run(app, "/goal"))
    await run(app, "/rejected before the goal")
    clock.advance(days=1)  # a goal counts from the start of the day it is set
    reply = await run(app, "/goal 3 by:2026-12-10")
    assert not reply.error and not reply.private and "Goal set: 3 no's by 2026-12-10" in text(reply)
    await run(app, "/rejected one")
    await run(app, "/accepted a yes does not count toward a rejection goal")
    assert "1 of 3 no's by 2026-12-10" in text(await run(app, "/goal"))
    assert "Goal: 1 of 3 no's" in text(await run(app, "/stats"))
    await run(app, "/rejected two")
    reached = await run(app, "/rejected three")
    assert not reached.private and "Goal reached: 3 no's!" in text(reached)
    assert "Goal reached" not in text(await run(app, "/rejected four"))  # celebrated once
    assert "Goal reached" in text(await run(app, "/goal"))
    assert "Goal cleared" in text(await run(app, "/goal off"))
    assert "No goal yet" in text(await run(app, "/goal"))


@pytest.mark.parametrize("line, words", [
    ("/goal lots", "whole number from 1"), ("/goal 0", "whole number from 1"),
    ("/goal -5", "whole number"), ("/goal 1000001", "whole number"),
    ("/goal 10 by:2020-01-01", "already past"), ("/goal 10 by:tomorrow", "takes a date"),
    ("/goal by:2027-01-01", "Give a target too"), ("/goal off by:2027-01-01", "takes no date"),
])
async def test_goal_errors(app, repo, line, words):
    reply = await run(app, line)
    assert reply.error and words in text(reply)
    profile = await repo.profile(COMMUNITY, caller().member)
    assert profile is None or profile.goal is None


async def test_changing_an_open_goal_keeps_its_progress(app, clock):
    await run(app, "/goal 5")
    clock.advance(minutes=1)
    for i in range(3):
        await run(app, f"/rejected {i}")
    assert "You're at 3 already" in text(await run(app, "/goal 10 by:2027-06-30"))
    assert "3 of 10 no's by 2027-06-30" in text(await run(app, "/goal"))
    lower = await run(app, "/goal 2")
    assert "already there with 3" in text(lower)
    assert "Goal reached" in text(await run(app, "/goal"))
    clock.advance(minutes=1)
    assert "You're at" not in text(await run(app, "/goal 1"))  # after a reached goal: fresh start
    assert "0 of 1 no, counting from" in text(await run(app, "/goal"))


async def test_a_goal_says_what_it_counts_everywhere_it_shows_progress(app, clock):
    """A first goal counts the whole day it is set (so this morning's no's count); since: moves
    that to an earlier day or to the first ask ever; every place showing progress says which."""
    await run(app, "/rejected last week")
    clock.advance(days=3)
    for i in range(2):
        await run(app, f"/rejected this morning {i}")
    clock.advance(hours=2)
    set_now = await run(app, "/goal 100")
    assert "You're at 2 already" in text(set_now)
    assert f"Counting from {clock.now():%a} {clock.now().day} {clock.now():%b}." in text(set_now)
    assert "add since:start" in text(set_now)
    day = f"{clock.now():%a} {clock.now().day} {clock.now():%b}"
    assert f"2 of 100 no's, counting from {day}." in text(await run(app, "/goal"))
    every = await run(app, "/goal 100 since:start")
    assert "You're at 3 already" in text(every)
    assert "Counting every no you've logged here" in text(every)
    assert "3 of 100 no's, counting every no you've logged here." in text(await run(app, "/goal"))
    earlier = clock.now().date() - timedelta(days=1)
    picked = await run(app, f"/goal 100 since:{earlier.isoformat()}")
    assert "You're at 2 already" in text(picked)
    assert f"Counting from {earlier:%a} {earlier.day}" in text(picked)


async def test_a_goal_after_a_reached_one_counts_from_the_moment_it_is_set(app, clock):
    await run(app, "/goal 1")
    reached = await run(app, "/rejected one")
    assert "Goal reached" in text(reached)
    clock.advance(minutes=5)
    fresh = await run(app, "/goal 5")
    assert "You're at" not in text(fresh)
    now = clock.now()
    assert f"Counting from {now:%a} {now.day} {now:%b}, {now:%H:%M}." in text(fresh)


@pytest.mark.parametrize("take_back", ["/undo", "/edit outcome:yes", "/edit outcome:pending"])
async def test_a_goal_whose_nos_are_taken_back_is_open_again(app, clock, take_back):
    """An /undo or /edit that takes a goal's no's below its target opens it again, its start
    kept: progress shows what is there, a new target keeps counting them, and reaching it again
    is celebrated again."""
    await run(app, "/goal 2")
    clock.advance(minutes=1)
    await run(app, "/rejected one")
    assert "Goal reached" in text(await run(app, "/rejected two"))
    clock.advance(minutes=1)
    assert not (await run(app, take_back)).error
    assert "1 of 2 no's" in text(await run(app, "/goal"))
    assert "Goal: 1 of 2 no's" in text(await run(app, "/stats"))
    clock.advance(minutes=1)
    assert "You're at 1 already" in text(await run(app, "/goal 3"))
    await run(app, "/rejected three")
    assert "Goal reached: 3 no's!" in text(await run(app, "/rejected four"))


async def test_a_goal_stays_reached_while_its_target_is_still_met(app, clock):
    await run(app, "/goal 1")
    clock.advance(minutes=1)
    await run(app, "/rejected one")
    await run(app, "/rejected two")
    await run(app, "/undo")
    await run(app, "/edit outcome:no who:my boss")  # a no still
    assert "Goal reached" in text(await run(app, "/goal"))


@pytest.mark.parametrize("line, words", [
    ("/goal 10 since:someday", "`since` is the day the goal counts no's from"),
    ("/goal 10 since:2099-01-01", "hasn't come yet"),
    ("/goal since:start", "Give a target too"), ("/goal off since:start", "takes no date"),
])
async def test_goal_since_errors_change_nothing(app, repo, line, words):
    await run(app, "/goal 7")
    reply = await run(app, line)
    assert reply.error and words in text(reply), text(reply)
    profile = await repo.profile(COMMUNITY, caller().member)
    assert profile.goal is not None and profile.goal.target == 7 and not profile.goal.counts_all
