"""Fixtures for the Discord suite: a loopback fake Discord and the real adapter pointed at it.
The helpers that push interactions and read messages are in ``tests/discord/helpers.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.discord.client import DiscordAdapter
from bot.app import App
from tests.discord.helpers import StartBot, settings_for
from tests.fakes.discord import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.close()


@pytest.fixture(autouse=True)
def no_refusals(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test whose bot sent something Discord refuses fails, as it would in production,
    even where the bot only logs the refusal. A test that provokes one says which code it
    expects with ``fake.allow_refusals(code)``."""
    if "fake" not in request.fixturenames:
        yield
        return
    server: FakeDiscord = request.getfixturevalue("fake")
    yield
    unexpected = server.unexpected_refusals()
    assert not unexpected, "Discord refused: " + "; ".join(
        f"{c.method} {c.path} → {c.status} {c.problems}" for c in unexpected)


@pytest.fixture
async def start_bot(fake: FakeDiscord, app: App, repo) -> AsyncIterator[StartBot]:
    """Start an adapter against the fake (several may be started and stopped in one test)."""
    started: list[DiscordAdapter] = []

    async def start(*, core: App | None = None, guild_ids: str = "",
                    response_budget: float = 2.0) -> DiscordAdapter:
        adapter = DiscordAdapter(core or app, settings_for(fake, guild_ids), repo,
                                 response_budget=response_budget, ready_timeout=10,
                                 guild_ready_timeout=0.05)
        await adapter.start()
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


@pytest.fixture
async def bot(start_bot: StartBot) -> DiscordAdapter:
    return await start_bot()


@pytest.fixture
def backend() -> str:
    """The platform's suite runs on SQLite alone: the core's suite covers both databases."""
    return "sqlite"
