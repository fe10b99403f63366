"""Check-ins, weekly recaps and commitment follow-ups on APScheduler 3.x, exactly once.

Schedules live in our database. At start-up (and whenever /checkin changes one, or another
process changed one: see ``sync``) the cron jobs are rebuilt from them, with fixed ids and
``replace_existing=True``: one job per distinct trigger (kind, zone, time, days), e.g.
``checkin@Europe/Berlin@09:00@mon,tue,wed,thu,fri``, whose run serves every community sharing
it. A CronTrigger in the community's zone keeps 09:00 at 09:00 local across DST. (A job per
community works too, but 10,000 of them cost seconds at start-up and APScheduler's per-job
bookkeeping delays the last post of a busy minute by seconds more; see the benchmark.)
APScheduler only says *when*; what to do at a moment is ``run_due(now)`` / ``fire_group``,
which the tests call directly with a fake clock.

Exactly once: before posting, the occurrence (community + kind + local date) is claimed by
inserting a row in the database, all claims of one run in one transaction. Whoever inserts
first posts; a second fire, a restart or a second process sharing the file finds the row taken.
A post is therefore at most once, and at least once unless the platform refuses it (logged as
failed). An occurrence missed while the bot was down is posted late within the grace window,
otherwise claimed as skipped and logged.

Fan-out: posts go out per platform under a semaphore (bounded concurrency) and an optional
pace (posts per second), both as the platform's Poster declares them (``Poster.limits``: the
scheduler knows no platform's limits itself); each community's post is isolated (errors, a
False from the Poster or a timeout are logged and recorded, never propagated), so one failing
community never delays or breaks the others beyond the one slot it holds until its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App
from bot.checkin_posts import daily_post, followup_reply, weekly_recap
from bot.days import DAYS
from bot.handlers import Deps
from bot.ids import CommunityRef, Platform
from bot.models import Claim, ClaimStatus, FollowUp, PostKind, Schedule
from bot.ports import Clock, Poster, PostingLimits, Repository
from bot.reply import Reply
from bot.schedules import KINDS, Occurrence, clock_time, latest_occurrence, weekdays_of
from bot.tasks import finish_within

log = logging.getLogger(__name__)

# A follow-up for a promise that fell due longer ago than this (the bot was down for days) is
# marked done quietly instead of sent.
FOLLOWUP_MAX_AGE = timedelta(days=3)
# How long after its minute a job may still find "its" occurrence: covers clock jitter between
# APScheduler's wake-up and our clock.
FIRE_TOLERANCE = timedelta(seconds=5)



def trigger_for(schedule: Schedule, kind: PostKind = PostKind.CHECKIN) -> CronTrigger:
    """The APScheduler trigger: the schedule's time on its days, in its own zone (09:00 stays
    09:00 local across DST; ``bot.schedules.occurrence_at`` is the same rule as plain math)."""
    t = clock_time(schedule)
    days = ",".join(DAYS[i] for i in sorted(weekdays_of(schedule, kind)))
    return CronTrigger(day_of_week=days, hour=t.hour, minute=t.minute,
                       timezone=ZoneInfo(schedule.timezone))


def limits_of(posters: Mapping[Platform, Poster],
              overrides: Mapping[Platform, PostingLimits] | None = None
              ) -> dict[Platform, PostingLimits]:
    """Each platform's limits: what its Poster declares, unless ``overrides`` names it."""
    chosen: dict[Platform, PostingLimits] = {}
    for platform, poster in posters.items():
        limits = (overrides or {}).get(platform)
        if limits is None:
            limits = getattr(poster, "limits", None)
        if not isinstance(limits, PostingLimits):
            raise TypeError(f"the {platform.value} poster ({type(poster).__name__}) declares no "
                            "limits: give it a `limits` attribute (bot.ports.PostingLimits)")
        chosen[platform] = limits
    return chosen


