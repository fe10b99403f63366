"""/leaderboard at scale: one community of 10,000 members with 10k, 100k and 1M attempts.

For each size it times /leaderboard (this week, and all time) through the core's dispatch on the
real repository, beside a baseline measured in the same run on the same repository: a full scan
of that community's rows, ``SELECT COUNT(*) FROM attempts WHERE community_id = ?``. It prints
the times, the ratios (goal: /leaderboard below one full scan), and how each grows with the data.

    python benchmarks/leaderboard_scale.py [--sizes 10000,100000,1000000] [--repeat 15]
                                           [--database URL]

Each size gets a fresh database: by default a temporary SQLite file, or with
``--database postgresql://user@host:5432/db`` a scratch database on that server
(``whosnext_bench_<pid>_<n>``, dropped afterwards, also on an error or Ctrl-C). The same rows
go to both (attempts spread over the last 365 days, a skewed community): on SQLite bulk-loaded
with sqlite3, the maintained aggregates then filled by the same statements migration 0004 uses
for existing data; on PostgreSQL copied in with asyncpg's COPY, the aggregates filled by the
same computation in PostgreSQL's SQL (0004's date arithmetic is SQLite's), then VACUUM ANALYZE.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._scratch import Scratch  # noqa: E402
from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from storage import migrate  # noqa: E402
from storage.connect import open_repository, sqlite_path  # noqa: E402
from storage.rows import ts  # noqa: E402

COMMUNITY = CommunityRef(Platform.SLACK, "TBENCH")
MEMBERS = 10_000
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
OUTCOMES = ("rejected", "rejected", "rejected", "accepted", "pending")
MEMBER_COLUMNS = ("community_id", "member_id", "display_name", "created_at")
ATTEMPT_COLUMNS = ("community_id", "member_id", "outcome", "ask", "created_at", "local_day")


class Clock:
    def now(self) -> datetime:
        return NOW


def members() -> Iterator[tuple[str, ...]]:
    return ((COMMUNITY.key, f"slack:U{i:05}", f"member{i:05}", ts(NOW - timedelta(days=400)))
            for i in range(MEMBERS))


def attempts(n: int, seed: int = 7) -> Iterator[tuple[str, ...]]:
    rng = random.Random(seed)
    for _ in range(n):
        at = NOW - timedelta(seconds=rng.randrange(365 * 86400))
        # a skewed community: some members ask far more often than others
        member = int(MEMBERS * rng.random() ** 2)
        stamp = ts(at)
        yield (COMMUNITY.key, f"slack:U{member:05}", rng.choice(OUTCOMES), "an ask", stamp,
               stamp[:10])


def backfill_statements() -> list[str]:
    """The aggregate backfill from migration 0004 (its UPDATE and INSERT ... SELECT)."""
    mig = next(m for m in migrate.migrations() if m.name.startswith("0004"))
    return [s for s in migrate.statements(mig.sql)
            if s.startswith(("UPDATE members", "INSERT INTO member_periods"))]


def load_sqlite(url: str, n: int) -> None:
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) VALUES (?, ?, ?, ?)",
                     members())
    conn.executemany(f"INSERT INTO attempts ({', '.join(ATTEMPT_COLUMNS)}) "
                     "VALUES (?, ?, ?, ?, ?, ?)", attempts(n))
    for stmt in backfill_statements():
        conn.execute(stmt)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


# What 0004's backfill computes, in PostgreSQL's SQL: all-time counts per member, then per
# member per month ('M' + YYYY-MM) and per week ('W' + its Monday) of their local days.
REJECTED = "SUM(CASE WHEN outcome = 'rejected' THEN 1 ELSE 0 END)"
PG_BACKFILL = (
    "UPDATE members m SET attempts_count = a.n, rejections_count = a.r FROM ("
    f"SELECT community_id, member_id, COUNT(*) AS n, {REJECTED} AS r FROM attempts "
    "GROUP BY community_id, member_id) a "
    "WHERE m.community_id = a.community_id AND m.member_id = a.member_id",
    "INSERT INTO member_periods (community_id, period, member_id, attempts, rejections) "
    f"SELECT community_id, 'M' || substr(local_day, 1, 7), member_id, COUNT(*), {REJECTED} "
    "FROM attempts GROUP BY 1, 2, 3",
    "INSERT INTO member_periods (community_id, period, member_id, attempts, rejections) "
    "SELECT community_id, 'W' || to_char(date_trunc('week', local_day::date), 'YYYY-MM-DD'), "
    f"member_id, COUNT(*), {REJECTED} FROM attempts GROUP BY 1, 2, 3",
)


async def load_postgresql(url: str, n: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("members", records=members(), columns=MEMBER_COLUMNS)
            await conn.copy_records_to_table("attempts", records=attempts(n),
                                             columns=ATTEMPT_COLUMNS)
            for stmt in PG_BACKFILL:
                await conn.execute(stmt)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


CHECK = ("SELECT (SELECT COUNT(*) FROM attempts), (SELECT SUM(attempts_count) FROM members), "
         "(SELECT SUM(attempts) FROM member_periods WHERE period LIKE 'W%'), "
         "(SELECT SUM(attempts) FROM member_periods WHERE period LIKE 'M%')")


async def measure(url: str, repeat: int, n: int) -> dict[str, float]:
    repo = await open_repository(url)
    try:
        app = App(repo, Clock())
        me = Caller(MemberRef(Platform.SLACK, "U09999"), "member09999", COMMUNITY,
                    ChannelRef(Platform.SLACK, "C1"))
        loaded = await repo._read(lambda c: tuple(c.execute(CHECK).fetchone()))
        if loaded != (n, n, n, n):  # every attempt counted once in each aggregate
            raise AssertionError(f"loaded {loaded}, expected {n} everywhere")

        async def timed(fn: Callable[[], Awaitable[None]]) -> float:
            await fn()  # warm the cache
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                await fn()
                samples.append(time.perf_counter() - start)
            return statistics.median(samples)

        async def scan() -> None:
            await repo._read(lambda c: c.execute(
                "SELECT COUNT(*) FROM attempts WHERE community_id = ?",
                (COMMUNITY.key,)).fetchone())

        async def board(period: str) -> None:
            reply = await app.dispatch(Invocation("leaderboard", me, {"period": period}))
            assert not reply.error and "1. " in reply.plain_text(), reply.plain_text()

        return {"scan": await timed(scan), "week": await timed(lambda: board("week")),
                "all": await timed(lambda: board("all"))}
    finally:
        await repo.close()


async def run(scratch: Scratch, sizes: Sequence[int], repeat: int) -> None:
    results = {}
    for n in sizes:
        async with scratch.database() as url:
            t0 = time.perf_counter()
            if scratch.is_postgresql:
                await load_postgresql(url, n)
            else:
                load_sqlite(url, n)
            loaded = time.perf_counter() - t0
            results[n] = r = await measure(url, repeat, n)
        print(f"{n:>9,} attempts (loaded in {loaded:4.1f} s): full scan {r['scan'] * 1e3:7.2f} ms"
              f" | /leaderboard week {r['week'] * 1e3:6.2f} ms (x{r['week'] / r['scan']:.2f} of a scan)"
              f" | all time {r['all'] * 1e3:6.2f} ms (x{r['all'] / r['scan']:.2f} of a scan)")
    first, last = sizes[0], sizes[-1]
    if last != first:
        grow = last / first
        a, b = results[first], results[last]
        print(f"data grew x{grow:,.0f}: full scan x{b['scan'] / a['scan']:.1f}, "
              f"week x{b['week'] / a['week']:.1f}, all time x{b['all'] / a['all']:.1f}")
    worst = max(results[last]["week"], results[last]["all"]) / results[last]["scan"]
    print(f"goal: /leaderboard below one full scan at {last:,} attempts: "
          f"{'met' if worst < 1 else 'not met'} (slower of the two x{worst:.2f} of a scan)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database", help="sqlite:///path.db or postgresql://user@host:port/db "
                        "(a scratch database is made there for each size); default: a temporary "
                        "SQLite file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    try:
        with Scratch(args.database) as scratch:
            print(scratch.describe())
            asyncio.run(run(scratch, sizes, args.repeat))
    except KeyboardInterrupt:
        print("interrupted; scratch databases removed", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
