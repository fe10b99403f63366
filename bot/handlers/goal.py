"""/goal: set, show or clear a rejection goal."""

from __future__ import annotations

from datetime import date

from bot import prompts, stats
from bot.commands import OptionError
from bot.handlers import Deps, Options
from bot.invocation import Invocation
from bot.reply import Reply, Strong, Text, Visibility, private_reply

MAX_TARGET = 100_000


async def goal(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    raw, by = opts.get("target"), opts.get("by")
    today = now.astimezone(await deps.member_zone(caller)).date()
    if raw is None:
        if by is not None:
            raise OptionError("Give a target too, like /goal 100 by:2027-06-30.", "target")
        return await show(deps, inv, today)
    if str(raw).lower() in ("off", "clear", "none", "stop"):
        if by is not None:
            raise OptionError("`/goal off` takes no date.", "by")
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
    goal_now = await deps.repo.set_goal(caller.community, caller.member, caller.name, target,
                                        by, now)
    when = f" by {by.isoformat()}" if by else ""
    if goal_now.reached_at:
        return Reply((Text.of(f"Goal set: {prompts.rejections_word(target)}{when}, and you're "
                              f"already there with {goal_now.progress}! Dream bigger?"),))
    progress = f" You're at {goal_now.progress} already." if goal_now.progress else ""
    pace = stats.goal_pace(target - goal_now.progress, today, by)
    return Reply((Text.of(f"Goal set: {prompts.rejections_word(target)}{when}. Every ask that "
                          f"ends in no gets you closer.{progress}"),
                  *((Text.of(pace),) if pace else ())), Visibility.PUBLIC)


async def show(deps: Deps, inv: Invocation, today: date) -> Reply:
    g = await deps.repo.goal(inv.caller.community, inv.caller.member)
    if g is None:
        return private_reply(Text.of("No goal yet. Try /goal 100 by:2027-06-30, "
                                     "the classic 100 no's challenge."))
    by = f" by {g.by_date.isoformat()}" if g.by_date else ""
    if g.reached_at:
        return private_reply(Text.of(Strong("Goal reached: "), f"{prompts.rejections_word(g.target)}{by}. "
                                     "Set a bigger one with /goal!"))
    pace = stats.goal_pace(g.target - g.progress, today, g.by_date)
    return private_reply(Text.of(Strong("Your goal: "),
                                 f"{g.progress} of {prompts.rejections_word(g.target)}{by}.",
                                 f" {pace}" if pace else ""))
