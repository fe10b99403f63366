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

Exactly once: what to post is decided here, posting it is the outbox's (``bot.outbox``). A due
occurrence (community + kind + local date) is queued as one outbox row, all of a run's in one
transaction; a second fire, a restart or a second process sharing the database finds the row
there and queues nothing. The outbox leases, retries and de-duplicates it. An occurrence
missed while the bot was down is posted late within the grace window, otherwise recorded as
missed and logged.

Fan-out: posts go out per platform under a semaphore (bounded concurrency) and an optional
pace (posts per second), both as the platform's Poster declares them (``Poster.limits``: the
scheduler knows no platform's limits itself); each post is isolated (a refusal, an error or a
timeout is recorded on its row, never propagated), so one failing community never delays or
breaks the others beyond the one slot it holds until its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.app import App
from bot.days import DAYS
from bot.errors import Unavailable
from bot.handlers import Deps
from bot.handlers.season import SEASON_POST_WINDOW
from bot.ids import CommunityRef, Platform
from bot.models import OFFLINE, NewPost, PostKind, Schedule
from bot.outbox import LEASE, Outbox, RunReport
from bot.ports import Clock, Poster, PostingLimits, Repository
from bot.schedules import KINDS, Occurrence, clock_time, latest_occurrence, weekdays_of
from bot.shards import ShardSpec
from bot.tasks import finish_within

log = logging.getLogger(__name__)

# A follow-up for a promise that fell due longer ago than this (the bot was down for days) is
# marked done quietly instead of sent.
FOLLOWUP_MAX_AGE = timedelta(days=3)
# A follow-up DM may go out (retries included) this long after it is queued, at least: even
# with CHECKIN_GRACE_MINUTES=0 a promise coming due gets its DM.
FOLLOWUP_WINDOW = timedelta(hours=1)
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


