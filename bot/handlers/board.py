"""/leaderboard and /stats."""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import prompts, stats
from bot.commands import OptionError
from bot.handlers import Deps, Options
from bot.handlers.attempts import ratio
from bot.ids import MemberRef
from bot.invocation import Invocation
from bot.models import MemberInfo, Outcome, Period, RankBy, Totals
from bot.ports import Charts
from bot.reply import (
    Block,
    Context,
    Fields,
    Heading,
    Image,
    Mention,
    Reply,
    Span,
    Strong,
    Text,
    Visibility,
)

PERIOD_TITLES = {Period.WEEK: "this week", Period.MONTH: "this month", Period.ALL: "all time"}
# (what counts, what gets you on the board) for each `by`
BY_WORDS = {RankBy.ATTEMPTS: ("asks", "one ask"), RankBy.REJECTIONS: ("no's", "one no")}


def period_start(period: Period, now: datetime, zone: ZoneInfo) -> date | None:
    """The first local day of the current calendar week (from Monday) or month."""
    if period == Period.ALL:
        return None
    today = now.astimezone(zone).date()
    return (today - timedelta(days=today.weekday()) if period == Period.WEEK
            else today.replace(day=1))


async def leaderboard(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    # The catalogue's choices for these options are the enums' values.
    period = Period(opts.get("period", Period.WEEK))
    by = RankBy(opts.get("by", RankBy.ATTEMPTS))
    since = period_start(period, deps.now(), await deps.community_zone(inv.caller.community))
    board = await deps.repo.leaderboard(inv.caller.community, since, by, inv.caller.member,
                                        period=period)
    unit, entry = BY_WORDS[by]
    when = PERIOD_TITLES[period]
    blocks: list[Block] = [Heading(f"Leaderboard: {unit}, {when}")]
    if not board.top:
        blocks.append(Text.of(f"No {unit} logged {when} yet. Yours could be the first!"))
        return Reply(tuple(blocks))
    lines: list[Span] = []
    for i, row in enumerate(board.top):
        newline = "\n" if i < len(board.top) - 1 else ""
        lines += [f"{row.rank}. ", Mention(row.member, row.name), f" · {row.count}{newline}"]
    blocks.append(Text.of(*lines))
    me = board.caller
    if me is None:
        blocks.append(Context.of(f"You're not on this board yet: {entry} puts you there."))
    elif all(r.member != me.member for r in board.top):
        blocks.append(Context.of(f"You: #{me.rank} of {board.members} with {me.count}. Keep going!"))
    else:
        blocks.append(Context.of(f"You: #{me.rank} of {board.members}."))
    blocks.append(Context.of("Every ask counts the same, yes or no."))
    return Reply(tuple(blocks))


async def resolve_member(deps: Deps, inv: Invocation, target: object) -> MemberInfo:
    caller = inv.caller
    if isinstance(target, MemberRef):
        info = await deps.repo.member(caller.community, target)
    else:
        info = await deps.repo.find_member(caller.community, str(target).lstrip("@"))
    if info is None:
        raise OptionError(f"I don't know “{target}” here yet. They show up once they've "
                          "logged an ask.", "member")
    return info


def streak_text(streak: stats.Streak, unit: str) -> str:
    return f"{streak.current} {unit}{'' if streak.current == 1 else 's'} (best {streak.best})"


async def stats_command(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    target = opts.get("member")
    member = caller.member if target is None else (await resolve_member(deps, inv, target)).member
    profile = await deps.repo.profile(caller.community, member)
    mine = member == caller.member
    if profile is None:  # only possible for yourself: others are resolved above
        return Reply((Heading("Your asking so far"),
                      Text.of("Nothing logged yet. The first ask is the bravest one: "
                              "try /rejected or /accepted."),), Visibility.PRIVATE)
    t, name = profile.totals, profile.info.name
    zone = await deps.zone_of(caller.community, member)
    today = deps.now().astimezone(zone).date()
    days = dict(profile.days)
    daily, weekly = stats.daily_streak(days, today), stats.weekly_streak(days, today)
    blocks: list[Block] = [
        Heading(f"{'Your' if mine else name + chr(39) + 's'} asking so far"),
        Fields((("Asks", str(t.attempts)), ("No's", str(t.rejected)), ("Yeses", str(t.accepted)),
                ("Waiting", str(t.pending)),
                ("Asks per yes", ratio(t.attempts, t.accepted) if t.accepted else "no yes yet"),
                ("Daily streak", streak_text(daily, "day")),
                (f"Weeks with {stats.WEEKLY_TARGET}+ asks", streak_text(weekly, "week")),
                ("Cheers", f"{profile.cheers_received} received · {profile.cheers_given} given"))),
    ]
    if t.attempts == 0:
        blocks.append(Text.of("Nothing logged yet. The first ask is the bravest one."))
    goal = profile.goal
    if goal is not None:
        by = f" by {goal.by_date.isoformat()}" if goal.by_date else ""
        if goal.reached_at:
            blocks.append(Text.of(Strong("Goal: "), f"{prompts.rejections_word(goal.target)}{by}. Reached!"))
        else:
            pace = stats.goal_pace(goal.target - goal.progress, today, goal.by_date)
            blocks.append(Text.of(Strong("Goal: "),
                                  f"{goal.progress} of {prompts.rejections_word(goal.target)}{by}.",
                                  f" {pace}" if pace else ""))
    if profile.areas:
        blocks.append(Text.of(Strong("Top areas: "),
                              " · ".join(f"{area} {n}" for area, n in profile.areas[:3])))
    parts = []
    if reached := stats.milestones_reached(t.attempts):
        parts.append("asks " + ", ".join(map(str, reached)))
    if no_reached := stats.milestones_reached(t.rejected):
        parts.append("no's " + ", ".join(map(str, no_reached)))
    if t.accepted:
        parts.append("first yes")
    if parts:
        blocks.append(Text.of(Strong("Milestones: "), " · ".join(parts)))
    if nxt := stats.next_milestone(t.attempts):
        blocks.append(Context.of(f"{nxt - t.attempts} more to the {nxt}-ask milestone."))
    if t.attempts:
        if deps.charts is not None:
            blocks.append(await stats_image(deps.charts, name, t, days, today))
    return Reply(tuple(blocks))


CARD_WEEKS = 12


async def stats_image(charts: Charts, name: str, totals: Totals, days: Mapping[date, int],
                      today: date) -> Image:
    """The stats card: drawn off the event loop (matplotlib takes tens of milliseconds)."""
    monday = today - timedelta(days=today.weekday())
    weeks = [monday - timedelta(weeks=n) for n in range(CARD_WEEKS - 1, -1, -1)]
    per_week = [0] * CARD_WEEKS
    for d, n in days.items():
        index = CARD_WEEKS - 1 - (monday - (d - timedelta(days=d.weekday()))).days // 7
        if 0 <= index < CARD_WEEKS:
            per_week[index] += n
    png = await asyncio.to_thread(
        charts.stats_card,
        f"{name}: {prompts.attempts_word(totals.attempts)}, {prompts.rejections_word(totals.rejected)}",
        {Outcome.REJECTED: totals.rejected, Outcome.ACCEPTED: totals.accepted,
         Outcome.PENDING: totals.pending},
        weeks, per_week)
    return Image(png, card_filename(name), f"{name}'s stats card")


def card_filename(name: str) -> str:
    """``whosnext-stats-ana.png``: each member's card a file of its own (a name with no letter
    or digit of a-z is named by a short checksum of it instead)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"whosnext-stats-{slug or format(zlib.crc32(name.encode()), '08x')}.png"
