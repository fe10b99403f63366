"""The Poster the scheduler uses, against the fake: channel posts, DMs, uploads, rate limits and
channels that are gone."""

from __future__ import annotations

import logging

from bot.ids import CommunityRef, Platform
from bot.reply import Action, Attachment, Button, Buttons, Heading, Image, Mention, Reply, Text
from tests.slack.conftest import ANA, CHANNEL, COMMUNITY, member, section_texts

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def checkin() -> Reply:
    return Reply((
        Heading("Daily check-in"),
        Text.of("Yesterday ", Mention(member(ANA), "ana"), " asked: ", "hi <!everyone> & <@U999>"),
        Buttons((Button("Cheer", Action("cheer", "7")),)),
    ))


async def test_post_to_a_channel(http_adapter, fake):
    assert await http_adapter.poster.post(COMMUNITY, CHANNEL, checkin()) is True
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == CHANNEL
    assert call.headers["Authorization"] == "Bearer xoxb-1-test"
    text = section_texts({"blocks": call.blocks()})
    assert "Yesterday @ana asked: hi &lt;!everyone&gt; &amp; &lt;@U999&gt;" in text
    assert "<!everyone>" not in call.args["text"] and "<@U999>" not in call.args["text"]
    assert call.blocks()[-1]["elements"][0]["action_id"] == "wn:cheer:7"


async def test_a_rate_limited_post_is_retried_after_retry_after(http_adapter, fake, sleeps):
    fake.rate_limit_once("chat.postMessage", retry_after=7)
    assert await http_adapter.poster.post(COMMUNITY, CHANNEL, checkin()) is True
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(sleeps.waits) == 1 and 7 <= sleeps.waits[0] < 8


async def test_a_gone_channel_is_a_clear_log_line(http_adapter, fake, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.slack.poster")
    fake.fail("chat.postMessage", "channel_not_found")
    assert await http_adapter.poster.post(COMMUNITY, "C0GONE", checkin()) is False
    fake.fail("chat.postMessage", "not_in_channel")
    assert await http_adapter.poster.post(COMMUNITY, "C0SHY", checkin()) is False
    lines = [r.getMessage() for r in caplog.records]
    assert any("C0GONE" in line and "channel_not_found" in line for line in lines)
    assert any("C0SHY" in line and "not_in_channel" in line and "/invite" in line for line in lines)


async def test_dm_opens_a_conversation_then_posts(http_adapter, fake):
    assert await http_adapter.poster.dm(COMMUNITY, member(ANA), checkin()) is True
    [opened] = fake.calls_to("conversations.open")
    assert opened.args["users"] == ANA
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["channel"] == "D0ANA"


async def test_dm_to_someone_unreachable_is_false(http_adapter, fake, caplog):
    fake.fail("conversations.open", "user_not_found")
    assert await http_adapter.poster.dm(COMMUNITY, member("U0GONE"), checkin()) is False
    assert fake.calls_to("chat.postMessage") == []


async def test_images_and_files_are_uploaded_next_to_the_post(http_adapter, fake):
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")),
                  attachments=(Attachment("asks.csv", b"a,b\n1,2\n", "text/csv"),))
    assert await http_adapter.poster.post(COMMUNITY, CHANNEL, reply) is True
    completes = fake.calls_to("files.completeUploadExternal")
    assert [c.args["channel_id"] for c in completes] == [CHANNEL, CHANNEL]
    assert sorted(fake.uploads.values()) == sorted([PNG, b"a,b\n1,2\n"])


async def test_another_platforms_community_is_refused(http_adapter, fake):
    other = CommunityRef(Platform.DISCORD, "123")
    assert await http_adapter.poster.post(other, CHANNEL, checkin()) is False
    assert fake.calls_to("chat.postMessage") == []


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
