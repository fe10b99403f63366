"""/checkin (admins: the community's scheduled check-ins), /timezone and /reminders."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.checkin_posts import daily_post, weekly_recap
from bot.commands import OptionError
from bot.handlers import Deps, Options
from bot.handlers.remind import next_remind
from bot.invocation import Invocation
from bot.models import OutboxItem, OutboxState, PostKind, Schedule
from bot.reply import Block, Context, Heading, Reply, Strong, Text, private_reply
from bot.schedules import (
    EVERY_DAY,
    describe_days,
    describe_when,
    next_fire,
    parse_channel,
    parse_days,
    parse_time,
    parse_zone,
)

log = logging.getLogger(__name__)
SET_ONLY = ("time", "days", "zone", "channel", "recap", "dare")
EXAMPLE = "/checkin set time:09:00 days:weekdays zone:Europe/Berlin"


def _where(schedule: Schedule, here: str | None) -> str:
    return "this channel" if schedule.channel_id == here else f"#{schedule.channel_id}"


def describe(schedule: Schedule, here: str | None) -> str:
    recap = (f" Weekly recap on {schedule.recap_day.capitalize()}s."
             if schedule.recap_day else " No weekly recap.")
    dare = " Each carries today's dare." if schedule.dare else ""
    return (f"{describe_days(schedule.days).capitalize()} at {schedule.time} "
            f"({schedule.timezone}) in {_where(schedule, here)}.{dare}{recap}")


def next_posts(schedule: Schedule, now: datetime, posts: list[OutboxItem]
               ) -> dict[PostKind, tuple[datetime, OutboxItem | None]]:
    """When the next check-in and recap really go out: a local date posts once, so a time
    moved later on a day whose post is already queued or sent waits for the next day. Beside
    each, the post of the day it skipped, if any."""
    done = {p.kind: p for p in posts}
    found: dict[PostKind, tuple[datetime, OutboxItem | None]] = {}
    for kind in (PostKind.CHECKIN, PostKind.RECAP):
        last = done.get(kind)
        at = next_fire(schedule, kind, now, date.fromisoformat(last.subject) if last else None)
        if at is not None:
            skipped = last if last is not None and next_fire(schedule, kind, now) != at else None
            found[kind] = (at, skipped)
    return found


def next_lines(schedule: Schedule, now: datetime, posts: list[OutboxItem]) -> list[Block]:
    zone = ZoneInfo(schedule.timezone)
    lines: list[str] = []
    for kind, (at, skipped) in next_posts(schedule, now, posts).items():
        what = "check-in" if kind == PostKind.CHECKIN else "recap"
        line = f"Next {what}: {describe_when(at, zone)}"
        if kind == PostKind.CHECKIN:
            line += f" ({schedule.timezone})"
        if skipped is not None:
            went = "went out" if skipped.state == OutboxState.SENT else "was due"
            line += f", as today's {went} already"
        lines.append(line)
    return [Context.of(" · ".join(lines))] if lines else []


async def checkin(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    action = opts["action"]
    extra = [k for k in SET_ONLY if k in opts]
    if action != "set" and extra:
        raise OptionError(f"`{extra[0]}` only goes with /checkin set, as in {EXAMPLE}.", extra[0])
    if action == "show":
        return await _show(deps, inv)
    if action == "off":
        return await _off(deps, inv)
    if action == "preview":
        return await _preview(deps, inv)
    return await _set(deps, inv, opts)


async def _set(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    existing = await deps.repo.get_schedule(caller.community)
    time = parse_time(str(opts["time"])) if "time" in opts else (
        existing.time if existing else "09:00")
    days = parse_days(str(opts["days"])) if "days" in opts else (
        existing.days if existing else EVERY_DAY)
    if "zone" in opts:
        zone = parse_zone(str(opts["zone"]))
    elif existing:
        zone = existing.timezone
    else:
        zone = (await deps.member_zone(caller)).key
    here = caller.channel.id if caller.channel else None
    if "channel" in opts:
        channel = parse_channel(str(opts["channel"]))
        if not channel:
            raise OptionError("`channel` is empty. Name a channel, like channel:#asks.", "channel")
    elif here:
        channel = here
    elif existing:
        channel = existing.channel_id
    else:
        raise OptionError("Which channel should the check-ins go to? Run /checkin set in that "
                          "channel, or add channel:#name.", "channel")
    if "recap" in opts:
        recap = None if opts["recap"] == "off" else opts["recap"]
    else:
        recap = existing.recap_day if existing else "monday"
    name = caller.community_name or (existing.community_name if existing else None)
    dare = opts["dare"] == "on" if "dare" in opts else bool(existing and existing.dare)
    schedule = Schedule(caller.community, channel, zone, time, days, recap, dare=dare)
    if name:
        schedule = replace(schedule, community_name=name)
    await deps.repo.save_schedule(schedule, now, deps.default_timezone)
    await _notify(deps, inv)
    posts = await deps.repo.last_posts(caller.community)
    return Reply((
        Text.of(Strong("Check-ins are on! "), describe(schedule, here)),
        *next_lines(schedule, now, posts),
        Context.of("Each one celebrates the asks since the last check-in, names today's "
                   "promises and invites the next ask. /checkin preview shows the next one as "
                   "it reads now. Change it any time with /checkin set, or /checkin off."),
    ))


async def _off(deps: Deps, inv: Invocation) -> Reply:
    turned_off = await deps.repo.disable_schedule(inv.caller.community, deps.now())
    if not turned_off:
        return private_reply(Text.of("Check-ins were already off, so nothing changed."),
                             Context.of(f"Turn them on with {EXAMPLE}"))
    await _notify(deps, inv)
    return Reply((Text.of("Check-ins are off. No more scheduled posts or recaps here."),
                  Context.of("Follow-up DMs for /who-next promises carry on for members who want "
                             "them (/reminders). Turn check-ins back on with /checkin set.")))


async def _show(deps: Deps, inv: Invocation) -> Reply:
    schedule = await deps.repo.get_schedule(inv.caller.community)
    here = inv.caller.channel.id if inv.caller.channel else None
    if schedule is None:
        return private_reply(Text.of("No check-ins are scheduled here yet."),
                             Context.of(f"Set one up with {EXAMPLE}"))
    if not schedule.enabled:
        return private_reply(Text.of("Check-ins are off. Last setting: ", describe(schedule, here)),
                             Context.of("Turn them back on with /checkin set."))
    posts = await deps.repo.last_posts(inv.caller.community)
    return private_reply(Heading("Check-ins"), Text.of(describe(schedule, here)),
                         *next_lines(schedule, deps.now(), posts),
                         *[Text.of(line) for line in last_post_lines(posts, schedule)],
                         Context.of("/checkin preview shows the next check-in as it reads "
                                    "now."))


def last_post_lines(posts: list[OutboxItem], schedule: Schedule) -> list[str]:
    """What became of the latest check-in and recap: when it went out, or why it didn't."""
    zone = ZoneInfo(schedule.timezone)
    lines = []
    for post in posts:
        what = "check-in" if post.kind == PostKind.CHECKIN else "recap"
        day = date.fromisoformat(post.subject)
        of = f"{day.strftime('%a')} {day.day} {day.strftime('%b')}"
        if post.state == OutboxState.SENT and post.finished_at is not None:
            lines.append(f"Last {what} ({of}) went out at "
                         f"{describe_when(post.finished_at, zone)}.")
        elif post.state == OutboxState.MISSED:
            reason = post.reason or "no reason given"
            if post.sent_since is not None:  # a try may have landed: say so, don't claim either
                line = f"I couldn't confirm that the {what} of {of} went out: {reason}."
            else:
                line = f"The {what} of {of} didn't go out: {reason}."
            closed = ((post.finished_at is not None and post.finished_at >= post.deadline)
                      or (post.next_try_at is not None and post.next_try_at > post.deadline))
            if post.tries > 1 and closed:  # failing for now, every time, until the window shut
                line += " I kept trying until the grace window closed."
            lines.append(line)
        elif post.state == OutboxState.DUE and post.tries and post.next_try_at is not None:
            lines.append(f"The {what} of {of} is on its way: {post.reason or 'a hiccup'}. I'll "
                         f"try again at {post.next_try_at.astimezone(zone).strftime('%H:%M')}.")
        else:
            lines.append(f"The {what} of {of} is going out now.")
    return lines


