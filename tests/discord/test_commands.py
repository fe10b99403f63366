"""INTERACTION_CREATE for slash commands → the right callback, through the real client."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import discord
import pytest
from discord.utils import time_snowflake

from adapters.discord.client import DiscordAdapter
from bot.app import App
from bot.commands import CATALOGUE, CommandSpec, OptionType
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import Caller, Invocation
from bot.reply import Action, Buttons, Image, Mention, Reply
from storage.sqlite import SqliteRepository
from tests.discord.helpers import ANA, BEN, buttons, first_response, posted, run_command, shown
from tests.fakes.discord import BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord, message_texts, user_payload

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ALWAYS_PRIVATE = {"help", "asks", "undo"}


def sample_options(spec: CommandSpec) -> dict[str, object]:
    """A plausible value for every required option (and the channel one, to cover it)."""
    values: dict[str, object] = {}
    for opt in spec.options:
        if not opt.required and opt.type is not OptionType.CHANNEL:
            continue
        values[opt.name] = {
            OptionType.TEXT: "asked for a raise", OptionType.INT: opt.min_value or 0,
            OptionType.BOOL: False, OptionType.CHOICE: opt.choices[-1] if opt.choices else "",
            OptionType.DATE: "2027-06-30", OptionType.ZONE: "Europe/Berlin",
            OptionType.MEMBER: BEN, OptionType.CHANNEL: CHANNEL_ID + 1,
        }[opt.type]
    return values


def assert_locked(body: dict, users: set[int]) -> None:
    mentions = body["allowed_mentions"]
    assert mentions["parse"] == []  # never @everyone, @here or roles
    assert set(mentions.get("users", [])) <= users
    assert "roles" not in mentions or mentions["roles"] == []


@pytest.fixture
async def twin(tmp_path, clock):
    """The same core on its own fresh database: the oracle for what the bot should answer."""
    repository = await SqliteRepository.open(tmp_path / "twin.db")
    yield App(repository, clock, default_timezone="UTC")
    await repository.close()


def core_options(spec: CommandSpec, values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in values.items():
        kind = spec.option(name).type  # type: ignore[union-attr]
        out[name] = (MemberRef(Platform.DISCORD, str(value)) if kind is OptionType.MEMBER
                     else str(value) if kind is OptionType.CHANNEL else value)
    return out


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def core_words(reply: Reply) -> Counter[str]:
    """The words of the core's own answer (its plain text, buttons and pictures aside): the
    oracle, independent of Discord's rendering."""
    shown = tuple(b for b in reply.blocks if not isinstance(b, (Buttons, Image)))
    return words(replace(reply, blocks=shown).plain_text())


