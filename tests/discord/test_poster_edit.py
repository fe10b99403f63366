"""``DiscordPoster.edit`` (an /edit reaching the posts that showed the entry), through the real
discord.py client against the strict loopback fake: one read of the channel's latest 100
messages, then an edit of each of the bot's own that has a button sending the marker (with or
without the server in its custom id), and nothing else; none there → FAILED; a channel gone or
denied → FAILED; a 5xx or a 429 → RETRY. And the fake's side: ``GET /channels/{id}/messages``
keeps Discord's limits and order, and a member's message can't be edited."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import EDIT_LOOKBACK, DeliveryStatus
from bot.reply import Action, Button, Buttons, Reply, Text
from tests.discord.helpers import ANA, BEN, buttons, posted, run_command
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord, message_texts

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
CHANNEL = str(CHANNEL_ID)
CHEER = Action("cheer", "7")
HISTORY = rf"/channels/{CHANNEL}/messages"


def entry(text: str, action: Action = CHEER, label: str = "Cheer") -> Reply:
    return Reply((Text.of(text), Buttons((Button(label, action),))))


def shows(fake: FakeDiscord, message_id: str) -> str:
    return " ".join(message_texts(fake.messages[message_id]))


async def post(bot, reply: Reply, channel: str = CHANNEL) -> str:
    delivery = await bot.poster.post(COMMUNITY, channel, reply)
    assert delivery.ok
    assert delivery.message_id is not None
    return delivery.message_id


async def test_the_posts_showing_the_entry_change_and_nothing_else(bot, fake: FakeDiscord):
    first = await post(bot, entry("Ana asked for a raise"))
    other = await post(bot, entry("Ben asked for a table", Action("cheer", "8")))
    # A member's message with the same custom id (however it got there) is never touched.
    theirs = fake.member_message(CHANNEL, BEN, "ben", content="copy", components=[
        {"type": 1, "components": [{"type": 2, "style": 2, "label": "Cheer",
                                    "custom_id": "wn:cheer:7"}]}])["id"]
    fake.member_message(CHANNEL, BEN, "ben", content="nice one!")
    recap = await post(bot, Reply((Text.of("Recap: Ana asked for a raise"),
                                   Buttons((Button("Cheer · 2", CHEER),
                                            Button("Promise", Action("promise", "x")))))))
    before = len(fake.calls)

    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER,
                                     entry("Ana asked for a 10% raise", label="Cheer · 2"))

    assert delivery.status is DeliveryStatus.SENT and delivery.message_id == recap
    reads = fake.find("GET", HISTORY, before)
    assert [c.query for c in reads] == [{"limit": str(EDIT_LOOKBACK)}]
    edits = [c.path.rsplit("/", 1)[1] for c in fake.calls[before:] if c.method == "PATCH"]
    assert edits == [first, recap]  # oldest first: message_id names the latest
    assert all(c.status == 200 for c in fake.calls[before:])
    for changed in (first, recap):
        assert "Ana asked for a 10% raise" in shows(fake, changed)
        assert [b["label"] for b in buttons(fake.messages[changed])] == ["Cheer · 2"]
    assert "Ben asked for a table" in shows(fake, other)
    assert fake.messages[theirs]["content"] == "copy"


async def test_a_changed_reply_reaches_the_command_response_too(bot, fake: FakeDiscord):
    """An interaction response (a public /rejected) is the bot's own message as well."""
    payload, _ = await run_command(fake, "rejected", {"ask": "asked for a raise"})
    message = posted(fake, payload)
    (cheer,) = [b for b in buttons(message) if b["custom_id"].startswith("wn:cheer:")]
    marker = Action("cheer", cheer["custom_id"].split(":", 2)[2])

    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, marker,
                                     entry("Ana asked for a 10% raise", marker))
    assert delivery.ok and delivery.message_id == message["id"]
    assert "Ana asked for a 10% raise" in shows(fake, message["id"])
    # Safe to call again: the same change once more.
    assert (await bot.poster.edit(COMMUNITY, CHANNEL, marker,
                                  entry("Ana asked for a 10% raise", marker))).ok


