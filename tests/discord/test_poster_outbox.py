"""The Discord Poster as the outbox uses it: one try per call, every ending reported as a
``Delivery``, and Discord's nonce so that a repeat after an uncertain try never shows twice.

Everything goes through the real ``DiscordPoster`` on a running adapter, against the loopback
fake (which dedupes nonces and refuses like Discord); the assertions read what the channel
really shows. Timeouts are a fraction of a second; no test sleeps for real time, except the
one where discord.py itself waits a second before repeating a 500."""

from __future__ import annotations

from datetime import timedelta

from adapters.discord.client import DiscordAdapter
from adapters.discord.poster import NONCE_WINDOW, DiscordPoster
from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import Delivery, DeliveryStatus
from bot.reply import Heading, Reply, Text
from tests.discord.helpers import ANA
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord
from tests.helpers import FakeClock

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
CHANNEL = str(CHANNEL_ID)
POSTS = rf"/channels/{CHANNEL}/messages"
ANY_POST = r"/channels/\d+/messages"
OPEN_DM = "/users/@me/channels"
CHECKIN = Reply((Heading("Daily check-in"), Text.of("Who's making an ask today?")))
KEY = "checkin:42:2026-11-26"


def posts(fake: FakeDiscord, channel: str = CHANNEL) -> list[dict]:
    return [m for m in fake.messages.values() if m["channel_id"] == channel]


def dm_posts(fake: FakeDiscord, user: int = ANA) -> list[dict]:
    channel = fake.dm_channels.get(str(user))
    return posts(fake, channel) if channel else []


def quick(bot: DiscordAdapter, clock: FakeClock, timeout: float) -> DiscordPoster:
    """The adapter's poster with a short time allowed for one try."""
    return DiscordPoster(lambda: bot.client, clock=clock, timeout=timeout)


# -- the nonce ----------------------------------------------------------------------------------

async def test_the_key_goes_out_as_a_nonce_discord_enforces(bot, fake: FakeDiscord):
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery.status is DeliveryStatus.SENT and delivery.ok
    (call,) = fake.find("POST", POSTS)
    assert call.json["nonce"] == KEY and call.json["enforce_nonce"] is True
    (message,) = posts(fake)
    assert delivery.message_id == message["id"] and message["nonce"] == KEY
    assert fake.channel_view(CHANNEL) == ["Daily check-in", "Who's making an ask today?"]


async def test_without_a_key_each_call_gets_a_nonce_of_its_own(bot, fake: FakeDiscord):
    """discord.py sends a random 64-bit nonce when given none: its own repeats inside a call
    are dropped, but a second call is a second message."""
    for _ in range(2):
        assert (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN)).ok
    first, second = fake.find("POST", POSTS)
    assert first.json["enforce_nonce"] is True and first.json["nonce"].isdecimal()
    assert first.json["nonce"] != second.json["nonce"] and len(posts(fake)) == 2


async def test_a_dropped_connection_is_uncertain_and_the_repeat_shows_once(
        bot, fake: FakeDiscord, clock):
    fake.drop_after("POST", POSTS)
    first = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert first.status is DeliveryStatus.UNCERTAIN
    assert "may have gone out" in first.reason and "ServerDisconnectedError" in first.reason
    (made,) = posts(fake)  # Discord made it; the bot never heard
    assert [c.dropped for c in fake.find("POST", POSTS)] == [True]  # discord.py didn't repeat

    again = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY, sent_since=clock.now())
    assert again.status is DeliveryStatus.SENT and again.message_id == made["id"]
    assert len(fake.find("POST", POSTS)) == 2
    assert fake.channel_view(CHANNEL) == ["Daily check-in", "Who's making an ask today?"]


async def test_no_answer_in_time_is_uncertain_and_the_repeat_shows_once(
        bot, fake: FakeDiscord, clock):
    poster = quick(bot, clock, timeout=0.1)
    fake.delay_next("POST", POSTS, 0.4)  # made at once, answered late
    first = await poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert first == Delivery.uncertain("Discord didn't answer within 0.1 s, so it may have "
                                       "gone out")
    assert len(posts(fake)) == 1
    again = await poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY, sent_since=clock.now())
    assert again.ok and len(posts(fake)) == 1


