"""Discord's settings: the ``DISCORD_*`` variables, from the environment and ``.env`` like the
core's (``bot.config.SETTINGS_CONFIG``), and the one check of a bot token's form.

Discord runs when ``DISCORD_TOKEN`` is set (``enabled``). The token's form is checked by
``check_token`` when the adapter is built (and by ``whosnext discord-invite``), so a malformed
token stops only what needs Discord. No discord.py here: the composition root reads these
settings before it knows whether Discord runs at all.

Shards. Without ``DISCORD_SHARD_COUNT`` the bot is one unsharded session, as before. With it,
the bot's servers are split into that many shards (a server's shard is ``(server id >> 22) %
count``) and this process runs the shards ``DISCORD_SHARD_IDS`` names (``0,1``, or a range
``0-3``; all of them when it is empty). Several processes on one database then share the bot,
each with its own shard ids: each answers and posts for its own shards' servers
(``shard_spec``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, ClassVar

from bot.config import (
    SETTINGS_CONFIG,
    BaseSettings,
    ConfigError,
    ValidationInfo,
    blank_is_none,
    field_validator,
    load,
)
from bot.ids import Platform
from bot.shards import ShardSpec

_PART = re.compile(r"^[A-Za-z0-9_\-]+$")
# A server's shard: its id without the 22 bits below the timestamp, modulo the shard count.
SNOWFLAKE_SHIFT = 22
MAX_SHARD_RANGE = 10_000  # shards one range may name (a process runs a handful)
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
    discord_shard_count: int | None = None
    discord_shard_ids: str = ""

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

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _shard_count(cls, v: object) -> object:
        v = blank_is_none(v)
        if v is None or isinstance(v, int):
            count = v
        elif isinstance(v, str) and v.strip().isdecimal():
            count = int(v.strip())
        else:
            raise ValueError(f"“{v}” is not a number of shards: give a whole number, 1 or more "
                             "(the same in every process of the bot)")
        if count is not None and count < 1:
            raise ValueError(f"{count} shards is too few: give 1 or more (or leave it unset for "
                             "one unsharded connection)")
        return count

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids(cls, v: str, info: ValidationInfo) -> str:
        ids = parse_shard_ids(v)
        if not ids:
            return v
        if "discord_shard_count" not in info.data:
            return v  # the count is wrong itself: that is the one problem to report
        count = info.data["discord_shard_count"]
        if count is None:
            raise ValueError("shard ids need DISCORD_SHARD_COUNT as well: set it to the number "
                             "of shards of the whole bot (the same in every process)")
        wrong = sorted({i for i in ids if i >= count})
        if wrong:
            shown = ", ".join(map(str, wrong))
            raise ValueError(f"shard {shown} doesn't exist with DISCORD_SHARD_COUNT={count}: "
                             f"shard ids go from 0 to {count - 1}")
        return v

    @property
    def shard_ids(self) -> list[int] | None:
        """The shards this process runs (None: unsharded)."""
        if self.discord_shard_count is None:
            return None
        return parse_shard_ids(self.discord_shard_ids) or list(range(self.discord_shard_count))

    @property
    def shard_spec(self) -> ShardSpec | None:
        """Which servers this process serves, for the scheduler (None: all of them)."""
        ids = self.shard_ids
        if self.discord_shard_count is None or ids is None:
            return None
        return ShardSpec(Platform.DISCORD, self.discord_shard_count, frozenset(ids),
                         shift=SNOWFLAKE_SHIFT)

    @property
    def guild_ids(self) -> list[int]:
        return [int(p) for p in self.discord_guild_ids.split(",") if p.strip()]

    @property
    def enabled(self) -> bool:
        return self.discord_token is not None


def parse_shard_ids(text: str) -> list[int]:
    """``0,1`` or ``0-3,8``: the shard ids, in order; ValueError with a sentence otherwise."""
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, dash, high = part.partition("-")
        if not low.strip().isdecimal() or (dash and not high.strip().isdecimal()):
            raise ValueError(f"“{part}” is not a shard id: give numbers separated by commas, "
                             "like 0,1 (or a range, like 0-3)")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise ValueError(f"“{part}” is an empty range: write the lower id first, like 0-3")
        if last - first >= MAX_SHARD_RANGE:
            raise ValueError(f"“{part}” names more than {MAX_SHARD_RANGE} shards: one process "
                             "can't run that many")
        ids.extend(range(first, last + 1))
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"shard {', '.join(map(str, repeated))} is named twice: give each "
                         "shard id once")
    return ids


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