async def _preview(deps: Deps, inv: Invocation) -> Reply:
    """The next check-in (and the recap, when it comes with it) as it reads now, everything
    logged since the last check-in in it, as only the admin sees it: no claim, no post."""
    community, now = inv.caller.community, deps.now()
    schedule = stored = await deps.repo.get_schedule(community)
    if schedule is None:  # a sample: none has run, so it counts from midnight, as a first one
        zone = (await deps.member_zone(inv.caller)).key
        schedule = Schedule(community, "", zone, "09:00", EVERY_DAY, updated_at=now)
    tz = ZoneInfo(schedule.timezone)
    coming = next_posts(schedule, now, await deps.repo.last_posts(community))
    at = coming[PostKind.CHECKIN][0] if PostKind.CHECKIN in coming else now
    day = at.astimezone(tz).date()
    post = await daily_post(deps.repo, schedule, day)
    if stored is None:
        lead = ("No check-ins are scheduled, so nothing will post. This is how a daily 09:00 "
                f"one would read now; {EXAMPLE} starts them.")
    elif not schedule.enabled:
        lead = ("Check-ins are off, so nothing will post. This is how the next one would read "
                "now; /checkin set turns them back on.")
    else:
        lead = (f"Preview of the next check-in ({describe_when(at, tz)}), as it reads now. "
                "Nothing is posted.")
    blocks: list[Block] = [Text.of(lead), *post.blocks]
    recap = coming.get(PostKind.RECAP)
    if recap is not None and recap[0].astimezone(tz).date() == day:
        blocks += (await weekly_recap(deps.repo, schedule, day, deps.charts)).blocks
    return private_reply(*blocks)


