"""The core object: ``dispatch(Invocation) -> Reply``, ``run_text`` and ``handle_action``.

Every adapter goes through here. The core never raises (see ``App``): bad input and refusals
become a private, friendly error reply and nothing is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from difflib import SequenceMatcher

from bot import commands
from bot.commands import CommandSpec, OptionError
from bot.errors import Refusal, Unavailable
from bot.handlers import (
    Deps,
    Options,
    attempts,
    board,
    checkins,
    commitments,
    dare,
    edit,
    goal,
    guide,
    pause,
    privacy,
    remind,
    season,
    undo,
)
from bot.handlers.cheer import CHEER_ACTION, cheer
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.outage import OutageLog
from bot.ports import Charts, Clock, CommandOutcome, Metrics, NoMetrics, Repository, SystemClock
from bot.reply import OOPS, UNAVAILABLE, Reply, error_reply
from bot.textopts import parse

log = logging.getLogger(__name__)

Handler = Callable[[Deps, Invocation, Options], Awaitable[Reply]]
ActionHandler = Callable[[Deps, ActionInvocation], Awaitable[Reply]]
# Raw options from the text after a command: ``bot.textopts.parse``, or an adapter's own
# reading of its platform's markup on top of it. Raises ``OptionError``.
Grammar = Callable[[CommandSpec, str], Mapping[str, object]]

HANDLERS: dict[str, Handler] = {
    "rejected": attempts.log,
    "accepted": attempts.log,
    "pending": attempts.log,
    "who-next": commitments.who_next,
    "asks": commitments.asks,
    "dare": dare.dare,
    "edit": edit.edit,
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
    "season": season.season,
    "pause": pause.pause,
    "remind": remind.remind,
}
ACTIONS: dict[str, ActionHandler] = {
    CHEER_ACTION: cheer,
    "resolve": commitments.resolve,
    "asks": commitments.asks_more,
    "forget": privacy.confirm_forget,
    "dare": dare.take,
    remind.LOG_ACTION: remind.log_form,
    edit.EDIT_ACTION: edit.edit_form,
    edit.PAGE_ACTION: edit.entries_more,
}


class App:
    """The platform-free core.

    It never raises: ``dispatch``, ``run_text`` and ``handle_action`` always return a
    ``Reply``. Handlers raise typed errors to refuse: a ``Refusal`` (``OptionError`` is one)
    becomes its private error reply, with the command's usage as the hint of an
    ``OptionError`` that has none of its own; any other exception is logged here, once, and
    becomes the OOPS reply. (Cancellation still propagates: it is the caller's.) Adapters
    therefore catch only around their own platform calls, never around calls into the core.

    Every answer is reported to ``metrics``: the command's name (``unknown`` for a name not in
    the catalogue, ``button:<name>`` for a press), its ``CommandOutcome`` and how long it took
    on ``timer`` (seconds).
    """

    def __init__(self, repo: Repository, clock: Clock | None = None,
                 default_timezone: str = "UTC", max_logs_per_hour: int = 20,
                 charts: Charts | None = None, metrics: Metrics | None = None,
                 timer: Callable[[], float] = time.perf_counter):
        self.deps = Deps(repo, clock or SystemClock(), default_timezone, max_logs_per_hour,
                         charts=charts)
        self.metrics: Metrics = metrics or NoMetrics()
        self._timer = timer
        # One outage log for the core and the scheduler it feeds: the scheduler's runs, which
        # reach the database every few seconds, are what tell it the database is back.
        self.outage = OutageLog(log)

    async def dispatch(self, inv: Invocation) -> Reply:
        """The reply to one command (options raw, as the adapter read them). Never raises."""
        spec = commands.get_command(inv.command)
        if spec is None or spec.name not in HANDLERS:
            return self._unknown(inv.command)
        # "/Rejected" is /rejected from here on
        return await self._answer(spec.name, f"/{spec.name}",
                                  self._command(spec, replace(inv, command=spec.name)), spec.usage)

    async def _command(self, spec: CommandSpec, inv: Invocation) -> Reply:
        if spec.admin_only and not inv.caller.is_admin:
            raise Refusal(f"/{spec.name} is for admins of this community.")
        opts = commands.validate(spec, inv.options)
        reply = await HANDLERS[spec.name](self.deps, inv, opts)
        if opts.get("private") is True:
            reply = replace(reply, conceal_input=True)
        return reply

    async def run_text(self, command: str, text: str, caller: Caller,
                       request_id: str | None = None, grammar: Grammar = parse) -> Reply:
        """Read ``text`` with the option grammar, then dispatch. For Slack and the terminal.
        Never raises."""
        spec = commands.get_command(command)
        if spec is None or spec.name not in HANDLERS:
            return self._unknown(command, text)
        try:
            options = grammar(spec, text)
        except Exception as err:  # a bad option (or a bug): answered, and counted, as dispatch would
            return await self._answer(spec.name, f"/{spec.name}", _raise(err), spec.usage)
        return await self.dispatch(Invocation(spec.name, caller, dict(options), request_id))

    async def handle_action(self, act: ActionInvocation) -> Reply:
        """The reply to one button press. Never raises."""
        # Only the catalogue's names as labels: a forged action id can't mint new series.
        name = act.name if act.name in ACTIONS else "unknown"
        return await self._answer(f"button:{name}", f"the {act.name} button", self._action(act))

    async def _action(self, act: ActionInvocation) -> Reply:
        handler = ACTIONS.get(act.name)
        if handler is None:
            raise Refusal("That button doesn't do anything any more. Sorry!")
        return await handler(self.deps, act)

    async def _answer(self, name: str, what: str, work: Awaitable[Reply],
                      usage: str | None = None) -> Reply:
        """``work``'s reply (see ``answer``), reported to the metrics under ``name``."""
        started = self._timer()
        reply, outcome = await answer(what, work, self.outage, usage)
        self.metrics.command(name, outcome, max(0.0, self._timer() - started))
        return reply

    def _unknown(self, name: str, text: str = "") -> Reply:
        self.metrics.command("unknown", CommandOutcome.REFUSED, 0.0)
        return unknown_command(name, text)


