"""What an adapter hands the core: one command or one button press, platform-free."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ids import ChannelRef, CommunityRef, MemberRef


@dataclass(frozen=True)
class Caller:
    """Who is asking, where. ``is_admin`` is the platform's own verdict (Manage Server, Slack
    admin or owner, the console's own user). ``community_name``: what the platform calls the
    community (the Discord server's name, the Slack workspace's), when it says."""

    member: MemberRef
    name: str
    community: CommunityRef
    channel: ChannelRef | None = None
    is_admin: bool = False
    community_name: str | None = None


@dataclass(frozen=True)
class Invocation:
    command: str
    caller: Caller
    # Raw option values: strings (text grammar, modals) or typed values (Discord). The core
    # validates them against the catalogue either way.
    options: dict[str, object] = field(default_factory=dict)
    # The platform's id for this request (Slack trigger/envelope id, Discord interaction id):
    # a retried request with the same id never counts twice.
    request_id: str | None = None


@dataclass(frozen=True)
class ActionInvocation:
    """A button press: the ``Action`` the core put on a button, pressed by ``caller``."""

    name: str
    value: str
    caller: Caller
    request_id: str | None = None