async def _notify(deps: Deps, inv: Invocation) -> None:
    try:
        await deps.hooks.notify_schedule_changed(inv.caller.community)
    except Exception:  # the schedule is saved; the scheduler re-reads it at its next sync
        log.exception("rescheduling %s failed", inv.caller.community.key)


def _local_now(zone: str, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return f"it's {local:%H:%M} on {local:%a} {local.day} {local:%b} there"


async def timezone(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller, now = inv.caller, deps.now()
    if opts.get("zone") is None:  # no zone given: say which one is in use, and how to change it
        community_tz, member_tz = await deps.repo.zones(caller.community, caller.member)
        if member_tz:
            return private_reply(Text.of("Your time zone is ", Strong(member_tz),
                                         f" ({_local_now(member_tz, now)})."),
                                 Context.of("Change it with /timezone and a zone, like "
                                            "/timezone Europe/Berlin."))
        used = community_tz or deps.default_timezone
        whose = "the community's check-in zone" if community_tz else "the bot's default zone"
        return private_reply(Text.of("You haven't set a time zone, so I use ", whose, ", ",
                                     Strong(used), f" ({_local_now(used, now)})."),
                             Context.of("Set yours with /timezone and a zone, like "
                                        "/timezone Europe/Berlin."))
    zone = parse_zone(str(opts["zone"]))
    await deps.repo.set_member_timezone(caller.community, caller.member, caller.name, zone, now)
    remind = await deps.repo.get_remind(caller.community, caller.member)
    if remind is not None:  # the nudge moves with the member: 18:00 is 18:00 in the new zone
        await deps.repo.set_remind(caller.community, caller.member, caller.name, replace(
            remind, next_at=next_remind(remind.time, remind.days, ZoneInfo(zone), now)), now)
    return private_reply(
        Text.of("Your time zone is now ", Strong(zone), f" ({_local_now(zone, now)})."),
        Context.of("New /who-next promises fall due at the end of your day there; the ones "
                   "you've made keep the day they were made for."))


async def reminders(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    if opts.get("state") is None:  # no state given: say which it is
        info = await deps.repo.member(caller.community, caller.member)
        if info is None or info.reminders:
            return private_reply(Text.of("Your reminders are on: when a /who-next promise comes "
                                         "due, I DM you to ask how it went, and your /remind "
                                         "nudges come as set."),
                                 Context.of("Turn them off with /reminders off."))
        return private_reply(Text.of("Your reminders are off: no DMs from me."),
                             Context.of("Turn them on with /reminders on."))
    on = opts["state"] == "on"
    await deps.repo.set_reminders(caller.community, caller.member, caller.name, on, deps.now())
    if on:
        return private_reply(Text.of("Reminders on: when a /who-next promise comes due, I'll "
                                     "DM you to ask how it went, and your /remind nudges come "
                                     "as set."))
    return private_reply(Text.of("Reminders off: no DMs from me, no follow-ups and no /remind "
                                 "nudges. Your promises still wait for you in /asks."),
                         Context.of("Change your mind any time with /reminders on."))
