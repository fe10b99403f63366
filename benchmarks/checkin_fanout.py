"""Check-in fan-out: 10,000 communities due in the same minute, against a recording Poster.

Three runs in one process, on one real SQLite file:

  baseline   loop over the communities and call the Poster directly with a ready-made post:
             the floor any scheduler pays (no claims, no content, no database).
  run_due    ``Scheduler.run_due(minute)`` on a started scheduler (its schedules loaded, as
             at start-up, untimed): queue every occurrence in the outbox (a few
             statements), claim them a batch at a time (one statement per batch), read the
             batch's activity set-based, record each window of tries before and after they go
             out, post with bounded concurrency per platform.
  cron       the real thing: APScheduler cron jobs (fixed ids, one per distinct trigger; here
             every community shares one) set for the next wall-clock minute; measures from that
             minute to the last post. Waits up to a minute for it (skip with --no-wait).

Prints the time to the last post, the scheduler's own overhead per community (its time minus
the baseline's, divided by the communities), the process's peak memory (ru_maxrss) after each
run, and the ratios against the baseline.

    .venv/bin/python benchmarks/checkin_fanout.py [--communities 10000] [--no-wait]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App  # noqa: E402
from bot.ids import CommunityRef, MemberRef, Platform  # noqa: E402
from bot.models import NewAttempt, Schedule  # noqa: E402
from bot.ports import Delivery, PostingLimits  # noqa: E402
from bot.reply import Action, Reply, Text  # noqa: E402
from bot.scheduler import Scheduler  # noqa: E402
from storage.sqlite import SqliteRepository  # noqa: E402

PLATFORMS = (Platform.SLACK, Platform.DISCORD)
SENT = Delivery.sent()


class RecordingPoster:
    """Takes every post at once (yielding to the loop once, like a real network call would)
    and records when the last one arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.last = 0.0

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        await asyncio.sleep(0)
        self.count += 1
        self.last = time.perf_counter()
        return SENT

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        await asyncio.sleep(0)
        return SENT

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        await asyncio.sleep(0)
        return SENT


class Clock:
    def __init__(self, now: datetime | None = None):
        self.fixed = now

    def now(self) -> datetime:
        return self.fixed or datetime.now(UTC)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def communities(n: int) -> list[CommunityRef]:
    return [CommunityRef(PLATFORMS[i % 2], f"c{i:05d}") for i in range(n)]


ZONES = ("UTC", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi",
         "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "America/New_York",
         "America/Los_Angeles")


