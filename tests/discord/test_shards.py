"""Discord across shards: the settings that say which shards a process runs, the poster's share
of the REST budget, and, in one process, two adapters running two shards each against a fake
Discord that is sharded as strictly as Discord (each server's events on its shard's session
only, IDENTIFYs spaced per bucket). The same with two real processes on PostgreSQL is
``tests/test_discord_processes.py``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.poster import LIMITS, limits_for
from adapters.discord.settings import DiscordSettings, load_discord_settings
from bot.app import App
from bot.config import ConfigError
from bot.ids import Platform
from bot.ports import PostingLimits
from bot.shards import ShardSpec
from tests.discord.helpers import ANA, first_response, run_command, settings_for
from tests.fakes.discord import BOT_ID, IDENTIFY_TOO_SOON, INVALID_SHARD, FakeDiscord

SHARDS = 4
FAST = timedelta(seconds=0.3)  # the fake's identify interval here (Discord's is 5 s)
BOOKED = timedelta(seconds=0.4)  # and the adapters' booking interval, a margin wider
BASE = 286102294  # 1200000000000000001 >> 22


def guild(n: int) -> int:
    """A server id on shard ``n % 4``."""
    return ((BASE - BASE % SHARDS + n) << 22) + 777


GUILDS = tuple(guild(n) for n in range(8))
CHANNELS = {g: 1300000000000000100 + n for n, g in enumerate(GUILDS)}


# ---------------------------------------------------------------------- settings


def load(**env: str) -> DiscordSettings:
    return load_discord_settings(_env_file=None, **env)


def test_without_shard_settings_the_bot_is_unsharded():
    s = load()
    assert s.shard_ids is None and s.shard_spec is None and s.discord_shard_count is None
    assert load(discord_shard_count="", discord_shard_ids=" ").shard_ids is None


@pytest.mark.parametrize("count, ids, expected", [
    ("4", "0,1", [0, 1]),
    ("4", " 2, 3 ", [2, 3]),
    ("8", "0-3", [0, 1, 2, 3]),
    ("8", "0-1,6", [0, 1, 6]),
    ("4", "", [0, 1, 2, 3]),  # a count alone: this process runs every shard
    ("1", "0", [0]),
])
def test_shard_settings(count, ids, expected):
    s = load(discord_shard_count=count, discord_shard_ids=ids)
    assert s.shard_ids == expected
    assert s.shard_spec == ShardSpec(Platform.DISCORD, int(count), frozenset(expected), 22)


@pytest.mark.parametrize("env, message", [
    ({"discord_shard_ids": "0,1"}, "DISCORD_SHARD_IDS: shard ids need DISCORD_SHARD_COUNT"),
    ({"discord_shard_count": "0"}, "DISCORD_SHARD_COUNT: 0 shards is too few"),
    ({"discord_shard_count": "-2"}, "DISCORD_SHARD_COUNT: “-2” is not a number of shards"),
    ({"discord_shard_count": "four"}, "DISCORD_SHARD_COUNT: “four” is not a number"),
    ({"discord_shard_count": "4", "discord_shard_ids": "2,4"},
     "DISCORD_SHARD_IDS: shard 4 doesn't exist with DISCORD_SHARD_COUNT=4: shard ids go from "
     "0 to 3"),
    ({"discord_shard_count": "4", "discord_shard_ids": "1,1"}, "shard 1 is named twice"),
    ({"discord_shard_count": "4", "discord_shard_ids": "0-1,1"}, "shard 1 is named twice"),
    ({"discord_shard_count": "4", "discord_shard_ids": "one"}, "“one” is not a shard id"),
    ({"discord_shard_count": "4", "discord_shard_ids": "3-1"}, "“3-1” is an empty range"),
    ({"discord_shard_count": "4", "discord_shard_ids": "0-99999999"}, "names more than"),
])
def test_bad_shard_settings_are_one_friendly_sentence(env, message):
    with pytest.raises(ConfigError) as err:
        load(**env)
    assert message in str(err.value)
    assert "Traceback" not in str(err.value)


def test_a_bad_count_is_the_one_problem_reported():
    with pytest.raises(ConfigError) as err:
        load(discord_shard_count="x", discord_shard_ids="7")
    assert err.value.problems == (err.value.problems[0],)
    assert err.value.problems[0].startswith("DISCORD_SHARD_COUNT")


def test_each_process_posts_with_its_share_of_the_rest_budget():
    assert limits_for(1.0) == LIMITS
    half = limits_for(0.5)
    assert half == PostingLimits(concurrency=5, per_second=20.0)
    assert limits_for(1 / 64).concurrency == 1
    # Every process together stays under the one budget of the bot token.
    shares = [limits_for(n / 16) for n in (3, 5, 8)]
    assert sum(s.per_second or 0 for s in shares) == pytest.approx(LIMITS.per_second)


# ---------------------------------------------------------------------- in one process


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A Discord of four shards and two buckets (max_concurrency 2), eight servers, two on
    each shard, each with its own channel; session starts at most one per 0.3 s a bucket."""
    server = FakeDiscord(guild_ids=GUILDS, shard_count=SHARDS, max_concurrency=2,
                         identify_interval=FAST, channels=CHANNELS)
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def sharded(fake: FakeDiscord, app: App, repo) -> AsyncIterator[list[DiscordAdapter]]:
    """Two adapters side by side, as two processes: shards 0,1 and 2,3, started together."""
    adapters = [DiscordAdapter(app, shard_settings(fake, ids), repo, ready_timeout=10,
                               guild_ready_timeout=0.05, identify_interval=BOOKED)
                for ids in ("0,1", "2,3")]
    try:
        await asyncio.gather(*(a.start() for a in adapters))
        yield adapters
    finally:
        for adapter in adapters:
            await adapter.stop()


