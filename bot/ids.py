"""Platform-tagged identifiers. Every id in the core carries its platform."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Platform(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class CommunityRef:
    """One Discord server, one Slack workspace, or a terminal community."""

    platform: Platform
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.id}"


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A person, as their platform knows them."""

    platform: Platform
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.id}"

    @classmethod
    def from_key(cls, key: str) -> MemberRef:
        platform, _, ident = key.partition(":")
        return cls(Platform(platform), ident)


@dataclass(frozen=True, slots=True)
class ChannelRef:
    platform: Platform
    id: str

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.id}"