async def seed(repo: SqliteRepository, refs: list[CommunityRef], minute: datetime,
               active: int) -> None:
    """A schedule per community, all due at ``minute`` but in a dozen zones (so at a dozen
    local times) and two day lists, and yesterday's asks in ``active`` of them, so those posts
    have real content to build."""
    set_at = minute - timedelta(days=3)
    every = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    schedules = []
    for i, ref in enumerate(refs):
        zone = ZONES[i % len(ZONES)]
        local = minute.astimezone(ZoneInfo(zone))
        hhmm = local.strftime("%H:%M")
        # Every day, or every day but tomorrow (local): both include today, locally.
        but_tomorrow = [d for k, d in enumerate(every) if k != (local.weekday() + 1) % 7]
        days = ",".join(every if (i // len(ZONES)) % 2 else but_tomorrow)
        schedules.append(Schedule(ref, "general", zone, hhmm, days, "monday"))
    await asyncio.gather(*(repo.save_schedule(s, set_at) for s in schedules))
    yesterday = minute - timedelta(hours=14)
    await asyncio.gather(*(repo.log_attempt(NewAttempt(
        community=ref, member=MemberRef(ref.platform, f"m{k}"), member_name=f"member {k}",
        outcome=("rejected", "accepted", "pending")[k % 3], ask=f"ask number {k}",
        at=yesterday + timedelta(minutes=k), fear=k % 11))
        for ref in refs[:active] for k in range(3)))


def limits() -> dict[Platform, PostingLimits]:
    # No pacing here: we measure the scheduler, not Discord's 50 requests/s (at the default
    # 40 posts/s, 5,000 Discord servers take two minutes whatever the scheduler does).
    return {p: PostingLimits(concurrency=64) for p in PLATFORMS}


async def baseline(refs: list[CommunityRef]) -> tuple[float, RecordingPoster]:
    poster = RecordingPoster()
    reply = Reply((Text.of("Good morning! Who's next today?"),))
    start = time.perf_counter()
    for ref in refs:
        await poster.post(ref, "general", reply)
    return poster.last - start, poster


async def run_due(path: Path, refs: list[CommunityRef], minute: datetime
                  ) -> tuple[float, RecordingPoster, object]:
    repo = await SqliteRepository.open(path)
    try:
        poster = RecordingPoster()
        clock = Clock(minute)
        sched = Scheduler(repo, App(repo, clock), {p: poster for p in PLATFORMS}, clock,
                          limits=limits())
        await sched.start(catch_up=False, paused=True)  # start-up loads the schedules: untimed
        try:
            start = time.perf_counter()
            report = await sched.run_due(minute)
            return poster.last - start, poster, report
        finally:
            await sched.stop()
    finally:
        await repo.close()


async def cron(path: Path, refs: list[CommunityRef], active: int) -> tuple[float, float, int]:
    """Real APScheduler jobs for the next wall-clock minute (at least 5 s away)."""
    now = datetime.now(UTC)
    minute = (now + timedelta(seconds=65)).replace(second=0, microsecond=0)
    if (minute - now).total_seconds() > 65:
        minute -= timedelta(minutes=1)
    repo = await SqliteRepository.open(path)
    try:
        await seed(repo, refs, minute, active)
        poster = RecordingPoster()
        sched = Scheduler(repo, App(repo, Clock()), {p: poster for p in PLATFORMS}, Clock(),
                          limits=limits())
        t0 = time.perf_counter()
        await sched.start(catch_up=False)
        startup = time.perf_counter() - t0
        jobs = len(sched.aps.get_jobs()) - 1  # without the minute tick
        print(f"  cron: {jobs:,} job(s) for {len(refs):,} communities built in {startup:.2f} s; "
              f"waiting {(minute - datetime.now(UTC)).total_seconds():.0f} s for {minute:%H:%M} UTC",
              flush=True)
        minute_perf = time.perf_counter() + (minute - datetime.now(UTC)).total_seconds()
        deadline = minute_perf + 120
        while poster.count < len(refs) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        await sched.stop()
        return poster.last - minute_perf, startup, poster.count, jobs
    finally:
        await repo.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument("--active", type=int, default=2_000,
                        help="communities with asks logged yesterday (default 2000)")
    parser.add_argument("--no-wait", action="store_true", help="skip the wall-clock cron run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    n = args.communities
    refs = communities(n)
    print(f"Check-in fan-out: {n:,} communities due in the same minute "
          f"({args.active:,} with yesterday's asks), recording Poster, concurrency 64/platform")

    base_s, base_poster = await baseline(refs)
    base_peak = peak_mb()
    assert base_poster.count == n

    with tempfile.TemporaryDirectory() as tmp:
        minute = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
        path = Path(tmp) / "fanout.db"
        repo = await SqliteRepository.open(path)
        t0 = time.perf_counter()
        await seed(repo, refs, minute, args.active)
        await repo.close()
        print(f"  (seeding {n:,} schedules and {3 * args.active:,} asks: "
              f"{time.perf_counter() - t0:.1f} s, not measured)")
        due_s, poster, report = await run_due(path, refs, minute)
        due_peak = peak_mb()
        assert poster.count == n and report.posted == n, report

        cron_s = startup = None
        if not args.no_wait:
            cron_s, startup, count, jobs = await cron(Path(tmp) / "cron.db", refs, args.active)
            assert count == n, f"only {count} of {n} posts arrived"
        cron_peak = peak_mb()

    def row(name: str, seconds: float, peak: float) -> str:
        over = (seconds - base_s) / n * 1e6
        return (f"{name:<34} {seconds * 1000:>10.1f} ms {over:>12.1f} µs {peak:>9.1f} MB "
                f"{seconds / base_s:>9.0f}x")

    print()
    print(f"{'':<34} {'to last post':>13} {'overhead/comm.':>15} {'peak RSS':>12} {'vs base':>10}")
    print(f"{'baseline: loop + Poster.post':<34} {base_s * 1000:>10.1f} ms {'-':>15} "
          f"{base_peak:>9.1f} MB {'1x':>10}")
    print(row("Scheduler.run_due (claim+build)", due_s, due_peak))
    if cron_s is not None:
        print(row("APScheduler cron, from the minute", cron_s, cron_peak))
        print(f"  (start-up: loading {n:,} schedules into {jobs} cron job(s), one per distinct "
              f"trigger, took {startup:.2f} s)")
    print(f"\nPer community, the scheduler spends ~{(due_s - base_s) / n * 1e6:.0f} µs on top of "
          "the Poster: its outbox row queued, claimed, its try recorded before and after, its "
          "share of the batch's activity read, and its post built.")
    print(f"ratio (run_due / baseline): {due_s / base_s:.1f}x  (goal: at most 3x)")


if __name__ == "__main__":
    asyncio.run(main())
