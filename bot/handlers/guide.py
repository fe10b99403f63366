"""/help, built from the catalogue: it lists only commands that work."""

from __future__ import annotations

from bot.commands import CommandSpec, available_commands
from bot.handlers import Deps, Options
from bot.invocation import Invocation
from bot.prompts import SLOGAN
from bot.reply import Context, Heading, Reply, Text, Visibility


def main_hint(spec: CommandSpec) -> str:
    """`/checkin set|off|show|preview`, `/rejected asked for a raise`, `/stats [member]`."""
    main = spec.main
    if main is None:
        return ""
    sample = "|".join(main.choices) if main.choices else main.example if main.required else main.name
    return f" {sample}" if main.required else f" [{sample}]"


def help_reply() -> Reply:
    lines = []
    for spec in available_commands():
        lines.append(f"/{spec.name}{main_hint(spec)}: {spec.description}")
    return Reply((
        Heading("Who's Next"),
        Text.of("Log every ask you make, above all the ones that end in no. "
                "The group celebrates the attempt, not the outcome."),
        Text.of("\n".join(lines)),
        Context.of("Add options as name:value, quoting spaces: /rejected asked for a raise "
                   "who:\"my boss\" area:work fear:7 private:true. ", SLOGAN),
    ), Visibility.PRIVATE)


async def help_command(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    return help_reply()
