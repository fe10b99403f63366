"""Memory over a long run: 100,000 commands through the core on the real repository.

A community of ``--members`` members takes ``--commands`` commands, nine in ten logged asks
(/rejected, /accepted, /pending, each with its own request id) and the rest /asks, /stats,
/leaderboard and /who-next, on a clock that moves a minute a command (so the hourly limit,
the day's request ids and the weeks all turn over as in a real community). The process's
resident memory (``/proc/self/statm``) is sampled every tenth of the run. The heap is settled
once the bot is up, as ``whosnext`` does (``bot.heap.settle``: start-up's objects frozen, a
young generation of ``heap.YOUNG``): what a larger young generation costs in memory shows here.

The baseline is the run itself: the script prints each sample, the growth from the first
tenth to the end (caches and connections warming up, each PostgreSQL connection's prepared
statements among them) and over the second half (goal: flat, under 5%: what a leak would
show), and the peak (``resource.getrusage``).

    python benchmarks/memory_soak.py [--commands 100000] [--members 1000] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._scratch import Scratch  # noqa: E402
from bot import heap  # noqa: E402
from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from storage.connect import open_repository  # noqa: E402

COMMUNITY = CommunityRef(Platform.SLACK, "TSOAK")
GOAL = 0.05  # growth over the run's second half, as a share of the halfway sample
PAGE = os.sysconf("SC_PAGE_SIZE")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 1, 5, 8, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def step(i: int) -> tuple[str, dict[str, object]]:
    """Command ``i`` of the run: mostly logged asks, now and then the reading commands."""
    kind = i % 20
    if kind < 12:
        return "rejected", {"ask": f"asked for thing {i}", "area": "work", "fear": i % 11}
    if kind < 15:
        return "accepted", {"ask": f"asked and got it {i}"}
    if kind < 18:
        return "pending", {"ask": f"asked, waiting {i}"}
    return (("asks", {}), ("stats", {}), ("leaderboard", {"period": "week"}),
            ("who-next", {"ask": f"ask {i}", "when": "tomorrow"}))[i // 20 % 4]


async def soak(url: str, commands: int, members: int) -> list[tuple[int, float]]:
    repo = await open_repository(url)
    clock = Clock()
    samples: list[tuple[int, float]] = []
    try:
        app = App(repo, clock, max_logs_per_hour=1000)
        heap.settle()
        callers = [Caller(MemberRef(Platform.SLACK, f"U{m:05}"), f"member{m:05}", COMMUNITY,
                          ChannelRef(Platform.SLACK, "C1")) for m in range(members)]
        tenth = max(1, commands // 10)
        for i in range(commands):
            clock.at += timedelta(minutes=1)
            name, options = step(i)
            reply = await app.dispatch(Invocation(name, callers[i % members], options,
                                                  f"req-{i}"))
            if reply.error:
                raise AssertionError(f"/{name}: {reply.plain_text()}")
            if (i + 1) % tenth == 0:
                samples.append((i + 1, resident_mib()))
    finally:
        await repo.close()
    return samples


async def main_async(args: argparse.Namespace) -> None:
    with Scratch(args.database) as scratch:
        print(scratch.describe())
        async with scratch.database() as url:
            t0 = time.perf_counter()
            samples = await soak(url, args.commands, args.members)
            elapsed = time.perf_counter() - t0
    print(f"{args.commands:,} commands by {args.members:,} members in {elapsed:.0f} s "
          f"({args.commands / elapsed:,.0f} a second); resident memory (MiB) after each tenth:")
    print("  " + "  ".join(f"{n // 1000}k {mib:.1f}" for n, mib in samples))
    start, half, end = samples[0][1], samples[len(samples) // 2 - 1][1], samples[-1][1]
    growth = (end - half) / half
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"from the first tenth to the end: {start:.1f} -> {end:.1f} MiB "
          f"({(end - start) / start:+.1%})")
    print(f"goal: flat over the second half (growth under {GOAL:.0%}): "
          f"{'met' if growth < GOAL else 'not met'} ({half:.1f} -> {end:.1f} MiB, "
          f"{growth:+.1%}); peak memory {peak:.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--database", help="sqlite:///path.db or postgresql://user@host:port/db "
                        "(a scratch database is made there); default: a temporary SQLite file")
    try:
        asyncio.run(main_async(parser.parse_args(argv)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
