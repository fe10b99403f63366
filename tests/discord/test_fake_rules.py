"""The strict fake Discord: each rule refuses a body that breaks it and takes one that keeps it
(aiohttp straight at the fake), Discord's clock for interactions, what a channel shows, and the
real adapter held to all of it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.app import App
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import Caller, Invocation
from bot.scheduler import Scheduler
from tests.discord.helpers import ANA, BEN, buttons, posted, run_command, shown
from tests.fakes import discord_rules as rules
from tests.fakes.discord import BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord

APP = BOT_ID
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
EPHEMERAL = 64
FORM, EMPTY = 50035, 50006


# -- helpers ----------------------------------------------------------------------------------

@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def direct(fake: FakeDiscord) -> FakeDiscord:
    """The fake, for tests that send it bad bodies on purpose."""
    fake.allow_refusals(FORM, EMPTY, 10062, 40060, 10015, 50027, 10008)
    return fake


async def send(http: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str,
               body: Any = None, *, files: int = 0) -> tuple[int, Any]:
    """A request the way discord.py makes it: JSON, or multipart with payload_json + files[n]."""
    url = fake.api_url + path
    kwargs: dict[str, Any] = {}
    if files:
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps(body), content_type="application/json")
        for i in range(files):
            form.add_field(f"files[{i}]", b"data", filename=f"f{i}.txt",
                           content_type="application/octet-stream")
        kwargs["data"] = form
    elif body is not None:
        kwargs["json"] = body
    async with http.request(method, url, headers={"Authorization": f"Bot {fake.token}"},
                            **kwargs) as response:
        text = await response.text()
        return response.status, (json.loads(text) if text else None)


def errors_at(answer: Any, *path: str | int) -> list[str]:
    """The error codes Discord put at ``path`` of an Invalid Form Body answer."""
    node = answer["errors"]
    for part in path:
        node = node[str(part)]
    return [e["code"] for e in node["_errors"]]


async def post(http, fake, body, **kw) -> tuple[int, Any]:
    return await send(http, fake, "POST", f"/channels/{CHANNEL_ID}/messages", body, **kw)


async def put_commands(http, fake, commands, guild: int | None = None) -> tuple[int, Any]:
    where = f"/guilds/{guild}" if guild else ""
    return await send(http, fake, "PUT", f"/applications/{APP}{where}/commands", commands)


def command(name: str = "rejected", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "Log an ask that got a no", "type": 1, **extra}


def option(name: str, kind: int = 3, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "name": name, "description": "What you asked for", **extra}


def row(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(items)}


def button(custom_id: str | None = "wn:cheer:1", label: str = "Cheer", **extra: Any) -> dict[str, Any]:
    out = {"type": 2, "style": 2, "label": label, **extra}
    if custom_id is not None:
        out["custom_id"] = custom_id
    return out


# -- the refusal itself -----------------------------------------------------------------------

async def test_a_refusal_is_discords_invalid_form_body_and_on_record(direct, http):
    status, answer = await post(http, direct, {"content": "x" * 2001})
    assert status == 400
    assert answer["code"] == FORM and answer["message"] == "Invalid Form Body"
    assert answer["errors"] == {"content": {"_errors": [
        {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}
    [call] = direct.refusals
    assert (call.status, call.error) == (400, answer)
    assert call.problems == ["content: Must be 2000 or fewer in length."]
    assert direct.messages == {}  # nothing was posted


async def test_discord_py_raises_http_exception_on_a_refusal(bot, fake: FakeDiscord):
    fake.allow_refusals(FORM)
    channel = bot.client.get_partial_messageable(CHANNEL_ID, guild_id=GUILD_ID)
    with pytest.raises(discord.HTTPException) as raised:
        await channel.send("x" * 2001)
    assert (raised.value.status, raised.value.code) == (400, FORM)
    assert "content" in str(raised.value)
    assert (await channel.send("x" * 2000)).content == "x" * 2000


def test_unexpected_refusals_are_what_the_suite_fails_on(fake: FakeDiscord):
    assert fake.unexpected_refusals() == []  # what the conftest checks after every test


async def test_a_refusal_nobody_asked_for_is_reported(fake: FakeDiscord, http):
    await post(http, fake, {"content": ""})
    [call] = fake.unexpected_refusals()
    assert call.error == {"code": EMPTY, "message": "Cannot send an empty message"}
    fake.allow_refusals(EMPTY)  # (so this test itself passes)
    assert fake.unexpected_refusals() == []


# -- application commands ---------------------------------------------------------------------

@pytest.mark.parametrize("name, ok", [
    ("who-next", True), ("check_in2", True), ("día", True), ("日本語", True), ("हिन्दी", True),
    ("Rejected", False), ("who next", False), ("who.next", False), ("", False), ("a" * 33, False),
])
async def test_command_names(direct, http, name, ok):
    status, answer = await put_commands(http, direct, [command(name)])
    assert (status == 200) is ok, answer
    if not ok:
        assert errors_at(answer, 0, "name")


async def test_option_names_follow_the_same_rule(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[option("Ask")])])
    assert status == 400 and errors_at(answer, 0, "options", 0, "name") == [
        "APPLICATION_COMMAND_INVALID_NAME"]


@pytest.mark.parametrize("description, ok", [("x", True), ("x" * 100, True), ("", False),
                                              ("x" * 101, False), (None, False)])
async def test_command_descriptions_are_1_to_100(direct, http, description, ok):
    status, _ = await put_commands(http, direct, [command(description=description)])
    assert (status == 200) is ok


async def test_option_descriptions_are_1_to_100_and_required(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[
        option("ask", description="x" * 101), {"type": 3, "name": "who"}])])
    assert status == 400
    assert errors_at(answer, 0, "options", 0, "description") == ["BASE_TYPE_BAD_LENGTH"]
    assert errors_at(answer, 0, "options", 1, "description") == ["BASE_TYPE_REQUIRED"]
    status, _ = await put_commands(http, direct, [command(options=[option("ask")])])
    assert status == 200


async def test_at_most_25_options(direct, http):
    many = [option(f"o{i}") for i in range(26)]
    status, answer = await put_commands(http, direct, [command(options=many)])
    assert status == 400 and errors_at(answer, 0, "options") == ["BASE_TYPE_MAX_LENGTH"]
    assert (await put_commands(http, direct, [command(options=many[:25])]))[0] == 200


async def test_at_most_25_choices_named_1_to_100(direct, http):
    choices = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]
    status, answer = await put_commands(http, direct, [command(options=[
        option("area", choices=choices)])])
    assert status == 400 and errors_at(answer, 0, "options", 0, "choices")
    for bad in ("", "x" * 101):
        status, answer = await put_commands(http, direct, [command(options=[
            option("area", choices=[{"name": bad, "value": "v"}])])])
        assert errors_at(answer, 0, "options", 0, "choices", 0, "name")
    status, _ = await put_commands(http, direct, [command(options=[
        option("area", choices=choices[:25] + [])])])
    assert status == 200


async def test_a_choice_value_has_the_options_type(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[
        option("fear", 4, choices=[{"name": "low", "value": "1"}])])])
    assert status == 400 and errors_at(answer, 0, "options", 0, "choices", 0, "value")
    status, _ = await put_commands(http, direct, [command(options=[
        option("fear", 4, choices=[{"name": "low", "value": 1}])])])
    assert status == 200


@pytest.mark.parametrize("kind, ok", [(3, True), (11, True), (0, False), (12, False), ("3", False)])
async def test_option_types_are_discords(direct, http, kind, ok):
    status, _ = await put_commands(http, direct, [command(options=[option("ask", kind)])])
    assert (status == 200) is ok


async def test_an_option_takes_only_its_types_fields(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[
        option("private", 5, max_length=10)])])
    assert status == 400 and errors_at(answer, 0, "options", 0, "max_length") == ["UNKNOWN_FIELD"]


async def test_required_options_come_first(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[
        option("who", required=False), option("ask", required=True)])])
    assert status == 400 and errors_at(answer, 0, "options", 1, "required") == [
        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"]
    status, _ = await put_commands(http, direct, [command(options=[
        option("ask", required=True), option("who", required=False)])])
    assert status == 200


async def test_option_names_are_unique(direct, http):
    status, answer = await put_commands(http, direct, [command(options=[option("ask"), option("ask")])])
    assert status == 400 and errors_at(answer, 0, "options", 1, "name")


async def test_subcommands_nest_as_discord_allows(direct, http):
    sub = option("set", 1, options=[option("time", required=True)])
    status, _ = await put_commands(http, direct, [command("checkin", options=[
        option("times", 2, options=[sub])])])
    assert status == 200
    status, answer = await put_commands(http, direct, [command("checkin", options=[
        sub, option("zone")])])  # a subcommand beside a plain option
    assert status == 400 and errors_at(answer, 0, "options")


async def test_autocomplete_and_choices_exclude_each_other(direct, http):
    status, _ = await put_commands(http, direct, [command(options=[
        option("zone", autocomplete=True, choices=[{"name": "UTC", "value": "UTC"}])])])
    assert status == 400


async def test_at_most_100_chat_commands_with_unique_names(direct, http):
    status, answer = await put_commands(http, direct, [command(f"c{i}") for i in range(101)])
    assert status == 400 and "APPLICATION_COMMANDS_TOO_MANY" in json.dumps(answer)
    assert (await put_commands(http, direct, [command(f"c{i}") for i in range(100)]))[0] == 200
    status, answer = await put_commands(http, direct, [command("a"), command("a")])
    assert status == 400 and errors_at(answer, 1, "name") == ["APPLICATION_COMMANDS_DUPLICATE_NAME"]


async def test_a_command_is_at_most_8000_characters_all_told(direct, http):
    choices = [{"name": "x" * 100, "value": "y" * 100} for _ in range(25)]
    opts = [option(f"o{i}", choices=choices, description="d" * 100) for i in range(2)]
    status, answer = await put_commands(http, direct, [command(options=opts)])
    assert status == 400 and errors_at(answer, 0) == ["APPLICATION_COMMAND_TOO_LARGE"]
    status, _ = await put_commands(http, direct, [command(options=opts[:1])])
    assert status == 200


async def test_unknown_command_fields_are_refused(direct, http):
    status, answer = await put_commands(http, direct, [command(descripton="typo")])
    assert status == 400 and errors_at(answer, 0, "descripton") == ["UNKNOWN_FIELD"]


@pytest.mark.parametrize("perms, ok", [("32", True), (32, True), (None, True), ("admins", False)])
async def test_permissions_as_a_string_or_an_integer(direct, http, perms, ok):
    status, _ = await put_commands(http, direct, [command(default_member_permissions=perms)],
                                   guild=GUILD_ID)
    assert (status == 200) is ok


async def test_what_discord_py_syncs_is_accepted(bot, fake: FakeDiscord):
    (put,) = fake.find("PUT", rf"/applications/{BOT_ID}/commands")
    assert put.status == 200 and not rules.check_commands(put.json)


# -- messages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("size, ok", [(2000, True), (2001, False)])
async def test_content_is_at_most_2000(direct, http, size, ok):
    assert ((await post(http, direct, {"content": "x" * size}))[0] == 200) is ok


async def test_at_most_10_embeds(direct, http):
    status, answer = await post(http, direct, {"embeds": [{"title": "t"}] * 11})
    assert status == 400 and errors_at(answer, "embeds") == ["BASE_TYPE_MAX_LENGTH"]
    assert (await post(http, direct, {"embeds": [{"title": "t"}] * 10}))[0] == 200


@pytest.mark.parametrize("part, value", [
    ("title", "x" * 257), ("description", "x" * 4097),
    ("footer", {"text": "x" * 2049}), ("author", {"name": "x" * 257}),
    ("fields", [{"name": "n", "value": "v"}] * 26),
    ("fields", [{"name": "x" * 257, "value": "v"}]),
    ("fields", [{"name": "n", "value": "x" * 1025}]),
    ("fields", [{"name": "n"}]),
    ("color", 0x1000000),
])
async def test_embed_limits(direct, http, part, value):
    status, answer = await post(http, direct, {"embeds": [{part: value}]})
    assert status == 400 and "embeds" in answer["errors"], answer


async def test_embeds_within_every_limit_are_taken(direct, http):
    embed = {"title": "x" * 256, "description": "x" * 4096,
             "fields": [{"name": "n" * 10, "value": "v" * 40, "inline": True}] * 25,
             "footer": {"text": "f" * 100}, "author": {"name": "a" * 100}}
    assert rules.embed_length(embed) == 256 + 4096 + 25 * 50 + 200 <= 6000
    assert (await post(http, direct, {"embeds": [embed]}))[0] == 200


async def test_embed_totals_are_at_most_6000_across_the_message(direct, http):
    one = {"title": "x" * 256, "description": "x" * 4096, "footer": {"text": "x" * 1649}}
    assert rules.embed_length(one) == 6001
    status, answer = await post(http, direct, {"embeds": [one]})
    assert status == 400 and errors_at(answer, "embeds", 0) == ["BASE_TYPE_MAX_LENGTH"]
    half = {"description": "x" * 3001}
    status, answer = await post(http, direct, {"embeds": [half, half]})
    assert status == 400 and errors_at(answer, "embeds") == ["BASE_TYPE_MAX_LENGTH"]
    assert (await post(http, direct, {"embeds": [{"description": "x" * 3000}] * 2}))[0] == 200


async def test_at_most_5_rows_of_5_buttons(direct, http):
    def rows(count: int, per_row: int) -> list[dict]:
        return [row(*(button(f"b{r}.{i}") for i in range(per_row))) for r in range(count)]
    status, answer = await post(http, direct, {"components": rows(6, 1)})
    assert status == 400 and errors_at(answer, "components") == ["BASE_TYPE_MAX_LENGTH"]
    status, answer = await post(http, direct, {"components": rows(1, 6)})
    assert status == 400 and errors_at(answer, "components", 0, "components")
    assert (await post(http, direct, {"components": rows(5, 5)}))[0] == 200


@pytest.mark.parametrize("item, where", [
    (button(label="x" * 81), "label"), (button("x" * 101), "custom_id"), (button(""), "custom_id"),
    (button(None), "custom_id"), ({"type": 2, "style": 5, "label": "Docs"}, "url"),
    (button(url="https://example.com"), "url"), (button(style=9), "style"),
    (button(label=""), "label"),
])
async def test_button_rules(direct, http, item, where):
    status, answer = await post(http, direct, {"components": [row(item)]})
    assert status == 400 and errors_at(answer, "components", 0, "components", 0, where), answer


async def test_good_buttons_are_taken(direct, http):
    link = {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"}
    items = [button("a", "x" * 80), button("b" * 100), link]
    assert (await post(http, direct, {"components": [row(*items)]}))[0] == 200


async def test_custom_ids_are_unique_in_a_message(direct, http):
    status, answer = await post(http, direct, {"components": [row(button("same")),
                                                              row(button("same"))]})
    assert status == 400 and errors_at(answer, "components", 1, "components", 0, "custom_id") == [
        "COMPONENT_CUSTOM_ID_DUPLICATED"]


@pytest.mark.parametrize("mentions, ok", [
    ({"parse": []}, True), ({"parse": ["users", "roles", "everyone"]}, True),
    ({"users": [str(ANA)] * 1}, True), ({"users": [ANA]}, True),
    ({"users": [str(ANA + i) for i in range(100)]}, True),
    ({"users": [str(ANA + i) for i in range(101)]}, False),
    ({"roles": [str(GUILD_ID + i) for i in range(101)]}, False),
    ({"parse": ["here"]}, False),
    ({"parse": ["users"], "users": [str(ANA)]}, False),
    ({"parse": ["roles"], "roles": [str(GUILD_ID)]}, False),
    ({"parse": ["users"], "roles": [str(GUILD_ID)]}, True),
    ({"users": ["ana"]}, False),
])
async def test_allowed_mentions(direct, http, mentions, ok):
    status, answer = await post(http, direct, {"content": "hi", "allowed_mentions": mentions})
    assert (status == 200) is ok, answer


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "   "}, {"content": None},
                                  {"embeds": [], "components": []}])
async def test_a_message_must_show_something(direct, http, body):
    status, answer = await post(http, direct, body)
    assert (status, answer) == (400, {"code": EMPTY, "message": "Cannot send an empty message"})


@pytest.mark.parametrize("body, files", [({"content": "\u200b"}, 0), ({"embeds": [{"title": "t"}]}, 0),
                                         ({"components": [row(button())]}, 0), ({}, 1)])
async def test_any_part_is_enough(direct, http, body, files):
    assert (await post(http, direct, body, files=files))[0] == 200


async def test_at_most_10_attachments(direct, http):
    status, answer = await post(http, direct, {"content": "chart"}, files=11)
    assert status == 400 and "files" in answer["errors"]
    listed = {"content": "x", "attachments": [{"id": i} for i in range(11)]}
    assert (await post(http, direct, listed, files=11))[0] == 400
    status, message = await post(http, direct, {"content": "chart", "attachments": [
        {"id": 0, "description": "the week"}]}, files=1)
    assert status == 200 and [a["filename"] for a in message["attachments"]] == ["f0.txt"]


async def test_an_attachment_names_an_uploaded_file(direct, http):
    status, answer = await post(http, direct, {"content": "x", "attachments": [{"id": 3}]}, files=1)
    assert status == 400 and errors_at(answer, "attachments", 0, "id")


async def test_multipart_payload_json_is_checked_too(direct, http):
    status, answer = await post(http, direct, {"content": "x" * 2001}, files=1)
    assert status == 400 and errors_at(answer, "content")


async def test_unknown_message_fields_are_refused(direct, http):
    status, answer = await post(http, direct, {"content": "x", "embed": {"title": "old"}})
    assert status == 400 and errors_at(answer, "embed") == ["UNKNOWN_FIELD"]
    status, answer = await post(http, direct, {"embeds": [{"titel": "x"}]})
    assert errors_at(answer, "embeds", 0, "titel") == ["UNKNOWN_FIELD"]


async def test_field_types_are_checked(direct, http):
    status, answer = await post(http, direct, {"content": 5, "tts": "no",
                                               "embeds": [{"title": ["t"]}]})
    assert status == 400
    assert set(answer["errors"]) == {"content", "tts", "embeds"}


async def test_only_interaction_messages_may_be_ephemeral(direct, http):
    status, answer = await post(http, direct, {"content": "x", "flags": EPHEMERAL})
    assert status == 400 and errors_at(answer, "flags")
    assert (await post(http, direct, {"content": "x", "flags": 4096}))[0] == 200


async def test_a_nonce_with_enforce_nonce_posts_once(direct, http):
    body = {"content": "check-in", "nonce": "123", "enforce_nonce": True}
    (_, first), (_, second) = await post(http, direct, body), await post(http, direct, body)
    assert first["id"] == second["id"] and len(direct.messages) == 1
    assert first["nonce"] == "123" == second["nonce"]


@pytest.mark.parametrize("nonce, ok", [
    ("x" * 25, True), ("x" * 26, False), (12345678901234567890 // 10, True), ("", True),
    (2**63, False), (1.5, False), (True, False), ([1], False), ({"n": 1}, False)])
async def test_a_nonce_is_an_integer_or_a_string_of_at_most_25(direct, http, nonce, ok):
    status, answer = await post(http, direct, {"content": "x", "nonce": nonce})
    if ok:
        assert status == 200 and answer["nonce"] == nonce  # echoed in the message
    else:
        assert status == 400 and answer["code"] == FORM and errors_at(answer, "nonce")


async def test_enforce_nonce_is_a_boolean(direct, http):
    status, answer = await post(http, direct, {"content": "x", "nonce": "1", "enforce_nonce": "yes"})
    assert status == 400 and errors_at(answer, "enforce_nonce") == ["BOOLEAN_TYPE_CONVERT"]


async def test_an_enforced_nonce_is_the_senders_across_channels_for_the_window(direct, http):
    """Discord dedupes "for the same sender within a few minutes": not per channel."""
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    direct.clock = lambda: now
    body = {"content": "check-in", "nonce": "k1", "enforce_nonce": True}
    _, first = await post(http, direct, body)
    elsewhere = CHANNEL_ID + 5
    status, again = await send(http, direct, "POST", f"/channels/{elsewhere}/messages", body)
    assert status == 200 and again["id"] == first["id"] and again["channel_id"] == str(CHANNEL_ID)
    assert direct.channel_view(elsewhere) == []
    now += direct.nonce_window - timedelta(seconds=1)
    assert (await post(http, direct, body))[1]["id"] == first["id"]
    now += timedelta(seconds=1)  # the window is over: a new message
    _, later = await post(http, direct, body)
    assert later["id"] != first["id"] and direct.channel_view(CHANNEL_ID) == ["check-in"] * 2


async def test_the_nonce_window_can_be_set(fake: FakeDiscord, http):
    assert fake.nonce_window == timedelta(minutes=5)
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    fake.clock = lambda: now
    fake.nonce_window = timedelta(seconds=10)
    body = {"content": "x", "nonce": "k", "enforce_nonce": True}
    _, first = await post(http, fake, body)
    now += timedelta(seconds=10)
    assert (await post(http, fake, body))[1]["id"] != first["id"]


async def test_a_nonce_dedupes_only_when_enforced_and_only_the_same_value(direct, http):
    for body in ({"content": "x", "nonce": "7"}, {"content": "x", "nonce": "7"},
                 {"content": "x", "nonce": "8", "enforce_nonce": True},
                 {"content": "x", "nonce": 8, "enforce_nonce": True}):  # 8 is not "8"
        await post(http, direct, body)
    assert len(direct.messages) == 4


async def test_a_repeat_of_a_deleted_messages_nonce_is_unknown_message(direct, http):
    """What Discord answers (discord/discord-api-docs#6647): the first copy went out and was
    deleted; the repeat doesn't bring it back."""
    body = {"content": "x", "nonce": "k", "enforce_nonce": True}
    _, first = await post(http, direct, body)
    await send(http, direct, "DELETE", f"/channels/{CHANNEL_ID}/messages/{first['id']}")
    status, answer = await post(http, direct, body)
    assert (status, answer["code"]) == (404, 10008) and direct.messages == {}


async def test_channels_and_dms_refuse_like_discord(direct, http):
    direct.allow_refusals(50013, 50001, 10003, 50007)
    gone, hidden, muted = CHANNEL_ID + 1, CHANNEL_ID + 2, CHANNEL_ID + 3
    direct.delete_channel(gone)
    direct.deny(hidden, code=50001)
    direct.deny(muted)
    for channel, expected in ((gone, (404, 10003)), (hidden, (403, 50001)), (muted, (403, 50013))):
        status, answer = await send(http, direct, "POST", f"/channels/{channel}/messages",
                                    {"content": "x"})
        assert (status, answer["code"]) == expected
    direct.close_dms(ANA)
    status, dm = await send(http, direct, "POST", "/users/@me/channels", {"recipient_id": ANA})
    assert status == 200  # opening the DM still works
    status, answer = await send(http, direct, "POST", f"/channels/{dm['id']}/messages",
                                {"content": "x"})
    assert (status, answer["code"]) == (403, 50007) and direct.messages == {}


# -- faults on demand -------------------------------------------------------------------------

async def test_drop_after_makes_the_message_and_never_answers(fake: FakeDiscord, http):
    fake.drop_after("POST", r"/channels/\d+/messages")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await post(http, fake, {"content": "made"})
    (call,) = fake.calls
    assert call.dropped and call.handled and fake.channel_view(CHANNEL_ID) == ["made"]
    assert (await post(http, fake, {"content": "next"}))[0] == 200  # once only


async def test_fail_after_makes_the_message_and_answers_the_error(fake: FakeDiscord, http):
    fake.fail_after("POST", r"/channels/\d+/messages", 502)
    status, _ = await post(http, fake, {"content": "made"})
    assert status == 502 and fake.channel_view(CHANNEL_ID) == ["made"]


async def test_fail_next_answers_instead_of_handling(fake: FakeDiscord, http):
    fake.fail_next("POST", r"/channels/\d+/messages", 500)
    assert (await post(http, fake, {"content": "lost"}))[0] == 500
    assert fake.channel_view(CHANNEL_ID) == []


@pytest.mark.parametrize("handle_first", [True, False])
async def test_delay_next_answers_late(fake: FakeDiscord, http, handle_first):
    fake.delay_next("POST", r"/channels/\d+/messages", 0.3, handle_first=handle_first)
    answer = asyncio.create_task(post(http, fake, {"content": "late"}))
    await fake.wait_for("POST", r"/channels/\d+/messages")
    await asyncio.sleep(0.1)  # the fake is holding the request (handled, or not yet)
    assert not answer.done()
    assert fake.channel_view(CHANNEL_ID) == (["late"] if handle_first else [])
    assert (await answer)[0] == 200 and fake.channel_view(CHANNEL_ID) == ["late"]


async def test_rate_limits_look_like_discords(fake: FakeDiscord, http):
    path = r"/channels/\d+/messages"
    fake.rate_limit_next("POST", path, retry_after=1.5)
    fake.rate_limit_next("POST", path, retry_after=2, via=False)
    url = fake.api_url + f"/channels/{CHANNEL_ID}/messages"
    async with http.post(url, json={"content": "x"}) as limited:
        assert limited.status == 429 and limited.headers["Retry-After"] == "2"
        assert limited.headers["Via"] and limited.headers["X-RateLimit-Scope"] == "user"
        assert (await limited.json())["retry_after"] == 1.5
    async with http.post(url, json={"content": "x"}) as banned:
        assert banned.status == 429 and "Via" not in banned.headers
        assert banned.headers["Retry-After"] == "2" and "1015" in await banned.text()
    assert fake.channel_view(CHANNEL_ID) == []


async def test_opening_a_dm(direct, http):
    for recipient in (ANA, str(ANA)):  # discord.py sends an integer
        status, _ = await send(http, direct, "POST", "/users/@me/channels", {"recipient_id": recipient})
        assert status == 200
    for bad in ({}, {"recipient_id": "ana"}, {"recipient_id": ANA, "user": ANA}):
        status, _ = await send(http, direct, "POST", "/users/@me/channels", bad)
        assert status == 400


async def test_editing_a_channel_message(direct, http):
    _, message = await post(http, direct, {"content": "before"})
    path = f"/channels/{CHANNEL_ID}/messages/{message['id']}"
    status, _ = await send(http, direct, "PATCH", path, {"content": "x" * 2001})
    assert status == 400
    status, edited = await send(http, direct, "PATCH", path, {"content": "after"})
    assert status == 200 and edited["content"] == "after"
    assert direct.channel_view(CHANNEL_ID) == ["after"]
    status, _ = await send(http, direct, "PATCH", path, {"content": ""})
    assert status == 400  # edited into nothing
    status, _ = await send(http, direct, "PATCH", f"/channels/{CHANNEL_ID}/messages/1", {"content": "x"})
    assert status == 404


# -- interaction responses --------------------------------------------------------------------

def a_command(fake: FakeDiscord, name: str = "rejected", *, user_id: int = ANA,
              user_name: str = "ana", created_at: datetime | None = None,
              subcommand: str | None = None) -> dict:
    """A command interaction built by hand (no synced command needed)."""
    options = [{"type": 1, "name": subcommand, "options": []}] if subcommand else [
        {"type": 3, "name": "ask", "value": "asked for a raise"}]
    return fake.interaction(2, {"id": "1", "name": name, "type": 1, "options": options},
                            user_id=user_id, name=user_name, created_at=created_at)


def a_press(fake: FakeDiscord, message: dict, *, created_at: datetime | None = None) -> dict:
    return fake.press(message, buttons(message)[0]["custom_id"], user_id=BEN, user_name="ben",
                      created_at=created_at)


async def respond(http, fake, payload: dict, body: Any, **kw) -> tuple[int, Any]:
    return await send(http, fake, "POST",
                      f"/interactions/{payload['id']}/{payload['token']}/callback", body, **kw)


async def followup(http, fake, payload: dict, body: Any) -> tuple[int, Any]:
    return await send(http, fake, "POST", f"/webhooks/{APP}/{payload['token']}", body)


async def original(http, fake, payload: dict, method: str, body: Any = None) -> tuple[int, Any]:
    return await send(http, fake, method, f"/webhooks/{APP}/{payload['token']}/messages/@original",
                      body)


async def a_message_with_a_button(http, fake) -> dict:
    _, message = await post(http, fake, {"content": "Ana got a no", "components": [row(button())]})
    return fake.messages[message["id"]]


@pytest.mark.parametrize("kind, ok", [(4, True), (5, True), (6, False), (7, False), (8, False),
                                      (1, False), (3, False)])
async def test_callback_types_for_a_command(direct, http, kind, ok):
    data = {"content": "hi"} if kind in (4, 7) else {"choices": []} if kind == 8 else None
    body = {"type": kind, **({"data": data} if data else {})}
    status, answer = await respond(http, direct, a_command(direct), body)
    assert (status == 200) is ok, answer
    if not ok:
        assert errors_at(answer, "type") == ["INTERACTION_CALLBACK_TYPE_INVALID"]


@pytest.mark.parametrize("kind, data", [(4, {"content": "hi"}), (5, None), (6, None),
                                        (7, {"content": "edited"})])
async def test_callback_types_for_a_button(direct, http, kind, data):
    payload = a_press(direct, await a_message_with_a_button(http, direct))
    body = {"type": kind, **({"data": data} if data else {})}
    assert (await respond(http, direct, payload, body))[0] == 200


async def test_only_autocomplete_takes_choices(direct, http):
    payload = direct.interaction(4, {"id": "1", "name": "timezone", "type": 1, "options": [
        {"name": "zone", "type": 3, "value": "ber", "focused": True}]}, user_id=ANA, name="ana")
    status, _ = await respond(http, direct, payload, {"type": 4, "data": {"content": "hi"}})
    assert status == 400
    many = [{"name": f"z{i}", "value": f"z{i}"} for i in range(26)]
    status, answer = await respond(http, direct, payload, {"type": 8, "data": {"choices": many}})
    assert status == 400 and errors_at(answer, "data", "choices")
    status, _ = await respond(http, direct, payload, {"type": 8, "data": {"choices": many[:25]}})
    assert status == 204


async def test_modals(direct, http):
    modal = {"custom_id": "wn:goal", "title": "Your goal", "components": [row(
        {"type": 4, "custom_id": "goal", "style": 1, "label": "Goal"})]}
    status, answer = await respond(http, direct, a_command(direct), {
        "type": 9, "data": {**modal, "title": "x" * 46}})
    assert status == 400 and errors_at(answer, "data", "title")
    submitted = direct.interaction(5, {"custom_id": "wn:goal", "components": []},
                                   user_id=ANA, name="ana")
    status, answer = await respond(http, direct, submitted, {"type": 9, "data": modal})
    assert status == 400 and errors_at(answer, "type")  # a modal can't answer a modal
    assert (await respond(http, direct, a_command(direct), {"type": 9, "data": modal}))[0] == 200



@pytest.mark.parametrize("rows, at", [
    ([], ("data", "components")),  # at least one input
    ([row({"type": 4, "custom_id": f"f{i}", "style": 1, "label": "L"}) for i in range(6)],
     ("data", "components")),  # at most five
    ([row({"type": 4, "custom_id": "f", "style": 1, "label": "x" * 46})],
     ("data", "components", 0, "components", 0, "label")),  # labels are at most 45
    ([row({"type": 4, "custom_id": "f", "style": 1})],
     ("data", "components", 0, "components", 0, "label")),  # and required
    ([row({"type": 4, "style": 1, "label": "L"})],
     ("data", "components", 0, "components", 0, "custom_id")),
    ([row({"type": 4, "custom_id": "f", "style": 3, "label": "L"})],
     ("data", "components", 0, "components", 0, "style")),
    ([row({"type": 2, "custom_id": "f", "style": 1, "label": "L"})],
     ("data", "components", 0, "components", 0, "type")),  # text inputs only
    ([row({"type": 4, "custom_id": "a", "style": 1, "label": "A"},
          {"type": 4, "custom_id": "b", "style": 1, "label": "B"})],
     ("data", "components", 0, "components")),  # one per row
    ([{"type": 4, "custom_id": "f", "style": 1, "label": "L"}],
     ("data", "components", 0, "type")),  # inside an action row
])
async def test_a_modal_is_one_to_five_rows_of_one_labelled_text_input(direct, http, rows, at):
    body = {"type": 9, "data": {"custom_id": "wn:form", "title": "Form", "components": rows}}
    status, answer = await respond(http, direct, a_command(direct), body)
    assert status == 400 and errors_at(answer, *at), answer


async def test_callback_data_is_a_message(direct, http):
    status, answer = await respond(http, direct, a_command(direct), {
        "type": 4, "data": {"content": "x" * 2001, "embeds": [{"title": "x" * 257}]}})
    assert status == 400
    assert errors_at(answer, "data", "content") and errors_at(answer, "data", "embeds", 0, "title")
    status, answer = await respond(http, direct, a_command(direct), {"type": 4, "data": {}})
    assert (status, answer["code"]) == (400, EMPTY)


async def test_a_refused_callback_does_not_acknowledge(direct, http):
    payload = a_command(direct)
    assert (await respond(http, direct, payload, {"type": 4, "data": {"content": ""}}))[0] == 400
    assert (await respond(http, direct, payload, {"type": 4, "data": {"content": "ok"}}))[0] == 200


# -- Discord's clock ----------------------------------------------------------------------------

async def test_the_first_response_is_due_within_3_seconds(direct, http):
    late = a_command(direct, created_at=datetime.now(UTC) - timedelta(seconds=3.5))
    status, answer = await respond(http, direct, late, {"type": 5})
    assert (status, answer) == (404, {"code": 10062, "message": "Unknown interaction"})
    recent = a_command(direct, created_at=datetime.now(UTC) - timedelta(seconds=2))
    assert (await respond(http, direct, recent, {"type": 5}))[0] == 200


async def test_a_late_button_press_too(direct, http):
    message = await a_message_with_a_button(http, direct)
    late = a_press(direct, message, created_at=datetime.now(UTC) - timedelta(seconds=10))
    assert (await respond(http, direct, late, {"type": 6}))[0] == 404


async def test_an_interaction_is_answered_once(direct, http):
    payload = a_command(direct)
    assert (await respond(http, direct, payload, {"type": 5}))[0] == 200
    status, answer = await respond(http, direct, payload, {"type": 4, "data": {"content": "hi"}})
    assert (status, answer["code"]) == (400, 40060)
    assert answer["message"] == "Interaction has already been acknowledged"


async def test_an_unknown_interaction_or_token(direct, http):
    payload = a_command(direct)
    wrong = {**payload, "token": "itoken-forged"}
    assert (await respond(http, direct, wrong, {"type": 5}))[0] == 404


async def test_followups_and_original_only_after_the_first_response(direct, http):
    payload = a_command(direct)
    assert (await followup(http, direct, payload, {"content": "more"}))[0] == 404
    assert (await original(http, direct, payload, "PATCH", {"content": "x"}))[0] == 404
    await respond(http, direct, payload, {"type": 5})
    status, message = await followup(http, direct, payload, {"content": "more", "flags": EPHEMERAL})
    assert status == 200 and message["flags"] == EPHEMERAL
    assert message["interaction_metadata"]["original_response_message_id"] == direct.original(
        payload["token"])["id"]
    status, edited = await original(http, direct, payload, "PATCH", {"content": "done"})
    assert status == 200 and edited["content"] == "done" and not edited["flags"] & 128
    assert (await original(http, direct, payload, "GET"))[1]["content"] == "done"


async def test_followup_and_original_bodies_are_checked(direct, http):
    payload = a_command(direct)
    await respond(http, direct, payload, {"type": 4, "data": {"content": "hi"}})
    assert (await followup(http, direct, payload, {"content": "x" * 2001}))[0] == 400
    assert (await followup(http, direct, payload, {}))[0] == 400
    status, answer = await original(http, direct, payload, "PATCH", {"embeds": [{"title": "x" * 257}]})
    assert status == 400 and errors_at(answer, "embeds", 0, "title")
    status, _ = await original(http, direct, payload, "PATCH", {"content": None})
    assert status == 400  # edited into an empty message
    status, _ = await original(http, direct, payload, "PATCH", {"content": "x", "flags": EPHEMERAL})
    assert status == 400  # visibility is set by the first response, not by an edit


async def test_the_token_lasts_15_minutes(direct, http):
    payload = a_command(direct)
    await respond(http, direct, payload, {"type": 5})
    created = direct.interactions[payload["token"]].created_at
    direct.clock = lambda: created + timedelta(minutes=14, seconds=59)
    assert (await original(http, direct, payload, "PATCH", {"content": "in time"}))[0] == 200
    direct.clock = lambda: created + timedelta(minutes=15, seconds=1)
    status, answer = await followup(http, direct, payload, {"content": "too late"})
    assert (status, answer["code"]) == (401, 50027)
    assert (await original(http, direct, payload, "PATCH", {"content": "x"}))[0] == 401


async def test_deleting_the_original(direct, http):
    payload = a_command(direct)
    await respond(http, direct, payload, {"type": 4, "data": {"content": "hi"}})
    assert (await original(http, direct, payload, "DELETE"))[0] == 204
    assert direct.channel_view(CHANNEL_ID) == []
    assert (await original(http, direct, payload, "GET"))[0] == 404


# -- what a channel shows -----------------------------------------------------------------------

async def test_a_public_command_answer_shows_who_used_which_command(direct, http):
    payload = a_command(direct, "remind", subcommand="set")
    _, answer = await respond(http, direct, payload, {"type": 4, "data": {
        "content": "Reminders on", "embeds": [{"title": "T", "description": "D", "fields": [
            {"name": "N", "value": "V"}], "footer": {"text": "F"}}],
        "components": [row(button())]}})
    message = answer["resource"]["message"]
    meta = message["interaction_metadata"]
    assert (meta["id"], meta["type"], meta["name"], meta["user"]["id"]) == (
        payload["id"], 2, "remind set", str(ANA))
    assert direct.channel_view(CHANNEL_ID) == ["ana used /remind set", "Reminders on", "T", "D",
                                               "N", "V", "F", "Cheer"]
    assert "asked for a raise" not in str(direct.channel_view(CHANNEL_ID))  # the options


async def test_ephemeral_answers_are_seen_by_their_member_only(direct, http):
    mine = a_command(direct, "help")
    await respond(http, direct, mine, {"type": 4, "data": {"content": "Just for you",
                                                            "flags": EPHEMERAL}})
    await post(http, direct, {"content": "For everyone"})
    assert direct.channel_view(CHANNEL_ID) == ["For everyone"]
    assert direct.seen_by(ANA, CHANNEL_ID) == ["ana used /help", "Just for you", "For everyone"]
    assert direct.seen_by(BEN, CHANNEL_ID) == ["For everyone"]


async def test_thinking_then_the_edit_replaces_it(direct, http):
    payload = a_command(direct)
    await respond(http, direct, payload, {"type": 5})
    assert direct.channel_view(CHANNEL_ID) == ["ana used /rejected", "Who's Next is thinking…"]
    await original(http, direct, payload, "PATCH", {"content": "Ana got a no"})
    assert direct.channel_view(CHANNEL_ID) == ["ana used /rejected", "Ana got a no"]


async def test_a_button_update_changes_the_message_in_place(direct, http):
    message = await a_message_with_a_button(http, direct)
    payload = a_press(direct, message)
    await respond(http, direct, payload, {"type": 7, "data": {"components": [
        row(button(label="Cheer · 1"))]}})
    assert direct.channel_view(CHANNEL_ID) == ["Ana got a no", "Cheer · 1"]
    assert buttons(direct.messages[message["id"]])[0]["label"] == "Cheer · 1"


async def test_attachments_show_by_name(direct, http):
    await post(http, direct, {"embeds": [{"title": "Weekly recap"}],
                              "attachments": [{"id": 0, "filename": "week.png"}]}, files=1)
    assert direct.channel_view(CHANNEL_ID) == ["Weekly recap", "week.png"]


# -- the real adapter, held to all of it --------------------------------------------------------

def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_a_checkin_naming_150_members_stays_within_discords_limits(
        bot, fake: FakeDiscord, repo, app: App, clock):
    clock.set(utc(2026, 11, 25, 7))
    _, call = await run_command(fake, "checkin", {"action": "set", "time": "09:00",
                                                  "days": "daily", "zone": "Europe/Berlin"},
                                user_id=ANA + 500, user_name="admin", admin=True)
    assert "Check-ins are on" in shown(call.json["data"]["embeds"][0]["description"])
    channel = ChannelRef(Platform.DISCORD, str(CHANNEL_ID))
    members = [ANA + i for i in range(150)]
    clock.set(utc(2026, 11, 25, 12))
    for i, user_id in enumerate(members):  # straight through the core: the post is the point
        caller = Caller(MemberRef(Platform.DISCORD, str(user_id)), f"member{i}", COMMUNITY, channel)
        ask = f"asked for thing {i} " + "with a very long story " * 20
        for command_name, options in (("rejected", {"ask": ask[:500]}),
                                      ("who-next", {"ask": ask[:500], "when": "tomorrow"})):
            reply = await app.dispatch(Invocation(command_name, caller, options, f"r{i}{command_name}"))
            assert not reply.private, reply
    report = await Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock).run_due(
        utc(2026, 11, 26, 8))
    assert (report.posted, report.failed) == (1, 0)
    [post] = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")
    assert post.status == 200 and fake.refusals == []
    body = post.json
    assert not rules.check_message(body, "create")
    total = sum(rules.embed_length(e) for e in body["embeds"])
    assert total <= rules.EMBED_TOTAL
    for embed in body["embeds"]:
        assert len(embed.get("fields", [])) <= rules.MAX_FIELDS
        assert len(embed.get("description", "")) <= 4096
    mentions = body["allowed_mentions"]
    assert len(mentions.get("users", [])) <= 100 and len(mentions.get("roles", [])) <= 100
    assert mentions.get("parse") == []
    view = "\n".join(fake.channel_view(CHANNEL_ID))
    assert "Check-in" in view and "150" in view


