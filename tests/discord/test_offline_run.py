"""The real start-up path (settings from the environment, the CLI's composition) pointed at
the loopback Discord with DISCORD_API_URL and DISCORD_GATEWAY_URL."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot import cli
from bot.ids import Platform
from tests.discord.helpers import ANA, BEN, run_command, shown
from tests.fakes.discord import BOT_ID, FakeDiscord

EPHEMERAL = 64


@pytest.fixture
def discord_env(monkeypatch, tmp_path, fake: FakeDiscord) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working copy
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DISCORD_GUILD_IDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'whosnext.db'}")
    monkeypatch.setenv("DISCORD_TOKEN", fake.token)
    monkeypatch.setenv("DISCORD_API_URL", fake.api_url)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)


async def test_the_start_command_connects_syncs_and_answers(discord_env, fake: FakeDiscord):
    config = cli.load_configuration()
    assert config.running() == [Platform.DISCORD]
    running = asyncio.create_task(cli._run_platforms(config))
    try:
        await fake.wait_until(lambda: fake.connected or running.done(), timeout=15)
        assert not running.done(), running.exception()
        assert fake.find("PUT", rf"/applications/{BOT_ID}/commands")

        _, call = await run_command(fake, "rejected", {"ask": "asked for a raise", "fear": 6})
        assert f"<@{ANA}> got a no" in call.json["data"]["embeds"][0]["description"]
        _, call = await run_command(fake, "who-next", {"ask": "ask Sam for an intro"},
                                    user_id=BEN, user_name="ben")
        assert "ask Sam for an intro" in call.json["data"]["embeds"][0]["description"]
        _, call = await run_command(fake, "leaderboard", {"period": "all"})
        assert f"1. <@{ANA}> · 1" in shown(call.json["data"]["embeds"][0]["description"])
        _, call = await run_command(fake, "stats")
        fields = {f["name"]: f["value"] for f in call.json["data"]["embeds"][0]["fields"]}
        assert fields["Asks"] == "1" and fields["No's"] == "1"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert fake.connected == 0  # stopped cleanly: the gateway connection is closed
