"""Login, READY, GUILD_CREATE and command sync against the loopback Discord."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest

from adapters.discord.client import SYNC_KEY, DiscordAdapter
from adapters.discord.settings import DiscordSettings
from bot.commands import CATALOGUE, OptionType
from bot.config import ConfigError
from tests.discord.helpers import ANA, run_command, settings_for
from tests.fakes.discord import BOT_ID, GUILD_ID, FakeDiscord

PRIVILEGED = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
DISCORD_TYPES = {OptionType.TEXT: 3, OptionType.DATE: 3, OptionType.ZONE: 3,
                 OptionType.CHOICE: 3, OptionType.INT: 4, OptionType.BOOL: 5,
                 OptionType.MEMBER: 6, OptionType.CHANNEL: 7}


async def test_logs_in_receives_ready_and_guild_create(bot: DiscordAdapter, fake: FakeDiscord):
    client = bot.client
    assert client is not None and client.is_ready()
    assert client.user is not None and client.user.id == BOT_ID
    assert client.application_id == BOT_ID
    guild = client.get_guild(GUILD_ID)
    assert guild is not None and guild.get_channel(fake.channel_id) is not None
    assert [c.path for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert fake.calls[0].headers["Authorization"] == f"Bot {fake.token}"
    (identify,) = fake.identifies
    assert identify["token"] == fake.token
    assert identify["intents"] & PRIVILEGED == 0
    assert identify["intents"] & 1  # guilds
    assert fake.gateway_queries[0]["v"] == "10" and fake.gateway_queries[0]["encoding"] == "json"


async def test_global_sync_matches_the_catalogue(bot: DiscordAdapter, fake: FakeDiscord):
    (put,) = fake.find("PUT", rf"/applications/{BOT_ID}/commands")
    synced = {c["name"]: c for c in put.json}
    assert list(synced) == [spec.name for spec in CATALOGUE]
    for spec in CATALOGUE:
        command = synced[spec.name]
        assert command["description"] == spec.description[:100]
        assert command["contexts"] == [0] and command["dm_permission"] is False
        expected_perms = discord.Permissions(manage_guild=True).value if spec.admin_only else None
        assert command["default_member_permissions"] == expected_perms, spec.name
        options = {o["name"]: o for o in command["options"]}
        assert set(options) == {o.name for o in spec.options}
        for opt in spec.options:
            got = options[opt.name]
            assert got["type"] == DISCORD_TYPES[opt.type], (spec.name, opt.name)
            assert got["required"] is opt.required
            assert got["description"] == opt.description[:100]
            if opt.type is OptionType.CHOICE:
                assert [c["value"] for c in got["choices"]] == list(opt.choices)
            else:
                assert "choices" not in got
            if opt.type is OptionType.INT:
                assert (got.get("min_value"), got.get("max_value")) == (opt.min_value, opt.max_value)
            if opt.type in (OptionType.TEXT, OptionType.DATE, OptionType.ZONE):
                assert got["max_length"] == opt.max_length
            assert got.get("autocomplete", False) is (opt.type is OptionType.ZONE)
            if opt.type is OptionType.CHANNEL:
                assert set(got["channel_types"]) == {0, 5}  # text and announcement channels
    # Required options come first, as Discord demands.
    for command in put.json:
        flags = [o["required"] for o in command["options"]]
        assert flags == sorted(flags, reverse=True)


async def test_fear_is_a_bounded_integer(bot: DiscordAdapter, fake: FakeDiscord):
    fear = next(o for o in fake.commands[None][0]["options"] if o["name"] == "fear")
    assert (fear["type"], fear["min_value"], fear["max_value"]) == (4, 0, 10)


COMMANDS_PATH = rf"/applications/{BOT_ID}/commands"


async def test_unchanged_catalogue_is_not_synced_again(start_bot, fake: FakeDiscord, repo):
    first = await start_bot()
    assert len(fake.find("PUT", COMMANDS_PATH)) == 1
    stored = await repo.get_value(SYNC_KEY.format(application_id=BOT_ID))
    assert stored is not None
    await first.stop()

    second = await start_bot()
    assert second.client is not None and second.client.is_ready()
    assert len(fake.find("PUT", COMMANDS_PATH)) == 1
    assert await repo.get_value(SYNC_KEY.format(application_id=BOT_ID)) == stored
    assert len(fake.identifies) == 2
    # The commands synced the first time still work.
    _, call = await run_command(fake, "help", user_id=ANA)
    assert call.json["type"] == 4


async def test_a_changed_catalogue_is_synced_once(start_bot, fake: FakeDiscord, repo,
                                                  monkeypatch):
    """The stored hash tells catalogues apart: a changed description means one new sync (with
    the new text), and the next start with that same catalogue syncs nothing."""
    key = SYNC_KEY.format(application_id=BOT_ID)
    await (await start_bot()).stop()
    before = await repo.get_value(key)

    first, *rest = CATALOGUE
    changed = (replace(first, description="Log a no. Every single one counts!"), *rest)
    monkeypatch.setattr("adapters.discord.slash.CATALOGUE", changed)
    await (await start_bot()).stop()
    puts = fake.find("PUT", COMMANDS_PATH)
    assert len(puts) == 2
    assert {c["name"]: c["description"] for c in puts[1].json}[first.name] == \
        "Log a no. Every single one counts!"
    after = await repo.get_value(key)
    assert after is not None and after != before

    await start_bot()
    assert len(fake.find("PUT", COMMANDS_PATH)) == 2
    assert await repo.get_value(key) == after


async def test_a_hash_left_by_another_version_is_synced_over(start_bot, fake: FakeDiscord, repo):
    key = SYNC_KEY.format(application_id=BOT_ID)
    await (await start_bot()).stop()
    current = await repo.get_value(key)
    await repo.set_value(key, "hash of an older catalogue")
    await start_bot()
    assert len(fake.find("PUT", COMMANDS_PATH)) == 2
    assert await repo.get_value(key) == current  # the same catalogue, the same hash


async def test_guild_ids_sync_to_those_servers_only(start_bot, fake: FakeDiscord):
    other = GUILD_ID + 7
    await start_bot(guild_ids=f"{GUILD_ID}, {other}")
    assert not fake.find("PUT", rf"/applications/{BOT_ID}/commands")
    for guild in (GUILD_ID, other):
        (put,) = fake.find("PUT", rf"/applications/{BOT_ID}/guilds/{guild}/commands")
        assert [c["name"] for c in put.json] == [spec.name for spec in CATALOGUE]
    _, call = await run_command(fake, "rejected", {"ask": "asked for a discount"})
    assert call.json["type"] == 4 and call.json["data"]["embeds"]


async def test_a_guild_the_bot_is_not_in_is_logged_not_fatal(start_bot, fake: FakeDiscord, caplog):
    fake.fail_next("PUT", rf"/applications/{BOT_ID}/guilds/\d+/commands", 403, code=50001,
                   message="Missing Access")
    adapter = await start_bot(guild_ids=str(GUILD_ID + 9))
    assert adapter.client is not None and adapter.client.is_ready()
    assert "DISCORD_GUILD_IDS" in caplog.text


async def test_start_and_stop_twice_in_a_row(start_bot, fake: FakeDiscord):
    adapter = await start_bot()
    await adapter.stop()
    await adapter.stop()  # idempotent
    assert adapter.client is None
    await adapter.start()
    assert adapter.client is not None and adapter.client.is_ready()


@pytest.mark.parametrize("token", [None, "", "not a token", "abc.def", "a.b.c", "xoxb-1-2-3"])
def test_missing_or_malformed_token_is_a_clear_error(app, repo, token):
    settings = DiscordSettings(_env_file=None, discord_token=token)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        DiscordAdapter(app, settings, repo)


async def test_a_refused_token_is_a_clear_error(app, repo, fake: FakeDiscord):
    fake.fail_next("GET", "/users/@me", 401, message="401: Unauthorized")
    adapter = DiscordAdapter(app, settings_for(fake), repo, ready_timeout=5)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await adapter.start()
    assert adapter.client is None


async def test_an_unreachable_gateway_is_a_clear_error(app, repo, fake: FakeDiscord):
    settings = settings_for(fake).model_copy(
        update={"discord_gateway_url": f"ws://127.0.0.1:{fake.port}/nowhere"})
    adapter = DiscordAdapter(app, settings, repo, ready_timeout=1)
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        await adapter.start()
    assert adapter.client is None


async def test_an_unreachable_api_is_a_clear_error(app, repo, fake: FakeDiscord):
    settings = settings_for(fake).model_copy(update={"discord_api_url": "http://127.0.0.1:9/api/v10"})
    adapter = DiscordAdapter(app, settings, repo, ready_timeout=1)
    with pytest.raises(ConfigError, match="DISCORD_API_URL"):
        await adapter.start()
    assert adapter.client is None and not fake.calls


async def test_a_failed_global_sync_is_retried_at_the_next_start(start_bot, fake: FakeDiscord, repo):
    fake.fail_next("PUT", rf"/applications/{BOT_ID}/commands", 400, message="bad")
    first = await start_bot()  # logged, not fatal
    assert first.client is not None and first.client.is_ready()
    assert await repo.get_value(SYNC_KEY.format(application_id=BOT_ID)) is None
    await first.stop()
    await (await start_bot()).stop()
    assert [c.status for c in fake.find("PUT", COMMANDS_PATH)] == [400, 200]
    assert await repo.get_value(SYNC_KEY.format(application_id=BOT_ID)) is not None
    # That sync is remembered: the next start syncs nothing.
    await start_bot()
    assert len(fake.find("PUT", COMMANDS_PATH)) == 2


async def test_an_outdated_command_gets_a_friendly_note(bot: DiscordAdapter, fake: FakeDiscord):
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    payload["data"]["name"] = "rejection"  # a command this version no longer has
    await fake.push(payload)
    (call,) = await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    data = call.json["data"]
    assert data["flags"] & 64 and "try again" in data["content"]
