"""/rejected, /accepted, /pending: log an attempt and celebrate it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import prompts, stats
from bot.handlers import Deps
from bot.ids import MemberRef
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
    error_reply,
)


async def log(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    caller = inv.caller
    now = deps.now()
    result = await deps.repo.log_attempt(NewAttempt(
        community=caller.community, member=caller.member, member_name=caller.name,
        outcome=inv.command, ask=opts["ask"], at=now, who=opts.get("who"),
        area=opts.get("area"), fear=opts.get("fear"), lesson=opts.get("lesson"),
        private=bool(opts.get("private", False)), request_id=inv.request_id,
        local_day=await deps.local_day(caller.community), max_per_hour=deps.max_logs_per_hour,
    ))
    if result.limited:
        return rate_limited(deps.max_logs_per_hour)
    return celebration(caller.member, caller.name, inv.command, opts["ask"],
                       bool(opts.get("private", False)), result, now, deps.default_timezone)


def rate_limited(limit: int) -> Reply:
    return error_reply(f"Wow, {limit} entries in the last hour! That's the most I log per hour, "
                       "so nothing was saved this time. Give it a little while and log it then.")


def streak_lines(result: LogResult, now: datetime, default_zone: str) -> list[str]:
    """'5 days in a row' when this attempt grew the daily streak, and the same for weeks."""
    if result.duplicate:
        return []
    zone = ZoneInfo(result.member_timezone or default_zone)
    days = stats.local_days(result.recent_times, zone)
    today = now.astimezone(zone).date()
    lines = []
    daily = stats.daily_streak(days, today)
    if days.count(today) == 1 and daily.current >= 2:
        lines.append(f"{daily.current} days in a row!")
    if stats.week_count(days, today) == stats.WEEKLY_TARGET:
        weeks = stats.weekly_streak(days, today).current
        lines.append(f"{weeks} weeks in a row with {stats.WEEKLY_TARGET}+ asks!" if weeks >= 2
                     else f"{stats.WEEKLY_TARGET} asks this week: the week counts!")
    return lines


def celebration(member: MemberRef, name: str, outcome: str, ask: str, private: bool,
                result: LogResult, now: datetime, default_zone: str) -> Reply:
    """The public reply to a logged attempt: counts, milestones, streaks, a prompt, a Cheer."""
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
        Text.of(line, *(f" {s}" for s in streak_lines(result, now, default_zone))),
    ]
    counts = [f"{prompts.attempts_word(t.attempts)} so far", prompts.rejections_word(t.rejected)]
    if outcome == "accepted":
        counts += [prompts.yes_word(t.accepted), f"asks per yes: {ratio(t.attempts, t.accepted)}"]
    blocks.append(Context.of(" · ".join(counts)))
    milestones = [m for m in (
        prompts.attempt_milestone(t.attempts),
        prompts.rejection_milestone(t.rejected) if outcome == "rejected" else None,
        prompts.FIRST_YES if outcome == "accepted" and t.accepted == 1 else None,
        prompts.goal_reached(result.goal_reached) if result.goal_reached else None,
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
