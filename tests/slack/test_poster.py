"""What only Slack's Poster does (the contract every Poster keeps is in
``tests/test_poster_contract.py``; the outbox's one-try rules are in ``test_poster_outbox.py``):
handing a rate limit's Retry-After to the outbox instead of waiting, clear log lines for a
channel it can't post in, refusing another platform's community, and a chart the channel
refuses after the post went out."""

from __future__ import annotations

import logging

from bot.ids import CommunityRef, Platform
from bot.ports import DeliveryStatus
from bot.reply import Action, Button, Buttons, Heading, Image, Mention, Reply, Text
from tests.slack.helpers import ANA, CHANNEL, COMMUNITY, member

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def checkin() -> Reply:
    return Reply((
        Heading("Daily check-in"),
        Text.of("Yesterday ", Mention(member(ANA), "ana"), " asked: ", "hi <!everyone> & <@U999>"),
        Buttons((Button("Cheer", Action("cheer", "7")),)),
    ))


async def test_a_rate_limited_post_is_left_to_the_outbox_with_its_retry_after(http_adapter, fake,
                                                                             sleeps):
    fake.rate_limit_once("chat.postMessage", retry_after=7)
    delivery = await http_adapter.poster.post(COMMUNITY, CHANNEL, checkin())
    assert delivery.status is DeliveryStatus.RETRY and delivery.retry_after == 7
    assert len(fake.calls_to("chat.postMessage")) == 1  # the client itself didn't retry
    assert sleeps.waits == [] and fake.channel_view(CHANNEL) == []
    assert (await http_adapter.poster.post(COMMUNITY, CHANNEL, checkin())).ok
    assert len(fake.channel_view(CHANNEL)) == 1


async def test_a_gone_channel_is_a_clear_log_line(http_adapter, fake, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.slack.poster")
    fake.fail("chat.postMessage", "channel_not_found")
    gone = await http_adapter.poster.post(COMMUNITY, "C0GONE", checkin())
    assert gone.status is DeliveryStatus.FAILED and "(channel_not_found)" in gone.reason
    fake.fail("chat.postMessage", "not_in_channel")
    shy = await http_adapter.poster.post(COMMUNITY, "C0SHY", checkin())
    assert shy.status is DeliveryStatus.FAILED and "/invite" in shy.reason
    lines = [r.getMessage() for r in caplog.records]
    assert any("C0GONE" in line and "channel_not_found" in line for line in lines)
    assert any("C0SHY" in line and "not_in_channel" in line and "/invite" in line for line in lines)


async def test_another_platforms_community_is_refused(http_adapter, fake):
    other = CommunityRef(Platform.DISCORD, "123")
    assert (await http_adapter.poster.post(other, CHANNEL, checkin())).status is DeliveryStatus.FAILED
    assert (await http_adapter.poster.dm(other, member(ANA), checkin())).status is \
        DeliveryStatus.FAILED
    assert fake.calls_to("chat.postMessage") == fake.calls_to("conversations.open") == []


async def test_a_chart_the_channel_refuses_still_counts_as_posted_with_a_clear_log(http_adapter,
                                                                                   fake, caplog):
    # chat:write.public lets the bot post in a channel it hasn't joined; files need membership.
    caplog.set_level(logging.WARNING, logger="adapters.slack.poster")
    fake.fail("files.completeUploadExternal", "not_in_channel")
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")))
    assert (await http_adapter.poster.post(COMMUNITY, "C0SHY", reply)).ok
    assert [c.args["channel"] for c in fake.calls_to("chat.postMessage")] == ["C0SHY"]
    [line] = [r.getMessage() for r in caplog.records]
    assert "C0SHY" in line and "week.png" in line and "not_in_channel" in line and "/invite" in line
