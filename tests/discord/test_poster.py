"""The scheduler's Poster: channel posts and DMs; refusals are logged and skipped."""

from __future__ import annotations

import logging

from bot.ids import CommunityRef, MemberRef, Platform
from bot.reply import Heading, Mention, Reply, Text, Visibility
from tests.discord.conftest import ANA, shown
from tests.fakes.discord import GUILD_ID, FakeDiscord

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
CHECKIN = Reply((Heading("Daily check-in"),
                 Text.of("Yesterday ", Mention(ANA_REF, "ana"), " made 3 asks. @everyone, who's next?")))
CHANNEL = "1300000000000000009"


async def test_post_to_a_channel(bot, fake: FakeDiscord):
    assert await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN) is True
    (call,) = fake.find("POST", f"/channels/{CHANNEL}/messages")
    (embed,) = call.json["embeds"]
    assert shown(embed["title"]) == "Daily check-in"
    assert f"<@{ANA}>" in embed["description"] and "@everyone" not in embed["description"]
    assert call.json["allowed_mentions"] == {"parse": []}


async def test_a_private_reply_posted_to_a_channel_is_still_an_embed(bot, fake: FakeDiscord):
    reply = Reply((Text.of("Just for the channel"),), Visibility.PRIVATE)
    assert await bot.poster.post(COMMUNITY, CHANNEL, reply)
    (call,) = fake.find("POST", f"/channels/{CHANNEL}/messages")
    assert call.json["embeds"] and not call.json.get("flags")


async def test_dm_a_member(bot, fake: FakeDiscord):
    assert await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN) is True
    (opened,) = fake.find("POST", "/users/@me/channels")
    assert opened.json == {"recipient_id": ANA}
    dm_channel = fake.dm_channels[str(ANA)]
    (sent,) = fake.find("POST", f"/channels/{dm_channel}/messages")
    assert "made 3 asks" in sent.json["embeds"][0]["description"]


async def test_a_closed_dm_is_logged_and_skipped(bot, fake: FakeDiscord, caplog):
    fake.fail_next("POST", r"/channels/\d+/messages", 403, code=50007,
                   message="Cannot send messages to this user")
    with caplog.at_level(logging.WARNING, logger="adapters.discord.poster"):
        assert await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN) is False
    assert "403" in caplog.text and "skipped" in caplog.text
    # The bot carries on: the next DM goes out.
    assert await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN) is True


async def test_a_refused_dm_channel_and_a_deleted_channel_are_skipped(bot, fake: FakeDiscord, caplog):
    fake.fail_next("POST", "/users/@me/channels", 403, code=50007)
    assert await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN) is False
    fake.fail_next("POST", rf"/channels/{CHANNEL}/messages", 404, code=10003,
                   message="Unknown Channel")
    assert await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN) is False
    assert "404" in caplog.text
    assert await bot.poster.post(COMMUNITY, "not-a-channel", CHECKIN) is False


async def test_a_rate_limit_is_waited_out_and_retried(bot, fake: FakeDiscord):
    fake.rate_limit_next("POST", rf"/channels/{CHANNEL}/messages", retry_after=0.05)
    assert await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN) is True
    first, second = fake.find("POST", rf"/channels/{CHANNEL}/messages")
    assert (first.status, second.status) == (429, 200)
    assert first.json == second.json


async def test_a_stopped_adapter_posts_nothing(start_bot, fake: FakeDiscord):
    adapter = await start_bot()
    await adapter.stop()
    assert await adapter.poster.post(COMMUNITY, CHANNEL, CHECKIN) is False
    assert await adapter.poster.dm(COMMUNITY, ANA_REF, CHECKIN) is False
    assert not fake.find("POST", rf"/channels/{CHANNEL}/messages")


async def test_the_poster_declares_discords_pace(bot, app, repo, clock):
    """One bot token for every server, and Discord allows it 50 requests a second: the poster
    says 40 posts a second, 10 at a time, and the scheduler keeps to what it says."""
    from bot.ports import PostingLimits
    from bot.scheduler import Scheduler

    assert bot.poster.limits == PostingLimits(concurrency=10, per_second=40.0)
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    assert sched.limits == {Platform.DISCORD: PostingLimits(concurrency=10, per_second=40.0)}
