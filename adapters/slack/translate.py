"""Slack payloads -> the core's ``Caller``, ``Invocation`` and ``ActionInvocation``.

Request ids. The core never counts one request id twice, so each id must be the same on a
Slack retry and different for a new request:

- a slash command: its ``trigger_id``. A retry (HTTP ``X-Slack-Retry-Num``, or a Socket Mode
  envelope with ``retry_attempt``) re-sends the very same payload, so the same trigger id; a
  new command gets a new one. (The Socket Mode ``envelope_id`` is *not* used: it is per delivery.)
- a modal submission: the view's ``id``. One modal logs at most one entry, however often its
  submission is delivered or its button clicked.
- a button press: the press's ``trigger_id`` (else the action's ``action_ts``); a second press
  is a new request, and the core makes it a no-op ("already sorted").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.commands import CommandSpec, OptionError, OptionType
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import Caller
from bot.textopts import parse

# Slack's control sequences in message text (should_escape on): <@U123|name>, <#C123|name>,
# <!here>, <!subteam^S1|@team>, <https://x|label>. Members' own "<" arrives as "&lt;", so a raw
# "<" only ever opens one of these.
SLACK_TOKEN = re.compile(r"<([@#!][^<>|\s]+|[A-Za-z][A-Za-z0-9+.-]*:[^<>|\s]+)(?:\|([^<>]*))?>")
_HELD = re.compile(r"\x00(\d+)\x00")  # a held sequence: no member can type NUL
_MEMBER_ID = re.compile(r"@([UW][A-Z0-9]+)")
_CHANNEL_ID = re.compile(r"#([CGD][A-Z0-9]+)")
_BROADCASTS = ("here", "channel", "everyone")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<``, ``>`` in message text (``&amp;`` last)."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


@dataclass(frozen=True)
class _Token:
    """One control sequence: a member or channel id (for MEMBER/CHANNEL options), and how it
    reads as plain text (still Slack-escaped) anywhere else."""

    member_id: str | None
    channel_id: str | None
    plain: str


def _token(target: str, label: str | None) -> _Token:
    if m := _MEMBER_ID.fullmatch(target):
        return _Token(m.group(1), None, "@" + (label or m.group(1)))
    if m := _CHANNEL_ID.fullmatch(target):
        return _Token(None, m.group(1), "#" + (label or m.group(1)))
    if target.startswith("!"):
        name = target[1:]
        if name in _BROADCASTS:
            return _Token(None, None, "@" + name)
        return _Token(None, None, label or "@" + name.split("^")[-1])
    if label and label not in target:  # a link with its own words
        return _Token(None, None, f"{label} ({target})")
    return _Token(None, None, label or target)  # a bare link, as typed


def options_from_text(spec: CommandSpec, text: str) -> dict[str, object]:
    """Raw options for the core from a slash command's text, with the core's grammar.

    Slack sends ``@ana`` as ``<@U123|ana>``: a member option becomes a ``MemberRef`` and a
    channel option the channel's id. Everything else is the member's own text, as plain text
    (``@ana``, ``#general``, ``@here``, ``words (https://…)``), unescaped; the renderer escapes
    it again on the way out, so nothing in it can ping or link.
    """
    # Each sequence is held as NUL n NUL first: labels may hold spaces, which would split the value.
    tokens: list[_Token] = []

    def hold(m: re.Match[str]) -> str:
        tokens.append(_token(m.group(1), m.group(2)))
        return f"\x00{len(tokens) - 1}\x00"

    raw = parse(spec, SLACK_TOKEN.sub(hold, text.replace("\x00", "")))
    out: dict[str, object] = {}
    for name, value in raw.items():
        opt = spec.option(name)
        held = _HELD.fullmatch(value.strip())
        token = tokens[int(held.group(1))] if held else None
        if opt is not None and opt.type is OptionType.MEMBER and token and token.member_id:
            out[name] = MemberRef(Platform.SLACK, token.member_id)
        elif opt is not None and opt.type is OptionType.CHANNEL and token and token.channel_id:
            out[name] = token.channel_id
        else:
            out[name] = unescape(_HELD.sub(lambda m: tokens[int(m.group(1))].plain, value))
    return out


def _dig(body: Mapping[str, Any], *path: str) -> Any:
    node: Any = body
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def team_id(body: Mapping[str, Any]) -> str:
    """The workspace: a slash command's ``team_id``, an interaction's ``team.id``."""
    return str(body.get("team_id") or _dig(body, "team", "id") or _dig(body, "user", "team_id") or "")


def team_name(body: Mapping[str, Any]) -> str | None:
    """What the workspace is called, as far as a payload says: Slack sends no workspace name
    with a slash command or an interaction, only its domain (``team_domain``, ``team.domain``:
    "askclub" of askclub.slack.com)."""
    name = str(body.get("team_domain") or _dig(body, "team", "domain") or "").strip()
    return name[:100] or None


def caller_from_command(body: Mapping[str, Any]) -> Caller:
    """A slash command; ``is_admin`` is the adapter's to find out (``AdminCheck``)."""
    user_id = str(body.get("user_id", ""))
    channel = body.get("channel_id")
    return Caller(
        member=MemberRef(Platform.SLACK, user_id),
        name=str(body.get("user_name") or user_id),
        community=CommunityRef(Platform.SLACK, team_id(body)),
        channel=ChannelRef(Platform.SLACK, str(channel)) if channel else None,
        community_name=team_name(body),
    )


def caller_from_interaction(body: Mapping[str, Any], channel_id: str | None = None) -> Caller:
    """A button press or a modal submission: ``user`` and ``team`` are objects there."""
    user = body.get("user") or {}
    user_id = str(user.get("id", ""))
    name = user.get("name") or user.get("username") or user_id
    channel = channel_id or _dig(body, "channel", "id") or _dig(body, "container", "channel_id")
    return Caller(
        member=MemberRef(Platform.SLACK, user_id),
        name=str(name),
        community=CommunityRef(Platform.SLACK, team_id(body)),
        channel=ChannelRef(Platform.SLACK, str(channel)) if channel else None,
        community_name=team_name(body),
    )


def command_request_id(body: Mapping[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    return f"slack:cmd:{trigger}" if trigger else None


def view_request_id(body: Mapping[str, Any]) -> str | None:
    view_id = _dig(body, "view", "id")
    return f"slack:view:{view_id}" if view_id else None


def action_request_id(body: Mapping[str, Any], action: Mapping[str, Any]) -> str | None:
    trigger = body.get("trigger_id")
    if trigger:
        return f"slack:act:{trigger}"
    stamp = action.get("action_ts")
    return f"slack:act:{stamp}:{action.get('action_id', '')}" if stamp else None


@dataclass(frozen=True)
class PressedMessage:
    """The message that carried a button press, as the press's payload shows it."""

    channel_id: str | None
    ts: str | None
    text: str | None
    blocks: list[dict[str, Any]] | None
    ephemeral: bool


def pressed_message(body: Mapping[str, Any]) -> PressedMessage:
    raw = body.get("message")
    message: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    blocks = message.get("blocks")
    text = message.get("text")
    return PressedMessage(
        channel_id=_dig(body, "container", "channel_id") or _dig(body, "channel", "id"),
        ts=_dig(body, "container", "message_ts") or message.get("ts"),
        text=text if isinstance(text, str) else None,
        blocks=blocks if isinstance(blocks, list) else None,
        ephemeral=bool(_dig(body, "container", "is_ephemeral")),
    )


def retry_number(headers: Mapping[str, Any]) -> int:
    """``X-Slack-Retry-Num`` (bolt also sets it for Socket Mode retries); 0 for a first try."""
    value = headers.get("x-slack-retry-num")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    try:
        return int(value) if value is not None else 0
    except (TypeError, ValueError):
        return 0


__all__ = [
    "OptionError",
    "action_request_id",
    "caller_from_command",
    "caller_from_interaction",
    "command_request_id",
    "options_from_text",
    "retry_number",
    "team_id",
    "team_name",
    "unescape",
    "view_request_id",
]
