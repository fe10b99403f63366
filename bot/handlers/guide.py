"""/help, built from the catalogue: it lists only commands that work."""

from __future__ import annotations

from bot.commands import (
    CommandSpec,
    OptionError,
    available_commands,
    get_command,
    suggest_command,
)
from bot.handlers import Deps, Options
from bot.invocation import Invocation
from bot.prompts import SLOGAN
from bot.reply import Block, Context, Heading, Reply, Text, Visibility


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


def command_help(spec: CommandSpec) -> Reply:
    """One command: what it does, how to write it, and each of its options."""
    lines = []
    for o in spec.options:
        choices = (f" ({', '.join(o.choices)})" if o.choices and len(o.choices) <= 8
                   and o.choices[0] not in o.description else "")
        lines.append(f"{o.name}: {o.description}{choices}" + (" (needed)" if o.required else ""))
    blocks: list[Block] = [Heading(f"/{spec.name}"), Text.of(spec.description),
                           Text.of(spec.usage)]
    if lines:
        blocks.append(Text.of("\n".join(lines)))
    if spec.admin_only:
        blocks.append(Context.of("For the community's admins."))
    return Reply(tuple(blocks), Visibility.PRIVATE)


async def help_command(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    asked = opts.get("command")
    if asked is None:
        return help_reply()
    name = str(asked).strip().lstrip("/").lower()
    spec = get_command(name)
    if spec is None or not spec.available:
        close = suggest_command(name)
        did = f" Did you mean /{close}?" if close else ""
        raise OptionError(f"There's no command /{name}.{did} /help lists them all.", "command",
                          hint="Try: /help rejected")
    return command_help(spec)
