"""The Slack Poster as the outbox uses it: one try per call, every outcome classified, and at
most one visible post when a try may or may not have landed. Everything goes through the real
``SlackPoster`` and slack-sdk client against the loopback fake Slack, and asserts on what the
channel (or the DM) really shows."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.poster import EVENT_TYPE, SlackPoster
from bot.ports import Delivery, DeliveryStatus
from bot.reply import Heading, Image, Reply, Text
from tests.fakes import slack_rules
from tests.fakes.slack import FakeSlack
from tests.slack.helpers import ANA, CHANNEL, COMMUNITY, member

SENT, RETRY, UNCERTAIN, FAILED = (DeliveryStatus.SENT, DeliveryStatus.RETRY,
                                  DeliveryStatus.UNCERTAIN, DeliveryStatus.FAILED)
KEY = "checkin:42"
SHY = "C0SHY"  # a public channel the bot posts in without being a member (chat:write.public)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DM = "D0ANA"  # the fake's DM with ANA


def checkin(text: str = "Who's next?") -> Reply:
    return Reply((Heading("Daily check-in"), Text.of(text)))


def poster_for(fake: FakeSlack, *, timeout: float = 5.0, **options) -> SlackPoster:
    """A poster built the way the adapter builds it: from the app's client."""
    app_client = AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url, timeout=timeout)
    return SlackPoster(app_client, **options)


@pytest.fixture
def poster(fake) -> SlackPoster:
    return poster_for(fake)


def posts(fake: FakeSlack, channel: str = CHANNEL) -> list[str]:
    """The messages everyone in ``channel`` sees, as text."""
    return [s.text for s in fake.channel_view(channel) if s.kind == "message"]


def now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------- the client


async def test_the_outbox_posts_through_a_client_that_never_retries(http_adapter):
    workspace = await http_adapter.poster.workspaces.find(COMMUNITY.id)
    assert workspace is not None
    app_client, outbox_client = http_adapter.client, workspace.one_try
    assert outbox_client is not app_client
    assert outbox_client.retry_handlers == []
    assert (outbox_client.token, outbox_client.base_url, outbox_client.timeout) == \
        (app_client.token, app_client.base_url, app_client.timeout)
    assert app_client.retry_handlers  # command answers still wait out a 429 themselves


async def test_a_dropped_connection_is_not_resent_by_the_client(poster, fake):
    fake.drop_after("chat.postMessage")
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert delivery.status is UNCERTAIN
    assert len(fake.calls_to("chat.postMessage")) == 1
    assert len(posts(fake)) == 1  # Slack had it: the connection dropped after


# ---------------------------------------------------------------------- the metadata


async def test_a_post_carries_its_key_in_its_metadata(poster, fake):
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert delivery == Delivery.sent(fake.channel_view(CHANNEL)[0].ts)
    [call] = fake.calls_to("chat.postMessage")
    expected = {"event_type": "whosnext_post", "event_payload": {"key": KEY}}
    assert call.args["metadata"] == expected
    [seen] = fake.channel_view(CHANNEL)
    assert seen.metadata == expected and "Daily check-in" in seen.text
    assert EVENT_TYPE == "whosnext_post"


async def test_a_post_without_a_key_carries_no_metadata(poster, fake):
    assert (await poster.post(COMMUNITY, CHANNEL, checkin())).ok
    [call] = fake.calls_to("chat.postMessage")
    assert "metadata" not in call.args
    assert fake.channel_view(CHANNEL)[0].metadata is None


async def test_a_dm_carries_its_key_too(poster, fake):
    delivery = await poster.dm(COMMUNITY, member(ANA), checkin("How did it go?"), key="followup:7")
    assert delivery.ok and delivery.message_id == fake.channel_view(DM)[0].ts
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["channel"] == DM
    assert call.args["metadata"] == {"event_type": "whosnext_post",
                                     "event_payload": {"key": "followup:7"}}


