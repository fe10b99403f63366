"""/rejected, /accepted, /pending: log an attempt and celebrate it."""

from __future__ import annotations

from bot import prompts
from bot.handlers import Deps
from bot.invocation import Invocation
from bot.models import LogResult, NewAttempt
from bot.reply import (
    Action,
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Mention,
    Reply,
    Strong,
    Text,
)


async def log(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    caller = inv.caller
    result = await deps.repo.log_attempt(NewAttempt(
        community=caller.community, member=caller.member, member_name=caller.name,
        outcome=inv.command, ask=opts["ask"], at=deps.now(), who=opts.get("who"),
        area=opts.get("area"), fear=opts.get("fear"), lesson=opts.get("lesson"),
        private=bool(opts.get("private", False)), request_id=inv.request_id,
    ))
    return celebration(caller.member, caller.name, inv.command, opts["ask"],
                       bool(opts.get("private", False)), result)


def celebration(member, name: str, outcome: str, ask: str, private: bool,
                result: LogResult) -> Reply:
    """The public reply to a logged attempt: counts, milestones, a prompt, a Cheer button."""
    t = result.totals
    if outcome == "rejected":
        line = prompts.pick(prompts.REJECTED_CHEERS, t.rejected)
    elif outcome == "accepted":
        line = prompts.pick(prompts.ACCEPTED_CHEERS, t.accepted)
    else:
        line = prompts.pick(prompts.PENDING_CHEERS, t.attempts)
    verb = {"rejected": "got a no", "accepted": "got a yes", "pending": "is waiting to hear back"}
    blocks: list[Block] = [
        Text.of(Mention(member, name), f" {verb[outcome]}",
                *((" on a private ask.",) if private else (": ", Strong(ask)))),
        Text.of(line),
    ]
    counts = [f"{prompts.attempts_word(t.attempts)} so far", prompts.rejections_word(t.rejected)]
    if outcome == "accepted":
        counts += [prompts.yes_word(t.accepted), f"asks per yes: {ratio(t.attempts, t.accepted)}"]
    blocks.append(Context.of(" · ".join(counts)))
    milestones = [m for m in (
        prompts.attempt_milestone(t.attempts),
        prompts.rejection_milestone(t.rejected) if outcome == "rejected" else None,
        prompts.FIRST_YES if outcome == "accepted" and t.accepted == 1 else None,
    ) if m]
    if milestones:
        blocks.append(Text.of(Strong("Milestone! "), " ".join(milestones)))
    if outcome == "rejected":
        blocks.append(Context.of("Reflect: ", prompts.reflection(member.key, result.rejection_seq)))
    blocks.append(Buttons((Button("Cheer", Action("cheer", str(result.attempt_id)),
                                  ButtonStyle.PRIMARY),)))
    return Reply(tuple(blocks))


def ratio(attempts: int, accepted: int) -> str:
    if not accepted:
        return "-"
    value = attempts / accepted
    return f"{value:.1f}".rstrip("0").rstrip(".")
