"""The core's settings from the environment and an optional ``.env`` file (``bot.envsettings``).

Only what the core itself uses lives here: the database, the default time zone, logging, the
check-in grace window and fair-play limits. Each adapter declares its own settings class (the
same ``.env``, the same rules: ``SETTINGS_CONFIG``) and loads it with ``load``; the
composition root (``bot.cli``) asks each one whether its platform runs.

A bad value is a start-up error that names the variable: see ``load``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.envsettings import BaseSettings, Field, SettingsError, ValidationInfo, field_validator

# How every settings class of the bot reads its variables: the environment first, then
# ``.env`` in the working directory; names are case-insensitive; other variables are ignored
# (each class reads only its own).
SETTINGS_CONFIG = {"env_file": ".env"}
__all__ = ["BaseSettings", "Field", "ValidationInfo", "field_validator"]  # for the adapters


class ConfigError(Exception):
    """A friendly, one-paragraph start-up error. ``problems`` holds one ``VARIABLE: what is
    wrong`` line per bad variable when it came from loading settings."""

    def __init__(self, message: str, problems: Iterable[str] = ()):
        super().__init__(message)
        self.problems = tuple(problems)


def bad_configuration(problems: Iterable[str]) -> ConfigError:
    """One ConfigError for every bad variable (of one settings class or several)."""
    problems = tuple(problems)
    return ConfigError("Bad configuration: " + "; ".join(problems)
                       + ". See .env.example for every variable.", problems)


def blank_is_none(value: object) -> object:
    """For optional secrets: a variable left blank (``NAME=``, as in .env.example) means not
    set."""
    return None if isinstance(value, str) and not value.strip() else value


S = TypeVar("S", bound=BaseSettings)


def load(cls: type[S], **overrides: Any) -> S:
    """``cls`` read from the environment and .env, or a ConfigError naming each bad variable
    (a field's name in capitals is its variable)."""
    try:
        return cls(**overrides)
    except SettingsError as err:
        raise bad_configuration(err.problems) from None


class Settings(BaseSettings):
    model_config = SETTINGS_CONFIG

    database_url: str = "sqlite:///whosnext.db"
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # text: a line a person reads; json: one JSON object a line, for a log collector.
    log_format: Literal["text", "json"] = "text"

    checkin_grace_minutes: int = Field(120, ge=0, le=24 * 60)
    # How long a process holds a scheduled post it claimed before another may take it over
    # (renewed every third of it while the process works). Short, so a crash costs little; at
    # most 90 s, so a takeover's retry stays inside a platform's few-minute de-duplication.
    outbox_lease_seconds: int = Field(60, ge=5, le=90)
    max_logs_per_hour: int = Field(20, ge=1, le=10_000)
    # /healthz, /readyz and /metrics on a server of their own (``adapters.health``); unset: none
    # (a platform's own HTTP server may serve them too). 0.0.0.0: container probes come from
    # outside the loopback.
    health_port: int | None = None
    health_host: str = Field("0.0.0.0", min_length=1)

    @field_validator("health_port", mode="before")
    @classmethod
    def _port(cls, v: object) -> object:
        v = blank_is_none(v)
        if v is None or isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 65535:
            return v
        text = str(v).strip()
        if text.isascii() and text.isdigit() and len(text) <= 5 and 1 <= int(text) <= 65535:
            return int(text)
        raise ValueError(f"“{text[:20]}” is not a port: use a number from 1 to 65535, like "
                         "8080, or leave it unset for no health server")

    @field_validator("health_host", mode="before")
    @classmethod
    def _strip(cls, v: object) -> object:
        return v.strip() if isinstance(v, str) else v

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

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
        if not v.startswith(("sqlite:///", "postgresql://", "postgres://")) or v == "sqlite:///":
            raise ValueError("use sqlite:///path/to/file.db (a relative path is fine) or "
                             "postgresql://user@host:5432/database")
        return v


def load_settings(**overrides: Any) -> Settings:
    """The core's settings, or a ConfigError that names each bad variable."""
    return load(Settings, **overrides)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """``LOG_FORMAT=json``: each record as one JSON object on one line: ``time`` (UTC, ISO
    8601 with milliseconds), ``level``, ``logger``, ``message``, and ``exception`` (the
    traceback, newlines escaped) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str = "text") -> None:
    """The root logger's one handler (stderr), at ``level``, as text or as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


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