async def test_buttons_that_name_the_server_match_too(bot, fake: FakeDiscord):
    """In a DM the custom id carries the server (``wn.<guild>:cheer:7``)."""
    sent = await bot.poster.dm(COMMUNITY, ANA_REF, entry("Ana asked for a raise"))
    assert sent.ok
    dm = fake.dm_channels[str(ANA)]
    assert buttons(fake.messages[sent.message_id])[0]["custom_id"] == f"wn.{GUILD_ID}:cheer:7"
    delivery = await bot.poster.edit(COMMUNITY, dm, CHEER, entry("Ana asked for a 10% raise"))
    assert delivery.ok and delivery.message_id == sent.message_id
    assert "10% raise" in shows(fake, sent.message_id)


async def test_none_found_fails_with_a_plain_sentence(bot, fake: FakeDiscord):
    await post(bot, entry("Ben asked for a table", Action("cheer", "8")))
    before = len(fake.calls)
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.reason == ("the bot found none of its posts showing that entry among the "
                               "latest 100 messages of the channel")
    assert not [c for c in fake.calls[before:] if c.method == "PATCH"]


async def test_a_post_older_than_the_lookback_is_out_of_reach(bot, fake: FakeDiscord):
    old = await post(bot, entry("Ana asked for a raise"))
    for i in range(EDIT_LOOKBACK):
        fake.member_message(CHANNEL, BEN, "ben", content=f"chat {i}")
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.FAILED and "latest 100" in delivery.reason
    assert "changed" not in shows(fake, old)
    assert len(fake.find("GET", HISTORY)) == 1  # one read, no paging further back


@pytest.mark.parametrize(("code", "said"), [
    (50001, "can't see that channel"), (50013, "missing permission: give it Read Message "
                                               "History")])
async def test_a_denied_channel_fails(bot, fake: FakeDiscord, code, said):
    await post(bot, entry("Ana asked for a raise"))
    fake.deny(CHANNEL, code)
    fake.allow_refusals(code)
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.FAILED and said in delivery.reason


async def test_a_deleted_channel_fails(bot, fake: FakeDiscord):
    fake.delete_channel(CHANNEL)
    fake.allow_refusals(10003)
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.FAILED and f"channel {CHANNEL} is gone" in \
        delivery.reason


async def test_not_a_channel_id_or_not_connected(bot, fake: FakeDiscord, start_bot):
    before = len(fake.calls)
    assert (await bot.poster.edit(COMMUNITY, "general", CHEER, entry("x"))).status \
        is DeliveryStatus.FAILED
    assert fake.calls[before:] == []
    stopped = await start_bot()
    await stopped.stop()
    assert (await stopped.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("x"))).status \
        is DeliveryStatus.RETRY


async def test_a_server_error_or_a_rate_limit_is_retried(bot, fake: FakeDiscord):
    message = await post(bot, entry("Ana asked for a raise"))
    fake.fail_next("GET", HISTORY, 503, message="Service Unavailable")  # discord.py won't repeat
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert (delivery.status, delivery.reason) == (DeliveryStatus.RETRY,
                                                  "Discord had a server error (503)")
    fake.fail_next("PATCH", rf"{HISTORY}/{message}", 503, message="Service Unavailable")
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.RETRY
    assert "changed" not in shows(fake, message)
    fake.rate_limit_next("PATCH", rf"{HISTORY}/{message}", retry_after=2, via=False)
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.RETRY and "429" in delivery.reason
    assert (await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))).ok
    assert "changed" in shows(fake, message)


async def test_a_post_deleted_between_the_read_and_the_edit_is_skipped(bot, fake: FakeDiscord):
    gone = await post(bot, entry("Ana asked for a raise"))
    kept = await post(bot, entry("Recap: Ana asked for a raise"))
    fake.fail_next("PATCH", rf"{HISTORY}/{gone}", 404, code=10008, message="Unknown Message")
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.ok and delivery.message_id == kept
    fake.fail_next("PATCH", rf"{HISTORY}/{gone}", 404, code=10008, message="Unknown Message")
    fake.fail_next("PATCH", rf"{HISTORY}/{kept}", 404, code=10008, message="Unknown Message")
    delivery = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("changed"))
    assert delivery.status is DeliveryStatus.FAILED and "deleted" in delivery.reason


# -- the fake's history endpoint and edits, as Discord answers them -----------------------------


