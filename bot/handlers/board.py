"""/leaderboard and /stats."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from bot import prompts
from bot.commands import OptionError
from bot.handlers import Deps
from bot.handlers.logging import ratio
from bot.ids import MemberRef
from bot.invocation import Invocation
from bot.reply import Block, Context, Fields, Heading, Mention, Reply, Strong, Text

PERIOD_TITLES = {"week": "this week", "month": "this month", "all": "all time"}


def period_start(period: str, now: datetime, zone) -> datetime | None:
    """The start of the current calendar week (Monday) or month, local midnight."""
    if period == "all":
        return None
    today = now.astimezone(zone).date()
    first = today - timedelta(days=today.weekday()) if period == "week" else today.replace(day=1)
    return datetime.combine(first, time(0), tzinfo=zone)


async def leaderboard(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    period, by = opts.get("period", "week"), opts.get("by", "attempts")
    since = period_start(period, deps.now(), deps.community_zone())
    board = await deps.repo.leaderboard(inv.caller.community, since, by, inv.caller.member)
    unit = "asks" if by == "attempts" else "no's"
    blocks: list[Block] = [Heading(f"Leaderboard: {unit}, {PERIOD_TITLES[period]}")]
    if not board.top:
        blocks.append(Text.of("No asks logged yet for this period. Yours could be the first!"))
        return Reply(tuple(blocks))
    lines: list = []
    for row in board.top:
        lines += [f"{row.rank}. ", Mention(row.member, row.name), f" · {row.count}\n"]
    blocks.append(Text.of(*lines[:-1], lines[-1].rstrip("\n")))
    me = board.caller
    if me is None:
        blocks.append(Context.of("You're not on the board yet for this period: "
                                 "one ask puts you there."))
    elif all(r.member != me.member for r in board.top):
        blocks.append(Context.of(f"You: #{me.rank} of {board.members} with {me.count}. Keep going!"))
    else:
        blocks.append(Context.of(f"You: #{me.rank} of {board.members}."))
    blocks.append(Context.of("Every ask counts the same, yes or no."))
    return Reply(tuple(blocks))


def milestones_reached(count: int) -> list[int]:
    return [m for m in prompts.ATTEMPT_MILESTONES if m <= count]


async def stats(deps: Deps, inv: Invocation, opts: dict) -> Reply:
    caller, target = inv.caller, opts.get("member")
    if target is None:
        member, name = caller.member, caller.name
    else:
        info = None
        if isinstance(target, MemberRef):
            info = await deps.repo.member(caller.community, target)
        else:
            info = await deps.repo.find_member(caller.community, str(target).lstrip("@"))
        if info is None:
            raise OptionError(f"I don't know “{target}” here yet. They show up once they've "
                              "logged an ask.", "member")
        member, name = info.member, info.name
    t = await deps.repo.totals(caller.community, member)
    whose = "Your" if member == caller.member else f"{name}'s"
    blocks: list[Block] = [
        Heading(f"{whose} asking so far"),
        Fields((("Asks", str(t.attempts)), ("No's", str(t.rejected)), ("Yeses", str(t.accepted)),
                ("Waiting", str(t.pending)),
                ("Asks per yes", ratio(t.attempts, t.accepted) if t.accepted else "no yes yet"))),
    ]
    if t.attempts == 0:
        blocks.append(Text.of("Nothing logged yet. The first ask is the bravest one."))
    reached = milestones_reached(t.attempts)
    no_reached = milestones_reached(t.rejected)
    if reached or no_reached:
        parts = []
        if reached:
            parts.append("asks " + ", ".join(map(str, reached)))
        if no_reached:
            parts.append("no's " + ", ".join(map(str, no_reached)))
        if t.accepted:
            parts.append("first yes")
        blocks.append(Text.of(Strong("Milestones: "), " · ".join(parts)))
    nxt = next((m for m in prompts.ATTEMPT_MILESTONES if m > t.attempts), None)
    if nxt:
        blocks.append(Context.of(f"{nxt - t.attempts} more to the {nxt}-ask milestone."))
    return Reply(tuple(blocks))