def discord_words(data: dict, reply: Reply) -> Counter[str]:
    """The words a member reads in the bot's message (content, embed; buttons aside), a mention
    chip read as the name the core gave it, and the item numbers Discord adds beside rows of
    buttons left out."""
    names = {s.member.id: s.name for b in reply.blocks for s in getattr(b, "spans", ())
             if isinstance(s, Mention)}
    text = shown("\n".join(message_texts({**data, "components": [], "attachments": []})))
    text = re.sub(r"<@(\d+)>", lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    if len([b for b in reply.blocks if isinstance(b, Buttons)]) > 1:
        text = re.sub(r"\*\*\d+\.\*\* ", "", text)
    return words(text)


@pytest.mark.parametrize("spec", CATALOGUE, ids=[c.name for c in CATALOGUE])
async def test_every_command_gets_the_right_answer(bot: DiscordAdapter, fake: FakeDiscord,
                                                   twin: App, spec: CommandSpec):
    values = sample_options(spec)
    _, call = await run_command(fake, spec.name, values, admin=spec.admin_only)
    caller = Caller(MemberRef(Platform.DISCORD, str(ANA)), "ana", COMMUNITY,
                    ChannelRef(Platform.DISCORD, str(CHANNEL_ID)), is_admin=spec.admin_only)
    expected = await twin.dispatch(Invocation(spec.name, caller, core_options(spec, values), "x"))

    assert call.json["type"] == 4  # answered at once: a message
    data = call.json["data"]
    assert_locked(data, {ANA})
    ephemeral = bool(data.get("flags", 0) & EPHEMERAL)
    assert ephemeral is expected.private
    if ephemeral:
        assert data["content"] and not data.get("embeds")
    else:
        (embed,) = data["embeds"]
        assert embed.get("title") or embed.get("description")
    # The member reads what the core said, word for word.
    assert discord_words(data, expected) == core_words(expected)
    # And gets its buttons, each carrying the core's action (numbered by row when there are
    # several rows, as the text's items are).
    rows = [b for b in expected.blocks if isinstance(b, Buttons)]
    want = [((f"{n} · " if len(rows) > 1 else "") + button.label, button.action)
            for n, row in enumerate(rows, 1) for button in row.buttons]
    assert [(b["label"], Action.decode(b["custom_id"])) for b in buttons(data)] == want
    if spec.name in ALWAYS_PRIVATE or not spec.available:
        assert ephemeral, data


async def test_rejected_celebrates_publicly_with_a_cheer_button(bot, fake: FakeDiscord, repo):
    payload, call = await run_command(fake, "rejected", {
        "ask": "asked for a raise", "who": "my boss", "area": "work", "fear": 7})
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    (embed,) = data["embeds"]
    assert f"<@{ANA}> got a no: **asked for a raise**" in embed["description"]
    assert "1 ask so far" in embed["description"]
    assert data["allowed_mentions"] == {"parse": []}
    (button,) = buttons(data)
    assert button["label"] == "Cheer" and button["custom_id"].startswith("wn:cheer:")
    totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert (totals.attempts, totals.rejected) == (1, 1)
    # Stored under the server and the member's own Discord id, with their display name.
    info = await repo.member(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert info is not None and info.name == "ana"


async def test_member_text_can_never_ping(bot, fake: FakeDiscord):
    sneaky = "@everyone @here <@1500000000000000002> <@&1600000000000000001> **loud** [x](http://e.vil)"
    _, call = await run_command(fake, "rejected", {"ask": sneaky})
    data = call.json["data"]
    assert data["allowed_mentions"] == {"parse": []}
    text = data["embeds"][0]["description"]
    assert "@everyone" not in text and "@here" not in text
    assert f"<@{BEN}>" not in text and "<@&1600000000000000001>" not in text
    assert "**loud**" not in text and "\\*\\*loud\\*\\*" in text
    assert "\\[x\\]\\(http://e.vil\\)" in text  # no masked link


async def test_mentions_typed_into_text_read_as_names(bot, fake: FakeDiscord):
    cat, role, asks, gone = 1500000000000000003, 1600000000000000001, CHANNEL_ID + 1, CHANNEL_ID + 2
    member = fake.member_payload(BEN, "ben", 0)
    member.pop("user")
    resolved = {"users": {str(BEN): user_payload(BEN, "ben")},
                "members": {str(BEN): {**member, "nick": "Benny"}},
                "channels": {str(asks): {**fake.channel_payload(asks, GUILD_ID, "asks"),
                                         "permissions": "0"}}}
    ask = (f"asked <@{BEN}> and <@!{cat}> in <#{asks}> and <#{gone}> "
           f"to ping <@&{role}> <:wave:1700000000000000001>")
    _, call = await run_command(fake, "rejected", {"ask": ask}, resolved=resolved)
    data = call.json["data"]
    text = shown(data["embeds"][0]["description"])
    assert "asked @Benny and @user in #asks and #channel to ping @role :wave:" in text
    assert not any(str(i) in text for i in (BEN, cat, role, asks, gone))
    assert data["allowed_mentions"] == {"parse": []}


async def test_a_private_attempt_keeps_its_text_out_of_the_public_reply(bot, fake: FakeDiscord):
    _, call = await run_command(fake, "rejected", {"ask": "asked my crush out", "private": True})
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    assert "crush" not in str(data)


async def test_bad_input_is_a_private_friendly_error(bot, fake: FakeDiscord, repo):
    # Discord enforces 0–10 in its client, but the core checks again whatever arrives.
    _, call = await run_command(fake, "rejected", {"ask": "asked for a raise", "fear": 11})
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL
    assert "fear" in data["content"] and "0 to 10" in data["content"]
    totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert totals.attempts == 0


async def test_admin_only_commands_are_checked_at_run_time(bot, fake: FakeDiscord):
    spec = next(c for c in CATALOGUE if c.admin_only)
    _, call = await run_command(fake, spec.name, sample_options(spec), admin=False)
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL and "admins" in data["content"]
    _, call = await run_command(fake, spec.name, sample_options(spec), admin=True)
    assert "admins of this community" not in str(call.json["data"])


async def test_who_next_leaderboard_and_stats(bot, fake: FakeDiscord):
    _, call = await run_command(fake, "who-next", {"ask": "ask Sam for an intro", "when": "tomorrow"})
    assert "**ask Sam for an intro**" in call.json["data"]["embeds"][0]["description"]
    assert "tomorrow" in call.json["data"]["embeds"][0]["description"].lower()

    await run_command(fake, "rejected", {"ask": "asked for a table by the window"},
                      user_id=BEN, user_name="ben")
    await run_command(fake, "accepted", {"ask": "asked for a discount"}, user_id=BEN,
                      user_name="ben")
    await run_command(fake, "pending", {"ask": "asked for a reference"})

    _, call = await run_command(fake, "leaderboard", {"period": "all", "by": "attempts"})
    data = call.json["data"]
    (embed,) = data["embeds"]
    assert embed["title"].startswith("Leaderboard")
    board = shown(embed["description"])
    assert f"1. <@{BEN}> · 2" in board and f"2. <@{ANA}> · 1" in board
    # The board shows mention chips and notifies no one.
    assert data["allowed_mentions"] == {"parse": []}

    _, call = await run_command(fake, "stats", {"member": BEN}, resolved_users={BEN: "ben"})
    (embed,) = call.json["data"]["embeds"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Asks"] == "2" and fields["No's"] == "1" and fields["Yeses"] == "1"
    assert "ben" in embed["title"]


async def test_the_same_interaction_twice_is_logged_once(bot, fake: FakeDiscord, repo):
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    await fake.push(payload)
    await fake.push(payload)  # a redelivery: same interaction id
    await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback", count=2)
    totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert (totals.attempts, totals.rejected) == (1, 1)


class SlowApp(App):
    """The real core, held up until the test lets it go (a slow database, say)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.release = asyncio.Event()

    async def dispatch(self, inv: Invocation) -> Reply:
        await self.release.wait()
        return await super().dispatch(inv)


@pytest.fixture
def slow_app(repo, clock) -> SlowApp:
    return SlowApp(repo, clock, default_timezone="UTC")


async def test_a_slow_reply_is_deferred_then_followed_up(start_bot, fake: FakeDiscord,
                                                          slow_app: SlowApp, repo):
    await start_bot(core=slow_app, response_budget=0.05)
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    await fake.push(payload)
    first = await first_response(fake, payload)
    assert first.json["type"] == 5  # deferred: "Who's Next is thinking…", in public
    assert not first.json.get("data", {}).get("flags", 0) & EPHEMERAL
    assert not fake.find("PATCH", rf"/webhooks/{BOT_ID}/[^/]+/messages/@original")

    slow_app.release.set()
    (edit,) = await fake.wait_for("PATCH", rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    (embed,) = edit.json["embeds"]
    assert "asked for a raise" in embed["description"]
    assert edit.json["allowed_mentions"] == {"parse": []}
    assert buttons(edit.json)[0]["custom_id"].startswith("wn:cheer:")
    assert posted(fake, payload)["embeds"] == edit.json["embeds"]
    totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert totals.attempts == 1


async def test_a_slow_private_reply_is_deferred_privately(start_bot, fake: FakeDiscord,
                                                          slow_app: SlowApp):
    await start_bot(core=slow_app, response_budget=0.05)
    payload = fake.command("help", user_id=ANA)
    await fake.push(payload)
    first = await first_response(fake, payload)
    assert first.json["type"] == 5 and first.json["data"]["flags"] & EPHEMERAL
    slow_app.release.set()
    (edit,) = await fake.wait_for("PATCH", rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    assert "/rejected" in edit.json["content"]


async def test_a_slow_error_replaces_a_public_placeholder_with_a_private_note(
        start_bot, fake: FakeDiscord, slow_app: SlowApp):
    await start_bot(core=slow_app, response_budget=0.05)
    payload = fake.command("rejected", {"ask": "asked for a raise", "fear": 42}, user_id=ANA)
    await fake.push(payload)
    first = await first_response(fake, payload)
    assert first.json["type"] == 5 and not first.json.get("data", {}).get("flags", 0) & EPHEMERAL
    slow_app.release.set()
    (followup,) = await fake.wait_for("POST", rf"/webhooks/{BOT_ID}/{payload['token']}")
    assert fake.find("DELETE", rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    assert followup.json["flags"] & EPHEMERAL and "fear" in followup.json["content"]


def created_ago(seconds: float) -> int:
    """An interaction id whose snowflake time is ``seconds`` ago (as if the gateway lagged)."""
    return time_snowflake(discord.utils.utcnow() - timedelta(seconds=seconds))


async def test_the_budget_counts_from_when_discord_created_the_interaction(
        start_bot, fake: FakeDiscord, slow_app: SlowApp):
    # A generous budget, but the interaction is 2 s old when it arrives: only 0.5 s is left
    # of Discord's 3 s (our line is 2.5 s), so a core still busy then is deferred.
    await start_bot(core=slow_app, response_budget=30)
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA,
                           interaction_id=created_ago(2))
    await fake.push(payload)
    first = await first_response(fake, payload)  # well before the 30 s budget
    assert first.json["type"] == 5
    slow_app.release.set()
    (edit,) = await fake.wait_for("PATCH", rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    assert "asked for a raise" in edit.json["embeds"][0]["description"]


async def test_an_interaction_past_the_line_is_deferred_at_once(bot, fake: FakeDiscord):
    payload = fake.command("help", user_id=ANA, interaction_id=created_ago(2.6))
    await fake.push(payload)
    first = await first_response(fake, payload)
    assert first.json["type"] == 5 and first.json["data"]["flags"] & EPHEMERAL
    (edit,) = await fake.wait_for("PATCH", rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    assert "/rejected" in edit.json["content"]
