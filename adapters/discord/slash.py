"""The catalogue → discord.py app commands with native option types.

Each command gets one generated callback whose signature (``__signature__``) lists the
catalogue's options with discord.py annotations; discord.py builds the Discord options from it
as it would from a hand-written function. Every option value still goes through the core's own
validation; the native types only help members type the right thing.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord
from discord import app_commands

from bot.commands import CATALOGUE, CommandSpec, OptionSpec, OptionType

RunCommand = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
Autocomplete = Callable[[discord.Interaction, str],
                        Coroutine[Any, Any, list[app_commands.Choice[str]]]]
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)


class ChannelId(app_commands.Transformer):
    """A text or announcement channel, passed on as its id. Unlike a ``TextChannel``
    annotation it needs no channel cache: Discord's own resolved data is enough."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction, value: Any) -> str:
        return str(value.id)


def annotation(opt: OptionSpec) -> Any:
    """The discord.py annotation for one catalogue option."""
    if opt.type is OptionType.INT:
        if opt.min_value is None and opt.max_value is None:
            return int
        return app_commands.Range[int, opt.min_value, opt.max_value]
    if opt.type is OptionType.BOOL:
        return bool
    if opt.type is OptionType.MEMBER:
        return discord.User
    if opt.type is OptionType.CHANNEL:
        return app_commands.Transform[str, ChannelId]
    if opt.type is OptionType.CHOICE:
        return str
    # TEXT, DATE, ZONE: strings, with the catalogue's length limit.
    return app_commands.Range[str, 1, min(opt.max_length, 6000)]


SlashCommand = app_commands.Command[Any, ..., None]


def build_command(spec: CommandSpec, run: RunCommand, zones: Autocomplete) -> SlashCommand:
    async def callback(interaction: discord.Interaction, **values: Any) -> None:
        await run(interaction, spec, values)

    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction)]
    for opt in spec.options:
        params.append(inspect.Parameter(
            opt.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation(opt),
            default=inspect.Parameter.empty if opt.required else None))
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    # discord.py's own decorators, as on a hand-written callback.
    callback = app_commands.describe(**{opt.name: opt.description[:100]
                                        for opt in spec.options})(callback)
    choices = {opt.name: [app_commands.Choice(name=c, value=c) for c in opt.choices[:25]]
               for opt in spec.options if opt.type is OptionType.CHOICE}
    if choices:
        callback = app_commands.choices(**choices)(callback)
    completes = {opt.name: zones for opt in spec.options if opt.type is OptionType.ZONE}
    if completes:
        callback = app_commands.autocomplete(**completes)(callback)

    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=spec.description[:100], callback=callback)
    # Communities are servers: installed to a server, used in a server (there is no community
    # in a DM; buttons in DMs work, see render.py).
    command.guild_only = True
    command.allowed_contexts = app_commands.AppCommandContext(guild=True)
    command.allowed_installs = app_commands.AppInstallationType(guild=True)
    if spec.admin_only:
        command.default_permissions = ADMIN_PERMISSIONS
    return command


def build_commands(run: RunCommand, zones: Autocomplete) -> list[SlashCommand]:
    """Every command of the catalogue, available or not: the core answers the ones still to
    come with a friendly note, and registering them now avoids a re-sync later."""
    return [build_command(spec, run, zones) for spec in CATALOGUE]


def match_zones(zones: tuple[str, ...], current: str, limit: int = 25) -> list[str]:
    """IANA zones for what a member has typed so far: prefix matches of the whole name or of
    the city first, then anything containing it. Spaces count as underscores."""
    query = current.strip().replace(" ", "_").lower()
    if not query:
        return [z for z in COMMON_ZONES if z in zones][:limit]
    starts, city, contains = [], [], []
    for zone in zones:
        low = zone.lower()
        if low.startswith(query):
            starts.append(zone)
        elif low.rsplit("/", 1)[-1].startswith(query):
            city.append(zone)
        elif query in low:
            contains.append(zone)
    return (starts + city + contains)[:limit]


COMMON_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "America/New_York",
                "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
                "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
                "Africa/Lagos", "Pacific/Auckland")
