"""/undo: remove the member's own most recent entry."""

from __future__ import annotations

from bot.handlers import Deps
from bot.invocation import Invocation
from bot.reply import Reply, Strong, Text, private_reply


async def undo(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    removed = await deps.repo.undo_last(inv.caller.community, inv.caller.member, deps.now(),
                                        inv.request_id)
    if removed is None:
        return private_reply(Text.of("There's nothing of yours to undo here."))
    if removed.kind == "commitment":
        what = "promise"
    else:
        what = {"rejected": "no", "accepted": "yes", "pending": "pending ask"}[removed.outcome or ""]
    return private_reply(Text.of(f"Removed your last {what}: ", Strong(removed.ask), "."))
