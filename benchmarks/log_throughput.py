"""/rejected throughput: the core's dispatch on the real SQLite repository, against a baseline
that runs the same SQL with Python's sqlite3 module directly, one transaction per command,
same pragmas, in the same run.

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
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from storage import migrate  # noqa: E402
from storage.sqlite import PRAGMAS, SqliteRepository, ts  # noqa: E402

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
    """The statements one /rejected runs, straight through sqlite3, a transaction each."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    migrate.apply(conn)
    start = time.perf_counter()
    for i in range(n):
        community, member = COMMUNITY.key, f"console:m{i % MEMBERS}"
        now = ts(datetime.now(UTC))
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SELECT id, member_id FROM attempts WHERE request_id = ?",
                     (f"{community}/b{i}",)).fetchone()
        conn.execute(
            "INSERT INTO members (community_id, member_id, display_name, created_at, rejection_seq) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id) DO UPDATE SET "
            "display_name = excluded.display_name, "
            "rejection_seq = members.rejection_seq + excluded.rejection_seq RETURNING rejection_seq",
            (community, member, member, now, 1)).fetchone()
        conn.execute(
            "INSERT INTO attempts (community_id, member_id, outcome, ask, who, area, fear, lesson, "
            "private, created_at, commitment_id, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (community, member, "rejected", f"asked for thing {i}", "boss", "work", 5, None, 0, now,
             None, f"{community}/b{i}"))
        conn.execute("SELECT outcome, COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
                     "GROUP BY outcome", (community, member)).fetchall()
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def ours(path: Path, n: int, concurrency: int) -> tuple[float, int]:
    repo = await SqliteRepository.open(path)
    app = App(repo, Clock())
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
