"""What only Slack's Poster does (the contract every Poster keeps is in
``tests/test_poster_contract.py``): waiting out a rate limit's Retry-After, clear log lines for
a channel it can't post in, refusing another platform's community, and a chart the channel
refuses after the post went out."""

from __future__ import annotations

import logging

from bot.ids import CommunityRef, Platform
from bot.reply import Action, Button, Buttons, Heading, Image, Mention, Reply, Text
from tests.slack.helpers import ANA, CHANNEL, COMMUNITY, member

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def checkin() -> Reply:
    return Reply((
        Heading("Daily check-in"),
        Text.of("Yesterday ", Mention(member(ANA), "ana"), " asked: ", "hi <!everyone> & <@U999>"),
        Buttons((Button("Cheer", Action("cheer", "7")),)),
    ))


async def test_a_rate_limited_post_is_retried_after_retry_after(http_adapter, fake, sleeps):
    fake.rate_limit_once("chat.postMessage", retry_after=7)
    assert await http_adapter.poster.post(COMMUNITY, CHANNEL, checkin()) is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(sleeps.waits) == 1 and 7 <= sleeps.waits[0] < 8
    assert len(fake.channel_view(CHANNEL)) == 1


async def test_a_gone_channel_is_a_clear_log_line(http_adapter, fake, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.slack.poster")
    fake.fail("chat.postMessage", "channel_not_found")
    assert await http_adapter.poster.post(COMMUNITY, "C0GONE", checkin()) is False
    fake.fail("chat.postMessage", "not_in_channel")
    assert await http_adapter.poster.post(COMMUNITY, "C0SHY", checkin()) is False
    lines = [r.getMessage() for r in caplog.records]
    assert any("C0GONE" in line and "channel_not_found" in line for line in lines)
    assert any("C0SHY" in line and "not_in_channel" in line and "/invite" in line for line in lines)


async def test_another_platforms_community_is_refused(http_adapter, fake):
    other = CommunityRef(Platform.DISCORD, "123")
    assert await http_adapter.poster.post(other, CHANNEL, checkin()) is False
    assert await http_adapter.poster.dm(other, member(ANA), checkin()) is False
    assert fake.calls_to("chat.postMessage") == fake.calls_to("conversations.open") == []


async def test_a_chart_the_channel_refuses_still_counts_as_posted_with_a_clear_log(http_adapter,
                                                                                   fake, caplog):
    # chat:write.public lets the bot post in a channel it hasn't joined; files need membership.
    caplog.set_level(logging.WARNING, logger="adapters.slack.poster")
    fake.fail("files.completeUploadExternal", "not_in_channel")
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")))
    assert await http_adapter.poster.post(COMMUNITY, "C0SHY", reply) is True
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["C0SHY"]
    [line] = [r.getMessage() for r in caplog.records]
    assert "C0SHY" in line and "week.png" in line and "not_in_channel" in line and "/invite" in line
