"""What the scheduler posts, platform-free: the daily check-in, the weekly recap and the
commitment follow-up DM. Each is a ``Reply`` built from one ``Repository.activity`` read.

Private attempts are counted everywhere but their text never appears. Quiet days and quiet
weeks get an encouraging post, never a scolding one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot import prompts
from bot.handlers.commitments import commitment_blocks
from bot.handlers.dare import dare_blocks
from bot.ids import MemberRef
from bot.models import (
    Activity,
    ActivityWindow,
    Attempt,
    Commitment,
    FollowUp,
    Outcome,
    Schedule,
    Totals,
)
from bot.ports import Charts, Repository
from bot.reply import Block, Context, Heading, Image, Mention, Reply, Span, Strong, Text
from bot.schedules import checkin_period, local_midnight, period_label

MAX_NAMES = 15
MAX_HIGHLIGHTS = 3
MAX_COMMITMENTS = 8
MAX_LISTED_ASK = 200  # characters of each ask in a line of promises
MAX_MILESTONES = 8  # members whose milestones are named; the rest are counted


def _date_words(day: date) -> str:
    return f"{day.strftime('%A')} {day.day} {day.strftime('%b')}"


def _mention(names: dict[str, str], member: MemberRef) -> Mention:
    return Mention(member, names.get(member.key, member.id))


def joined(spans_per_item: list[list[Span]]) -> list[Span]:
    """'a, b and c' over groups of spans."""
    out: list[Span] = []
    for i, item in enumerate(spans_per_item):
        if i:
            out.append(" and " if i == len(spans_per_item) - 1 else ", ")
        out.extend(item)
    return out


def counts_line(attempts: Sequence[Attempt]) -> str:
    by = Counter(a.outcome for a in attempts)
    parts = []
    if by[Outcome.REJECTED]:
        parts.append(prompts.rejections_word(by[Outcome.REJECTED]))
    if by[Outcome.ACCEPTED]:
        parts.append(prompts.yes_word(by[Outcome.ACCEPTED]))
    if by[Outcome.PENDING]:
        parts.append(f"{by[Outcome.PENDING]} still waiting")
    return f"{prompts.attempts_word(len(attempts))}: " + ", ".join(parts)


def milestones(activity: Activity) -> list[tuple[MemberRef, str]]:
    """Milestones crossed inside the window, per member, in the order they were logged."""
    running: dict[str, Totals] = {}
    found: list[tuple[MemberRef, str]] = []
    for a in activity.attempts:
        t = running.get(a.member.key) or activity.prior.get(a.member.key, Totals())
        t = Totals(t.attempts + 1, t.rejected + (a.outcome == Outcome.REJECTED),
                   t.accepted + (a.outcome == Outcome.ACCEPTED),
                   t.pending + (a.outcome == Outcome.PENDING))
        running[a.member.key] = t
        if prompts.attempt_milestone(t.attempts):
            found.append((a.member, prompts.checkin_milestone(t.attempts, "attempts")))
        if a.outcome == Outcome.REJECTED and prompts.rejection_milestone(t.rejected):
            found.append((a.member, prompts.checkin_milestone(t.rejected, "rejections")))
        if a.outcome == Outcome.ACCEPTED and t.accepted == 1:
            found.append((a.member, prompts.checkin_milestone(1, "yes")))
    return found


def daily_window(schedule: Schedule, day: date) -> ActivityWindow:
    """What the check-in on local date ``day`` reads: the asks since the previous check-in
    (``checkin_period``), up to its own time, and the promises still open, from the previous
    check-in's day up to the end of ``day``."""
    zone = ZoneInfo(schedule.timezone)
    period = checkin_period(schedule, day)
    due_from = local_midnight(period.since_day, zone)
    tomorrow = local_midnight(day + timedelta(days=1), zone)
    return ActivityWindow(schedule.community, period.start, period.end, due_from, tomorrow)


async def daily_post(repo: Repository, schedule: Schedule, day: date, late: bool = False
                     ) -> Reply:
    """The check-in for local date ``day``: what happened since the previous check-in,
    milestones, promises due today, the ones still open, and an invitation."""
    act = (await repo.activities([daily_window(schedule, day)]))[0]
    return daily_reply(schedule, day, checkin_period(schedule, day).since_day, act, late)


def _promises(title: str, commitments: Sequence[Commitment], act: Activity, ending: str
              ) -> Text:
    """One line of promises with their owners mentioned, the first MAX_COMMITMENTS of them; a
    member's identical promises are one item ("@ana: call the landlord (×2)")."""
    same: Counter[tuple[str, str]] = Counter((c.member.key, c.ask) for c in commitments)
    seen: dict[tuple[str, str], Commitment] = {}
    for c in commitments:
        seen.setdefault((c.member.key, c.ask), c)
    first = list(seen.values())
    items: list[list[Span]] = [
        [_mention(act.names, c.member), ": ", Strong(_short(c.ask)),
         f" (×{n})" if (n := same[(c.member.key, c.ask)]) > 1 else ""]
        for c in first[:MAX_COMMITMENTS]]
    more = sum(same[(c.member.key, c.ask)] for c in first[MAX_COMMITMENTS:])
    return Text.of(Strong(title), *joined(items), f" (and {more} more)" if more > 0 else "",
                   ending)


