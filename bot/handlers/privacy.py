"""/export and /forget-me: a member's own data, theirs to take or to delete."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from typing import Any

from bot import prompts
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.invocation import ActionInvocation, Invocation
from bot.reply import (
    Action,
    Attachment,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Reply,
    Text,
    Visibility,
    private_reply,
)

CSV_COLUMNS = ("type", "date", "outcome", "ask", "who", "area", "fear", "lesson", "private",
               "due", "status", "target", "by", "since", "zone", "until", "reason", "edited",
               "time", "days", "reminders", "cheers")
# What a spreadsheet would read as a formula at the start of a cell (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _SafeWriter(csv.DictWriter):  # type: ignore[type-arg]
    """A member's text as text when the file is opened in a spreadsheet: a cell that would
    start a formula (``=HYPERLINK(…)``, ``+cmd``, ``@SUM``) gets a leading apostrophe."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS)
                                 else v for k, v in rowdict.items()})


async def export(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    attempts, commitments, goal = await deps.repo.export_rows(caller.community, caller.member)
    received, given = await deps.repo.export_cheers(caller.community, caller.member)
    buf = io.StringIO()
    out = _SafeWriter(buf, CSV_COLUMNS, lineterminator="\n")
    out.writeheader()
    for a in attempts:
        out.writerow({"type": "attempt", "date": a.created_at.isoformat(), "outcome": a.outcome,
                      "ask": a.ask, "who": a.who or "", "area": a.area or "",
                      "fear": "" if a.fear is None else a.fear, "lesson": a.lesson or "",
                      "private": "yes" if a.private else "no",
                      "edited": a.edited_at.isoformat() if a.edited_at else "",
                      "cheers": received.get(a.id, 0)})
    for at in given:  # only when: the entry cheered is someone else's
        out.writerow({"type": "cheer given", "date": at.isoformat()})
    for c in commitments:
        out.writerow({"type": "commitment", "date": c.created_at.isoformat(), "ask": c.ask,
                      "due": c.due_at.isoformat(), "status": c.status, "zone": c.zone or ""})
    if goal is not None:
        out.writerow({"type": "goal", "date": goal.set_at.isoformat(), "target": goal.target,
                      "by": goal.by_date.isoformat() if goal.by_date else "",
                      "status": "reached" if goal.reached_at else "open",
                      "since": "start" if goal.counts_all else
                      (goal.counts_from or goal.set_at).isoformat()})
    pauses = await deps.repo.pauses(caller.community, caller.member, date.min)
    for p in pauses:
        out.writerow({"type": "pause", "date": p.started_at.isoformat(),
                      "since": p.first_day.isoformat(), "until": p.last_day.isoformat(),
                      "reason": p.reason or ""})
    dare = await deps.repo.last_dare(caller.community, caller.member)
    if dare is not None:
        out.writerow({"type": "dare", "date": dare.drawn_at.isoformat(), "ask": dare.text})
    remind = await deps.repo.get_remind(caller.community, caller.member)
    if remind is not None:  # its next nudge is when it is due
        out.writerow({"type": "remind", "due": remind.next_at.isoformat(), "time": remind.time,
                      "days": remind.days})
    info = await deps.repo.member(caller.community, caller.member)
    if info is not None:
        out.writerow({"type": "settings", "zone": info.timezone or "",
                      "reminders": "on" if info.reminders else "off"})
    stamp = deps.now().strftime("%Y%m%d")
    filename = f"whosnext-{caller.member.id}-{stamp}.csv"
    data = buf.getvalue().encode("utf-8")
    parts = [prompts.attempts_word(len(attempts)), prompts.promises_word(len(commitments)),
             *(["your goal"] if goal else []), *(["your breaks"] if pauses else []),
             *(["your last dare"] if dare else []), *(["your nudge"] if remind else [])]
    listed = ", ".join(parts[:-1]) + ", and " + parts[-1] if len(parts) > 2 else " and ".join(parts)
    return Reply((Text.of(f"Here's everything you've logged here: {listed}."),
                  Context.of("Only you can see this file.")),
                 Visibility.PRIVATE, attachments=(Attachment(filename, data, "text/csv"),))


async def forget_me(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    confirm = Action("forget", inv.caller.member.key)
    return private_reply(
        Text.of("This deletes everything I hold about you in this community: every ask, promise, "
                "cheer, your goal and settings. It can't be undone. Want a copy first? Try /export."),
        Buttons((Button("Yes, forget me", confirm, ButtonStyle.DANGER),)))


async def confirm_forget(deps: Deps, act: ActionInvocation) -> Reply:
    if act.value != act.caller.member.key:
        raise Refusal("Only the person who asked to be forgotten can confirm that.")
    await deps.repo.forget_member(act.caller.community, act.caller.member)
    return Reply((Text.of("Done. Everything about you here is gone. "
                          "If you ever come back, your first ask will be waiting."),),
                 Visibility.PRIVATE, replace_original=True)