# ---------------------------------------------------------------------- an uncertain try


async def test_a_dropped_post_is_uncertain_and_the_next_try_finds_it(poster, fake):
    started = now()
    fake.drop_after("chat.postMessage")
    first = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert first.status is UNCERTAIN and "(connection_dropped)" in first.reason
    [landed] = fake.channel_view(CHANNEL)

    again = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert again == Delivery.sent(landed.ts)
    assert len(fake.calls_to("chat.postMessage")) == 1  # no second post
    assert posts(fake) == [landed.text]  # the channel shows it once
    [history] = fake.calls_to("conversations.history")
    assert history.args["channel"] == CHANNEL
    assert slack_rules.truthy(history.args["include_all_metadata"])
    assert float(history.args["oldest"]) == pytest.approx(started.timestamp() - 60, abs=1e-3)


async def test_a_timed_out_post_that_was_made_is_found(fake):
    poster = poster_for(fake, timeout=0.2)
    started = now()
    fake.delay("chat.postMessage", 2.0, after=True)  # made at once, answered too late
    first = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert first.status is UNCERTAIN and "(timeout)" in first.reason
    assert len(posts(fake)) == 1
    fake.delay("chat.postMessage", 0)

    again = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert again.ok and again.message_id == fake.channel_view(CHANNEL)[0].ts
    assert len(posts(fake)) == 1


async def test_an_earlier_try_that_never_landed_is_posted_now(poster, fake):
    started = now()
    fake.fail("chat.postMessage", "internal_error")  # may have landed: here it didn't
    first = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert first.status is UNCERTAIN and "(internal_error)" in first.reason
    assert posts(fake) == []

    again = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert again.ok
    [seen] = fake.channel_view(CHANNEL)
    assert seen.metadata == {"event_type": "whosnext_post", "event_payload": {"key": KEY}}
    assert again.message_id == seen.ts


async def test_only_this_bots_message_with_this_key_counts(poster, fake):
    started = now()
    tag = {"event_type": "whosnext_post", "event_payload": {"key": KEY}}
    fake.say("U0OTHERBOT", CHANNEL, "another app reusing our key", metadata=tag)
    await poster.post(COMMUNITY, CHANNEL, checkin("another key"), key="checkin:41")
    await poster.post(COMMUNITY, CHANNEL, checkin("no key"))
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin("ours"), key=KEY,
                                 sent_since=started)
    assert delivery.ok
    assert fake.channel_view(CHANNEL)[-1].text.endswith("ours")
    assert delivery.message_id == fake.channel_view(CHANNEL)[-1].ts
    assert len(posts(fake)) == 4


async def test_the_history_is_read_page_by_page_up_to_a_bound(fake):
    poster = poster_for(fake, history_page=2, history_pages=3)
    started = now()
    fake.drop_after("chat.postMessage")
    assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)).status is UNCERTAIN
    for i in range(4):  # newer messages: the earlier try is on the third page
        fake.say("U0BEN", CHANNEL, f"chatter {i}")
    found = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert found.ok and found.message_id == fake.channel_view(CHANNEL)[0].ts
    pages = fake.calls_to("conversations.history")
    assert len(pages) == 3 and "cursor" not in pages[0].args
    assert all(p.args.get("cursor") for p in pages[1:])

    fake.say("U0BEN", CHANNEL, "one more")
    fake.say("U0BEN", CHANNEL, "and another")  # now past three pages of two
    too_many = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert too_many.status is FAILED and "(too_much_history)" in too_many.reason
    assert len(fake.calls_to("chat.postMessage")) == 1


async def test_without_a_key_an_uncertain_try_cant_be_checked(poster, fake):
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), sent_since=now())
    assert delivery.status is FAILED and "(no_key)" in delivery.reason
    assert fake.calls_to("chat.postMessage") == fake.calls_to("conversations.history") == []


