"""/pause: a break. Its days hold the streaks (``bot.stats``), follow-ups wait until the day
after it (``Repository.enqueue_followups``), and /stats says so (its reason to the member alone).

``until`` reads every phrase /who-next's ``when`` does (``bot.when``): the last day of the
break, today or later, at most MAX_DAYS from its first day. The first day is today; changing
a break under way keeps its first day. Logging an ask on a break is welcome and doesn't end it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.commands import OptionError
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.ids import CommunityRef, MemberRef
from bot.invocation import Invocation
from bot.models import Pause
from bot.reply import Block, Context, Reply, Text, Visibility, private_reply
from bot.schedules import local_midnight
from bot.when import PastDay, TooFar, due_date, is_phrase

MAX_DAYS = 60
OFF = ("off", "end", "stop", "over", "done", "back", "none")
EXAMPLES = "friday, in 2 weeks, end of month or 2027-01-10"


def day_words(day: date, today: date) -> str:
    """'Fri 10 Jan', with the year when it isn't this one."""
    year = "" if day.year == today.year else f" {day.year}"
    return f"{day:%a} {day.day} {day:%b}{year}"


def current(pauses: Sequence[Pause], now: datetime) -> Pause | None:
    return next((p for p in reversed(pauses) if p.current(now)), None)


def ranges(pauses: Sequence[Pause]) -> list[tuple[date, date]]:
    """The breaks as ``bot.stats`` reads them: (first day, last day)."""
    return [(p.first_day, p.last_day) for p in pauses]


async def breaks(deps: Deps, community: CommunityRef, member: MemberRef,
                 since: date = date.min) -> tuple[Pause, ...]:
    return await deps.repo.pauses(community, member, since)


async def break_now(deps: Deps, community: CommunityRef, member: MemberRef, now: datetime,
                    today: date) -> Pause | None:
    """The member's break under way, if any (``today``: their day now)."""
    return current(await breaks(deps, community, member, today), now)


def break_line(p: Pause, today: date, mine: bool) -> str:
    """'On a break until Fri 10 Jan', with the reason only for the member themself."""
    why = f" ({p.reason})" if mine and p.reason else ""
    return f"On a break until {day_words(p.last_day, today)}{why}."


def read_until(raw: str, today: date, first: date) -> date:
    """The last day of a break ``until`` names, or an OptionError about ``until``."""
    if not is_phrase(raw):
        raise OptionError(f"I couldn't read `until:{raw}`. Try {EXAMPLES}, or off to end a "
                          "break.", "until")
    latest = first + timedelta(days=MAX_DAYS - 1)
    too_long = OptionError(
        f"A break is at most {MAX_DAYS} days, so this one can run until "
        f"{day_words(latest, today)} at the latest. You can always take another after it.",
        "until")
    try:
        day = due_date(raw, today)
    except PastDay:
        raise OptionError(f"`until:{raw}` has already been. A break starts today, so its last "
                          "day is today or later.", "until") from None
    except TooFar:
        raise too_long from None
    except OptionError as err:  # a day it can't tell, or one that doesn't exist: as it says
        raise OptionError(str(err), "until") from None
    if day > latest:
        raise too_long
    return day


async def pause(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    zone = await deps.member_zone(caller)
    today = now.astimezone(zone).date()
    raw, reason = opts.get("until"), opts.get("reason")
    if raw is None:
        if reason is not None:
            raise OptionError("Say until when too, like /pause until:friday "
                              f"reason:{reason if ' ' not in reason else chr(34) + reason + chr(34)}.",
                              "until")
        return await show(deps, inv, now, today)
    if str(raw).lower() in OFF:
        if reason is not None:
            raise OptionError("`/pause off` takes no reason: it just ends your break.", "reason")
        ended = await deps.repo.end_pause(caller.community, caller.member, now, today)
        if ended is None:
            raise Refusal("You're not on a break, so there's nothing to end. Happy asking!")
        return private_reply(Text.of("Welcome back! Your break is over: your streaks held "
                                     "while you were away, and follow-ups are on again."))
    under_way = await break_now(deps, caller.community, caller.member, now, today)
    first = under_way.first_day if under_way else today
    until = read_until(str(raw), today, first)
    saved = await deps.repo.set_pause(caller.community, caller.member, caller.name, Pause(
        first, until, under_way.started_at if under_way else now,
        local_midnight(until + timedelta(days=1), zone), reason))
    when = day_words(until, today)
    lead = (f"Your break now runs until {when}." if under_way else
            f"Enjoy your break! You're paused until {when}.")
    blocks: list[Block] = [
        Text.of(f"{lead} Your streaks hold, and I'll save any follow-ups for the day after. "
                "An ask you log meanwhile still counts, and gets cheered."),
              Context.of("Back sooner? /pause off ends it.")]
    if saved.reason:
        blocks.insert(1, Context.of(f"Your reason, just for you: {saved.reason}"))
    return Reply(tuple(blocks), Visibility.PRIVATE)


async def show(deps: Deps, inv: Invocation, now: datetime, today: date) -> Reply:
    p = await break_now(deps, inv.caller.community, inv.caller.member, now, today)
    if p is None:
        return private_reply(Text.of("You're not on a break. Going away? /pause until:friday "
                                     "holds your streaks and saves follow-ups for when you're "
                                     "back."))
    return private_reply(Text.of(break_line(p, today, mine=True),
                                 " Your streaks are holding. /pause off ends it early."))
