"""Set-up help: the OAuth2 invite link, and the application id hidden in a bot token.

A Discord bot token has three dot-separated parts; the first is the bot user's id in base64.
For every application created since 2019 (and for all new ones) the bot user id is the
application id, so ``whosnext discord-invite`` can print the link from the token alone. The
token's form is checked in one place, ``adapters.discord.settings.check_token`` (re-exported
here).
"""

from __future__ import annotations

from urllib.parse import urlencode

import discord

from adapters.discord.settings import check_token, token_user_id

__all__ = ["PERMISSIONS", "SCOPES", "application_id_from_token", "check_token", "invite_url"]

# The least the bot needs. Slash commands, their replies and button presses need no
# permission at all; only the scheduler's check-ins post into a channel by themselves:
# see the channel, send a message, show it as an embed, attach the weekly chart.
PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                  attach_files=True)
SCOPES = ("bot", "applications.commands")
AUTHORIZE_URL = "https://discord.com/oauth2/authorize"


def invite_url(application_id: int) -> str:
    """The link a server admin opens to add the bot, with slash commands, to a server."""
    query = urlencode({"client_id": str(application_id), "scope": " ".join(SCOPES),
                       "permissions": str(PERMISSIONS.value), "integration_type": "0"})
    return f"{AUTHORIZE_URL}?{query}"


def application_id_from_token(token: str | None) -> int:
    """The bot's user id (= its application id) from a bot token; ConfigError if malformed."""
    user_id = token_user_id(check_token(token))
    assert user_id is not None
    return user_id
