"""/leaderboard at scale: one community of 10,000 members with 10k, 100k and 1M attempts.

For each size it times /leaderboard (this week, and all time) through the core's dispatch on the
real SQLite repository, beside a baseline measured in the same run on the same connection: a
full scan of that community's rows, ``SELECT COUNT(*) FROM attempts WHERE community_id = ?``.
It prints the times, the ratios, and how each grows with the data.

    python benchmarks/leaderboard_scale.py [--sizes 10000,100000,1000000] [--repeat 15]

Data is bulk-loaded with sqlite3 (attempts spread over the last 365 days), then the maintained
aggregates are filled by the same statements migration 0004 uses for existing data.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from storage import migrate  # noqa: E402
from storage.rows import ts  # noqa: E402
from storage.sqlite import SqliteRepository  # noqa: E402

COMMUNITY = CommunityRef(Platform.SLACK, "TBENCH")
MEMBERS = 10_000
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
OUTCOMES = ("rejected", "rejected", "rejected", "accepted", "pending")


class Clock:
    def now(self) -> datetime:
        return NOW


def backfill_statements() -> list[str]:
    """The aggregate backfill from migration 0004 (its UPDATE and INSERT ... SELECT)."""
    mig = next(m for m in migrate.migrations() if m.name.startswith("0004"))
    return [s for s in migrate.statements(mig.sql)
            if s.startswith(("UPDATE members", "INSERT INTO member_periods"))]


def load(path: Path, attempts: int, seed: int = 7) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    migrate.apply(conn)
    rng = random.Random(seed)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO members (community_id, member_id, display_name, created_at) VALUES (?, ?, ?, ?)",
        ((COMMUNITY.key, f"slack:U{i:05}", f"member{i:05}", ts(NOW - timedelta(days=400)))
         for i in range(MEMBERS)))

    def rows():
        for _ in range(attempts):
            at = NOW - timedelta(seconds=rng.randrange(365 * 86400))
            # a skewed community: some members ask far more often than others
            member = int(MEMBERS * rng.random() ** 2)
            stamp = ts(at)
            yield (COMMUNITY.key, f"slack:U{member:05}", rng.choice(OUTCOMES), "an ask", stamp,
                   stamp[:10])
    conn.executemany("INSERT INTO attempts (community_id, member_id, outcome, ask, created_at, "
                     "local_day) VALUES (?, ?, ?, ?, ?, ?)", rows())
    for stmt in backfill_statements():
        conn.execute(stmt)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


async def measure(path: Path, repeat: int) -> dict[str, float]:
    repo = await SqliteRepository.open(path)
    app = App(repo, Clock())
    me = Caller(MemberRef(Platform.SLACK, "U09999"), "member09999", COMMUNITY,
                ChannelRef(Platform.SLACK, "C1"))

    async def timed(fn) -> float:
        await fn()  # warm the page cache
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            await fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    async def scan():
        await repo._read(lambda c: c.execute("SELECT COUNT(*) FROM attempts WHERE community_id = ?",
                                             (COMMUNITY.key,)).fetchone())

    async def board(period: str):
        reply = await app.dispatch(Invocation("leaderboard", me, {"period": period}))
        assert not reply.error and "1. " in reply.plain_text(), reply.plain_text()

    result = {"scan": await timed(scan), "week": await timed(lambda: board("week")),
              "all": await timed(lambda: board("all"))}
    await repo.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"board{n}.db"
            t0 = time.perf_counter()
            load(path, n)
            loaded = time.perf_counter() - t0
            results[n] = r = asyncio.run(measure(path, args.repeat))
            print(f"{n:>9,} attempts (loaded in {loaded:4.1f} s): full scan {r['scan'] * 1e3:7.2f} ms"
                  f" | /leaderboard week {r['week'] * 1e3:6.2f} ms (x{r['week'] / r['scan']:.2f} of a scan)"
                  f" | all time {r['all'] * 1e3:6.2f} ms (x{r['all'] / r['scan']:.2f} of a scan)")
    first, last = sizes[0], sizes[-1]
    if last != first:
        grow = last / first
        a, b = results[first], results[last]
        print(f"data grew x{grow:,.0f}: full scan x{b['scan'] / a['scan']:.1f}, "
              f"week x{b['week'] / a['week']:.1f}, all time x{b['all'] / a['all']:.1f}")


if __name__ == "__main__":
    main()
