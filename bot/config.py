"""Settings from the environment and an optional ``.env`` file (pydantic-settings).

A bad value is a start-up error that names the variable: see ``load_settings``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A friendly, one-paragraph start-up error."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", case_sensitive=False)

    database_url: str = "sqlite:///whosnext.db"
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_mode: Literal["socket", "http"] = "socket"
    slack_http_port: int = Field(3000, ge=1, le=65535)
    slack_api_url: str = "https://slack.com/api/"

    discord_token: str | None = None
    discord_guild_ids: str = ""
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"

    checkin_grace_minutes: int = Field(120, ge=0, le=24 * 60)
    max_logs_per_hour: int = Field(20, ge=1, le=10_000)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @field_validator("slack_mode", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"“{v}” is not an IANA time zone, like Europe/Berlin or UTC") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        if not v.startswith("sqlite:///") or len(v) == len("sqlite:///"):
            raise ValueError("use sqlite:///path/to/file.db (a relative path is fine)")
        return v

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret",
                     "discord_token", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_bot(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xoxb-"):
            raise ValueError("a Slack bot token starts with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _slack_app(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("xapp-"):
            raise ValueError("a Slack app-level token starts with xapp-")
        return v

    @field_validator("discord_guild_ids")
    @classmethod
    def _guilds(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            if not part.isdecimal():
                raise ValueError(f"“{part}” is not a server id (a number); separate ids by commas")
        return v

    @property
    def database_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def guild_ids(self) -> list[int]:
        return [int(p) for p in self.discord_guild_ids.split(",") if p.strip()]

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None


def load_settings(**overrides: object) -> Settings:
    """Settings, or a ConfigError that names each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            var = str(e["loc"][0]).upper() if e["loc"] else "?"
            msg = str(e["msg"]).removeprefix("Value error, ")
            problems.append(f"{var}: {msg}")
        raise ConfigError("Bad configuration: " + "; ".join(problems)
                          + ". See .env.example for every variable.") from None


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class DropLines(logging.Filter):
    """Drops log records whose message is exactly one of ``lines``; every other record of the
    logger passes."""

    def __init__(self, lines: frozenset[str]):
        super().__init__()
        self.lines = lines

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.lines


def drop_log_lines(logger_name: str, *lines: str) -> None:
    """Silence exactly these messages of a library's logger (once, however often it's asked),
    for warnings that don't apply to this bot and have no cause to fix."""
    logger = logging.getLogger(logger_name)
    wanted = frozenset(lines)
    if not any(isinstance(f, DropLines) and f.lines == wanted for f in logger.filters):
        logger.addFilter(DropLines(wanted))