async def _raise(err: Exception) -> Reply:
    raise err


async def answer(what: str, work: Awaitable[Reply], outage: OutageLog,
                 usage: str | None = None) -> tuple[Reply, CommandOutcome]:
    """``work``'s reply and how it went; a refusal becomes its error reply, a database out of
    reach the UNAVAILABLE one (logged as an outage), anything else is logged (as "``what``
    failed") and becomes the OOPS reply."""
    try:
        reply = await work
    except OptionError as err:
        return error_reply(str(err), err.hint or usage, option=err.option), CommandOutcome.REFUSED
    except Refusal as err:
        return error_reply(str(err), err.hint, option=err.option), CommandOutcome.REFUSED
    except Unavailable as err:
        outage.failed(what, err)
        return error_reply(UNAVAILABLE), CommandOutcome.UNAVAILABLE
    except Exception:
        log.exception("%s failed", what)
        return error_reply(OOPS), CommandOutcome.ERROR
    return reply, CommandOutcome.REFUSED if reply.error else CommandOutcome.OK


def unknown_command(name: str, text: str = "") -> Reply:
    """The answer to ``/name text`` when no command is called ``name``: a did-you-mean for a
    space instead of a dash (``/who next call mom`` is ``/who-next call mom``), else for the
    closest name."""
    shown = name if len(name) <= 40 else name[:40] + "…"
    dashed = _dashed(name, text)
    close = commands.suggest_command(name)
    did = f" Did you mean {dashed}?" if dashed else f" Did you mean /{close}?" if close else ""
    return error_reply(f"I don't know the command “/{shown.lstrip('/')}”.{did}",
                       "Send /help to see everything I can do.")


def meant_line(command: str, text: str = "") -> str | None:
    """The command line that ``command text``, typed without its slash, most likely meant:
    ``rejected asked`` is ``/rejected asked``, ``who next call mom`` ``/who-next call mom``,
    ``rejcted asked`` ``/rejected asked``. None when nothing comes close."""
    known = _served(command)
    if known:
        return _line(known, text)
    # A sentence is likelier than a typo and a missing slash at once: only a near miss counts
    # ("rejcted", not "hello" for /help).
    close = commands.suggest_command(command)
    near = close is not None and SequenceMatcher(None, command.lower(), close).ratio() >= 0.8
    return _dashed(command, text) or (_line(close, text) if close and near else None)


def _served(name: str) -> str | None:
    """The name of the command ``name`` calls (any case), if there is one."""
    spec = commands.get_command(name)
    return spec.name if spec is not None and spec.name in HANDLERS else None


def _dashed(name: str, text: str) -> str | None:
    """``/who next call mom`` as ``/who-next call mom``: the line, if name-dash-first-word is
    a command."""
    first, _, rest = text.strip().partition(" ")
    joined = _served(f"{name.lstrip('/')}-{first}") if first else None
    return _line(joined, rest) if joined else None


def _line(command: str, text: str) -> str:
    """``/command text`` for a did-you-mean, a long text cut short."""
    text = " ".join(text.split())
    return f"/{command} {text if len(text) <= 60 else text[:60].rstrip() + '…'}".rstrip()
