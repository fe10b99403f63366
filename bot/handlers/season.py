"""/season: admins start and end a season; everyone sees the one running, its board
(``/leaderboard period:season``) and the hall of fame (``/season history``). The post when a
season ends (by /season end, or at the end of its last day) is ``season_post``, sent through
the outbox.

A season's name is community content: cleaned by the catalogue, at most 60 characters, and
always shown as plain text (never a mention). Private asks count in a season like anywhere
else, but are never named among its champions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot import prompts
from bot.checkin_posts import joined
from bot.commands import OptionError
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.board import ranked_blocks
from bot.ids import CommunityRef
from bot.invocation import Invocation
from bot.models import LeaderRow, Outcome, RankBy, Season, SeasonResult
from bot.ports import Charts, Repository
from bot.reply import Block, Context, Heading, Image, Mention, Reply, Span, Strong, Text, private_reply
from bot.schedules import local_midnight

# The end-of-season post may go out (retries included) this long after the season ends.
SEASON_POST_WINDOW = timedelta(days=1)
LONGEST = timedelta(days=366)  # a season's last day is at most this far off
MAX_NAMED = 5  # champions sharing a title who are named; the rest are counted
HISTORY = 10  # seasons the hall of fame shows
START_ONLY = ("name", "end")
EXAMPLE = '/season start name:"Q1 push" end:2027-03-31'
ADMINS_ONLY = ("Starting and ending seasons is for admins of this community. Anyone can see "
               "the season with /season, its board with /leaderboard period:season and the "
               "hall of fame with /season history.")


def day_words(day: date) -> str:
    """'Wed 31 Mar 2027'."""
    return f"{day.strftime('%a')} {day.day} {day.strftime('%b')} {day.year}"


def last_day(season: Season) -> date:
    """The last local day the season counted (its end date, or the day it was ended on)."""
    return (season.until - timedelta(microseconds=1)).astimezone(ZoneInfo(season.timezone)).date()


def first_day(season: Season) -> date:
    return season.started_at.astimezone(ZoneInfo(season.timezone)).date()


def span_words(season: Season) -> str:
    """'26 Nov to Wed 31 Mar 2027', or 'Thu 26 Nov 2026' for a season of one day."""
    first, last = first_day(season), last_day(season)
    if first == last:
        return day_words(last)
    return f"{first.day} {first.strftime('%b')} to {day_words(last)}"


def _named(season: Season) -> Strong:
    return Strong(f"“{season.name}”")


async def season(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    action = opts.get("action")
    extra = [k for k in START_ONLY if k in opts]
    if action != "start" and extra:
        raise OptionError(f"`{extra[0]}` only goes with /season start, as in {EXAMPLE}.",
                          extra[0])
    if action in ("start", "end") and not inv.caller.is_admin:
        raise Refusal(ADMINS_ONLY)
    if action == "start":
        return await _start(deps, inv, opts)
    if action == "end":
        return await _end(deps, inv)
    if action == "history":
        return await _history(deps, inv)
    return await _show(deps, inv)


async def _start(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    name, end = opts.get("name"), opts.get("end")
    if name is None:
        raise OptionError(f"Give the new season a name, as in {EXAMPLE}.", "name")
    name = str(name)
    if not any(ch.isalnum() for ch in name):
        raise OptionError(f"“{name}” needs a letter or a number to be a season's name, like "
                          '"Q1 push".', "name")
    if end is None:
        raise OptionError(f"When is the season's last day? Add it, as in {EXAMPLE}.", "end")
    zone = await deps.community_zone(caller.community)
    today = now.astimezone(zone).date()
    if end < today:
        raise OptionError(f"{end.isoformat()} is already past, so a season would end before "
                          f"it starts. Pick a last day from today ({today.isoformat()}) on.",
                          "end")
    if end > today + LONGEST:
        raise OptionError(f"A season runs a year at most: pick a last day by "
                          f"{(today + LONGEST).isoformat()}, not {end.isoformat()}.", "end")
    ends_at = local_midnight(end + timedelta(days=1), zone)
    here = caller.channel.id if caller.channel else None
    started, created = await deps.repo.start_season(caller.community, name, end, zone.key,
                                                    ends_at, here, now, SEASON_POST_WINDOW)
    if not created:
        raise Refusal(f"The season “{started.name}” is running until "
                      f"{day_words(started.end_date)}: one season at a time.",
                      hint="End it first with /season end, then start the next one.")
    days = (end - today).days + 1
    return Reply((
        Text.of("🏁 ", Strong("A new season is on: "), _named(started),
                f", until {day_words(end)} ({days} day{'' if days == 1 else 's'}). Every ask "
                "from now on counts, yes or no."),
        Context.of("At its end I'll crown the most asks, the most no's and the bravest public "
                   "ask. Follow the race with /leaderboard period:season."),
    ))


async def _end(deps: Deps, inv: Invocation) -> Reply:
    ended = await deps.repo.end_season(inv.caller.community, deps.now(), SEASON_POST_WINDOW)
    if ended is None:
        return private_reply(Text.of("No season is running, so nothing changed."),
                             Context.of(f"Start one with {EXAMPLE}"))
    result = await deps.repo.season_result(inv.caller.community, ended.id)
    asks = result.totals.attempts if result else 0
    return Reply((
        Text.of("🏆 ", _named(ended), f" is over: {prompts.attempts_word(asks)}, "
                f"{span_words(ended)}. Thank you, everyone!"),
        Context.of("The champions' post is on its way. /season history keeps the hall of fame."),
    ))


async def _show(deps: Deps, inv: Invocation) -> Reply:
    community = inv.caller.community
    running = await deps.repo.running_season(community)
    if running is None:
        past = await deps.repo.season_history(community, 1)
        blocks: list[Block] = [Text.of("No season is running right now.")]
        if past:
            blocks.append(Text.of("The last one, ", _named(past[0].season), ", ended on ",
                                  f"{day_words(last_day(past[0].season))}. /season history "
                                  "shows its champions."))
        blocks.append(Context.of(f"Admins start one with {EXAMPLE}"))
        return private_reply(*blocks)
    board = await deps.repo.season_leaderboard(running, RankBy.ATTEMPTS, inv.caller.member, 3)
    now = deps.now()
    left = (running.end_date - now.astimezone(ZoneInfo(running.timezone)).date()).days + 1
    if now >= running.ends_at:  # over, and about to be crowned by the scheduler's next tick
        when = f"Ended with {day_words(running.end_date)}: its champions are on their way."
    else:
        when = (f"Runs until {day_words(running.end_date)}, "
                + ("and today is its last day." if left <= 1 else
                   f"{left} days left, today included."))
    blocks = [Heading(f"Season: {running.name}"), Text.of(when)]
    if board.top:
        blocks.append(Text.of(Strong("Leading so far: "), *_rows(board.top)))
    else:
        blocks.append(Text.of("No asks logged in it yet. Yours could be the first!"))
    blocks.append(Context.of("The whole board: /leaderboard period:season."))
    return Reply(tuple(blocks))


async def _history(deps: Deps, inv: Invocation) -> Reply:
    results = await deps.repo.season_history(inv.caller.community, HISTORY)
    if not results:
        return private_reply(Text.of("No season has ended here yet, so the hall of fame is "
                                     "waiting for its first champions."),
                             Context.of(f"Admins start a season with {EXAMPLE}"))
    blocks: list[Block] = [Heading("Hall of fame")]
    for result in results:
        s = result.season
        blocks.append(Text.of(_named(s), f" · {first_day(s).isoformat()} to "
                              f"{last_day(s).isoformat()} · "
                              f"{prompts.attempts_word(result.totals.attempts)}"))
        blocks.extend(champion_blocks(result, "  "))
    if len(results) == HISTORY:
        blocks.append(Context.of(f"The latest {HISTORY} seasons."))
    return Reply(tuple(blocks))


def _rows(rows: Sequence[LeaderRow]) -> list[Span]:
    """'@ana (5), @ben (3)' for a short board."""
    out: list[Span] = []
    for i, r in enumerate(rows):
        out += [", " if i else "", Mention(r.member, r.name), f" ({r.count})"]
    return out


def _names(rows: Sequence[LeaderRow]) -> list[Span]:
    """'@ana, @ben and 2 more': everyone sharing a title, the first MAX_NAMED named."""
    named = [Mention(r.member, r.name) for r in rows[:MAX_NAMED]]
    more = len(rows) - len(named)
    items: list[Span] = [*named, *([f"{more} more"] if more else [])]
    return joined([[item] for item in items])


def _title(label: str, rows: Sequence[LeaderRow], words: Callable[[int], str], prefix: str
           ) -> Text:
    """'Most asks: @ana with 12 asks', or for a tie '@ana and @ben, 12 asks each'."""
    n = words(rows[0].count)
    if len(rows) == 1:
        return Text.of(prefix, Strong(label), *_names(rows), f" with {n}")
    return Text.of(prefix, Strong(label), *_names(rows), f", {n} each: a shared crown!")


def champion_blocks(result: SeasonResult, prefix: str = "") -> list[Block]:
    """The season's champions: most asks, most no's and its bravest public asks; everyone
    tied at the top shares the title. A private ask is never among them."""
    if not result.totals.attempts:
        return [Text.of(prefix, "No asks were logged in this one. The next season is a fresh "
                        "start.")]
    blocks: list[Block] = [_title("Most asks: ", result.most_asks, prompts.attempts_word, prefix)]
    if result.most_nos:
        blocks.append(_title("Most no's: ", result.most_nos, prompts.rejections_word, prefix))
    for brave in result.bravest:
        blocks.append(Text.of(prefix, Strong("Bravest ask: "), Mention(brave.attempt.member,
                              brave.name), " · ", Strong(brave.attempt.ask),
                              f" (fear {brave.attempt.fear}/10)"))
    return blocks


async def season_leaderboard(deps: Deps, inv: Invocation, by: RankBy) -> Reply:
    """/leaderboard period:season: the running season's board; without one, the last
    season's final board, or a note."""
    community = inv.caller.community
    running = await deps.repo.running_season(community)
    if running is not None:
        board = await deps.repo.season_leaderboard(running, by, inv.caller.member)
        blocks = ranked_blocks(board, by, f"in “{running.name}”")
        blocks.append(Context.of(f"The season runs until {day_words(running.end_date)}."))
        return Reply(tuple(blocks))
    past = await deps.repo.season_history(community, 1)
    if not past:
        return private_reply(Text.of("No season is running, so there's no season board yet. "
                                     "Try /leaderboard period:week, month or all."),
                             Context.of(f"Admins start one with {EXAMPLE}"))
    last = past[0].season
    board = await deps.repo.season_leaderboard(last, by, inv.caller.member)
    blocks = ranked_blocks(board, by, f"in “{last.name}”, final")
    blocks.append(Context.of(f"No season is running now: this is how “{last.name}” ended, on "
                             f"{day_words(last_day(last))}."))
    return Reply(tuple(blocks))


