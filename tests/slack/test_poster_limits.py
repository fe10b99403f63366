"""The Slack Poster declares its own limits, and the scheduler takes them from it."""

from __future__ import annotations

from adapters.slack.poster import SlackPoster
from bot.ids import Platform
from bot.ports import PostingLimits
from bot.scheduler import Scheduler


async def test_the_poster_declares_slacks_limits(http_adapter, app, repo, clock):
    # One token per workspace: no shared limit to pace for; the client waits out a 429 itself.
    assert http_adapter.poster.limits == PostingLimits(concurrency=20, per_second=None)
    sched = Scheduler(repo, app, {Platform.SLACK: http_adapter.poster}, clock)
    assert sched.limits == {Platform.SLACK: PostingLimits(concurrency=20)}


def test_limits_can_be_given_to_a_poster(http_adapter):
    poster = SlackPoster(http_adapter.client, limits=PostingLimits(3, per_second=1.0))
    assert poster.limits == PostingLimits(3, per_second=1.0)
