"""Slack's settings: the ``SLACK_*`` variables, from the environment and ``.env`` like the
core's (``bot.config.SETTINGS_CONFIG``), and the start-up checks an adapter needs on top.

Two stages, each check in one of them:
- loading (``load_slack_settings``): each value on its own: the mode, the port, and the form of
  the tokens (the only place that knows ``xoxb-`` and ``xapp-``). Slack runs when
  ``SLACK_BOT_TOKEN`` is set, or ``SLACK_CLIENT_ID`` (``enabled``).
- ``check_settings``, when the adapter is built: what Slack needs to start in the chosen mode
  (the app-level token for Socket Mode, the signing secret for HTTP mode) and the API URL.

Two ways to be in Slack. One workspace: ``SLACK_BOT_TOKEN``, in either mode. Any workspace
(``oauth``): ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` in HTTP mode; each workspace
installs the app at ``/slack/install`` and its token is kept in the database.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from bot.config import (
    SETTINGS_CONFIG,
    BaseSettings,
    ConfigError,
    Field,
    blank_is_none,
    field_validator,
    load,
)

_HEX = re.compile(r"[0-9a-fA-F]{16,128}")
_TOKEN_BODY = re.compile(r"[A-Za-z0-9-]+")
_CLIENT_ID = re.compile(r"[0-9]+\.[0-9]+")


def _token_problem(token: str, prefix: str, kind: str) -> str | None:
    if not token.startswith(prefix):
        return f"a Slack {kind} starts with {prefix}"
    if not _TOKEN_BODY.fullmatch(token.removeprefix(prefix)):
        return (f"that doesn't look like a Slack {kind}: it should be {prefix} followed by "
                "letters, digits and dashes, with no spaces or quotes")
    return None


class SlackSettings(BaseSettings):
    model_config = SETTINGS_CONFIG
    # The variable whose presence makes Slack run.
    ENABLED_BY: ClassVar[str] = "SLACK_BOT_TOKEN"

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_mode: Literal["socket", "http"] = "socket"
    slack_http_port: int = Field(3000, ge=1, le=65535)
    slack_api_url: str = "https://slack.com/api/"
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_redirect_uri: str | None = None

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret",
                     "slack_client_id", "slack_client_secret", "slack_redirect_uri", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return blank_is_none(v)

    @field_validator("slack_mode", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: str | None) -> str | None:
        if v is not None and (problem := _token_problem(v, "xoxb-", "bot token")):
            raise ValueError(problem)
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: str | None) -> str | None:
        if v is not None and (problem := _token_problem(v, "xapp-", "app-level token")):
            raise ValueError(problem)
        return v

    @field_validator("slack_client_id")
    @classmethod
    def _client_id(cls, v: str | None) -> str | None:
        if v is not None and not _CLIENT_ID.fullmatch(v.strip()):
            raise ValueError("that doesn't look like a Slack client id (digits, a dot, digits, "
                             "from Basic Information → App Credentials)")
        return v.strip() if v is not None else None

    @field_validator("slack_redirect_uri")
    @classmethod
    def _redirect(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("https://"):
            raise ValueError("Slack only redirects to an https:// URL, like "
                             "https://bot.example.com/slack/oauth_redirect")
        return v

    @property
    def oauth(self) -> bool:
        """Installable in any workspace (OAuth) rather than one workspace's bot token."""
        return self.slack_client_id is not None

    @property
    def enabled(self) -> bool:
        return (self.slack_bot_token is not None or self.oauth
                or self.slack_client_secret is not None)


def load_slack_settings(**overrides: Any) -> SlackSettings:
    """Slack's settings, or a ConfigError naming each bad ``SLACK_*`` variable."""
    return load(SlackSettings, **overrides)


def api_base_url(url: str) -> str:
    """slack-sdk joins method names onto the base URL: it must end with a slash."""
    return url if url.endswith("/") else url + "/"


def check_settings(settings: SlackSettings) -> None:
    """Raise ``ConfigError`` naming the variable when Slack can't start with these settings
    (the tokens' form was checked when they were loaded)."""
    if settings.oauth or settings.slack_client_secret is not None:
        _check_oauth(settings)
    elif settings.slack_bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set. Copy the Bot User OAuth Token (xoxb-…) from "
                          "your Slack app's OAuth & Permissions page into .env.")
    if settings.slack_mode == "socket":
        if settings.slack_app_token is None:
            raise ConfigError("SLACK_APP_TOKEN is not set, and Socket Mode needs it. Create an "
                              "app-level token with the connections:write scope under Basic "
                              "Information → App-Level Tokens (it starts with xapp-), or set "
                              "SLACK_MODE=http.")
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


def _check_oauth(settings: SlackSettings) -> None:
    if settings.slack_client_id is None:
        raise ConfigError("SLACK_CLIENT_SECRET is set but SLACK_CLIENT_ID isn't: installing in "
                          "any workspace needs both. Copy the Client ID from Basic Information "
                          "→ App Credentials.")
    if settings.slack_client_secret is None:
        raise ConfigError("SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET isn't: installing in "
                          "any workspace needs both. Copy the Client Secret from Basic "
                          "Information → App Credentials.")
    if settings.slack_bot_token is not None:
        raise ConfigError("Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID are set. Pick one: "
                          "SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID and "
                          "SLACK_CLIENT_SECRET to let any workspace install the app (each "
                          "workspace, yours too, then installs it at /slack/install).")
    if settings.slack_mode != "http":
        raise ConfigError("SLACK_CLIENT_ID lets any workspace install the app, which needs "
                          "SLACK_MODE=http: Slack sends each workspace's requests to your "
                          "server's /slack/events.")
