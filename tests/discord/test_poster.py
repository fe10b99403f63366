"""What only Discord's Poster does (the contract every Poster keeps is in
``tests/test_poster_contract.py``; the outbox's side of it, nonces and every kind of ending, in
``test_poster_outbox.py``): refusals logged with their status, a channel id that isn't one, a
rate limit waited out by discord.py, a stopped adapter, and Discord's pace."""

from __future__ import annotations

import logging

from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import DeliveryStatus, PostingLimits
from bot.reply import Heading, Mention, Reply, Text
from bot.scheduler import Scheduler
from tests.discord.helpers import ANA
from tests.fakes.discord import GUILD_ID, FakeDiscord

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
CHECKIN = Reply((Heading("Daily check-in"),
                 Text.of("Yesterday ", Mention(ANA_REF, "ana"), " made 3 asks. @everyone, who's next?")))
CHANNEL = "1300000000000000009"


async def test_refusals_are_logged_with_their_status_and_fail(bot, fake: FakeDiscord, caplog):
    caplog.set_level(logging.WARNING, logger="adapters.discord.poster")
    fake.fail_next("POST", r"/channels/\d+/messages", 403, code=50007,
                   message="Cannot send messages to this user")
    dm = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN)
    assert dm.status is DeliveryStatus.FAILED and "that member" in dm.reason
    fake.fail_next("POST", rf"/channels/{CHANNEL}/messages", 404, code=10003,
                   message="Unknown Channel")
    post = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN)
    assert post.status is DeliveryStatus.FAILED and CHANNEL in post.reason
    lines = [r.getMessage() for r in caplog.records]
    assert any(f"DM to member {ANA}: failed" in line and "doesn't take DMs" in line
               for line in lines), lines
    assert any(f"channel {CHANNEL}: failed" in line and "is gone" in line
               for line in lines), lines


async def test_what_is_not_a_discord_id_fails_without_a_request(bot, fake: FakeDiscord):
    before = len(fake.calls)
    assert (await bot.poster.post(COMMUNITY, "not-a-channel", CHECKIN)).status \
        is DeliveryStatus.FAILED
    assert (await bot.poster.dm(COMMUNITY, MemberRef(Platform.DISCORD, "U0ANA"), CHECKIN)).status \
        is DeliveryStatus.FAILED
    assert fake.calls[before:] == []


async def test_a_rate_limit_is_waited_out_and_retried(bot, fake: FakeDiscord):
    fake.rate_limit_next("POST", rf"/channels/{CHANNEL}/messages", retry_after=0.05)
    assert (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN)).ok
    first, second = fake.find("POST", rf"/channels/{CHANNEL}/messages")
    assert (first.status, second.status) == (429, 200)
    assert first.json == second.json
    assert len([m for m in fake.messages.values() if m["channel_id"] == CHANNEL]) == 1


async def test_a_stopped_adapter_posts_nothing(start_bot, fake: FakeDiscord):
    adapter = await start_bot()
    await adapter.stop()
    assert (await adapter.poster.post(COMMUNITY, CHANNEL, CHECKIN)).status is DeliveryStatus.RETRY
    assert (await adapter.poster.dm(COMMUNITY, ANA_REF, CHECKIN)).status is DeliveryStatus.RETRY
    assert not fake.find("POST", rf"/channels/{CHANNEL}/messages")


async def test_the_poster_declares_discords_pace(bot, app, repo, clock):
    """One bot token for every server, and Discord allows it 50 requests a second: the poster
    says 40 posts a second, 10 at a time, and the scheduler keeps to what it says."""
    assert bot.poster.limits == PostingLimits(concurrency=10, per_second=40.0)
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    assert sched.limits == {Platform.DISCORD: PostingLimits(concurrency=10, per_second=40.0)}
