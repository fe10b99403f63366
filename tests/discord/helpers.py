"""Helpers for the Discord suite (its fixtures are in ``tests/discord/conftest.py``): the test
members' ids, settings pointing at the fake, shortcuts that push an interaction and wait for the
bot's answer, and readers for what a message shows."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from adapters.discord.client import DiscordAdapter
from adapters.discord.settings import DiscordSettings
from tests.fakes.discord import Call, FakeDiscord

StartBot = Callable[..., Awaitable[DiscordAdapter]]

ANA = 1500000000000000001
BEN = 1500000000000000002


def settings_for(fake: FakeDiscord, guild_ids: str = "") -> DiscordSettings:
    return DiscordSettings(_env_file=None, discord_token=fake.token, discord_api_url=fake.api_url,
                           discord_gateway_url=fake.gateway_url, discord_guild_ids=guild_ids)


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


class FileKeepingDiscord(FakeDiscord):
    """The loopback fake, also keeping the bytes of every uploaded file (the fake itself records
    only their names): ``(path, filename, data)``."""

    def __init__(self) -> None:
        super().__init__()
        self.file_data: list[tuple[str, str, bytes]] = []

    async def _body(self, request: web.Request):  # type: ignore[override]
        body, files = await FakeDiscord._body(request)
        if request.content_type.startswith("multipart/"):
            form = await request.post()  # aiohttp keeps the parsed form
            path = request.path.removeprefix("/api/v10")
            for value in form.values():
                if isinstance(value, web.FileField):
                    value.file.seek(0)
                    self.file_data.append((path, value.filename, value.file.read()))
        return body, files


def inputs(modal: dict) -> dict[str, dict]:
    """A modal's text inputs by custom id (each row holds one)."""
    return {row["components"][0]["custom_id"]: row["components"][0]
            for row in modal["components"]}


async def submit_form(fake: FakeDiscord, modal: dict, typed: dict[str, str], user_id: int = ANA,
                      user_name: str = "ana") -> Call:
    """Submit the form with ``typed`` in place of what its inputs held; the first response."""
    submitted = fake.submit(modal, typed, user_id=user_id, user_name=user_name)
    await fake.push(submitted)
    return await first_response(fake, submitted)
