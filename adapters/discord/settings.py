"""Discord's settings: the ``DISCORD_*`` variables, from the environment and ``.env`` like the
core's (``bot.config.SETTINGS_CONFIG``), and the one check of a bot token's form.

Discord runs when ``DISCORD_TOKEN`` is set (``enabled``). The token's form is checked by
``check_token`` when the adapter is built (and by ``whosnext discord-invite``), so a malformed
token stops only what needs Discord. No discord.py here: the composition root reads these
settings before it knows whether Discord runs at all.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, ClassVar

from pydantic import field_validator
from pydantic_settings import BaseSettings

from bot.config import SETTINGS_CONFIG, ConfigError, blank_is_none, load

_PART = re.compile(r"^[A-Za-z0-9_\-]+$")
_HELP = ("Copy the token from the Discord Developer Portal (your application → Bot → Reset "
         "Token) into .env as DISCORD_TOKEN=…")


class DiscordSettings(BaseSettings):
    model_config = SETTINGS_CONFIG
    # The variable whose presence makes Discord run.
    ENABLED_BY: ClassVar[str] = "DISCORD_TOKEN"

    discord_token: str | None = None
    discord_guild_ids: str = ""
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"

    @field_validator("discord_token", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return blank_is_none(v)

    @field_validator("discord_guild_ids")
    @classmethod
    def _guilds(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            if not part.isdecimal():
                raise ValueError(f"“{part}” is not a server id (a number); separate ids by commas")
        return v

    @property
    def guild_ids(self) -> list[int]:
        return [int(p) for p in self.discord_guild_ids.split(",") if p.strip()]

    @property
    def enabled(self) -> bool:
        return self.discord_token is not None


def load_discord_settings(**overrides: Any) -> DiscordSettings:
    """Discord's settings, or a ConfigError naming each bad ``DISCORD_*`` variable."""
    return load(DiscordSettings, **overrides)


def check_token(token: str | None) -> str:
    """The token, stripped, or a ConfigError that says what is wrong with DISCORD_TOKEN.

    A Discord bot token has three dot-separated parts; the first is the bot user's id in
    base64 (``token_user_id``)."""
    if token is None or not token.strip():
        raise ConfigError(f"DISCORD_TOKEN is not set. {_HELP}")
    token = token.strip().removeprefix("Bot ").strip()
    parts = token.split(".")
    if len(parts) != 3 or not all(_PART.match(p) for p in parts):
        raise ConfigError("DISCORD_TOKEN doesn't look like a Discord bot token (three parts "
                          f"separated by dots, like MTIz….GhIj….KlMn…). {_HELP}")
    if token_user_id(token) is None:
        raise ConfigError("DISCORD_TOKEN doesn't look like a Discord bot token: its first part "
                          f"should encode the bot's id. Was it copied completely? {_HELP}")
    return token


def token_user_id(token: str) -> int | None:
    """The bot user's id encoded in a token's first part, or None if it encodes none."""
    part = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", "replace")
    if not text.isdecimal() or not 15 <= len(text) <= 21:
        return None
    return int(text)
