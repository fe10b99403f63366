"""The outbox: every post the bot makes on its own goes out through here, exactly once where the
platform lets us tell, and never silently lost.

Each scheduled post (a check-in, a recap, a follow-up DM) is a row with a state machine, kept in
the database (``Repository.enqueue_posts`` … ``finish_posts``)::

    due ──claim──▶ claimed ──start──▶ sending ──▶ sent
     ▲               │ lease lapsed      │ retry (5xx, 429, timeout, dropped connection)
     └───────────────┴───────────────────┘ ──deadline passed / can't be fixed──▶ missed (reason)

A claim is a short lease (``lease``, renewed while the process works) held by one process, the
``owner``. A process that dies mid-post leaves its rows leased; when the lease lapses, whoever
claims next (the same bot restarted, or another process on the database) takes them over. A
lapsed *sending* row, and a try that timed out or lost its connection after sending, may have
reached the platform: the next try passes the Poster ``sent_since``, and the Poster checks
before posting again (in the channel's history, by the message metadata carrying the row's
key; or by sending the same key as a nonce the platform de-duplicates). A try is cut off before
its lease could lapse, so nobody takes a post over while a try of it is still running. Retries
back off exponentially (or as long as a 429's ``Retry-After`` asks) until the post's deadline,
the end of the grace window; then it is recorded as missed, with the last reason. A refusal
retrying can't fix (channel gone, bot removed, no permission) is recorded as missed at once.
``/checkin show`` reads the latest row of each kind.

Fan-out is set-based: a platform's ready posts are claimed a batch at a time in one statement,
the batch's check-ins read their activity in a few statements, and the next batch is claimed
as soon as fewer posts than the platform's slots are left. A community's tries are recorded as
started once it holds a slot (concurrent ones share a commit) and outcomes are recorded a
slot's worth at a time. Posts go out side by side under each platform's ``PostingLimits``; a
slow post holds its slot, never the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import math
import os
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.checkin_posts import daily_reply, daily_window, followup_reply, weekly_recap
from bot.errors import Unavailable
from bot.handlers import Deps
from bot.handlers.cheer import CHEER_ACTION
from bot.handlers.commitments import news_reply
from bot.handlers.edit import edited_post
from bot.handlers.remind import nudge_reply
from bot.handlers.season import season_post
from bot.ids import CommunityRef, Platform
from bot.models import Attempt, OutboxItem, OutboxState, PostKind, PostResult, Schedule
from bot.outage import OutageLog
from bot.ports import (
    Clock,
    Delivery,
    DeliveryStatus,
    Metrics,
    NoMetrics,
    Poster,
    PostingLimits,
    PostOutcome,
    Repository,
)
from bot.reply import Action, Reply
from bot.schedules import previous_day
from bot.shards import ShardSpec

log = logging.getLogger(__name__)

_AS_OF: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("as_of", default=None)
LEASE = timedelta(seconds=60)
FIRST_RETRY = timedelta(seconds=10)  # then 20, 40, 80 … seconds
LONGEST_RETRY = timedelta(minutes=5)
MAX_RETRY_AFTER = 24 * 3600.0  # a Retry-After beyond a day is nonsense: past any grace window
LEASE_MARGIN = 5.0  # seconds a try stops before its lease could lapse
LATE = timedelta(minutes=1)  # a first try this long after its time says it was posted late
TURNED_OFF = "check-ins were turned off before it went out"
PROMISE_CLOSED = "the promise was closed before its follow-up went out"
REMINDERS_OFF = "the member turned reminders off"
UNDONE = "the ask was undone before its news went out"
EDIT_UNDONE = "the ask was undone before its edit reached its post"
SEASON_GONE = "the season was gone before its post went out"
REMIND_OFF = "the member turned /remind off"
ALREADY_LOGGED = "the member logged an ask that day before their nudge went out"
ON_A_BREAK = "the member is on a break"


@dataclass
class RunReport:
    """What a run did; the tests and the benchmark read it, the logs summarise it."""

    posted: int = 0  # check-ins and recaps sent
    followups: int = 0  # follow-up DMs sent
    retrying: int = 0  # tries that failed for now: retried later, within the grace window
    failed: int = 0  # given up: refused for good, or still failing when the window closed
    skipped: int = 0  # missed before any try: due while the bot was offline, past the window
    taken: int = 0  # queued already (by an earlier run, or another process)
    quiet_followups: int = 0  # promises closed without a DM (reminders off, or too old)
    nudges: int = 0  # /remind DMs sent
    failures: list[str] = field(default_factory=list)  # the communities of ``failed``

    def add(self, other: RunReport) -> None:
        for name in ("posted", "followups", "retrying", "failed", "skipped", "taken",
                     "quiet_followups", "nudges"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures


class Pace:
    """Spaces out the start of posts on one platform (None: no spacing, no sleeping)."""

    def __init__(self, per_second: float | None):
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def process_owner() -> str:
    """This process's name on its leases: host, pid and a random part (a pid comes back)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(tries: int, jitter: float) -> timedelta:
    """The wait before try ``tries + 1``: 10 s, 20 s, 40 s … at most five minutes, stretched by
    up to a fifth (``jitter`` in [0, 1)) so many posts retried together spread out."""
    doubling: int = 2 ** min(max(0, tries - 1), 16)
    base = min(FIRST_RETRY * doubling, LONGEST_RETRY)
    return base * (1 + jitter / 5)


