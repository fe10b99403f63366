"""/goal: set, show or clear a rejection goal, and say what it counts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot import prompts, stats
from bot.commands import OptionError
from bot.handlers import Deps, Options
from bot.invocation import Invocation
from bot.models import GOAL_FROM_START, Goal
from bot.reply import Context, Reply, Strong, Text, Visibility, private_reply
from bot.schedules import local_midnight

MAX_TARGET = 100_000
FROM_START = ("start", "all", "beginning", "ever")


def counts_from(raw: object, today: date, zone: ZoneInfo) -> datetime | None:
    """``since:`` as the moment a goal counts no's from: a day's local midnight, or
    GOAL_FROM_START for ``since:start``. None when not given."""
    if raw is None:
        return None
    text = str(raw).strip().lower()
    if text in FROM_START:
        return GOAL_FROM_START
    if text == "today":
        return local_midnight(today, zone)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"`since` is the day the goal counts no's from: a date like "
                          f"{today.isoformat()}, today, or start for every no you've logged. "
                          f"“{raw}” isn't one.", "since") from None
    if day > today:
        raise OptionError(f"{day.isoformat()} hasn't come yet: a goal counts from today or an "
                          "earlier day (or since:start).", "since")
    return local_midnight(day, zone)


async def goal(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    raw, by = opts.get("target"), opts.get("by")
    zone = await deps.member_zone(caller)
    today = now.astimezone(zone).date()
    if raw is None:
        if by is not None or opts.get("since") is not None:
            raise OptionError("Give a target too, like /goal 100 by:2027-06-30.", "target")
        return await show(deps, inv, zone, today)
    if str(raw).lower() in ("off", "clear", "none", "stop"):
        if by is not None or opts.get("since") is not None:
            raise OptionError("`/goal off` takes no date.", "by" if by else "since")
        cleared = await deps.repo.clear_goal(caller.community, caller.member)
        return private_reply(Text.of("Goal cleared. You can set a new one any time."
                                     if cleared else "You had no goal set, so nothing changed."))
    text = str(raw)
    if not text.isdecimal() or not 0 < int(text) <= MAX_TARGET:
        raise OptionError(f"`target` is how many no's to collect: a whole number from 1 to "
                          f"{MAX_TARGET:,}, or off. “{text}” isn't one.", "target")
    target = int(text)
    if by is not None and by < today:
        raise OptionError(f"{by.isoformat()} is already past. Pick a day from today on.", "by")
    since = counts_from(opts.get("since"), today, zone)
    existing = await deps.repo.goal(caller.community, caller.member)
    if since is None and existing is None:
        since = local_midnight(today, zone)  # a first goal: today's no's count too
    # (Changing an open goal keeps what it counts; one after a reached goal starts afresh now.)
    goal_now = await deps.repo.set_goal(caller.community, caller.member, caller.name, target,
                                        by, now, since)
    when = f" by {by.isoformat()}" if by else ""
    counting = stats.goal_counts(goal_now, zone, today)
    if goal_now.reached_at:
        return Reply((Text.of(f"Goal set: {prompts.rejections_word(target)}{when}, and you're "
                              f"already there with {goal_now.progress}! Dream bigger?"),
                      Context.of(counting[0].upper() + counting[1:] + ".")))
    progress = f" You're at {goal_now.progress} already." if goal_now.progress else ""
    pace = stats.goal_pace(target - goal_now.progress, today, by)
    blocks = [Text.of(f"Goal set: {prompts.rejections_word(target)}{when}. Every ask that "
                      f"ends in no gets you closer.{progress}"),
              *((Text.of(pace),) if pace else ()),
              Context.of(counting[0].upper() + counting[1:] + "." + ("" if goal_now.counts_all else
                         " To count every no you've logged here, add since:start."))]
    return Reply(tuple(blocks), Visibility.PUBLIC)


def progress_words(g: Goal, zone: ZoneInfo, today: date) -> str:
    """'3 of 100 no's by 2027-06-30, counting from Tue 1 Dec': a goal's progress, as every
    place that shows it says it."""
    by = f" by {g.by_date.isoformat()}" if g.by_date else ""
    return (f"{g.progress} of {prompts.rejections_word(g.target)}{by}, "
            f"{stats.goal_counts(g, zone, today)}.")


async def show(deps: Deps, inv: Invocation, zone: ZoneInfo, today: date) -> Reply:
    g = await deps.repo.goal(inv.caller.community, inv.caller.member)
    if g is None:
        return private_reply(Text.of("No goal yet. Try /goal 100 by:2027-06-30, "
                                     "the classic 100 no's challenge."))
    by = f" by {g.by_date.isoformat()}" if g.by_date else ""
    if g.reached_at:
        return private_reply(Text.of(Strong("Goal reached: "), f"{prompts.rejections_word(g.target)}{by}. "
                                     "Set a bigger one with /goal!"))
    pace = stats.goal_pace(g.target - g.progress, today, g.by_date)
    return private_reply(Text.of(Strong("Your goal: "), progress_words(g, zone, today),
                                 f" {pace}" if pace else ""))
