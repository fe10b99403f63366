"""Fixtures for the Discord suite: a loopback fake Discord and the real adapter pointed at it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.settings import DiscordSettings
from bot.app import App
from tests.fakes.discord import Call, FakeDiscord

StartBot = Callable[..., Awaitable[DiscordAdapter]]


def settings_for(fake: FakeDiscord, guild_ids: str = "") -> DiscordSettings:
    return DiscordSettings(_env_file=None, discord_token=fake.token, discord_api_url=fake.api_url,
                           discord_gateway_url=fake.gateway_url, discord_guild_ids=guild_ids)


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


ANA = 1500000000000000001
BEN = 1500000000000000002


async def run_command(fake: FakeDiscord, name: str, options: dict | None = None, *,
                      user_id: int = ANA, user_name: str = "ana", **kwargs) -> tuple[dict, Call]:
    """Push one slash command; return its payload and the bot's first response to it."""
    payload = fake.command(name, options, user_id=user_id, user_name=user_name, **kwargs)
    await fake.push(payload)
    return payload, await first_response(fake, payload)


async def press(fake: FakeDiscord, message: dict, custom_id: str, *, user_id: int = ANA,
                user_name: str = "ana", **kwargs) -> tuple[dict, Call]:
    payload = fake.press(message, custom_id, user_id=user_id, user_name=user_name, **kwargs)
    await fake.push(payload)
    return payload, await first_response(fake, payload)


async def first_response(fake: FakeDiscord, payload: dict) -> Call:
    calls = await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    return calls[0]


def posted(fake: FakeDiscord, payload: dict) -> dict:
    """The message the bot's first response to ``payload`` created (as Discord stores it)."""
    return fake.original(payload["token"])


def buttons(message: dict) -> list[dict]:
    return [c for row in message.get("components", []) for c in row.get("components", [])]


def shown(text: str) -> str:
    """Rendered Markdown as Discord shows it, for the escapes: a backslash before punctuation
    shows that character (``\\*`` → ``*``), and the zero-width spaces after ``@`` are invisible."""
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text).replace("\u200b", "")
