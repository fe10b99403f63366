"""/help, built from the catalogue: it lists only commands that work."""

from __future__ import annotations

from bot.commands import available_commands
from bot.handlers import Deps
from bot.invocation import Invocation
from bot.prompts import SLOGAN
from bot.reply import Context, Heading, Reply, Text, Visibility


def help_reply() -> Reply:
    lines = []
    for spec in available_commands():
        hint = f" {spec.usage_hint}" if spec.usage_hint else ""
        lines.append(f"/{spec.name}{hint}: {spec.description}")
    return Reply((
        Heading("Who's Next"),
        Text.of("Log every ask you make, above all the ones that end in no. "
                "The group celebrates the attempt, not the outcome."),
        Text.of("\n".join(lines)),
        Context.of("Options go as name:value, with quotes for spaces: who:\"my boss\". ", SLOGAN),
    ), Visibility.PRIVATE)


async def help_command(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    return help_reply()