@dataclass
class RunReport:
    """What one run did; the tests and the benchmark read it, the logs summarise it."""

    posted: int = 0
    failed: int = 0
    skipped: int = 0  # missed beyond the grace window
    taken: int = 0  # already claimed (posted before, or by another process)
    followups: int = 0  # DMs sent
    quiet_followups: int = 0  # claimed without a DM (reminders off, or too old)
    failures: list[str] = field(default_factory=list)

    def add(self, other: RunReport) -> None:
        for name in ("posted", "failed", "skipped", "taken", "followups", "quiet_followups"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures += other.failures


class _Pace:
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


class Scheduler:
    def __init__(self, repo: Repository, app: App, posters: Mapping[Platform, Poster],
                 clock: Clock | None = None, grace_minutes: int = 120,
                 limits: Mapping[Platform, PostingLimits] | None = None,
                 post_timeout: float = 60.0, tick_seconds: float = 60.0,
                 communities: Iterable[CommunityRef] | None = None):
        """``app``: the core, whose dependencies (clock, zones, charts, schedule-change hooks)
        the scheduler shares. ``posters``: one per platform this process serves; schedules on other
        platforms are left to the processes that serve them. Each platform is pushed as hard as
        its Poster's ``limits`` allow; ``limits`` replaces them for the platforms it names
        (tests, benchmarks). ``communities``: serve only these (the terminal serves its own
        community), default all."""
        deps: Deps = app.deps
        self.deps = deps
        self.repo = repo
        self.clock = clock or deps.clock
        self.posters = dict(posters)
        self.grace = timedelta(minutes=grace_minutes)
        self.lookback_days = max(2, grace_minutes // (24 * 60) + 2)
        self._limits = limits_of(self.posters, limits)
        self._slots = {p: asyncio.Semaphore(lim.concurrency) for p, lim in self._limits.items()}
        self._pace = {p: _Pace(lim.per_second) for p, lim in self._limits.items()}
        self.post_timeout = post_timeout
        self.tick_seconds = tick_seconds
        self._schedules: dict[str, Schedule] = {}  # community key -> its live schedule
        self._group: dict[tuple[str, PostKind], str] = {}  # (community key, kind) -> job id
        self._members: dict[str, set[str]] = {}  # job id -> community keys
        self._synced_at: datetime | None = None
        self.communities = None if communities is None else frozenset(communities)
        self.aps: AsyncIOScheduler | None = None
        self._busy: set[asyncio.Task[object]] = set()  # job runs under way, for stop()

    @property
    def limits(self) -> dict[Platform, PostingLimits]:
        """How hard each platform is pushed: what its Poster declares (or ``limits`` gave)."""
        return dict(self._limits)

    @property
    def platforms(self) -> list[str]:
        return [p.value for p in self.posters]

    def serves(self, schedule: Schedule) -> bool:
        return (schedule.community.platform in self.posters
                and (self.communities is None or schedule.community in self.communities))

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, catch_up: bool = True, paused: bool = False) -> RunReport | None:
        """Build the jobs from the database, start APScheduler, and (by default) post what was
        missed within the grace window while the bot was down."""
        grace = max(1, int(self.grace.total_seconds()))
        self.aps = AsyncIOScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": grace})
        self.aps.start(paused=paused)
        now = self.clock.now()
        self._synced_at = now
        for schedule in await self.repo.list_schedules(self.platforms):
            if self.serves(schedule):
                self._apply(schedule)
        self.aps.add_job(self.tick, IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
                         id="tick", replace_existing=True, misfire_grace_time=None)
        self.deps.hooks.schedule_changed.append(self.reschedule)
        log.info("Scheduler started: %d check-in schedule(s).", len(self._schedules))
        if catch_up:
            return await self.run_due(now)
        return None

    async def stop(self, timeout: float = 10.0) -> None:
        """Fire nothing new, give the posts under way ``timeout`` seconds to finish, then shut
        APScheduler down (which cancels whatever is still running)."""
        with contextlib.suppress(ValueError):
            self.deps.hooks.schedule_changed.remove(self.reschedule)
        if self.aps is not None and self.aps.running:
            self.aps.pause()
            late = await finish_within(self._busy, timeout)
            if late:
                log.warning("Scheduler: %d scheduled run(s) still going after %g s; "
                            "cancelling them.", late, timeout)
            self.aps.shutdown(wait=False)
        self.aps = None

    @contextlib.contextmanager
    def _running(self) -> Iterator[None]:
        """Marks the current task as a job run that ``stop`` lets finish."""
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._busy.discard(task)

    # -- jobs ------------------------------------------------------------------------------------

    @staticmethod
    def group_of(schedule: Schedule, kind: PostKind) -> str:
        """The job id shared by every community with the same trigger: kind, zone, time, days.
        10,000 communities at 09:00 Europe/Berlin are one APScheduler job, not 10,000."""
        days = ",".join(DAYS[i] for i in sorted(weekdays_of(schedule, kind)))
        return f"{kind}@{schedule.timezone}@{schedule.time}@{days}"

    def job_for(self, community: CommunityRef, kind: PostKind) -> Job | None:
        """The APScheduler job that fires this community's check-in (or recap), if any."""
        group = self._group.get((community.key, kind))
        return None if group is None or self.aps is None else self.aps.get_job(group)

    def _apply(self, schedule: Schedule) -> None:
        """Move one community into the job groups its schedule calls for (or out of them).
        A group's job is added with its first member and removed with its last; joining an
        existing group leaves the job, and its next run time, untouched."""
        key = schedule.community.key
        live = schedule.enabled and self.serves(schedule)
        if live:
            self._schedules[key] = schedule
        else:
            self._schedules.pop(key, None)
        for kind in KINDS:
            old = self._group.pop((key, kind), None)
            new = self.group_of(schedule, kind) if live and weekdays_of(schedule, kind) else None
            if old is not None and old != new:
                members = self._members.get(old, set())
                members.discard(key)
                if not members:
                    self._members.pop(old, None)
                    if self.aps is not None:
                        with contextlib.suppress(JobLookupError):
                            self.aps.remove_job(old)
            if new is not None:
                self._group[(key, kind)] = new
                self._members.setdefault(new, set()).add(key)
                if self.aps is not None and self.aps.get_job(new) is None:
                    self.aps.add_job(self.fire_group, trigger_for(schedule, kind),
                                     args=(new, kind), id=new, name=new.replace("@", " "),
                                     replace_existing=True)

    async def reschedule(self, community: CommunityRef) -> None:
        """/checkin changed this community's schedule: rebuild its jobs."""
        schedule = await self.repo.get_schedule(community)
        if schedule is None:
            schedule = Schedule(community, "", "UTC", "00:00", "mon", None, enabled=False)
        self._apply(schedule)

    async def sync(self, now: datetime | None = None) -> int:
        """Pick up schedules another process changed (with five minutes of overlap)."""
        now = now or self.clock.now()
        since = (self._synced_at or now) - timedelta(minutes=5)
        self._synced_at = now
        changed = await self.repo.list_schedules(self.platforms, changed_since=since)
        applied = 0
        for schedule in changed:
            known = self._schedules.get(schedule.community.key)
            if known == schedule or (known is None and not (schedule.enabled
                                                           and self.serves(schedule))):
                continue  # nothing new: re-adding a job could only push its next run back
            self._apply(schedule)
            applied += 1
        return applied

    async def tick(self) -> None:
        """Every minute: other processes' schedule changes, then due follow-ups."""
        now = self.clock.now()
        with self._running():
            try:
                await self.sync(now)
                await self.run_followups(now)
            except Exception:
                log.exception("scheduler tick failed")

    async def fire_group(self, group: str, kind: PostKind) -> RunReport:
        """What a cron job runs at its minute: every community of its group, at once."""
        with self._running():
            return await self._fire(sorted(self._members.get(group, ())), kind)

    async def fire(self, community_key: str, kind: PostKind) -> RunReport:
        """One community's share of a cron run (what ``fire_group`` does for each member)."""
        return await self._fire([community_key], kind)

    async def _fire(self, keys: list[str], kind: PostKind) -> RunReport:
        # On a day with both, the check-in job posts the check-in and then the recap, so they
        # arrive in that order; the recap job only acts on a recap day without a check-in.
        kind = PostKind(kind)  # the enum, also when a caller passed its text
        now = self.clock.now()
        occurrences = []
        for key in keys:
            schedule = self._schedules.get(key)
            if schedule is None:
                continue
            for k in (KINDS if kind == PostKind.CHECKIN else (kind,)):
                occ = latest_occurrence(schedule, k, now + FIRE_TOLERANCE, self.lookback_days)
                if occ is None:
                    continue
                if (kind == PostKind.RECAP
                        and occ.local_date.weekday() in weekdays_of(schedule, PostKind.CHECKIN)):
                    continue  # the check-in job of that day brings it
                occurrences.append(occ)
        return await self.run_occurrences(occurrences, now)

    # -- the work ------------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> RunReport:
        """Everything due at ``now``: each schedule's latest occurrence not yet claimed (posted
        if within the grace window, else skipped), then follow-ups."""
        now = now or self.clock.now()
        schedules = [s for s in await self.repo.list_schedules(self.platforms) if self.serves(s)]
        occurrences = [occ for s in schedules for kind in KINDS
                       if (occ := latest_occurrence(s, kind, now, self.lookback_days))]
        report = await self.run_occurrences(occurrences, now)
        report.add(await self.run_followups(now))
        return report

    async def run_occurrences(self, occurrences: Iterable[Occurrence], now: datetime
                              ) -> RunReport:
        report = RunReport()
        occurrences = list(occurrences)
        if not occurrences:
            return report
        claims = [Claim(o.schedule.community, o.kind, o.local_date,
                        ClaimStatus.CLAIMED if now - o.at <= self.grace else ClaimStatus.SKIPPED)
                  for o in occurrences]
        won = await self.repo.claim_occurrences(claims, now)
        groups: dict[str, list[tuple[Occurrence, Claim]]] = {}
        for occ, claim, mine in zip(occurrences, claims, won, strict=True):
            if not mine:
                report.taken += 1
            elif claim.status == ClaimStatus.SKIPPED:
                report.skipped += 1
                late = int((now - occ.at).total_seconds() // 60)
                log.warning("Skipped the %s of %s for %s (due %s): the bot was %d minutes late, "
                            "beyond the %d-minute grace window.", occ.kind,
                            occ.schedule.community.key, occ.local_date, occ.at.isoformat(), late,
                            self.grace.total_seconds() // 60)
            else:
                groups.setdefault(occ.schedule.community.key, []).append((occ, claim))
        # A community's check-in goes before its recap; communities run side by side.
        results = await asyncio.gather(*(self._deliver(group, now) for group in groups.values()))
        for sub in results:
            report.add(sub)
        return report

    async def _deliver(self, group: list[tuple[Occurrence, Claim]], now: datetime) -> RunReport:
        report = RunReport()
        community = group[0][0].schedule.community
        platform = community.platform
        async with self._slots[platform]:
            for occ, claim in sorted(group, key=lambda g: KINDS.index(g[0].kind)):
                ok = False
                try:
                    reply = await self.content(occ, late=now - occ.at > timedelta(minutes=1))
                    await self._pace[platform].wait()
                    async with asyncio.timeout(self.post_timeout):
                        ok = bool(await self.posters[platform].post(
                            community, occ.schedule.channel_id, reply))
                    if not ok:
                        log.warning("The %s for %s was refused by %s.", occ.kind, community.key,
                                    platform.value)
                except asyncio.CancelledError:
                    if _really_cancelled():
                        raise
                    log.error("The %s for %s was cancelled inside the poster.", occ.kind,
                              community.key)
                except Exception:
                    log.exception("The %s for %s failed.", occ.kind, community.key)
                if ok:
                    report.posted += 1
                else:
                    report.failed += 1
                    report.failures.append(community.key)
                try:
                    await self.repo.finish_claim(claim, ClaimStatus.POSTED if ok else ClaimStatus.FAILED,
                                                 self.clock.now())
                except Exception:
                    log.exception("recording the %s of %s failed", occ.kind, community.key)
        return report

    async def content(self, occ: Occurrence, late: bool = False) -> Reply:
        if occ.kind == PostKind.RECAP:
            return await weekly_recap(self.repo, occ.schedule, occ.local_date, self.deps.charts)
        return await daily_post(self.repo, occ.schedule, occ.local_date, late=late)

    async def run_followups(self, now: datetime | None = None) -> RunReport:
        """DM each promise that just came due to its owner (if their reminders are on), once:
        the claim marks it followed up in the same transaction that finds it."""
        now = now or self.clock.now()
        report = RunReport()
        items = await self.repo.claim_followups(now, self.platforms, self.communities)
        send = []
        for item in items:
            if item.member.reminders and now - item.commitment.due_at <= FOLLOWUP_MAX_AGE:
                send.append(item)
            else:
                report.quiet_followups += 1
        for ok in await asyncio.gather(*(self._dm(item, now) for item in send)):
            if ok:
                report.followups += 1
            else:
                report.failed += 1
        return report

    async def _dm(self, item: FollowUp, now: datetime) -> bool:
        platform = item.community.platform
        async with self._slots[platform]:
            try:
                schedule = (self._schedules.get(item.community.key)
                            or await self.repo.get_schedule(item.community))
                zone = self.deps.zone(item.member.timezone, schedule.timezone if schedule else None)
                await self._pace[platform].wait()
                async with asyncio.timeout(self.post_timeout):
                    ok = bool(await self.posters[platform].dm(
                        item.community, item.member.member, followup_reply(item, zone, now)))
            except asyncio.CancelledError:
                if _really_cancelled():
                    raise
                log.error("The follow-up DM to %s was cancelled inside the poster.",
                          item.member.member.key)
                return False
            except Exception:
                log.exception("The follow-up DM to %s failed.", item.member.member.key)
                return False
        if not ok:
            log.warning("The follow-up DM to %s was refused.", item.member.member.key)
        return ok


def _really_cancelled() -> bool:
    """Is this task being cancelled (shutdown), rather than a poster leaking a CancelledError
    of its own (a timeout inside a client library, say)?"""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
