"""/rejected throughput: the core's dispatch on the real SQLite repository, against a baseline
that runs the same SQL (the repository's own unit functions) with Python's sqlite3 module
directly, one transaction per command, same pragmas, in the same run.

    python benchmarks/log_throughput.py [--commands 3000]

Prints both rates and the ratio, one at a time and 100 concurrent, and checks that every
acknowledged command is committed (counted from a separate connection afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from bot.models import NewAttempt  # noqa: E402
from storage import migrate  # noqa: E402
from storage.attempts import log_attempt_unit  # noqa: E402
from storage.db import SqliteTx  # noqa: E402
from storage.members import zones_unit  # noqa: E402
from storage.sqlite import PRAGMAS, SqliteRepository  # noqa: E402

COMMUNITY = CommunityRef(Platform.CONSOLE, "bench")
MEMBERS = 50


def caller(i: int) -> Caller:
    name = f"m{i % MEMBERS}"
    return Caller(MemberRef(Platform.CONSOLE, name), name, COMMUNITY,
                  ChannelRef(Platform.CONSOLE, "general"))


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def baseline(path: Path, n: int) -> float:
    """The SQL one /rejected runs (the repository's own unit functions), straight through
    sqlite3 on this thread, one transaction per command: no asyncio, no core."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    migrate.apply(conn)
    tx = SqliteTx(conn)
    start = time.perf_counter()
    for i in range(n):
        who = caller(i)
        now = datetime.now(UTC)
        midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
        zones_unit(tx, COMMUNITY, who.member)
        conn.execute("BEGIN IMMEDIATE")
        log_attempt_unit(tx, NewAttempt(
            community=COMMUNITY, member=who.member, member_name=who.name, outcome="rejected",
            ask=f"asked for thing {i}", at=now, who="boss", area="work", fear=5,
            request_id=f"b{i}", max_per_hour=10**9,
            day_start=midnight, week_start=midnight - timedelta(days=now.weekday()),
            history_since=now - timedelta(days=400)))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def ours(path: Path, n: int, concurrency: int) -> tuple[float, int]:
    repo = await SqliteRepository.open(path)
    app = App(repo, Clock(), max_logs_per_hour=10**9)  # measure logging, not the fair-play limit
    acknowledged = 0

    async def one(i: int) -> None:
        nonlocal acknowledged
        reply = await app.dispatch(Invocation(
            "rejected", caller(i), {"ask": f"asked for thing {i}", "who": "boss", "area": "work",
                                    "fear": 5}, request_id=f"r{i}"))
        if reply.error:
            raise RuntimeError(reply.plain_text())
        acknowledged += 1

    start = time.perf_counter()
    if concurrency == 1:
        for i in range(n):
            await one(i)
    else:
        for base in range(0, n, concurrency):
            await asyncio.gather(*(one(i) for i in range(base, min(n, base + concurrency))))
    elapsed = time.perf_counter() - start
    await repo.close()
    return n / elapsed, acknowledged


def committed(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="best of N for each measurement")
    args = parser.parse_args()
    n = args.commands
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        base = max(baseline(tmpdir / f"base{r}.db", n) for r in range(args.rounds))
        print(f"baseline (sqlite3, one transaction per command): {base:10.0f} commands/s")
        for concurrency in (1, 100):
            best, ok = 0.0, True
            for r in range(args.rounds):
                path = tmpdir / f"ours{concurrency}-{r}.db"
                rate, acknowledged = asyncio.run(ours(path, n, concurrency))
                ok &= committed(path) == acknowledged == n
                best = max(best, rate)
            print(f"core dispatch, {concurrency:3d} concurrent:                  {best:10.0f} commands/s"
                  f"   ratio {best / base:5.2f}   every acknowledged command committed: {ok}")


if __name__ == "__main__":
    main()