async def rest(fake: FakeDiscord, method: str, path: str, body: dict | None = None
               ) -> tuple[int, object]:
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session, session.request(
            method, fake.api_url + path, json=body, headers=headers) as response:
        return response.status, json.loads(await response.text())


async def test_history_is_newest_first_within_its_limits(fake: FakeDiscord):
    ids = [fake.member_message(CHANNEL, BEN, "ben", content=f"m{i}")["id"] for i in range(60)]
    fake.member_message(1300000000000000077, BEN, "ben", content="elsewhere")
    status, latest = await rest(fake, "GET", f"{HISTORY}")
    assert status == 200 and [m["id"] for m in latest] == ids[::-1][:50]  # 50 by default
    _, some = await rest(fake, "GET", f"{HISTORY}?limit=3&before={ids[10]}")
    assert [m["id"] for m in some] == [ids[9], ids[8], ids[7]]
    _, some = await rest(fake, "GET", f"{HISTORY}?limit=3&after={ids[10]}")
    assert [m["id"] for m in some] == [ids[13], ids[12], ids[11]]  # just after, newest first
    _, every = await rest(fake, "GET", f"{HISTORY}?limit=100")
    assert len(every) == 60 and all(m["channel_id"] == CHANNEL for m in every)


@pytest.mark.parametrize(("query", "code"), [
    ("limit=0", "NUMBER_TYPE_MIN"), ("limit=101", "NUMBER_TYPE_MAX"),
    ("limit=many", "NUMBER_TYPE_COERCE"), ("before=abc", "NUMBER_TYPE_COERCE"),
    ("before=1&after=2", "MUTUALLY_EXCLUSIVE")])
async def test_history_refuses_bad_queries_as_discord_does(fake: FakeDiscord, query, code):
    fake.allow_refusals(50035)
    status, body = await rest(fake, "GET", f"{HISTORY}?{query}")
    assert status == 400 and body["code"] == 50035 and body["message"] == "Invalid Form Body"
    (field,) = body["errors"].values()
    assert field["_errors"][0]["code"] == code


async def test_history_of_a_denied_or_deleted_channel_is_refused(fake: FakeDiscord):
    fake.allow_refusals(50001, 10003)
    fake.deny(CHANNEL, 50001)
    assert (await rest(fake, "GET", HISTORY))[1]["code"] == 50001
    fake.delete_channel(CHANNEL)
    status, body = await rest(fake, "GET", HISTORY)
    assert (status, body["code"]) == (404, 10003)


async def test_history_leaves_out_ephemeral_answers(bot, fake: FakeDiscord):
    await run_command(fake, "asks")  # private: an ephemeral answer
    payload, _ = await run_command(fake, "rejected", {"ask": "asked for a raise"})
    _, seen = await rest(fake, "GET", HISTORY)
    assert [m["id"] for m in seen] == [posted(fake, payload)["id"]]


async def test_a_members_message_cannot_be_edited(fake: FakeDiscord):
    fake.allow_refusals(50005)
    theirs = fake.member_message(CHANNEL, BEN, "ben", content="mine")
    status, body = await rest(fake, "PATCH", f"{HISTORY}/{theirs['id']}", {"content": "x"})
    assert (status, body) == (403, {"code": 50005,
                                    "message": "Cannot edit a message authored by another user"})
    assert fake.messages[theirs["id"]]["content"] == "mine"


async def test_a_post_from_before_the_entry_is_another_entrys_and_stays(bot, fake: FakeDiscord):
    """An undone entry's post keeps its Cheer; a later entry that took its id again (SQLite)
    reaches only the posts made since it was (less a little drift between the clocks)."""
    from datetime import timedelta

    import discord

    from bot.ports import EDIT_DRIFT

    old = await post(bot, entry("Ana's undone ask"))
    made = discord.utils.utcnow() + EDIT_DRIFT * 2  # the next entry, made after that post
    late = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("Ben's ask"), since=made)
    assert late.status is DeliveryStatus.FAILED
    assert "Ana's undone ask" in shows(fake, old)
    close = await bot.poster.edit(COMMUNITY, CHANNEL, CHEER, entry("Ben's ask"),
                                  since=made - EDIT_DRIFT - timedelta(seconds=1))
    assert close.ok and "Ben's ask" in shows(fake, old)  # within the drift: the same entry's