async def test_who_the_bot_is_is_asked_once(poster, fake):
    for _ in range(3):
        assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=now())).ok
    assert len(fake.calls_to("auth.test")) == 1


# ---------------------------------------------------------------------- history unreadable


async def test_a_channel_the_bot_isnt_in_cant_be_checked_so_nothing_is_posted_again(poster, fake):
    started = now()
    fake.drop_after("chat.postMessage")
    assert (await poster.post(COMMUNITY, SHY, checkin(), key=KEY)).status is UNCERTAIN
    fake.expect_refusal("not_in_channel", where="conversations.history")
    delivery = await poster.post(COMMUNITY, SHY, checkin(), key=KEY, sent_since=started)
    assert delivery.status is FAILED
    assert delivery.reason == (
        "Slack didn't confirm an earlier try, and the bot can't read the channel's history to "
        "check whether it arrived, so it didn't post again: invite the bot to the channel with "
        "/invite @Who's Next (not_in_channel)")
    assert len(posts(fake, SHY)) == 1  # at most once


async def test_a_missing_history_scope_is_named(poster, fake):
    started = now()
    fake.drop_after("chat.postMessage")
    assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)).status is UNCERTAIN
    fake.revoke_scope("channels:history")
    fake.expect_refusal("missing_scope", where="conversations.history")
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=started)
    assert delivery.status is FAILED
    assert delivery.reason.startswith("Slack didn't confirm an earlier try, and the bot can't "
                                      "read the channel's history")
    assert "add the channels:history permission" in delivery.reason
    assert delivery.reason.endswith("(missing_scope)")
    assert len(posts(fake)) == 1


async def test_a_private_channel_the_bot_isnt_in_is_not_found(poster, fake):
    fake.make_private("C0SECRET")
    fake.expect_refusal("channel_not_found", where="conversations.history")
    delivery = await poster.post(COMMUNITY, "C0SECRET", checkin(), key=KEY, sent_since=now())
    assert delivery.status is FAILED and "(channel_not_found)" in delivery.reason
    assert "can't read the channel's history" in delivery.reason
    assert fake.calls_to("chat.postMessage") == [] and posts(fake, "C0SECRET") == []


async def test_a_passing_history_failure_is_retried_later(fake):
    poster = poster_for(fake, timeout=0.2)
    fake.fail("conversations.history", "service_unavailable", status=503)
    first = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=now())
    assert first.status is RETRY and "Slack didn't confirm an earlier try" in first.reason
    fake.delay("conversations.history", 2.0)
    slow = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=now())
    assert slow.status is RETRY and "(timeout)" in slow.reason  # nothing was posted: no doubt
    assert fake.calls_to("chat.postMessage") == []


async def test_a_revoked_token_during_the_check_says_so(poster, fake):
    fake.fail("auth.test", "token_revoked")
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY, sent_since=now())
    assert delivery.status is FAILED and "reinstall the app" in delivery.reason
    assert delivery.reason.endswith("(token_revoked)")
    assert fake.calls_to("chat.postMessage") == []


# ---------------------------------------------------------------------- every outcome

CLASSIFIED = [
    # (error, HTTP status, expected status, words the reason holds)
    ("service_unavailable", 503, RETRY, "(service_unavailable)"),
    ("service_unavailable", 200, RETRY, "(service_unavailable)"),
    ("ratelimited", 200, RETRY, "(ratelimited)"),
    ("request_timeout", 200, RETRY, "(request_timeout)"),
    ("internal_error", 200, UNCERTAIN, "may have arrived"),
    ("fatal_error", 500, UNCERTAIN, "may have arrived"),
    ("channel_not_found", 200, FAILED, "/checkin set"),
    ("is_archived", 200, FAILED, "archived"),
    ("not_in_channel", 200, FAILED, "/invite @Who's Next"),
    ("restricted_action", 200, FAILED, "workspace admin"),
    ("token_revoked", 200, FAILED, "reinstall the app"),
    ("invalid_auth", 200, FAILED, "SLACK_BOT_TOKEN"),
    ("account_inactive", 200, FAILED, "reinstall the app"),
    ("missing_scope", 200, FAILED, "chat:write"),
    ("msg_too_long", 200, FAILED, "Slack refused the message itself"),
    ("a_code_slack_adds_next_year", 200, FAILED, "trying again won't help"),
]