async def test_a_write_that_lands_after_the_repeat_still_shows_once(bot, fake: FakeDiscord,
                                                                     clock):
    poster = quick(bot, clock, timeout=0.1)
    fake.delay_next("POST", POSTS, 0.3, handle_first=False)  # the first lands after the second
    first = await poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert first.status is DeliveryStatus.UNCERTAIN and posts(fake) == []
    again = await poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY, sent_since=clock.now())
    assert again.ok
    # The late first request is handled now, as Discord would: the nonce finds the repeat's.
    late, _ = fake.find("POST", POSTS)
    await fake.wait_until(lambda: late.handled, timeout=5)
    assert late.status == 200
    assert [m["id"] for m in posts(fake)] == [again.message_id]


async def test_a_500_after_the_write_is_repeated_by_discord_py_and_shows_once(
        bot, fake: FakeDiscord):
    """discord.py repeats a 500 by itself (after a second); the nonce makes it harmless."""
    fake.fail_after("POST", POSTS, 500)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery.ok
    assert [c.status for c in fake.find("POST", POSTS)] == [500, 200]
    assert [m["id"] for m in posts(fake)] == [delivery.message_id]


async def test_a_repeat_of_a_deleted_post_stays_deleted(bot, fake: FakeDiscord, clock):
    """Discord answers a repeat of a deleted message's nonce with Unknown Message: it went out,
    and a moderator took it down. The bot doesn't post it again."""
    fake.allow_refusals(10008)
    fake.drop_after("POST", POSTS)
    assert (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)).status \
        is DeliveryStatus.UNCERTAIN
    (made,) = posts(fake)
    fake._delete(made)  # a moderator deletes it
    again = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY, sent_since=clock.now())
    assert again == Delivery.sent()
    assert fake.find("POST", POSTS)[-1].status == 404 and posts(fake) == []


# -- the window -------------------------------------------------------------------------------

async def test_a_repeat_past_the_nonce_window_is_refused_without_a_request(
        bot, fake: FakeDiscord, clock):
    for age in (NONCE_WINDOW, NONCE_WINDOW + timedelta(hours=3)):
        for delivery in (
                await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY,
                                      sent_since=clock.now() - age),
                await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY,
                                    sent_since=clock.now() - age)):
            assert delivery == Delivery.failed(
                "it may already have gone out, and Discord only drops a repeat for a few "
                "minutes, so the bot didn't risk a second copy")
    assert fake.find("POST", ANY_POST) == [] and fake.find("POST", OPEN_DM) == []


async def test_a_repeat_within_the_window_is_sent(bot, fake: FakeDiscord, clock):
    just_inside = clock.now() - NONCE_WINDOW + timedelta(seconds=1)
    assert (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY,
                                  sent_since=just_inside)).ok
    assert len(posts(fake)) == 1


async def test_a_try_near_the_window_end_gets_only_the_time_left(bot, fake: FakeDiscord, clock):
    """So that no request of ours reaches Discord after the window: 0.2 s left, 0.2 s allowed."""
    fake.delay_next("POST", POSTS, 0.5)
    sent_since = clock.now() - NONCE_WINDOW + timedelta(seconds=0.2)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY, sent_since=sent_since)
    assert delivery == Delivery.uncertain("Discord didn't answer within 0.2 s, so it may have "
                                          "gone out")


async def test_a_repeat_without_a_key_is_refused(bot, fake: FakeDiscord, clock):
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, sent_since=clock.now())
    assert delivery.status is DeliveryStatus.FAILED
    assert "without an id on it Discord can't drop a repeat" in delivery.reason
    assert fake.find("POST", ANY_POST) == []


async def test_a_key_discord_cant_take_is_refused_without_a_request(bot, fake: FakeDiscord):
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key="k" * 26)
    assert delivery.status is DeliveryStatus.FAILED and "bug" in delivery.reason
    assert fake.find("POST", ANY_POST) == []


