"""Set-up help: the OAuth2 invite link, and the application id hidden in a bot token.

A Discord bot token has three dot-separated parts; the first is the bot user's id in base64.
For every application created since 2019 (and for all new ones) the bot user id is the
application id, so ``whosnext discord-invite`` can print the link from the token alone.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlencode

import discord

from bot.config import ConfigError

# The least the bot needs. Slash commands, their replies and button presses need no
# permission at all; only the scheduler's check-ins post into a channel by themselves:
# see the channel, send a message, show it as an embed, attach the weekly chart.
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                  attach_files=True)
SCOPES = ("bot", "applications.commands")
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"

_PART = re.compile(r"^[A-Za-z0-9_\-]+$")
_HELP = ("Copy the token from the Discord Developer Portal (your application → Bot → Reset "
         "Token) into .env as DISCORD_TOKEN=…")


def invite_url(application_id: int) -> str:
    """The link a server admin opens to add the bot, with slash commands, to a server."""
    query = urlencode({"client_id": str(application_id), "scope": " ".join(SCOPES),
                       "permissions": str(PERMISSIONS.value), "integration_type": "0"})
    return f"{AUTHORIZE_URL}?{query}"


def check_token(token: str | None) -> str:
    """The token, stripped, or a ConfigError that says what is wrong with DISCORD_TOKEN."""
    if token is None or not token.strip():
        raise ConfigError(f"DISCORD_TOKEN is not set. {_HELP}")
    token = token.strip().removeprefix("Bot ").strip()
    parts = token.split(".")
    if len(parts) != 3 or not all(_PART.match(p) for p in parts):
        raise ConfigError("DISCORD_TOKEN doesn't look like a Discord bot token (three parts "
                          f"separated by dots, like MTIz….GhIj….KlMn…). {_HELP}")
    if _user_id(parts[0]) is None:
        raise ConfigError("DISCORD_TOKEN doesn't look like a Discord bot token: its first part "
                          f"should encode the bot's id. Was it copied completely? {_HELP}")
    return token


def application_id_from_token(token: str | None) -> int:
    """The bot's user id (= its application id) from a bot token; ConfigError if malformed."""
    user_id = _user_id(check_token(token).split(".")[0])
    assert user_id is not None
    return user_id


def _user_id(part: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("ascii", "replace")
    if not text.isdecimal() or not 15 <= len(text) <= 21:
        return None
    return int(text)