def shard_settings(fake: FakeDiscord, ids: str) -> DiscordSettings:
    return settings_for(fake).model_copy(update={"discord_shard_count": SHARDS,
                                                 "discord_shard_ids": ids})


def owner(n: int) -> int:
    """Which of the two adapters serves server ``n``."""
    return 0 if n % SHARDS in (0, 1) else 1


async def test_each_server_is_served_by_its_shards_adapter_only(sharded, fake: FakeDiscord):
    sessions = {tuple(i["shard"]) for i in fake.identifies}
    assert sessions == {(s, SHARDS) for s in range(SHARDS)} and len(fake.identifies) == SHARDS
    creates = [(g, session) for event, g, session in fake.dispatched if event == "GUILD_CREATE"]
    assert sorted(g for g, _ in creates) == sorted(map(str, GUILDS))  # each exactly once
    for n, g in enumerate(GUILDS):
        client = sharded[owner(n)].client
        other = sharded[1 - owner(n)].client
        assert client is not None and other is not None
        found = client.get_guild(g)
        assert found is not None and found.shard_id == n % SHARDS
        assert other.get_guild(g) is None
    for adapter in sharded:
        assert await adapter.readiness() is None
        assert adapter.poster.limits == PostingLimits(concurrency=5, per_second=20.0)


async def test_commands_are_answered_once_by_the_shard_of_their_server(sharded,
                                                                         fake: FakeDiscord):
    for n, g in enumerate(GUILDS):
        _, call = await run_command(fake, "help", user_id=ANA, guild_id=g)
        assert call.json["type"] == 4
        (session,) = [s for event, gid, s in fake.dispatched
                      if event == "INTERACTION_CREATE" and gid == str(g)]
        assert fake.session_shards[session] == (n % SHARDS, SHARDS)
    callbacks = fake.find("POST", r"/interactions/\d+/[^/]+/callback")
    assert len(callbacks) == len(GUILDS) and all(c.status == 200 for c in callbacks)


async def test_a_dm_goes_to_shard_zeros_adapter(sharded, fake: FakeDiscord):
    payload = fake.interaction(2, {"id": fake._synced("help", None)["id"], "name": "help",
                                   "type": 1}, user_id=ANA, name="ana", guild_id=None)
    await fake.push(payload)
    call = await first_response(fake, payload)
    assert call.status == 200
    ((_, guild_id, session),) = [d for d in fake.dispatched if d[0] == "INTERACTION_CREATE"]
    assert guild_id is None and fake.session_shards[session] == (0, SHARDS)


async def test_commands_are_synced_once_for_both(sharded, fake: FakeDiscord):
    (put,) = fake.find("PUT", rf"/applications/{BOT_ID}/commands")
    assert put.status == 200


async def test_identifies_keep_to_their_buckets(sharded, fake: FakeDiscord):
    assert sorted(fake.identify_times) == [0, 1]
    for bucket, times in fake.identify_times.items():
        assert len(times) == 2, bucket  # shards 0 and 2, shards 1 and 3
        assert times[1] - times[0] >= FAST.total_seconds()
    assert not fake.refusals


async def test_a_restart_books_its_identify_after_the_earlier_ones(sharded, fake: FakeDiscord):
    first = sharded[0]
    await first.stop()
    await first.start()
    assert first.client is not None and first.client.is_ready()
    assert [len(t) for _, t in sorted(fake.identify_times.items())] == [3, 3]
    assert len(fake.find("PUT", rf"/applications/{BOT_ID}/commands")) == 1


async def test_an_identify_too_soon_is_refused_and_discord_py_tries_again(
        app: App, repo, fake: FakeDiscord):
    """Without booking (an interval of 0), the second shard of a bucket identifies at once:
    the fake answers Invalid Session, as Discord does, and discord.py identifies again."""
    fake.allow_refusals(IDENTIFY_TOO_SOON)
    fake.max_concurrency = 1
    adapter = DiscordAdapter(app, shard_settings(fake, "0,1"), repo, ready_timeout=10,
                             guild_ready_timeout=0.05, identify_interval=timedelta(0))
    try:
        await adapter.start()
        assert adapter.client is not None and adapter.client.is_ready()
    finally:
        await adapter.stop()
    assert any((c.error or {}).get("code") == IDENTIFY_TOO_SOON for c in fake.refusals)
    times = fake.identify_times[0]
    assert len(times) == 2 and times[1] - times[0] >= FAST.total_seconds()


async def test_the_fake_refuses_an_invalid_shard(fake: FakeDiscord):
    fake.allow_refusals(INVALID_SHARD)
    async with aiohttp.ClientSession() as http:
        for shard in ([4, 4], [0], ["0", 4], [1, 0]):
            async with http.ws_connect(fake.gateway_url) as ws:
                hello = json.loads((await ws.receive()).data)
                assert hello["op"] == 10
                await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1,
                                                   "properties": {}, "shard": shard}})
                closed = await ws.receive()
                assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == INVALID_SHARD
    assert [(c.error or {}).get("code") for c in fake.refusals] == [INVALID_SHARD] * 4
    assert not fake.connected