# -- refusals: FAILED, with what an admin can do ---------------------------------------------

async def test_a_missing_permission_fails_with_what_to_grant(bot, fake: FakeDiscord):
    fake.allow_refusals(50013)
    fake.deny(CHANNEL)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.failed("the bot can't post in the check-in channel (missing "
                                       "permission: give it Send Messages there)")
    assert fake.channel_view(CHANNEL) == []
    assert len(fake.find("POST", POSTS)) == 1  # one try: no repeat of a refusal


async def test_a_channel_the_bot_cant_see_fails_with_what_to_grant(bot, fake: FakeDiscord):
    fake.allow_refusals(50001)
    fake.deny(CHANNEL, code=50001)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.failed("the bot can't see the check-in channel (missing access: give "
                                       "it View Channel and Send Messages there)")


async def test_a_deleted_channel_fails_naming_its_id(bot, fake: FakeDiscord):
    fake.allow_refusals(10003)
    fake.delete_channel(CHANNEL)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.failed(f"channel {CHANNEL} is gone (deleted, or the bot was "
                                       "removed from the server): choose another with "
                                       "/checkin set")


async def test_a_malformed_message_fails_as_a_bug(bot, fake: FakeDiscord):
    fake.fail_next("POST", POSTS, 400, code=50035, message="Invalid Form Body")
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.failed("Discord refused the message (400 50035 Invalid Form "
                                       "Body): that's a bug in the bot, please report it")


async def test_a_refused_token_fails_with_how_to_fix_it(bot, fake: FakeDiscord):
    fake.fail_next("POST", POSTS, 401, code=0, message="401: Unauthorized")
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery.status is DeliveryStatus.FAILED and "DISCORD_TOKEN" in delivery.reason


async def test_what_is_not_a_discord_id_fails_without_a_request(bot, fake: FakeDiscord):
    before = len(fake.calls)
    post = await bot.poster.post(COMMUNITY, "#asks", CHECKIN, key=KEY)
    assert post == Delivery.failed("'#asks' isn't a Discord channel: choose the channel again "
                                   "with /checkin set")
    dm = await bot.poster.dm(COMMUNITY, MemberRef(Platform.DISCORD, "U0ANA"), CHECKIN, key=KEY)
    assert dm.status is DeliveryStatus.FAILED
    assert fake.calls[before:] == []


# -- passing trouble: RETRY, nothing posted ---------------------------------------------------

async def test_a_server_error_is_retry(bot, fake: FakeDiscord):
    fake.fail_next("POST", POSTS, 503, message="Service Unavailable")  # discord.py won't repeat
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.retry("Discord had a server error (503)")
    assert fake.channel_view(CHANNEL) == []


async def test_a_rate_limit_discord_py_gave_up_on_is_retry_with_the_wait(bot, fake: FakeDiscord):
    fake.rate_limit_next("POST", POSTS, retry_after=0.01, times=5)  # discord.py tries 5 times
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery.status is DeliveryStatus.RETRY and delivery.retry_after == 1.0  # Retry-After
    assert "slow down" in delivery.reason
    assert [c.status for c in fake.find("POST", POSTS)] == [429] * 5
    assert fake.channel_view(CHANNEL) == []


async def test_a_rate_limit_discord_py_waits_out_is_sent(bot, fake: FakeDiscord):
    fake.rate_limit_next("POST", POSTS, retry_after=0.01, times=2)
    assert (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)).ok
    assert [c.status for c in fake.find("POST", POSTS)] == [429, 429, 200]
    assert len(posts(fake)) == 1


async def test_a_cloudflare_ban_is_retry_with_the_wait(bot, fake: FakeDiscord):
    fake.rate_limit_next("POST", POSTS, retry_after=30, via=False)
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery == Delivery.retry("Discord asked the bot to slow down (429) for 30 s", 30.0)
    assert len(fake.find("POST", POSTS)) == 1