async def test_a_late_interaction_is_not_run(bot, fake: FakeDiscord, repo, caplog):
    """Past 3 s Discord refuses any answer and tells the member the app didn't respond; the
    bot neither answers nor runs it, so the ask they send again counts once."""
    late = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA,
                        created_at=datetime.now(UTC) - timedelta(seconds=4))
    await fake.push(late)
    # A timely command after it is answered (and by then the late one has been dropped).
    _, answered = await run_command(fake, "help", user_id=BEN, user_name="ben")
    assert answered.status == 200
    assert fake.find("POST", rf"/interactions/{late['id']}/[^/]+/callback") == []
    assert fake.refusals == []
    community, member = CommunityRef(Platform.DISCORD, str(GUILD_ID)), MemberRef(Platform.DISCORD,
                                                                                 str(ANA))
    assert (await repo.totals(community, member)).attempts == 0
    assert "too late to answer" in caplog.text


async def test_a_public_private_rejected_shows_who_and_the_celebration_only(bot, fake: FakeDiscord):
    payload, call = await run_command(fake, "rejected", {"ask": "asked my crush out",
                                                         "private": True})
    assert call.status == 200 and not call.json["data"].get("flags", 0) & EPHEMERAL
    view = fake.channel_view(CHANNEL_ID)
    assert view[0] == "ana used /rejected"
    assert any("got a no" in line for line in view), view
    assert "Cheer" in view
    assert not any("crush" in line for line in view)
    assert not any("crush" in line for line in fake.seen_by(BEN, CHANNEL_ID))
    assert posted(fake, payload)["interaction_metadata"]["name"] == "rejected"


async def test_a_private_answer_through_the_real_adapter_is_seen_by_its_member(bot, fake):
    await run_command(fake, "help")
    assert fake.channel_view(CHANNEL_ID) == []
    seen = fake.seen_by(ANA, CHANNEL_ID)
    assert seen[0] == "ana used /help" and "/rejected" in "\n".join(seen)
    assert fake.seen_by(BEN, CHANNEL_ID) == []


async def test_a_long_list_of_open_asks_keeps_to_five_rows_of_unique_buttons(bot, fake):
    for i in range(7):
        await run_command(fake, "who-next", {"ask": f"ask number {i}", "when": "tomorrow"})
    payload, call = await run_command(fake, "asks")
    assert call.status == 200
    message = posted(fake, payload)
    assert len(message["components"]) == 5
    ids = [b["custom_id"] for b in buttons(message)]
    assert len(ids) == len(set(ids))
    assert fake.channel_view(CHANNEL_ID)[-1] != "ana used /asks"  # private: not in the channel
