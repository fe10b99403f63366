"""The Slack app manifest, built from the catalogue: paste it at api.slack.com/apps →
Create New App → From a manifest."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from bot.commands import CATALOGUE, CommandSpec
from bot.config import ConfigError

APP_NAME = "Who's Next"
BOT_NAME = "whos-next"
DESCRIPTION = "Log every ask you make, celebrate every no. Some will, some won't, so what: who's next?"

BOT_SCOPES = (
    "commands",            # the slash commands
    "chat:write",          # replies, check-ins, follow-ups
    "chat:write.public",   # check-ins in public channels the bot hasn't joined
    "im:write",            # open a DM for follow-ups (conversations.open)
    "users:read",          # admin or owner? (users.info)
    "files:write",         # charts and /export files
    "channels:history",    # did an uncertain post land? (conversations.history, public channels)
    "groups:history",      # ... in private channels
    "im:history",          # ... in a follow-up DM
)
"""The bot's scopes. The three history scopes keep scheduled posts to at most once: when a
try at a post times out or loses its connection after sending, Slack may have it or not, and
the next try first looks for it in the conversation's history (by the message metadata
carrying its outbox key) before posting again. Where the bot can't read that history (a scope
missing, or a channel it posts in through ``chat:write.public`` without being a member: a bot
token reads only conversations it is in), it can't tell, so it doesn't post again: that post is
recorded as failed in /checkin show, with the reason (invite the bot, or add the scope and
reinstall), instead of risking a second one in the channel. Posts whose try Slack answered
are not affected."""

# Slack refuses a manifest whose URLs do not start with http(s):// or are longer than this
# (3000 for a slash command url, 3500 for interactivity).
MAX_URL_LENGTH = 3000


def check_request_url(request_url: str) -> str:
    """The URL, or a ConfigError saying why Slack would refuse it."""
    if re.match(r"http://\S+\Z", request_url):
        raise ConfigError("Slack sends its requests to https:// URLs only: give the request URL "
                          "(--request-url) as https://…, with TLS in front of the bot (a "
                          "balancer, or a tunnel while you try it).")
    if not re.match(r"https://\S+\Z", request_url):
        raise ConfigError("The request URL (--request-url) must be a full URL like "
                          f"https://your.host/slack/events, not {request_url!r}.")
    if len(request_url) > MAX_URL_LENGTH:
        raise ConfigError(f"The request URL (--request-url) is {len(request_url)} characters; "
                          f"Slack takes at most {MAX_URL_LENGTH}.")
    return request_url


def slash_command(spec: CommandSpec, request_url: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "command": f"/{spec.name}",
        "description": spec.description[:100],
        "should_escape": True,
    }
    if spec.usage_hint:
        entry["usage_hint"] = spec.usage_hint[:1000]
    if request_url:
        entry["url"] = request_url
    return entry


OAUTH_EVENTS = ("app_uninstalled", "tokens_revoked")
"""The events an installable app listens to: a workspace removing the bot, or its tokens."""

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
EVENTS_PATH = "/slack/events"


def redirect_url(request_url: str) -> str:
    """Where Slack sends an installer back: beside the request URL (``https://host/slack/events``
    gives ``https://host/slack/oauth_redirect``, keeping any path prefix before it)."""
    parts = urlsplit(request_url)
    prefix = parts.path[:-len(EVENTS_PATH)] if parts.path.endswith(EVENTS_PATH) else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}{REDIRECT_PATH}"


def build_manifest(request_url: str | None = None, name: str = APP_NAME,
                   oauth: bool = False) -> dict[str, Any]:
    """Socket Mode by default; with ``request_url`` (``https://host/slack/events``) an HTTP
    mode manifest whose commands and interactivity point there (a ConfigError if Slack would
    refuse that URL). With ``oauth`` (HTTP mode only) an app any workspace can install: its
    redirect URL beside the request URL, and the uninstall events subscribed."""
    if oauth and not request_url:
        raise ConfigError("Installing to any workspace (--oauth) needs HTTP mode: give "
                          "--request-url https://your.host/slack/events too.")
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        interactivity["request_url"] = check_request_url(request_url)
    manifest: dict[str, Any] = {
        "display_information": {
            "name": name,
            "description": DESCRIPTION[:140],
            "background_color": "#2d3a4a",
        },
        "features": {
            "bot_user": {"display_name": BOT_NAME, "always_online": True},
            "slash_commands": [slash_command(spec, request_url) for spec in CATALOGUE],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": request_url is None,
            "token_rotation_enabled": False,
        },
    }
    if oauth and request_url:
        manifest["oauth_config"]["redirect_urls"] = [redirect_url(request_url)]
        manifest["settings"]["event_subscriptions"] = {"request_url": request_url,
                                                       "bot_events": list(OAUTH_EVENTS)}
    return manifest


def manifest_json(request_url: str | None = None, oauth: bool = False) -> str:
    return json.dumps(build_manifest(request_url, oauth=oauth), indent=2, ensure_ascii=False)