class Scheduler:
    def __init__(self, repo: Repository, app: App, posters: Mapping[Platform, Poster],
                 clock: Clock | None = None, grace_minutes: int = 120,
                 limits: Mapping[Platform, PostingLimits] | None = None,
                 post_timeout: float = 45.0, tick_seconds: float = 60.0,
                 communities: Iterable[CommunityRef] | None = None,
                 lease: timedelta = LEASE, outbox_seconds: float = 5.0,
                 owner: str | None = None, shards: Iterable[ShardSpec] = ()):
        """``app``: the core, whose dependencies (clock, zones, charts, schedule-change hooks)
        the scheduler shares. ``posters``: one per platform this process serves; schedules on other
        platforms are left to the processes that serve them. Each platform is pushed as hard as
        its Poster's ``limits`` allow; ``limits`` replaces them for the platforms it names
        (tests, benchmarks). ``communities``: serve only these (the terminal serves its own
        community), default all. ``shards``: on a platform whose connections are split into
        shards over several processes, only the communities of this process's own shards
        (``bot.shards``; the adapter's settings say which). ``post_timeout``: how long one
        try may take (then it counts as uncertain and is retried with the platform's
        de-duplication). ``lease``: how long this process holds a post it claimed without
        renewing it; every ``outbox_seconds`` the outbox is drained (retries that came due,
        posts a dead process left)."""
        deps: Deps = app.deps
        self.deps = deps
        self.outage = app.outage
        self.repo = repo
        self.clock = clock or deps.clock
        self.posters = dict(posters)
        self.grace = timedelta(minutes=grace_minutes)
        self.lookback_days = max(2, grace_minutes // (24 * 60) + 2)
        self._limits = limits_of(self.posters, limits)
        self.tick_seconds = tick_seconds
        self.outbox_seconds = outbox_seconds
        self._schedules: dict[str, Schedule] = {}  # community key -> its live schedule
        self._group: dict[tuple[str, PostKind], str] = {}  # (community key, kind) -> job id
        self._members: dict[str, set[str]] = {}  # job id -> community keys
        self._synced_at: datetime | None = None
        self.communities = None if communities is None else frozenset(communities)
        self.shards = tuple(spec for spec in shards if not spec.everything)
        self.aps: AsyncIOScheduler | None = None
        self._busy: set[asyncio.Task[object]] = set()  # job runs under way, for stop()
        self._catch_up: asyncio.Task[None] | None = None  # held, so the task isn't collected
        self.outbox = Outbox(repo, deps, self.posters, self._limits, self.clock,
                             lambda c: self._schedules.get(c.key), self.communities, lease,
                             post_timeout, owner, outage=self.outage, metrics=app.metrics,
                             shards=self.shards)

    @property
    def limits(self) -> dict[Platform, PostingLimits]:
        """How hard each platform is pushed: what its Poster declares (or ``limits`` gave)."""
        return dict(self._limits)

    @property
    def platforms(self) -> list[str]:
        return [p.value for p in self.posters]

    def serves(self, schedule: Schedule) -> bool:
        community = schedule.community
        return (community.platform in self.posters
                and (self.communities is None or community in self.communities)
                and all(spec.owns(community) for spec in self.shards))

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, catch_up: bool = True, paused: bool = False,
                    wait: bool = True) -> RunReport | None:
        """Build the jobs from the database, start APScheduler, and (by default) post what was
        missed within the grace window while the bot was down: awaited, or (``wait=False``, the
        running bot) in the background, so a long catch-up never holds up start-up and a stop
        can cut it short like any other run."""
        grace = max(1, int(self.grace.total_seconds()))
        self.outbox.stopping = False
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
        self.aps.add_job(self.drain, IntervalTrigger(seconds=self.outbox_seconds, timezone=UTC),
                         id="outbox", replace_existing=True, misfire_grace_time=None)
        self.deps.hooks.schedule_changed.append(self.reschedule)
        log.info("Scheduler started: %d check-in schedule(s).", len(self._schedules))
        if catch_up and wait:
            return await self.run_due()
        if catch_up:
            self._catch_up = asyncio.create_task(self._catch_up_run())
        return None

    async def _catch_up_run(self) -> None:
        with self._running():
            try:
                await self.run_due()
            except Exception:
                log.exception("the start-up catch-up of missed posts failed")

    async def stop(self, timeout: float = 10.0) -> None:
        """Fire nothing new, give the posts under way ``timeout`` seconds to finish, then shut
        APScheduler down (which cancels whatever is still running)."""
        with contextlib.suppress(ValueError):
            self.deps.hooks.schedule_changed.remove(self.reschedule)
        self.outbox.stop()  # nothing new claimed or started; what's under way runs out
        if self.aps is not None and self.aps.running:
            self.aps.pause()
            late = await finish_within(self._busy, timeout)
            if late:
                log.warning("Scheduler: %d scheduled run(s) still going after %g s; "
                            "cancelling them.", late, timeout)
            self.aps.shutdown(wait=False)
            await self.outbox.release()
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
                await self.end_seasons(now)
                await self.run_followups()
            except Unavailable as err:
                self.outage.failed("the scheduler's tick", err)
            except Exception:
                log.exception("scheduler tick failed")

    async def drain(self) -> RunReport:
        """Every few seconds: send what the outbox holds that is ready."""
        with self._running():
            try:
                report = await self.outbox.drain()
            except Unavailable as err:
                self.outage.failed("draining the outbox", err)
                return RunReport()
            except Exception:
                log.exception("draining the outbox failed")
                return RunReport()
            self.outage.ok()  # it reached the database: whatever was down is back
            return report

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
        report = await self.queue(occurrences, now)
        report.add(await self.outbox.drain())
        return report

    # -- the work ------------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> RunReport:
        """Everything due at ``now``: each schedule's latest occurrence not yet queued (sent if
        within the grace window, else recorded as missed), due follow-ups, and whatever else
        the outbox holds that is ready (retries, posts a dead process left behind). A ``now``
        given (tests, the benchmark) holds the outbox's clock there for this run; without one,
        the clock runs on while the posts go out, as leases need."""
        held, now = now, now or self.clock.now()
        schedules = [s for s in await self.repo.list_schedules(self.platforms) if self.serves(s)]
        for s in schedules:  # what another process changed since the last sync, too
            if self._schedules.get(s.community.key) != s:
                self._apply(s)
        occurrences = [occ for s in schedules for kind in KINDS
                       if (occ := latest_occurrence(s, kind, now, self.lookback_days))]
        report = await self.queue(occurrences, now)
        await self.end_seasons(now)
        report.add(await self.run_followups(held))
        return report

    async def end_seasons(self, now: datetime | None = None) -> int:
        """End the seasons whose last day is over, each with its post queued in the same
        transaction (one statement along the index of running seasons; a second process or
        run finds them ended). Sent by the drain that follows."""
        return await self.repo.end_due_seasons(now or self.clock.now(), SEASON_POST_WINDOW,
                                               self.platforms, self.communities, self.shards)

    async def queue(self, occurrences: Iterable[Occurrence], now: datetime) -> RunReport:
        """Put occurrences in the outbox (one transaction); one due longer ago than the grace
        window goes in as missed."""
        report = RunReport()
        posts = []
        for o in occurrences:
            late = now - o.at > self.grace
            posts.append(NewPost(o.schedule.community, o.kind, o.local_date.isoformat(),
                                 o.schedule.channel_id, o.at, o.at + self.grace,
                                 missed=OFFLINE if late else None))
        if not posts:
            return report
        added = await self.repo.enqueue_posts(posts, now)
        for post, new in zip(posts, added, strict=True):
            if not new:
                report.taken += 1
            elif post.missed:
                report.skipped += 1
                minutes = int((now - post.due_at).total_seconds() // 60)
                log.warning("Skipped the %s of %s for %s (due %s): the bot was %d minutes late, "
                            "beyond the %d-minute grace window.", post.kind, post.community.key,
                            post.subject, post.due_at.isoformat(), minutes,
                            self.grace.total_seconds() // 60)
        return report

    async def run_followups(self, now: datetime | None = None) -> RunReport:
        """Queue a DM for each promise that just came due (if its owner wants reminders), once:
        the queueing marks it followed up in the same transaction that finds it. Then send
        what's ready (``now``: as for ``run_due``)."""
        held, now = now, now or self.clock.now()
        report = RunReport()
        _, report.quiet_followups = await self.repo.enqueue_followups(
            now, now + max(self.grace, FOLLOWUP_WINDOW), FOLLOWUP_MAX_AGE, self.platforms,
            self.communities, self.shards)
        # /remind nudges whose time has come, each queued once for its member's day
        await self.repo.enqueue_reminds(now, max(self.grace, FOLLOWUP_WINDOW),
                                        self.deps.default_timezone, self.platforms,
                                        self.communities, self.shards)
        report.add(await self.outbox.drain(held))
        return report
