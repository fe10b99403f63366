"""/leaderboard and /stats."""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import prompts, stats
from bot.commands import OptionError
from bot.handlers import Deps, Options
from bot.handlers.attempts import ratio
from bot.handlers.goal import progress_words
from bot.handlers.pause import break_line, breaks, current, ranges
from bot.ids import MemberRef
from bot.invocation import Invocation
from bot.models import Goal, Leaderboard, MemberInfo, Outcome, Period, Profile, RankBy
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
    # The catalogue's choices for these options are the enums' values (and season).
    by = RankBy(opts.get("by", RankBy.ATTEMPTS))
    if opts.get("period") == "season":
        from bot.handlers.season import season_leaderboard  # it builds on this module
        return await season_leaderboard(deps, inv, by)
    period = Period(opts.get("period", Period.WEEK))
    since = period_start(period, deps.now(), await deps.community_zone(inv.caller.community))
    board = await deps.repo.leaderboard(inv.caller.community, since, by, inv.caller.member,
                                        period=period)
    return Reply(tuple(ranked_blocks(board, by, PERIOD_TITLES[period])))


def ranked_blocks(board: Leaderboard, by: RankBy, when: str) -> list[Block]:
    """A leaderboard's heading, ranked lines and the caller's place, for ``when`` ("this
    week")."""
    unit, entry = BY_WORDS[by]
    blocks: list[Block] = [Heading(f"Leaderboard: {unit}, {when}")]
    if not board.top:
        blocks.append(Text.of(f"No {unit} logged {when} yet. Yours could be the first!"))
        return blocks
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
    return blocks


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
    pauses = await breaks(deps, caller.community, member)
    paused = ranges(pauses)
    daily, weekly = stats.daily_streak(days, today, paused), stats.weekly_streak(days, today, paused)
    blocks: list[Block] = [
        Heading(f"{'Your' if mine else name + chr(39) + 's'} asking so far"),
        Fields((("Asks", str(t.attempts)), ("No's", str(t.rejected)), ("Yeses", str(t.accepted)),
                ("Waiting", str(t.pending)),
                ("Asks per yes", ratio(t.attempts, t.accepted) if t.accepted else "no yes yet"),
                ("Daily streak", streak_text(daily, "day")),
                (f"Weeks with {stats.WEEKLY_TARGET}+ asks", streak_text(weekly, "week")),
                ("Cheers", f"{profile.cheers_received} received · {profile.cheers_given} given"))),
    ]
    if on_break := current(pauses, deps.now()):
        blocks.append(Text.of(break_line(on_break, today, mine=False)))  # a public reply
    if t.attempts == 0:
        blocks.append(Text.of("Nothing logged yet. The first ask is the bravest one."))
    goal = profile.goal
    if goal is not None:
        by = f" by {goal.by_date.isoformat()}" if goal.by_date else ""
        if goal.reached_at:
            blocks.append(Text.of(Strong("Goal: "), f"{prompts.rejections_word(goal.target)}{by}. Reached!"))
        else:
            pace = stats.goal_pace(goal.target - goal.progress, today, goal.by_date)
            blocks.append(Text.of(Strong("Goal: "), progress_words(goal, zone, today),
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
    if nxt := next_milestone_text(t.attempts):
        blocks.append(Context.of(nxt))
    if t.attempts:
        if deps.charts is not None:
            blocks.append(await stats_image(deps.charts, profile, days, today, zone, paused))
    return Reply(tuple(blocks))


def next_milestone_text(attempts: int) -> str | None:
    nxt = stats.next_milestone(attempts)
    return f"{nxt - attempts} more to the {nxt}-ask milestone." if nxt else None


CARD_WEEKS, CARD_MIN_WEEKS = 12, 6  # the weeks a card shows: since the first ask, within these


def short_date(day: date, today: date) -> str:
    """'1 Dec', with the year when it isn't this one: '30 Jun 2027'."""
    return f"{day.day} {day.strftime('%b')}" + ("" if day.year == today.year else f" {day.year}")


def card_goal(goal: Goal, zone: ZoneInfo, today: date) -> tuple[int, int, str]:
    """The card's goal bar: progress, target and its caption."""
    by = f" by {short_date(goal.by_date, today)}" if goal.by_date else ""
    since = stats.goal_counts(goal, zone, today)
    if goal.reached_at:
        return (goal.target, goal.target,
                f"Goal reached: {prompts.rejections_word(goal.target)}{by}! · {since}")
    return (goal.progress, goal.target,
            f"Goal: {goal.progress} of {prompts.rejections_word(goal.target)}{by} · {since}")


def card_facts(days: Mapping[date, int], today: date, this_week: int, cheers: int,
               paused: Sequence[tuple[date, date]] = ()) -> list[tuple[str, str]]:
    """The card's tiles, (label, value): streaks as they stand (a best one when none is alive
    yet, so a tile never reads as a loss) and cheers received."""
    def plural(n: int, unit: str) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"

    daily, weekly = stats.daily_streak(days, today, paused), stats.weekly_streak(days, today, paused)
    facts = [("daily streak" + (f" · best {daily.best}" if daily.best > daily.current else ""),
              plural(daily.current, "day")) if daily.current
             else ("best daily streak", plural(daily.best, "day"))]
    if weekly.current:
        facts.append(("weekly streak" + (f" · best {weekly.best}" if weekly.best > weekly.current
                                         else ""), plural(weekly.current, "week")))
    else:
        facts.append(("this week", f"{this_week} of {plural(stats.WEEKLY_TARGET, 'ask')}"))
    facts.append(("cheers received", str(cheers)))
    return facts


def card_notes(profile: Profile) -> list[str]:
    """The card's lines under its tiles: the milestones reached, the next one, then an
    invitation to set a goal (or the top areas, with one)."""
    t = profile.totals

    def top(count: int, word: Callable[[int], str], first: str) -> str | None:
        reached = stats.milestones_reached(count)
        return None if not reached else first if reached[-1] == 1 else word(reached[-1])

    parts = [top(t.attempts, prompts.attempts_word, "first ask"),
             top(t.rejected, prompts.rejections_word, "first no"),
             "first yes" if t.accepted else None]
    notes = ["Reached: " + " · ".join(p for p in parts if p)] if any(parts) else []
    if nxt := next_milestone_text(t.attempts):
        notes.append(nxt)
    if profile.goal is None:
        notes.append("No goal yet? Try /goal 100, the classic 100 no's challenge.")
    elif profile.areas:
        notes.append("Top areas: " + " · ".join(f"{area} {n}" for area, n in profile.areas[:3]))
    return notes


async def stats_image(charts: Charts, profile: Profile, days: Mapping[date, int], today: date,
                      zone: ZoneInfo, paused: Sequence[tuple[date, date]] = ()) -> Image:
    """The stats card: drawn off the event loop (matplotlib takes tens of milliseconds)."""
    t, name = profile.totals, profile.info.name
    monday = today - timedelta(days=today.weekday())

    def weeks_ago(day: date) -> int:
        return (monday - (day - timedelta(days=day.weekday()))).days // 7

    count = min(max(weeks_ago(min(days, default=today)) + 1, CARD_MIN_WEEKS), CARD_WEEKS)
    weeks = [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    per_week = [0] * count
    for d, n in days.items():
        if 0 <= (index := count - 1 - weeks_ago(d)) < count:
            per_week[index] += n
    png = await asyncio.to_thread(
        charts.stats_card, name,
        {Outcome.REJECTED: t.rejected, Outcome.ACCEPTED: t.accepted, Outcome.PENDING: t.pending},
        weeks, per_week, card_facts(days, today, per_week[-1], profile.cheers_received, paused),
        None if profile.goal is None else card_goal(profile.goal, zone, today),
        card_notes(profile))
    return Image(png, card_filename(name), f"{name}'s stats card")


def card_filename(name: str) -> str:
    """``whosnext-stats-ana.png``: each member's card a file of its own (a name with no letter
    or digit of a-z is named by a short checksum of it instead)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]
    return f"whosnext-stats-{slug or format(zlib.crc32(name.encode()), '08x')}.png"
