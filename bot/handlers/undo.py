"""/undo: remove the member's own most recent entry."""

from __future__ import annotations

from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.invocation import Invocation
from bot.models import EntryKind, Outcome
from bot.reply import Reply, Strong, Text, private_reply

WHAT = {Outcome.REJECTED: "no", Outcome.ACCEPTED: "yes", Outcome.PENDING: "pending ask"}


async def undo(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    removed = await deps.repo.undo_last(inv.caller.community, inv.caller.member, deps.now(),
                                        inv.request_id)
    if removed is None:
        raise Refusal("There's nothing of yours to undo here.")
    if removed.kind == EntryKind.COMMITMENT or removed.outcome is None:
        what = "promise"
    else:
        what = WHAT[removed.outcome]
    ask = removed.ask.rstrip()
    return private_reply(Text.of(f"Removed your last {what}: ", Strong(ask),
                                 "" if ask.endswith((".", "!", "?", "…")) else "."))