def _short(ask: str) -> str:
    """An ask as a line of many shows it: whole, or its start (so eight of them stay one
    readable line, within every platform's limits)."""
    return ask if len(ask) <= MAX_LISTED_ASK else ask[: MAX_LISTED_ASK - 1].rstrip() + "…"


def daily_reply(schedule: Schedule, day: date, since: date, act: Activity, late: bool = False
                ) -> Reply:
    """The check-in on ``day`` from what ``daily_window`` read; ``since``: the previous
    check-in's day (``checkin_period``), which the period's label names."""
    if schedule.dare:  # /checkin set dare:on: today's dare, before the how-to
        plain = daily_reply(replace(schedule, dare=False), day, since, act, late).blocks
        how = Context.of(prompts.CHECKIN_HOW_TO)
        at = plain.index(how) if how in plain else len(plain)
        return Reply((*plain[:at], *dare_blocks(day, act.dares), *plain[at:]))
    late_at = schedule.time if late else None
    label = period_label(day, replace(checkin_period(schedule, day), since_day=since))
    if not act.attempts and not act.commitments:  # most communities, most days: one text each
        return _quiet_reply(day, label, late_at)
    return _daily_reply(day, label, act, ZoneInfo(schedule.timezone), late_at)


@lru_cache(maxsize=64)
def _quiet_reply(day: date, label: str, late_at: str | None) -> Reply:
    return _daily_reply(day, label, Activity((), {}, {}, ()), ZoneInfo("UTC"), late_at)


def _daily_reply(day: date, period: str, act: Activity, zone: ZoneInfo, late_at: str | None
                 ) -> Reply:
    seed = day.toordinal()
    blocks: list[Block] = [Heading(f"Check-in · {_date_words(day)}")]
    if act.attempts:
        blocks.append(Text.of(Strong(f"{period}: "), counts_line(act.attempts) + "."))
        per_member = Counter(a.member for a in act.attempts)
        order = sorted(per_member, key=lambda m: (-per_member[m], act.names.get(m.key, m.id)))
        who: list[list[Span]] = [[_mention(act.names, m), f" ({per_member[m]})"]
                                 for m in order[:MAX_NAMES]]
        extra = len(order) - MAX_NAMES
        if extra > 0:
            who.append([f"{extra} more"])
        blocks.append(Text.of("Logged by ", *joined(who), "."))
        shown = [a for a in act.attempts if not a.private][-MAX_HIGHLIGHTS:]
        verbs = {Outcome.REJECTED: " got a no: ", Outcome.ACCEPTED: " got a yes: ",
                 Outcome.PENDING: " is waiting to hear back on: "}
        for a in shown:
            blocks.append(Text.of("• ", _mention(act.names, a.member), verbs[a.outcome],
                                  Strong(a.ask)))
        private = sum(a.private for a in act.attempts)
        if private:
            blocks.append(Context.of(f"Plus {private} private "
                                     f"{'ask' if private == 1 else 'asks'}, counted with thanks."))
        reached: dict[MemberRef, list[str]] = {}
        for member, line in milestones(act):
            reached.setdefault(member, []).append(line)
        if reached:
            blocks.append(Text.of(Strong("Milestones! 🎉")))
            for member, lines in list(reached.items())[:MAX_MILESTONES]:
                blocks.append(Text.of("• ", _mention(act.names, member), " ",
                                      *joined([[line] for line in lines])))
            more = len(reached) - MAX_MILESTONES
            if more > 0:
                blocks.append(Text.of(f"• …and {more} more of you reached one too. Lovely to see!"))
        blocks.append(Text.of(prompts.pick(prompts.CHECKIN_BUSY, seed)))
    else:
        blocks.append(Text.of(Strong(f"{period}: "), prompts.pick(prompts.CHECKIN_QUIET, seed)))
    end = local_midnight(day, zone)
    due_today = [c for c in act.commitments if c.due_at >= end]
    still_open = [c for c in act.commitments if c.due_at < end]
    if due_today:
        blocks.append(_promises("Promised for today: ", due_today, act, ". You've got this!"))
    if still_open:
        blocks.append(_promises("Promises still open: ", still_open, act, "."))
        blocks.append(Context.of(prompts.CHECKIN_OPEN_NOTE))
    blocks.append(Text.of(prompts.pick(prompts.CHECKIN_INVITES, seed)))
    blocks.append(Context.of(prompts.CHECKIN_HOW_TO))
    if late_at is not None:
        blocks.append(Context.of(f"Posted a little late: I was offline at {late_at}."))
    return Reply(tuple(blocks))


