"""/rejected, /accepted, /pending: log an attempt and celebrate it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from bot import prompts, stats
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.cheer import cheer_button
from bot.handlers.pause import breaks, current, ranges
from bot.ids import MemberRef
from bot.invocation import Caller, Invocation
from bot.models import LogResult, NewAttempt, Outcome, Totals
from bot.reply import Block, Buttons, Context, Mention, Reply, Strong, Text

VERBS = {Outcome.REJECTED: "got a no", Outcome.ACCEPTED: "got a yes",
         Outcome.PENDING: "is waiting to hear back"}


async def log(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    outcome = Outcome(inv.command)  # /rejected, /accepted or /pending
    now = deps.now()
    # One trip to the database: it knows the member's zone, and says which day this is theirs.
    result = await deps.repo.log_attempt(NewAttempt(
        community=caller.community, member=caller.member, member_name=caller.name,
        outcome=outcome, ask=opts["ask"], at=now, who=opts.get("who"),
        area=opts.get("area"), fear=opts.get("fear"), lesson=opts.get("lesson"),
        private=bool(opts.get("private", False)), request_id=inv.request_id,
        default_zone=deps.default_timezone,
        max_per_hour=deps.max_logs_per_hour,
        history_since=now - stats.STREAK_WINDOW,
        channel_id=caller.channel.id if caller.channel else None,
    ))
    if result.limited:
        raise await rate_limited(deps, caller)
    streaks = [] if result.duplicate or result.day is None else \
        await streak_lines(deps, caller, result, result.day)
    return celebration(caller.member, caller.name, outcome, opts["ask"],
                       bool(opts.get("private", False)), result, streaks)


async def rate_limited(deps: Deps, caller: Caller) -> Refusal:
    """What the hourly limit says (nothing was written), with when logging opens again: raise
    it."""
    limit, now = deps.max_logs_per_hour, deps.now()
    lifts = await deps.repo.limit_lifts_at(caller.community, caller.member, now, limit)
    zone = await deps.member_zone(caller)
    minutes = max(1, math.ceil((lifts - now).total_seconds() / 60))
    return Refusal(f"Wow, {limit} entries in the last hour! That's the most I log per hour, "
                   "so nothing was saved this time. You can log again at "
                   f"{lifts.astimezone(zone):%H:%M} (in {minutes} "
                   f"{'minute' if minutes == 1 else 'minutes'}).")


async def streak_lines(deps: Deps, caller: Caller, result: LogResult, today: date
                       ) -> list[str]:
    """'5 days in a row' when this attempt grew the daily streak (the first ask of the day),
    and 'N weeks in a row' when it made this week count. Reads history only when needed."""
    lines: list[str] = []
    days = dict(result.days)
    if result.today_count != 1 and result.week_count != stats.WEEKLY_TARGET:
        return lines
    # Paused days hold the streaks (/pause).
    pauses = await breaks(deps, caller.community, caller.member, today - stats.STREAK_WINDOW)
    paused = ranges(pauses)
    if result.today_count == 1:
        daily = stats.daily_streak(days, today, paused)
        if daily.current >= 2:
            lines.append(f"{daily.current} days in a row!")
        if current(pauses, deps.now()):
            lines.append("Asking while on a break: that's the spirit!")
    if result.week_count == stats.WEEKLY_TARGET:
        if not days:  # not the first ask today: read them now (at most once a week)
            days = dict(await deps.repo.active_days(caller.community, caller.member,
                                                    today - stats.STREAK_WINDOW))
        weeks = stats.weekly_streak(days, today, paused).current
        lines.append(f"{weeks} weeks in a row with {stats.WEEKLY_TARGET}+ asks!" if weeks >= 2
                     else f"{stats.WEEKLY_TARGET} asks this week: the week counts!")
    return lines


def celebration(member: MemberRef, name: str, outcome: Outcome, ask: str, private: bool,
                result: LogResult, streaks: Sequence[str] = (), heard_back: bool = False
                ) -> Reply:
    """The public reply to a logged attempt: counts, milestones, streaks, a prompt, a Cheer.
    ``heard_back``: a pending ask turned no or yes (already counted as an ask, so no ask
    milestone again)."""
    t = result.totals
    if outcome == Outcome.REJECTED:
        line = prompts.pick(prompts.REJECTED_CHEERS, t.rejected)
    elif outcome == Outcome.ACCEPTED:
        line = prompts.pick(prompts.ACCEPTED_CHEERS, t.accepted)
    else:
        line = prompts.pick(prompts.PENDING_CHEERS, t.attempts)
    blocks: list[Block] = [
        Text.of(Mention(member, name), " heard back and" if heard_back else "",
                f" {VERBS[outcome]}",
                *((" on a private ask.",) if private else (": ", Strong(ask)))),
        Text.of(line, *(f" {s}" for s in streaks)),
    ]
    counts = [f"{prompts.attempts_word(t.attempts)} so far", prompts.rejections_word(t.rejected)]
    if outcome == Outcome.ACCEPTED:
        counts += [prompts.yes_word(t.accepted), f"asks per yes: {ratio(t.attempts, t.accepted)}"]
    blocks.append(Context.of(" · ".join(counts)))
    milestones = milestone_lines(outcome, t, result.celebrated, result.goal_reached,
                                 counted_ask=not heard_back)
    if milestones:
        blocks.append(Text.of(Strong("Milestone! "), " ".join(milestones)))
    if outcome == Outcome.REJECTED:
        blocks.append(Context.of("Reflect: ", prompts.reflection(member.key, result.rejection_seq)))
    blocks.append(Buttons((cheer_button(result.attempt_id),)))
    return Reply(tuple(blocks))


def milestone_lines(outcome: Outcome, t: Totals, celebrated: Totals | None,
                    goal_reached: int | None, counted_ask: bool = True) -> list[str]:
    """The milestones an attempt now ``outcome`` reached, each only past the counts the member
    has had celebrated (``celebrated``: None, as if none): an /undo or an /edit that took a
    count down never has its milestone celebrated twice. ``counted_ask``: it is a new ask (not
    one heard back or edited)."""
    shown = celebrated or Totals()
    return [m for m in (
        prompts.attempt_milestone(t.attempts) if counted_ask and t.attempts > shown.attempts
        else None,
        prompts.rejection_milestone(t.rejected)
        if outcome == Outcome.REJECTED and t.rejected > shown.rejected else None,
        prompts.FIRST_YES if outcome == Outcome.ACCEPTED and t.accepted == 1
        and shown.accepted < 1 else None,
        prompts.goal_reached(goal_reached) if goal_reached else None,
    ) if m]


def ratio(attempts: int, accepted: int) -> str:
    if not accepted:
        return "-"
    value = attempts / accepted
    return f"{value:.1f}".rstrip("0").rstrip(".")
