"""/season through the Slack adapter against the strict fake: a workspace admin starts one
(its name never pings), members log and see the season's board, a member can't end it, the
admin does, and the scheduler posts the champions through the adapter's Poster, once."""

from __future__ import annotations

from bot.ids import Platform
from bot.scheduler import Scheduler
from tests.slack.helpers import (
    ANA,
    BEN,
    CHANNEL,
    COMMUNITY,
    post_signed,
    reply_json,
    section_texts,
    slash,
)

ADMIN = "U0ADMIN"


async def test_a_season_on_slack(http_adapter, fake, http, ids, repo, app, clock):
    async def send(command: str, text: str = "", user: str = ANA, name: str = "ana"):
        form = slash(fake, ids, command, text, user=user, name=name)
        payload = await reply_json(await post_signed(http, http_adapter, form))
        await http_adapter.idle()
        return payload

    refused = await send("season", 'start name:"Mine" end:2026-12-31')
    assert refused["response_type"] == "ephemeral" and "for admins" in refused["text"]
    assert await repo.running_season(COMMUNITY) is None

    started = await send("season", 'start name:"Push <!here> @everyone" end:2026-12-31',
                         user=ADMIN, name="boss")
    assert started["response_type"] == "in_channel", started
    assert "A new season is on" in section_texts(started)
    assert "<!" not in section_texts(started) and "<!" not in started["text"]
    assert (await repo.running_season(COMMUNITY)).channel_id == CHANNEL

    await send("rejected", "asked for a raise fear:8")
    await send("rejected", "a secret one fear:10 private:true", user=BEN, name="ben")
    await send("accepted", "asked for a table", user=BEN, name="ben")
    board = await send("leaderboard", "period:season")
    assert board["response_type"] == "in_channel"
    assert "1. @ben · 2\n2. @ana · 1" in section_texts(board)

    assert "for admins" in (await send("season", "end", user=BEN, name="ben"))["text"]
    clock.advance(hours=1)
    ended = await send("season", "end", user=ADMIN, name="boss")
    assert ended["response_type"] == "in_channel" and "is over: 3 asks" in section_texts(ended)

    sched = Scheduler(repo, app, {Platform.SLACK: http_adapter.poster}, clock)
    before = len(fake.calls_to("chat.postMessage"))
    report = await sched.drain()
    assert report.posted == 1
    await sched.drain()
    (post,) = fake.calls_to("chat.postMessage")[before:]
    assert post.args["channel"] == CHANNEL
    text = section_texts({"blocks": post.blocks()})
    assert "Season over" in text and "Bravest ask:" in text and "asked for a raise" in text
    assert "secret" not in text and "secret" not in post.args["text"]
    assert "<!" not in post.args["text"] and "<!" not in text  # no @here, ever
    history = await send("season", "history", user=BEN, name="ben")
    assert "Hall of fame" in section_texts(history)
    assert fake.calls_to("views.open") == []  # nothing required: no form
