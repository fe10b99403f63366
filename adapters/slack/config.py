"""Start-up checks for the Slack settings, beyond what ``bot.config.Settings`` validates."""

from __future__ import annotations

import re

from bot.config import ConfigError, Settings

_HEX = re.compile(r"[0-9a-fA-F]{16,128}")
_TOKEN_BODY = re.compile(r"[A-Za-z0-9-]+")


def api_base_url(url: str) -> str:
    """slack-sdk joins method names onto the base URL: it must end with a slash."""
    return url if url.endswith("/") else url + "/"


def check_settings(settings: Settings) -> None:
    """Raise ``ConfigError`` naming the variable when Slack can't start with these settings."""
    token = settings.slack_bot_token
    if token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from "
                          "your Slack app's OAuth & Permissions page into .env.")
    if not _TOKEN_BODY.fullmatch(token.removeprefix("xoxb-")):
        raise ConfigError("SLACK_BOT_TOKEN doesn't look like a Slack bot token: it should be "
                          "xoxb- followed by letters, digits and dashes, with no spaces or quotes.")
    if settings.slack_mode == "socket":
        app_token = settings.slack_app_token
        if app_token is None:
            raise ConfigError("SLACK_APP_TOKEN is not set, and Socket Mode needs it. Create an "
                              "app-level token with the connections:write scope under Basic "
                              "Information → App-Level Tokens (it starts with xapp-), or set "
                              "SLACK_MODE=http.")
        if not _TOKEN_BODY.fullmatch(app_token.removeprefix("xapp-")):
            raise ConfigError("SLACK_APP_TOKEN doesn't look like an app-level token: it should be "
                              "xapp- followed by letters, digits and dashes.")
    else:
        secret = settings.slack_signing_secret
        if secret is None:
            raise ConfigError("SLACK_SIGNING_SECRET is not set, and SLACK_MODE=http needs it to "
                              "check that requests come from Slack. Copy it from Basic "
                              "Information → App Credentials.")
        if not _HEX.fullmatch(secret.strip()):
            raise ConfigError("SLACK_SIGNING_SECRET doesn't look like a signing secret (a string "
                              "of hex digits from Basic Information → App Credentials).")
    url = settings.slack_api_url
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL like https://slack.com/api/, "
                          f"not “{url}”.")