@pytest.mark.parametrize(("error", "status", "expected", "words"), CLASSIFIED,
                         ids=[f"{e}-{s}" for e, s, *_ in CLASSIFIED])
async def test_each_refusal_is_classified(poster, fake, error, status, expected, words):
    fake.fail("chat.postMessage", error, status=status)
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert delivery.status is expected, delivery
    assert words in delivery.reason and f"({error})" in delivery.reason
    assert delivery.retry_after is None
    assert posts(fake) == [] and len(fake.calls_to("chat.postMessage")) == 1


async def test_a_429_hands_its_retry_after_to_the_outbox(poster, fake):
    fake.rate_limit_once("chat.postMessage", retry_after=7)
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert (delivery.status, delivery.retry_after) == (RETRY, 7.0)
    assert delivery.reason == "Slack asked the bot to slow down for 7 s (ratelimited)"
    fake.fail("chat.postMessage", "ratelimited", status=429)  # no Retry-After
    assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)).retry_after == 1.0
    assert posts(fake) == [] and len(fake.calls_to("chat.postMessage")) == 2


async def test_a_5xx_page_from_a_proxy_is_retried_and_the_next_try_posts(poster, fake):
    fake.fail("chat.postMessage", "bad_gateway", status=502, raw="<html>502 Bad Gateway</html>")
    first = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert first.status is RETRY and "(HTTP 502)" in first.reason
    assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)).ok
    assert len(posts(fake)) == 1


async def test_a_gateway_timeout_may_have_landed(poster, fake):
    fake.fail("chat.postMessage", "gateway_timeout", status=504, raw="<html>504</html>")
    assert (await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)).status is UNCERTAIN


async def test_no_connection_at_all_is_retried(fake):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = AsyncWebClient(token="xoxb-1-test", base_url=f"http://127.0.0.1:{port}/api/",
                            timeout=2)
    poster = SlackPoster(client)
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert delivery.status is RETRY and "(no_connection)" in delivery.reason
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).status is RETRY


async def test_a_message_slack_refuses_for_real_is_failed(poster, fake):
    fake.expect_refusal("missing_scope", where="chat.postMessage")
    fake.revoke_scope("chat:write")
    delivery = await poster.post(COMMUNITY, CHANNEL, checkin(), key=KEY)
    assert delivery.status is FAILED
    assert delivery.reason == ("the bot lacks the Slack permission chat:write: add it under OAuth "
                               "& Permissions and reinstall the app (missing_scope)")


# ---------------------------------------------------------------------- files


async def test_a_post_found_in_the_history_doesnt_upload_its_files_again(poster, fake):
    started = now()
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")))
    fake.drop_after("chat.postMessage")
    assert (await poster.post(COMMUNITY, CHANNEL, reply, key=KEY)).status is UNCERTAIN
    assert (await poster.post(COMMUNITY, CHANNEL, reply, key=KEY, sent_since=started)).ok
    assert fake.calls_to("files.getUploadURLExternal") == []
    assert [s.kind for s in fake.channel_view(CHANNEL)] == ["message"]


async def test_a_post_then_its_files(poster, fake):
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")))
    assert (await poster.post(COMMUNITY, CHANNEL, reply, key=KEY)).ok
    assert [s.kind for s in fake.channel_view(CHANNEL)] == ["message", "file"]
    assert list(fake.uploads.values()) == [PNG]


