"""/remind: a personal nudge, a DM at the member's own local time on the days they choose, sent
only on a day they haven't logged an ask yet (checked again when it goes out). It goes out
through the outbox (``PostKind.REMIND``), once per member per day, and honours /reminders off
and /pause. Its button opens the log form (/rejected) where the platform has forms.

The row keeps the next moment a nudge is due (``Remind.next_at``, UTC): the scheduler's tick
reads only the due ones and moves each on (``Repository.enqueue_reminds``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from bot.commands import OptionError
from bot.days import DAYS
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.pause import break_now, day_words
from bot.invocation import ActionInvocation, Invocation
from bot.models import Nudge, Remind
from bot.reply import (
    Action,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Reply,
    Text,
    Visibility,
    private_reply,
)
from bot.schedules import EVERY_DAY, describe_days, parse_days, parse_time

OFF = ("off", "stop", "none")
# The nudge's buttons: each opens the log form of its outcome.
FORMS = (("Got a no", "rejected"), ("Got a yes", "accepted"), ("Still waiting", "pending"))
LOG_ACTION = "log"


def _at(day: date, time: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(part) for part in time.split(":"))
    return datetime.combine(day, clock(hour, minute), tzinfo=zone).astimezone(UTC)


def next_remind(time: str, days: str, zone: ZoneInfo, after: datetime) -> datetime:
    """The first moment strictly after ``after`` that is ``time`` on one of ``days`` in
    ``zone``, in UTC (a time a DST change skips falls in the hour after it)."""
    wanted = {DAYS.index(d) for d in days.split(",")}
    today = after.astimezone(zone).date()
    for ahead in range(9):
        day = today + timedelta(days=ahead)
        if day.weekday() in wanted and (at := _at(day, time, zone)) > after:
            return at
    raise ValueError(f"no day in {days!r}")  # parse_days never gives an empty list


def last_remind(time: str, days: str, zone: ZoneInfo, now: datetime) -> tuple[date, datetime]:
    """The latest local day and moment, at or before ``now``, that is ``time`` on one of
    ``days`` in ``zone``."""
    wanted = {DAYS.index(d) for d in days.split(",")}
    today = now.astimezone(zone).date()
    for back in range(9):
        day = today - timedelta(days=back)
        if day.weekday() in wanted and (at := _at(day, time, zone)) <= now:
            return day, at
    raise ValueError(f"no day in {days!r}")


def setting_line(r: Remind, zone: ZoneInfo) -> str:
    days = describe_days(r.days)
    when = days if days == "every day" else f"on {days}"
    return (f"I'll nudge you at {r.time} ({zone.key}) {when}, whenever you haven't logged an "
            "ask yet that day.")


async def remind(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    raw_time, raw_days = opts.get("time"), opts.get("days")
    current = await deps.repo.get_remind(caller.community, caller.member)
    zone = await deps.member_zone(caller)
    if raw_time is None and raw_days is None:
        if current is None:
            return private_reply(Text.of("You have no nudge set. /remind time:18:00 "
                                         "days:weekdays DMs you then on days you haven't "
                                         "logged an ask yet."))
        quiet = await quiet_line(deps, inv, zone)
        return private_reply(Text.of(setting_line(current, zone)),
                             *((Context.of(quiet),) if quiet else ()),
                             Context.of("Change it with /remind time:HH:MM, or stop it with "
                                        "/remind off."))
    if raw_time is not None and str(raw_time).lower() in OFF:
        if raw_days is not None:
            raise OptionError("`/remind off` takes no days: it just stops your nudges.", "days")
        if not await deps.repo.clear_remind(caller.community, caller.member):
            raise Refusal("You have no nudge set, so there's nothing to turn off. "
                          "/remind time:18:00 sets one.")
        return private_reply(Text.of("Nudges off. Your asks still count whenever you log them!"),
                             Context.of("Want them back? /remind time:18:00"))
    if raw_time is None:
        if current is None:
            raise OptionError("Say what time too, like /remind time:18:00 days:weekdays.",
                              "time")
        time = current.time
    else:
        time = parse_time(str(raw_time))
    days = parse_days(str(raw_days)) if raw_days is not None else (
        current.days if current else EVERY_DAY)
    now = deps.now()
    saved = await deps.repo.set_remind(caller.community, caller.member, caller.name,
                                       Remind(time, days, next_remind(time, days, zone, now)), now)
    quiet = await quiet_line(deps, inv, zone)
    return Reply((Text.of("Nudge set! ", setting_line(saved, zone)),
                  Context.of(quiet or "/remind off stops it; /pause holds it while you're away.")),
                 Visibility.PRIVATE)


async def quiet_line(deps: Deps, inv: Invocation, zone: ZoneInfo) -> str | None:
    """Why no nudge comes for now, if none will: reminders off, or a break under way."""
    caller, now = inv.caller, deps.now()
    info = await deps.repo.member(caller.community, caller.member)
    if info is not None and not info.reminders:
        return "Your reminders are off, so I'll stay quiet until you send /reminders on."
    today = now.astimezone(zone).date()
    away = await break_now(deps, caller.community, caller.member, now, today)
    if away is not None:
        return (f"You're on a break until {day_words(away.last_day, today)}: no nudges until "
                "it's over.")
    return None


def nudge_reply(nudge: Nudge) -> Reply:
    """The DM: a friendly nudge with a button that opens the log form."""
    return Reply((
        Text.of(f"Hi {nudge.member.name}! Any ask in you today? A yes, a no or a maybe: every "
                "attempt counts."),
        Buttons(tuple(Button(label, Action(LOG_ACTION, form),
                             ButtonStyle.PRIMARY if form == "rejected" else ButtonStyle.DEFAULT)
                      for label, form in FORMS)),
        Context.of("Change the time with /remind, or stop these with /remind off."),
    ), Visibility.PRIVATE)


async def log_form(deps: Deps, act: ActionInvocation) -> Reply:
    """The nudge's button: the log form where the platform has forms (``Reply.form``), else
    the command to type."""
    if act.value not in {form for _, form in FORMS}:
        raise Refusal("That button doesn't look right any more. /rejected logs an ask.")
    return Reply((Text.of(f"Log it with /{act.value} ask:\"what you asked for\". Every ask "
                          "counts!"),), Visibility.PRIVATE, form=act.value)