async def weekly_recap(repo: Repository, schedule: Schedule, day: date,
                       charts: Charts | None = None) -> Reply:
    """The recap posted on ``day``: the seven local days before it, against the seven before
    those. The chart (with ``charts``) is drawn on a worker thread."""
    zone = ZoneInfo(schedule.timezone)
    name = schedule.community_name
    week_start = day - timedelta(days=7)
    start = local_midnight(day - timedelta(days=14), zone)
    middle, end = local_midnight(week_start, zone), local_midnight(day, zone)
    act = await repo.activity(schedule.community, start, end, end, end)
    this_week = [a for a in act.attempts if a.created_at >= middle]
    last_week = len(act.attempts) - len(this_week)
    days = [week_start + timedelta(days=i) for i in range(7)]
    per_day: dict[str, list[int]] = {o: [0] * 7 for o in Outcome}
    for a in this_week:
        index = (a.created_at.astimezone(zone).date() - week_start).days
        if 0 <= index < 7:
            per_day[a.outcome][index] += 1
    png = None
    if this_week and charts is not None:
        subtitle = _titled(name, date_range(week_start, days[-1]))
        png = await asyncio.to_thread(charts.week_chart, days, per_day, "Asks per day, by outcome",
                                      subtitle=subtitle)
    totals = [sum(per_day[o][i] for o in per_day) for i in range(7)]
    return recap_reply(day, act, this_week, last_week, totals, png, name)


def date_range(first: date, last: date) -> str:
    """'1–7 Dec', or '30 Nov – 6 Dec' across months."""
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last.strftime('%b')}"
    return f"{first.day} {first.strftime('%b')} – {last.day} {last.strftime('%b')}"


def _titled(name: str | None, span: str) -> str:
    """'Ask Club · 1–7 Dec'; the range alone for a community without a name."""
    return f"{name.strip()} · {span}" if name and name.strip() else span


def recap_reply(day: date, act: Activity, this_week: list[Attempt], last_week: int,
                per_day: list[int], png: bytes | None, name: str | None = None) -> Reply:
    first, last = day - timedelta(days=7), day - timedelta(days=1)
    span = date_range(first, last)
    blocks: list[Block] = [Heading(f"Weekly recap · {_titled(name, span)}")]
    if not this_week:
        blocks.append(Text.of(prompts.RECAP_QUIET))
        if last_week:
            blocks.append(Context.of(f"The week before: {prompts.attempts_word(last_week)}. "
                                     "The group knows how; this week is a fresh start."))
        blocks.append(Context.of(prompts.CHECKIN_HOW_TO))
        return Reply(tuple(blocks))
    blocks.append(Text.of(Strong("This week: "), counts_line(this_week) + "."))
    compare = prompts.week_compare(len(this_week), last_week)
    if compare:
        blocks.append(Context.of(compare))
    counts = Counter(a.member for a in this_week)
    ranked = sorted(counts, key=lambda m: (-counts[m], act.names.get(m.key, m.id), m.key))
    lines: list[Span] = []
    rank = 0
    for i, member in enumerate(ranked[:10]):
        if i == 0 or counts[member] != counts[ranked[i - 1]]:
            rank = i + 1
        lines += [f"{rank}. ", _mention(act.names, member), f" · {counts[member]}",
                  "\n" if i < min(len(ranked), 10) - 1 else ""]
    blocks.append(Text.of(Strong("Leaderboard"), "\n", *lines))
    brave = [a for a in this_week if not a.private and a.fear is not None]
    if brave:
        top = max(brave, key=lambda a: (a.fear, -a.created_at.timestamp()))
        blocks.append(Text.of(Strong("Bravest ask: "), _mention(act.names, top.member), " · ",
                              Strong(top.ask), f" (fear {top.fear}/10). Hats off!"))
    else:
        blocks.append(Context.of(prompts.RECAP_NO_FEAR))
    if png is not None:
        summary = ", ".join(f"{(first + timedelta(days=i)).strftime('%a')} {n}"
                            for i, n in enumerate(per_day))
        blocks.append(Image(png, f"whosnext-week-{first.isoformat()}.png",
                            f"Asks per day, {span}: {summary}"))
    # The next invitation after the check-in's (seeded by the same day): a recap and the
    # check-in posted with it never end on the same challenge.
    blocks.append(Text.of(prompts.pick(prompts.CHECKIN_INVITES, day.toordinal() + 1)))
    return Reply(tuple(blocks))


def followup_reply(item: FollowUp, zone: ZoneInfo, now: datetime) -> Reply:
    """The DM when a /who-next comes due: how did it go, with the resolve buttons."""
    return Reply((Heading(prompts.FOLLOWUP_HEADING),
                  *commitment_blocks(item.commitment, zone, now),
                  Context.of(prompts.FOLLOWUP_NOTE)))

