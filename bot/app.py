"""The core object: ``dispatch(Invocation) -> Reply`` and ``handle_action``.

Every adapter goes through here. Bad input never raises out of the core: it becomes a private,
friendly error reply and nothing is written.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import commands
from bot.commands import OptionError
from bot.handlers import Deps, attempts, board, checkins, commitments, goal, guide, privacy, undo
from bot.handlers.cheer import cheer
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.ports import Charts, Clock, Repository, SystemClock
from bot.reply import OOPS, Reply, error_reply
from bot.textopts import parse

log = logging.getLogger(__name__)

Handler = Callable[[Deps, Invocation, dict], Awaitable[Reply]]
ActionHandler = Callable[[Deps, ActionInvocation], Awaitable[Reply]]

HANDLERS: dict[str, Handler] = {
    "rejected": attempts.log,
    "accepted": attempts.log,
    "pending": attempts.log,
    "who-next": commitments.who_next,
    "asks": commitments.asks,
    "undo": undo.undo,
    "leaderboard": board.leaderboard,
    "stats": board.stats_command,
    "help": guide.help_command,
    "goal": goal.goal,
    "export": privacy.export,
    "forget-me": privacy.forget_me,
    "checkin": checkins.checkin,
    "timezone": checkins.timezone,
    "reminders": checkins.reminders,
}
ACTIONS: dict[str, ActionHandler] = {
    "cheer": cheer,
    "resolve": commitments.resolve,
    "forget": privacy.confirm_forget,
}


class App:
    def __init__(self, repo: Repository, clock: Clock | None = None,
                 default_timezone: str = "UTC", max_logs_per_hour: int = 20,
                 charts: Charts | None = None):
        self.deps = Deps(repo, clock or SystemClock(), default_timezone, max_logs_per_hour,
                         charts=charts)

    async def dispatch(self, inv: Invocation) -> Reply:
        spec = commands.get_command(inv.command)
        if spec is None or inv.command.lower().lstrip("/") not in HANDLERS:
            return unknown_command(inv.command)
        inv = replace(inv, command=spec.name)  # "/Rejected" is /rejected from here on
        try:
            if spec.admin_only and not inv.caller.is_admin:
                return error_reply(f"/{spec.name} is for admins of this community.")
            opts = commands.validate(spec, inv.options)
            reply = await HANDLERS[spec.name](self.deps, inv, opts)
            if opts.get("private") is True:
                reply = replace(reply, conceal_input=True)
            return reply
        except OptionError as err:
            return error_reply(str(err), err.hint or spec.usage, option=err.option)
        except Exception:
            log.exception("/%s failed", spec.name)
            return error_reply(OOPS)

    async def run_text(self, command: str, text: str, caller: Caller,
                       request_id: str | None = None) -> Reply:
        """Parse ``text`` with the option grammar, then dispatch. For Slack and the terminal."""
        spec = commands.get_command(command)
        if spec is None or spec.name not in HANDLERS:
            return unknown_command(command)
        try:
            options = parse(spec, text)
        except OptionError as err:
            return error_reply(str(err), spec.usage, option=err.option)
        return await self.dispatch(Invocation(spec.name, caller, dict(options), request_id))

    async def handle_action(self, act: ActionInvocation) -> Reply:
        handler = ACTIONS.get(act.name)
        if handler is None:
            return error_reply("That button doesn't do anything any more. Sorry!")
        try:
            return await handler(self.deps, act)
        except Exception:
            log.exception("action %s failed", act.name)
            return error_reply(OOPS)


def unknown_command(name: str) -> Reply:
    shown = name if len(name) <= 40 else name[:40] + "…"
    close = commands.suggest_command(name)
    did = f" Did you mean /{close}?" if close else ""
    return error_reply(f"I don't know the command “/{shown.lstrip('/')}”.{did}",
                       "Send /help to see everything I can do.")