DMS = (PostKind.FOLLOWUP, PostKind.REMIND)  # each its own group: to a member, not a channel
Prepared = tuple[OutboxItem, Reply | None]  # None: built when it is sent (recaps)


class Outbox:
    def __init__(self, repo: Repository, deps: Deps, posters: Mapping[Platform, Poster],
                 limits: Mapping[Platform, PostingLimits], clock: Clock,
                 schedule_of: Callable[[CommunityRef], Schedule | None],
                 communities: Collection[CommunityRef] | None = None,
                 lease: timedelta = LEASE, post_timeout: float = 45.0,
                 owner: str | None = None, jitter: Callable[[], float] = random.random,
                 outage: OutageLog | None = None, metrics: Metrics | None = None,
                 shards: Sequence[ShardSpec] = ()):
        """``schedule_of``: the live schedule the scheduler knows for a community (None: ask
        the database). ``post_timeout``: how long one try may take before it counts as
        uncertain (it may have reached the platform). ``outage``: where a database out of reach
        is logged (the core's, shared), instead of a traceback per run. ``metrics``: told how
        each try ended (sent, retried) and each post given up (missed). ``shards``: claim only
        the posts of these shards' communities (``bot.shards``)."""
        self.repo = repo
        self.metrics: Metrics = metrics or NoMetrics()
        self.outage = outage or OutageLog(log)
        self.deps = deps
        self.posters = dict(posters)
        self.limits = dict(limits)
        self.clock = clock
        self.schedule_of = schedule_of
        self.communities = communities
        self.shards = tuple(shards)
        self.lease = lease
        self.post_timeout = post_timeout
        self.owner = owner or process_owner()
        self._jitter = jitter
        self._slots = {p: asyncio.Semaphore(lim.concurrency) for p, lim in self.limits.items()}
        self._pace = {p: Pace(lim.per_second) for p, lim in self.limits.items()}
        self._draining = 0
        self._renewer: asyncio.Task[None] | None = None
        self._renewed_until: datetime | None = None  # every lease we hold lasts at least this
        self.stopping = False  # set by ``stop``: nothing new is claimed or started

    # -- the loop ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return _AS_OF.get() or self.clock.now()

    async def drain(self, now: datetime | None = None) -> RunReport:
        """Send everything ready now, on every platform side by side, until nothing is ready
        (what failed for now is due again later: the next drain takes it). ``now`` (tests, a
        catch-up run) holds this drain's clock at that moment."""
        token = _AS_OF.set(now) if now is not None else None  # for this drain's tasks too
        report = RunReport()
        self._draining += 1
        if self._renewer is None or self._renewer.done():  # on the live clock, not a held one
            self._renewer = asyncio.create_task(self._renew(), context=contextvars.Context())
        try:
            for sub in await asyncio.gather(*(self._drain(p) for p in self.posters)):
                report.add(sub)
        finally:
            if token is not None:
                _AS_OF.reset(token)
            self._draining -= 1
            if not self._draining and self._renewer is not None:
                self._renewer.cancel()
                self._renewer = None
        return report

    def stop(self) -> None:
        """Claim and start nothing more; the tries under way run out (``release`` after)."""
        self.stopping = True

    async def release(self) -> None:
        """A clean stop: what this process claimed but hasn't started goes back to due."""
        with contextlib.suppress(Exception):
            await self.repo.release_posts(self.owner)

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            now = self._now()
            try:
                await self.repo.renew_leases(self.owner, now, self.lease)
                self._renewed_until = now + self.lease
            except Exception as err:
                self._trouble(err, "renewing the outbox's leases failed")

    async def _drain(self, platform: Platform) -> RunReport:
        """Claim a batch, start a task per community (each waits for one of the platform's
        slots, then marks its tries as started and makes them), and claim the next batch as
        soon as fewer tasks than slots are left: a slow post holds its slot, never the rest.
        Outcomes are recorded a slot's worth at a time."""
        report = RunReport()
        room = self.limits[platform].concurrency
        inflight: set[asyncio.Task[None]] = set()
        results: list[PostResult] = []
        more = True
        try:
            while (more and not self.stopping) or inflight:
                if more and not self.stopping and len(inflight) < room:
                    groups = await self._next_batch(platform, report)
                    more = groups is not None
                    for group in groups or ():
                        inflight.add(asyncio.create_task(
                            self._send_group(platform, group, results, report)))
                    continue
                _, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                if len(results) >= room or not inflight:
                    await self._flush(results)
        finally:
            for task in inflight:  # only when this drain itself is cancelled (shutdown)
                task.cancel()
            await self._flush(results)  # what we know; the rest lapses to "may have gone out"
        return report

    async def _next_batch(self, platform: Platform, report: RunReport
                          ) -> list[list[Prepared]] | None:
        limits = self.limits[platform]
        claimed, missed = await self.repo.claim_posts(
            self.owner, self._now(), self.lease, max(16, min(500, limits.concurrency * 8)),
            [platform.value], self.communities, self.shards)
        for item in missed:
            self._missed(item, item.reason or "", report, tried=item.tries > 0)
        return await self._prepare(claimed, report) if claimed else None

    async def _flush(self, results: list[PostResult]) -> None:
        """Record outcomes: written first, forgotten after (shielded, so a cancel can't lose a
        write under way); a failed write keeps them for the next flush."""
        if not results:
            return
        batch = results[:]
        try:
            await asyncio.shield(self.repo.finish_posts(self.owner, batch))
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._trouble(err, f"recording {len(batch)} outbox result(s) failed; trying again "
                          "with the next")
            return
        del results[:len(batch)]

    def _trouble(self, err: Exception, what: str) -> None:
        """A database out of reach is the outage log's; anything else is a bug, with its
        traceback."""
        if isinstance(err, Unavailable):
            self.outage.failed(what.partition(" failed")[0], err)
        else:
            log.error("%s", what, exc_info=err)

    # -- building what to send -------------------------------------------------------------------

    async def _schedule(self, community: CommunityRef) -> Schedule | None:
        schedule = self.schedule_of(community)
        if schedule is None:
            schedule = await self.repo.get_schedule(community)
        return schedule if schedule is not None and schedule.enabled else None

    async def _prepare(self, claimed: list[OutboxItem], report: RunReport
                       ) -> list[list[Prepared]]:
        """The batch's posts, grouped by community in claim order (a check-in before its recap),
        with the check-ins' text built from one set-based read."""
        now = self._now()
        groups: dict[str, list[Prepared]] = {}
        checkins: list[tuple[OutboxItem, Schedule]] = []
        dropped: list[PostResult] = []
        for item in claimed:
            reply: Reply | None = None
            if item.kind == PostKind.FOLLOWUP:
                if item.followup is None or not item.followup.member.reminders:
                    reason = PROMISE_CLOSED if item.followup is None else REMINDERS_OFF
                    dropped.append(PostResult(item.id, OutboxState.MISSED, now, reason))
                    report.quiet_followups += 1
                    continue
                zone = self.deps.zone(item.followup.member.timezone, item.zone)
                reply = followup_reply(item.followup, zone, now)
            elif item.kind == PostKind.REMIND:  # checked again now: an ask since, a break
                nudge = item.nudge
                why = (REMIND_OFF if nudge is None else REMINDERS_OFF if not nudge.member.reminders
                       else ON_A_BREAK if nudge.paused else ALREADY_LOGGED if nudge.logged
                       else None)
                if nudge is None or why is not None:
                    dropped.append(PostResult(item.id, OutboxState.MISSED, now, why))
                    continue
                reply = nudge_reply(nudge)
            elif item.kind == PostKind.NEWS:  # needs no schedule: told where it was promised
                if item.news is None:
                    dropped.append(PostResult(item.id, OutboxState.MISSED, now, UNDONE))
                    continue
                reply = news_reply(item.news)
            elif item.kind in (PostKind.SEASON, PostKind.EDIT):
                pass  # need no schedule: built when they are sent (a chart off the event loop,
                # the entry as it is then)
            else:
                schedule = await self._schedule(item.community)
                if schedule is None:
                    dropped.append(PostResult(item.id, OutboxState.MISSED, now, TURNED_OFF))
                    continue
                if item.kind == PostKind.CHECKIN:
                    checkins.append((item, schedule))
            key = item.community.key if item.kind not in DMS else f"dm:{item.id}"
            groups.setdefault(key, []).append((item, reply))
        if dropped:  # closed without a try (turned off, promise closed)
            await self.repo.finish_posts(self.owner, dropped)
        if checkins:
            acts = await self.repo.activities([daily_window(s, local_date(i))
                                               for i, s in checkins])
            built = {i.id: daily_reply(s, local_date(i), previous_day(s, local_date(i)),
                                       act, late=not i.tries and now - i.due_at > LATE)
                     for (i, s), act in zip(checkins, acts, strict=True)}
            for group in groups.values():
                group[:] = [(i, built.get(i.id, r)) for i, r in group]
        return list(groups.values())

    # -- sending ---------------------------------------------------------------------------------

    async def _send_group(self, platform: Platform, group: list[Prepared],
                          results: list[PostResult], report: RunReport) -> None:
        """One community's posts in order, in one slot. Their tries are recorded as started
        once the slot is ours, just before the first reaches the platform."""
        async with self._slots[platform]:
            if self.stopping:
                return  # still only claimed: released to whoever comes next
            try:
                started = self._now()
                mine = await self.repo.start_sending(self.owner, [i.id for i, _ in group],
                                                     started, self.lease)
            except Exception as err:
                self._trouble(err, f"starting {len(group)} outbox post(s) failed; their leases "
                              "will lapse")
                return
            for item, reply in group:
                if item.id not in mine:
                    continue  # our lease lapsed and someone else holds it now
                held = started + self.lease
                if self._renewed_until is not None:
                    held = max(held, self._renewed_until)
                try:
                    delivery = await self._try(platform, item, reply, held)
                    results.append(self._result(item, delivery, report))
                except asyncio.CancelledError:
                    raise
                except Exception:  # a bug of ours: the row lapses to "may have gone out"
                    log.exception("The %s %d for %s failed unexpectedly.", item.kind, item.id,
                                  item.community.key)

    async def _try(self, platform: Platform, item: OutboxItem, reply: Reply | None,
                   held: datetime) -> Delivery:
        """One try, cut off before our lease on it (``held``) could lapse: a try never runs
        on while another process may take the post over."""
        poster = self.posters[platform]
        if reply is None and item.kind == PostKind.SEASON:
            try:
                reply = await season_post(self.repo, item.community, int(item.subject),
                                          self.deps.charts)
            except Exception as err:  # nothing was sent: a plain retry
                log.exception("Building the season post %d for %s failed.", item.id,
                              item.community.key)
                return Delivery.retry(f"the season's post couldn't be put together "
                                      f"({type(err).__name__})")
            if reply is None:
                return Delivery.failed(SEASON_GONE)
        entry: Attempt | None = None
        if item.kind == PostKind.EDIT:  # the entry as it is now (this try began: see AGAIN)
            try:
                news = await self.repo.edited_entry(item.community, item.subject, item.due_at)
            except Exception as err:  # nothing was sent: a plain retry
                self._trouble(err, f"reading the entry of the edit {item.id} failed")
                return Delivery.retry(f"the entry couldn't be read ({type(err).__name__})")
            if news is None:
                return Delivery.failed(EDIT_UNDONE)
            entry, reply = news.attempt, edited_post(news)
        if reply is None:  # a recap: read and drawn now (the chart off the event loop)
            try:
                schedule = await self._schedule(item.community)
                if schedule is None:
                    return Delivery.failed(TURNED_OFF)
                reply = await weekly_recap(self.repo, schedule, local_date(item),
                                           self.deps.charts)
            except Exception as err:  # nothing was sent: a plain retry
                log.exception("Building the recap %d for %s failed.", item.id, item.community.key)
                return Delivery.retry(f"the recap couldn't be put together ({type(err).__name__})")
        left = (held - self._now()).total_seconds() - LEASE_MARGIN
        timeout = min(self.post_timeout, max(1.0, left))
        try:
            await self._pace[platform].wait()
            async with asyncio.timeout(timeout):
                send: Awaitable[Delivery]
                if item.kind == PostKind.FOLLOWUP:
                    assert item.followup is not None
                    send = poster.dm(item.community, item.followup.member.member, reply,
                                     key=item.key, sent_since=item.sent_since)
                elif item.kind == PostKind.REMIND:
                    assert item.nudge is not None
                    send = poster.dm(item.community, item.nudge.member.member, reply,
                                     key=item.key, sent_since=item.sent_since)
                elif entry is not None:  # an edit
                    send = poster.edit(item.community, item.target,
                                       Action(CHEER_ACTION, str(entry.id)), reply,
                                       since=entry.created_at)
                else:
                    send = poster.post(item.community, item.target, reply, key=item.key,
                                       sent_since=item.sent_since)
                return await send
        except TimeoutError:
            return Delivery.uncertain(f"{platform.value.capitalize()} didn't answer within "
                                      f"{timeout:g} s")
        except asyncio.CancelledError:
            if _really_cancelled():
                raise
            return Delivery.uncertain("the post was cancelled inside the platform's client")
        except Exception as err:  # a bug of ours or a client library's: may have gone out
            log.exception("The %s %d for %s raised.", item.kind, item.id, item.community.key)
            return Delivery.uncertain(f"something went wrong while posting ({type(err).__name__})")

    def _result(self, item: OutboxItem, delivery: Delivery, report: RunReport) -> PostResult:
        now = self._now()
        if delivery.status is DeliveryStatus.SENT:
            if item.kind == PostKind.FOLLOWUP:
                report.followups += 1
            elif item.kind == PostKind.REMIND:
                report.nudges += 1
            else:
                report.posted += 1
            self._count(item, PostOutcome.SENT)
            return PostResult(item.id, OutboxState.SENT, now, message_id=delivery.message_id)
        reason = delivery.reason or delivery.status.value
        uncertain = delivery.status is DeliveryStatus.UNCERTAIN
        if delivery.status in (DeliveryStatus.RETRY, DeliveryStatus.UNCERTAIN):
            wait = backoff(item.tries + 1, self._jitter())
            if delivery.retry_after is not None and math.isfinite(delivery.retry_after):
                # As long as asked, at least a second, and no later than the window allows.
                asked = min(max(delivery.retry_after, 1.0), MAX_RETRY_AFTER)
                wait = timedelta(seconds=asked)
            at = now + wait
            if at <= item.deadline:
                report.retrying += 1
                self._count(item, PostOutcome.RETRIED)
                log.info("The %s for %s didn't go out (%s); trying again at %s.", item.kind,
                         item.community.key, reason, at.strftime("%H:%M:%S"))
                return PostResult(item.id, OutboxState.DUE, now, reason, at, uncertain)
            # The window closes before the next try: recorded with the try it would have been.
            self._missed(item, reason, report, tried=True)
            return PostResult(item.id, OutboxState.MISSED, now, reason, at, uncertain)
        self._missed(item, reason, report, tried=True)
        return PostResult(item.id, OutboxState.MISSED, now, reason, uncertain=uncertain)

    def _count(self, item: OutboxItem, outcome: PostOutcome) -> None:
        self.metrics.post(item.community.platform.value, item.kind.value, outcome)

    def _missed(self, item: OutboxItem, reason: str, report: RunReport, tried: bool) -> None:
        self._count(item, PostOutcome.MISSED)
        if tried:
            report.failed += 1
            report.failures.append(item.community.key)
        else:
            report.skipped += 1
        log.warning("Gave up on the %s of %s for %s: %s.", item.kind, item.community.key,
                    item.subject, reason)


def local_date(item: OutboxItem) -> date:
    """The local date a check-in or recap is for (its ``subject``)."""
    return date.fromisoformat(item.subject)


def _really_cancelled() -> bool:
    """Is this task being cancelled (shutdown), rather than a poster leaking a CancelledError
    of its own (a timeout inside a client library, say)?"""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