async def test_discord_out_of_reach_is_retry(bot, fake: FakeDiscord):
    await fake.close()  # nothing listens there any more: the connection is refused
    delivery = await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY)
    assert delivery.status is DeliveryStatus.RETRY
    assert "couldn't reach Discord" in delivery.reason and "ClientConnectorError" in delivery.reason


async def test_a_stopped_adapter_is_retry(start_bot, fake: FakeDiscord):
    adapter = await start_bot()
    await adapter.stop()
    for delivery in (await adapter.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY),
                     await adapter.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)):
        assert delivery == Delivery.retry("Discord isn't connected right now")
    assert fake.find("POST", ANY_POST) == []


async def test_an_adapter_stopping_just_before_the_request_is_retry(bot, fake: FakeDiscord):
    """The client still looks open, but its HTTP session is already closed (stop() under way):
    aiohttp refuses before sending anything."""
    assert bot.client is not None
    await bot.client.http.close()
    for delivery in (await bot.poster.post(COMMUNITY, CHANNEL, CHECKIN, key=KEY),
                     await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)):
        assert delivery == Delivery.retry("Discord isn't connected right now")
    assert fake.find("POST", ANY_POST) == [] and fake.find("POST", OPEN_DM) == []


# -- DMs --------------------------------------------------------------------------------------

async def test_a_dm_carries_the_nonce_and_a_dropped_one_shows_once(bot, fake: FakeDiscord, clock):
    fake.drop_after("POST", ANY_POST)
    first = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert first.status is DeliveryStatus.UNCERTAIN
    again = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY, sent_since=clock.now())
    assert again.ok
    (message,) = dm_posts(fake)
    assert message["nonce"] == KEY and again.message_id == message["id"]
    assert fake.seen_by(ANA, fake.dm_channels[str(ANA)]) == ["Daily check-in",
                                                             "Who's making an ask today?"]


async def test_closed_dms_fail_with_what_the_member_can_do(bot, fake: FakeDiscord):
    fake.allow_refusals(50007)
    fake.close_dms(ANA)
    delivery = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert delivery == Delivery.failed(
        "that member doesn't take DMs from the bot: they can allow direct messages from server "
        "members in the server's privacy settings")
    assert len(fake.find("POST", OPEN_DM)) == 1 and dm_posts(fake) == []


async def test_opening_a_dm_refused_fails(bot, fake: FakeDiscord):
    fake.fail_next("POST", OPEN_DM, 404, code=10013, message="Unknown User")
    delivery = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert delivery == Delivery.failed(f"Discord has no user {ANA} any more (the account may "
                                       "have been deleted)")
    fake.fail_next("POST", OPEN_DM, 403, code=50007, message="Cannot send messages to this user")
    delivery = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert delivery == Delivery.failed("Discord won't open a DM with that member (403 50007 Cannot "
                                       "send messages to this user)")
    assert fake.find("POST", ANY_POST) == []


async def test_opening_a_dm_that_fails_in_passing_is_retry_never_uncertain(
        bot, fake: FakeDiscord, clock):
    """Opening a DM posts nothing, so even a dropped or late answer there is a plain RETRY."""
    fake.fail_next("POST", OPEN_DM, 503)
    assert (await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)).status \
        is DeliveryStatus.RETRY
    fake.rate_limit_next("POST", OPEN_DM, retry_after=2, via=False)
    limited = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert limited.status is DeliveryStatus.RETRY and limited.retry_after == 2.0
    fake.drop_after("POST", OPEN_DM)
    dropped = await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert dropped.status is DeliveryStatus.RETRY and "nothing was sent" in dropped.reason
    fake.delay_next("POST", OPEN_DM, 0.4)
    late = await quick(bot, clock, timeout=0.1).dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)
    assert late.status is DeliveryStatus.RETRY and "nothing was sent" in late.reason
    assert fake.find("POST", ANY_POST) == []
    assert (await bot.poster.dm(COMMUNITY, ANA_REF, CHECKIN, key=KEY)).ok
    assert len(dm_posts(fake)) == 1
