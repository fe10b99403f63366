"""Every command's cost for a member with a long history, beside one with a short one.

One community of 1,000,000 attempts by 10,000 members (a skewed crowd, over the last year),
plus two members measured: ``heavy`` with 10,000 entries and ``light`` with 100, each a fifth
pending, a few open promises each, spread over the last 400 days. Every command of the
catalogue runs through the core's dispatch on the real repository for each of the two, the
median of ``--repeat`` runs (the two taking turns), and the script prints the ratio heavy /
light (goal: at most 1.5 for every command).

Commands that change what they measure are measured in pairs that undo each other: /undo right
after an untimed /rejected, /timezone alternating two zones, /goal alternating two targets,
/reminders alternating on and off, /edit turning the latest entry's outcome yes and back to no.
/export and /forget-me are printed apart: what they return
or remove is the member's whole history, so their cost is that history's size by nature
(reported per entry); /forget-me runs last, once, on each member.

    python benchmarks/history_scale.py [--attempts 1000000] [--repeat 9] [--database URL]
                                       [--runs 3]

Each run loads a fresh database (``benchmarks/_scratch.py``: a temporary SQLite file, or a
scratch database on the PostgreSQL server ``--database`` names), then fills the maintained
aggregates by the repository's own recount, as a migration would. Figures are min / median /
max over ``--runs`` runs; peak memory is this process's maximum resident set size
(``resource.getrusage``), which includes the loading.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import spread  # noqa: E402
from benchmarks._scratch import Scratch  # noqa: E402
from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from storage.connect import open_repository, sqlite_path  # noqa: E402
from storage.rows import ts  # noqa: E402

COMMUNITY = CommunityRef(Platform.SLACK, "THIST")
CROWD = 10_000
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
OUTCOMES = ("rejected", "rejected", "rejected", "accepted", "pending")
AREAS = ("work", "love", "money", "family", "health", None)
MEMBER_COLUMNS = ("community_id", "member_id", "display_name", "created_at")
ATTEMPT_COLUMNS = ("community_id", "member_id", "outcome", "ask", "area", "created_at",
                   "local_day")
COMMITMENT_COLUMNS = ("community_id", "member_id", "ask", "due_at", "created_at", "status")
MEASURED = {"heavy": 10_000, "light": 100}
PROMISES = 5  # open promises of each measured member


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at


def member_id(name: str) -> str:
    return f"slack:U{name.upper()}"


def members() -> Iterator[tuple[str, ...]]:
    since = ts(NOW - timedelta(days=500))
    yield from ((COMMUNITY.key, f"slack:U{i:05}", f"member{i:05}", since) for i in range(CROWD))
    yield from ((COMMUNITY.key, member_id(n), n, since) for n in MEASURED)


def attempts(crowd: int, seed: int = 11) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    for _ in range(crowd):
        at = NOW - timedelta(seconds=rng.randrange(365 * 86400))
        stamp = ts(at)
        yield (COMMUNITY.key, f"slack:U{int(CROWD * rng.random() ** 2):05}",
               rng.choice(OUTCOMES), "an ask", rng.choice(AREAS), stamp, stamp[:10])
    for name, n in MEASURED.items():
        for i in range(n):
            # evenly over the last 400 days (every day active for the heavy one), oldest first
            at = NOW - timedelta(days=400) + timedelta(seconds=400 * 86400 * i // n + 60)
            stamp = ts(at)
            yield (COMMUNITY.key, member_id(name), OUTCOMES[i % 5], f"{name} ask {i}",
                   AREAS[i % 6], stamp, stamp[:10])


def commitments() -> Iterator[tuple[Any, ...]]:
    for name in MEASURED:
        for i in range(PROMISES):
            yield (COMMUNITY.key, member_id(name), f"{name} promise {i}",
                   ts(NOW + timedelta(days=i + 1)), ts(NOW - timedelta(days=1)), "open")


def load_sqlite(url: str, crowd: int) -> None:
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) VALUES (?, ?, ?, ?)",
                     members())
    conn.executemany(f"INSERT INTO attempts ({', '.join(ATTEMPT_COLUMNS)}) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", attempts(crowd))
    conn.executemany(f"INSERT INTO commitments ({', '.join(COMMITMENT_COLUMNS)}) "
                     "VALUES (?, ?, ?, ?, ?, ?)", commitments())
    conn.execute("COMMIT")
    conn.close()


async def load_postgresql(url: str, crowd: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("members", records=members(), columns=MEMBER_COLUMNS)
            await conn.copy_records_to_table("attempts", records=attempts(crowd),
                                             columns=ATTEMPT_COLUMNS)
            await conn.copy_records_to_table("commitments", records=commitments(),
                                             columns=COMMITMENT_COLUMNS)
    finally:
        await conn.close()


# Each member's all-time counts, as migration 0004 fills them for existing data.
MEMBER_COUNTS = (
    "UPDATE members SET attempts_count = (SELECT COUNT(*) FROM attempts a WHERE "
    "a.community_id = members.community_id AND a.member_id = members.member_id), "
    "rejections_count = (SELECT COUNT(*) FROM attempts a WHERE a.community_id = "
    "members.community_id AND a.member_id = members.member_id AND a.outcome = 'rejected') "
    "WHERE community_id = ?")


@dataclass(frozen=True)
class Step:
    """One command as a member runs it; ``before`` runs untimed first (what the step undoes)."""

    command: str
    options: Callable[[int], dict[str, Any]]
    before: tuple[str, dict[str, Any]] | None = None


def fixed(options: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda _i: options


def alternating(*choices: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda i: choices[i % len(choices)]


STEPS = (
    Step("help", fixed({})),
    Step("rejected", lambda i: {"ask": f"asked again {i}", "area": "work"}),
    Step("accepted", lambda i: {"ask": f"asked and got it {i}"}),
    Step("pending", lambda i: {"ask": f"asked, waiting {i}"}),
    Step("who-next", lambda i: {"ask": f"ask the boss {i}", "when": "tomorrow"}),
    Step("asks", fixed({})),
    Step("leaderboard", fixed({"period": "week"})),
    Step("stats", fixed({})),
    Step("goal", alternating({"target": 20_000}, {"target": 30_000})),
    Step("timezone", alternating({"zone": "Europe/Berlin"}, {"zone": "America/New_York"})),
    Step("reminders", alternating({"state": "off"}, {"state": "on"})),
    Step("undo", fixed({}), before=("rejected", {"ask": "one to take back"})),
    Step("edit", alternating({"outcome": "yes", "who": "my boss"}, {"outcome": "no"})),
)
BY_NATURE = ("export", "forget-me")  # their output is the whole history


async def measure(url: str, repeat: int) -> dict[str, dict[str, float]]:
    repo = await open_repository(url)
    clock = Clock()
    try:
        # Maintained aggregates, filled as a migration fills them for existing data.
        await repo.recount_periods(COMMUNITY)
        await repo._write(lambda c: c.execute(MEMBER_COUNTS, (COMMUNITY.key,)))
        app = App(repo, clock, max_logs_per_hour=1_000_000)
        out: dict[str, dict[str, float]] = {name: {} for name in MEASURED}
        callers = {name: Caller(MemberRef(Platform.SLACK, f"U{name.upper()}"), name, COMMUNITY,
                                ChannelRef(Platform.SLACK, "C1")) for name in MEASURED}

        async def run(name: str, command: str, options: dict[str, Any]) -> None:
            reply = await app.dispatch(Invocation(command, callers[name], options))
            if reply.error:
                raise AssertionError(f"/{command} {options}: {reply.plain_text()}")

        # The two members take turns, each repetition in the other order: neither pays alone
        # for what the database does over the run (a fresh load's pages written back as they
        # are first read, statistics gathered, caches filling).
        for step in STEPS:
            samples: dict[str, list[float]] = {name: [] for name in MEASURED}
            for i in range(repeat + 1):  # the first warms the caches
                for name in (list(MEASURED) if i % 2 else list(MEASURED)[::-1]):
                    clock.at += timedelta(seconds=1)
                    if step.before is not None:
                        await run(name, *step.before)
                    start = time.perf_counter()
                    await run(name, step.command, step.options(i))
                    if i:
                        samples[name].append(time.perf_counter() - start)
            for name in MEASURED:
                out[name][step.command] = statistics.median(samples[name])
        for name in MEASURED:
            for command in BY_NATURE:
                start = time.perf_counter()
                await run(name, command, {})
                out[name][command] = time.perf_counter() - start
        return out
    finally:
        await repo.close()


async def one_run(scratch: Scratch, crowd: int, repeat: int) -> dict[str, dict[str, float]]:
    async with scratch.database() as url:
        if scratch.is_postgresql:
            await load_postgresql(url, crowd)
        else:
            load_sqlite(url, crowd)
        return await measure(url, repeat)


async def main_async(args: argparse.Namespace) -> None:
    runs = []
    with Scratch(args.database) as scratch:
        print(scratch.describe())
        for n in range(args.runs):
            t0 = time.perf_counter()
            runs.append(await one_run(scratch, args.attempts, args.repeat))
            print(f"run {n + 1}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    print(f"{args.attempts:,} attempts in the community; heavy member "
          f"{MEASURED['heavy']:,} entries, light {MEASURED['light']:,} "
          f"(median of {args.repeat} per run, {args.runs} runs: min / median / max)")
    worst = 0.0
    for step in STEPS:
        ratios = [r["heavy"][step.command] / r["light"][step.command] for r in runs]
        worst = max(worst, statistics.median(ratios))
        heavy = statistics.median(r["heavy"][step.command] for r in runs) * 1e3
        light = statistics.median(r["light"][step.command] for r in runs) * 1e3
        print(f"  /{step.command:<12} heavy {heavy:8.2f} ms  light {light:7.2f} ms  "
              f"ratio {spread(ratios)}")
    for command in BY_NATURE:
        per = [r["heavy"][command] / MEASURED["heavy"] * 1e6 for r in runs]
        print(f"  /{command:<12} heavy {statistics.median(r['heavy'][command] for r in runs) * 1e3:8.2f}"
              f" ms  light {statistics.median(r['light'][command] for r in runs) * 1e3:7.2f} ms"
              f"  ({statistics.median(per):.1f} µs per entry: the whole history by nature)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"goal: every command within 1.5x: {'met' if worst <= 1.5 else 'not met'} "
          f"(worst median ratio {worst:.2f}); peak memory {peak:.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=1_000_000,
                        help="attempts by the rest of the community")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", help="sqlite:///path.db or postgresql://user@host:port/db "
                        "(a scratch database is made there for each run); default: a temporary "
                        "SQLite file")
    try:
        asyncio.run(main_async(parser.parse_args(argv)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