async def test_a_dm_whose_file_fails_is_still_sent(poster, fake):
    fake.fail("files.completeUploadExternal", "internal_error", status=500)
    reply = Reply((Text.of("Your week"), Image(PNG, "week.png", "a chart of the week")))
    assert (await poster.dm(COMMUNITY, member(ANA), reply, key=KEY)).ok
    assert [s.kind for s in fake.channel_view(DM)] == ["message"]


# ---------------------------------------------------------------------- DMs


async def test_a_dropped_dm_is_found_in_the_dm(poster, fake):
    started = now()
    fake.drop_after("chat.postMessage")
    first = await poster.dm(COMMUNITY, member(ANA), checkin("How did it go?"), key=KEY)
    assert first.status is UNCERTAIN
    again = await poster.dm(COMMUNITY, member(ANA), checkin("How did it go?"), key=KEY,
                            sent_since=started)
    assert again == Delivery.sent(fake.channel_view(DM)[0].ts)
    assert len(posts(fake, DM)) == 1
    assert [c.args["channel"] for c in fake.calls_to("conversations.history")] == [DM]


async def test_a_dm_without_im_history_is_not_sent_twice(poster, fake):
    started = now()
    fake.drop_after("chat.postMessage")
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).status is UNCERTAIN
    fake.revoke_scope("im:history")
    fake.expect_refusal("missing_scope", where="conversations.history")
    delivery = await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY, sent_since=started)
    assert delivery.status is FAILED
    assert delivery.reason == (
        "Slack didn't confirm an earlier try, and the bot can't read its DM with that member to "
        "check whether it arrived, so it didn't send it again: add the im:history permission "
        "under OAuth & Permissions and reinstall the app (missing_scope)")
    assert len(posts(fake, DM)) == 1


DM_REFUSED = [
    ("user_not_found", "left the workspace"),
    ("cannot_dm_bot", "is a bot"),
    ("user_disabled", "deactivated"),
    ("account_inactive", "reinstall the app"),
]


@pytest.mark.parametrize(("error", "words"), DM_REFUSED, ids=[e for e, _ in DM_REFUSED])
async def test_a_member_who_cant_be_dmed(poster, fake, error, words):
    fake.fail("conversations.open", error)
    delivery = await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)
    assert delivery.status is FAILED and words in delivery.reason
    assert delivery.reason.endswith(f"({error})")
    assert fake.calls_to("chat.postMessage") == [] and posts(fake, DM) == []


async def test_opening_a_dm_may_be_retried_freely(poster, fake):
    # conversations.open shows nothing: a dropped or failed one is simply tried again.
    fake.drop_after("conversations.open")
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).status is RETRY
    fake.fail("conversations.open", "internal_error", status=500)
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).status is RETRY
    assert fake.calls_to("chat.postMessage") == []
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).ok
    assert len(posts(fake, DM)) == 1


async def test_a_dm_without_im_write_names_the_scope(poster, fake):
    fake.revoke_scope("im:write")
    fake.expect_refusal("missing_scope", where="conversations.open")
    delivery = await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)
    assert delivery.status is FAILED and "im:write" in delivery.reason


async def test_a_dm_that_times_out_is_uncertain_then_found(fake):
    poster = poster_for(fake, timeout=0.2)
    started = now() - timedelta(seconds=1)
    fake.delay("chat.postMessage", 2.0, after=True)
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY)).status is UNCERTAIN
    fake.delay("chat.postMessage", 0)
    assert (await poster.dm(COMMUNITY, member(ANA), checkin(), key=KEY, sent_since=started)).ok
    assert len(posts(fake, DM)) == 1


# ---------------------------------------------------------------------- the scopes


def test_the_manifest_asks_for_the_scopes_the_fake_grants():
    assert set(BOT_SCOPES) == slack_rules.DEFAULT_BOT_SCOPES
    assert {"channels:history", "groups:history", "im:history"} <= set(BOT_SCOPES)
