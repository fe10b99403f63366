"""Interaction → Caller, Invocation, ActionInvocation. Nothing here talks to Discord.

The interaction id is the request id: Discord may deliver an interaction twice (a gateway
resume, two processes), and the core never counts the same request id twice.

A mention typed into a text option arrives as markup (``<@123>``). Replies show member text
escaped, so that would read as a raw id: it becomes a name instead (``@ana``, ``#general``,
``@role``), from the interaction's resolved data when Discord sends it, else a generic one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import discord

from bot.commands import CommandSpec, OptionType
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.reply import Action


def member_ref(user: discord.abc.Snowflake) -> MemberRef:
    return MemberRef(Platform.DISCORD, str(user.id))


def is_admin(interaction: discord.Interaction) -> bool:
    """Manage Server in this server (Discord computes the member's permissions for us;
    Administrator implies it)."""
    if interaction.guild_id is None:
        return False
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.administrator)


def caller(interaction: discord.Interaction, guild_id: str | None = None) -> Caller | None:
    """Who is asking and where (and the server's name, when discord.py knows it). ``guild_id``
    names the community when the interaction has none (a button in a DM). None when no
    community can be known."""
    guild = str(interaction.guild_id) if interaction.guild_id is not None else guild_id
    if guild is None:
        return None
    user = interaction.user
    name = (getattr(user, "display_name", None) or user.name or str(user.id)).strip()
    channel = (ChannelRef(Platform.DISCORD, str(interaction.channel_id))
               if interaction.channel_id is not None else None)
    server = interaction.guild  # None, or without a name, when discord.py hasn't it cached
    server_name = (getattr(server, "name", None) or "").strip()[:100] or None
    return Caller(member=member_ref(user), name=name[:100] or str(user.id),
                  community=CommunityRef(Platform.DISCORD, guild), channel=channel,
                  is_admin=is_admin(interaction), community_name=server_name)


def option_value(spec_type: OptionType, value: object) -> object:
    """discord.py's transformed option value → what the core's validator takes. A member
    becomes a ``MemberRef``; a channel is already its id (``slash.ChannelId``)."""
    if spec_type is OptionType.MEMBER and isinstance(value, discord.abc.Snowflake):
        return member_ref(value)
    return value


# <@id>, <@!id> (a user), <@&id> (a role), <#id> (a channel), <:name:id> / <a:name:id> (an emoji).
_MARKUP = re.compile(r"<(?P<kind>@!?|@&|#)(?P<id>[0-9]+)>|<a?:(?P<emoji>\w+):[0-9]+>")


def plain_mentions(text: str, resolved: Mapping[str, Any]) -> str:
    """``text`` with Discord's mention markup turned into names a reader understands."""
    if "<" not in text:  # no markup at all (most text): no regex pass
        return text
    def name(match: re.Match[str]) -> str:
        if match["emoji"]:
            return f":{match['emoji']}:"
        kind, ident = match["kind"], match["id"]
        if kind == "#":
            channel = resolved.get("channels", {}).get(ident) or {}
            return f"#{channel.get('name') or 'channel'}"
        if kind == "@&":
            role = resolved.get("roles", {}).get(ident) or {}
            return f"@{str(role.get('name') or '').lstrip('@') or 'role'}"
        user = resolved.get("users", {}).get(ident) or {}
        member = resolved.get("members", {}).get(ident) or {}
        shown = member.get("nick") or user.get("global_name") or user.get("username")
        return f"@{shown or 'user'}"
    return _MARKUP.sub(name, text)


def invocation(interaction: discord.Interaction, spec: CommandSpec,
               values: Mapping[str, object], who: Caller) -> Invocation:
    data: Mapping[str, Any] = interaction.data or {}
    resolved: Mapping[str, Any] = data.get("resolved") or {}
    options: dict[str, object] = {}
    for opt in spec.options:
        value = option_value(opt.type, values.get(opt.name))
        if isinstance(value, str):
            value = plain_mentions(value, resolved)
        if value is not None:
            options[opt.name] = value
    return Invocation(spec.name, who, options, request_id=str(interaction.id))


def action_invocation(interaction: discord.Interaction, action: Action,
                      who: Caller) -> ActionInvocation:
    return ActionInvocation(action.name, action.value, who, request_id=str(interaction.id))