# -- the end-of-season post -------------------------------------------------------------------

CHART_BARS = 14


def chart_buckets(first: date, last: date) -> tuple[int, list[date]]:
    """The chart's bars: one per day for a short season, else one per week, else per four
    weeks (a year is 14 bars); returns the days per bar and each bar's first day."""
    span = (last - first).days + 1
    step = next(s for s in (1, 7, 28) if span <= s * CHART_BARS or s == 28)
    return step, [first + timedelta(days=i) for i in range(0, span, step)]


async def season_chart(charts: Charts, result: SeasonResult) -> Image | None:
    """The season's asks over time, by outcome: drawn off the event loop."""
    if not result.days:
        return None
    s = result.season
    first, last = first_day(s), last_day(s)
    step, starts = chart_buckets(first, last)
    counts: dict[str, list[int]] = {o: [0] * len(starts) for o in Outcome}
    for day, outcome, n in result.days:
        index = min(max((day - first).days // step, 0), len(starts) - 1)
        counts.setdefault(outcome, [0] * len(starts))[index] += n
    per = {1: "day", 7: "week", 28: "four weeks"}[step]
    span = f"{first.day} {first.strftime('%b %Y')} – {last.day} {last.strftime('%b %Y')}"
    png = await asyncio.to_thread(charts.week_chart, starts, counts,
                                  f"Asks per {per}, by outcome", f"{s.name} · {span}")
    return Image(png, f"whosnext-season-{s.id}.png", f"Asks per {per} in {s.name}, {span}")


async def season_post(repo: Repository, community: CommunityRef, season_id: int,
                      charts: Charts | None) -> Reply | None:
    """The post when a season ends: its champions, the group's totals and a chart. None when
    the season is gone."""
    result = await repo.season_result(community, season_id, with_days=True)
    if result is None:
        return None
    s, t = result.season, result.totals
    blocks: list[Block] = [
        Heading(f"Season over · {s.name}"),
        Text.of(Strong(f"{span_words(s)}: "),
                f"{prompts.attempts_word(t.attempts)} from {result.members} "
                f"member{'' if result.members == 1 else 's'}, "
                f"{prompts.rejections_word(t.rejected)} among them."
                if t.attempts else "a quiet season."),
        *champion_blocks(result),
    ]
    if t.attempts and not result.bravest:
        blocks.append(Context.of("No public ask had a fear rating this time: add fear:0-10 "
                                 "and the next season's bravest ask gets its crown."))
    if charts is not None and (image := await season_chart(charts, result)) is not None:
        blocks.append(image)
    blocks.append(Text.of("Every ask counted, yes or no. Thank you all: who's next?"))
    return Reply(tuple(blocks))
