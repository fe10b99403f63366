"""/rejected throughput: the core's dispatch on the real repository, against a baseline that runs
the same statements straight through the driver, one transaction per command, in the same run.

    python benchmarks/log_throughput.py [--commands 3000] [--rounds 3] [--database URL]

- SQLite (the default: a temporary file; or ``--database sqlite:///path.db``): the baseline
  runs the repository's own unit function (``log_attempt_unit``) with Python's
  sqlite3 module on this thread, same pragmas, no asyncio and no core. Ours runs one at a
  time and 100 concurrent.
- PostgreSQL (``--database postgresql://user@host:5432/db``): first each command's unit
  functions run once, in order, through a ``PgTx`` over a connection that records every
  statement it sends (the ``$n`` SQL and the parameters, advisory locks included), on a
  scratch database. The baseline replays each command's recorded statements through an
  asyncpg pool of the repository's pool size, one transaction per command, one at a time and
  100 concurrent, on a fresh database. Replaying is sound because no statement's result feeds
  a later one's parameters: in the log unit the results only pick branches that go the same
  way on replay (no duplicate request, under the hourly limit, no goal set, no check-in zone),
  and the RETURNING id and rejection_seq go only into the reply (checked for the id: attempt
  ids start at 10**12 in the recording, and none may come back as a later parameter). One at
  a time, the replay's results are checked against the recording's, statement by statement.
  Ours runs the core's dispatch on ``PostgresRepository`` on another fresh database at the
  same concurrency.

Every measured run gets a fresh database (on PostgreSQL ``whosnext_bench_<pid>_<n>``, dropped
afterwards, also on an error or Ctrl-C). After each run, every command is checked to be stored
exactly once (counted from a separate connection). Prints commands/s for both, the ratio
(ours / baseline, higher is better) at each concurrency, and the goal: at least 0.5 at 100
concurrent commands. Each figure is the best of ``--rounds`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import inspect
import sqlite3
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._scratch import Scratch  # noqa: E402
from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from bot.models import NewAttempt, Outcome  # noqa: E402
from storage.attempts import log_attempt_unit  # noqa: E402
from storage.connect import open_repository, sqlite_path  # noqa: E402
from storage.db import SqliteTx, Tx  # noqa: E402
from storage.sqlite import MAX_BATCH, PRAGMAS, run_batch  # noqa: E402

COMMUNITY = CommunityRef(Platform.CONSOLE, "bench")
MEMBERS = 50
CONCURRENCY = (1, 100)
GOAL_AT, GOAL = 100, 0.5


def caller(i: int) -> Caller:
    name = f"m{i % MEMBERS}"
    return Caller(MemberRef(Platform.CONSOLE, name), name, COMMUNITY,
                  ChannelRef(Platform.CONSOLE, "general"))


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def command(tx: Tx, i: int, request: str) -> None:
    """What /rejected number ``i`` runs on the repository (one write, which also reads the
    member's zone), as the core asks for it."""
    who = caller(i)
    now = datetime.now(UTC)
    log_attempt_unit(tx, NewAttempt(
        community=COMMUNITY, member=who.member, member_name=who.name, outcome=Outcome.REJECTED,
        ask=f"asked for thing {i}", at=now, who="boss", area="work", fear=5,
        request_id=request, max_per_hour=10**9, history_since=now - timedelta(days=400)))


# -- SQLite ----------------------------------------------------------------------------------

def sqlite_baseline(url: str, n: int) -> float:
    """The SQL one /rejected runs (the repository's own unit functions), straight through
    sqlite3 on this thread, one transaction per command: no asyncio, no core."""
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    tx = SqliteTx(conn)
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        command(tx, i, f"b{i}")
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def storage_floor(url: str, n: int = 2000, batch: int = 32) -> float:
    """CPU µs a /rejected's storage costs on its own: the repository's unit, in batches of
    ``batch`` per transaction as the repository's writer runs them (``run_batch``, up to
    ``MAX_BATCH``), straight on sqlite3 on this thread: no asyncio, no thread hop, no core,
    no platform, no garbage collector. What no whole command can cost less than."""
    conn = sqlite3.connect(sqlite_path(url), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    batch = min(batch, MAX_BATCH)
    gc.disable()  # a floor: not even the collector's share (this process's heap isn't a bot's)
    failed: list[Any] = []
    try:
        start = time.process_time()
        for first in range(0, n, batch):
            failed += [value for ok, value in run_batch(
                conn, [lambda tx, i=i: command(tx, i, f"f{i}")
                       for i in range(first, min(n, first + batch))]) if not ok]
        elapsed = time.process_time() - start
    finally:
        gc.enable()
    stored = conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
    conn.close()
    if failed or stored != n:  # a floor of rollbacks would read too low
        raise SystemExit(f"storage floor: {len(failed)} of {n} units failed "
                         f"({failed[:1]!r}), {stored} stored")
    return 1e6 * elapsed / n


# -- PostgreSQL: record the statements, replay them through asyncpg ---------------------------

Statement = tuple[bool, str, Any]  # (executemany?, the $n SQL as sent, its parameters)


def recording_tx() -> Any:
    """A ``PgTx`` that keeps every statement it sends (the unit's, and its locks: all go
    through ``query`` or ``executemany``), with its parameters and its rows."""
    from storage.postgres import PgCursor, PgTx, dollar

    class Recording(PgTx):  # type: ignore[misc, valid-type]
        def __init__(self, conn: Any) -> None:
            super().__init__(conn, True)
            self.statements: list[Statement] = []
            self.results: list[list[tuple[Any, ...]] | None] = []

        def query(self, sql: str, args: Any) -> Any:
            cursor = super().query(sql, args)
            rows = cursor.fetchall()
            self.statements.append((False, sql, tuple(args)))
            self.results.append([tuple(r) for r in rows])
            return PgCursor(rows, cursor.rowcount)

        def executemany(self, sql: str, params: Any) -> Any:
            rows = [tuple(p) for p in params]
            self.statements.append((True, dollar(sql), rows))
            self.results.append(None)
            return super().executemany(sql, rows)

    return Recording


Recorded = list[tuple[list[Statement], list[list[tuple[Any, ...]] | None]]]

# Attempt ids start here in the recording and replay databases: far from every other number a
# command sends, so that a later statement reusing an id it got back would be seen.
FIRST_ID = 10**12 + 1
RESTART_IDS = f"ALTER TABLE attempts ALTER COLUMN id RESTART WITH {FIRST_ID}"


def ids_fed_back(statements: list[Statement], results: list[list[tuple[Any, ...]] | None]
                 ) -> set[Any]:
    """The ids a command's ``RETURNING id`` gave back that one of its later statements sends
    as a parameter (none, for the replay to be sound)."""
    fed: set[Any] = set()
    for k, ((_, sql, _), rows) in enumerate(zip(statements, results, strict=True)):
        if "RETURNING id" not in sql or not rows:
            continue
        ids = {row[0] for row in rows}
        if min(ids) < FIRST_ID:
            raise AssertionError(f"ids did not start at {FIRST_ID}: {ids}")
        for many, _, params in statements[k + 1:]:
            sent = [v for p in params for v in p] if many else list(params)
            fed |= ids.intersection(sent)
    return fed


async def record(url: str, n: int) -> Recorded:
    """Each command's statements and results, run once in order through a recording PgTx."""
    from storage import bridge
    from storage.postgres import connect

    recording = recording_tx()
    conn = await connect(url)
    recorded: Recorded = []
    try:
        await conn.execute(RESTART_IDS)
        for i in range(n):
            rec = recording(conn)
            async with conn.transaction():
                await bridge.run(command, rec, i, f"b{i}")
            if fed := ids_fed_back(rec.statements, rec.results):
                raise AssertionError(f"command {i} sends back the ids {fed}: can't replay it")
            recorded.append((rec.statements, rec.results))
    finally:
        await conn.close()
    return recorded


async def _no_reset(conn: Any) -> None:
    """Our transactions end in COMMIT and hold only transaction-level locks: nothing to reset
    (the repository's pool skips it too), so the baseline skips asyncpg's reset query."""


async def replay(url: str, recorded: Recorded, concurrency: int, pool_size: int) -> float:
    """The recorded statements through an asyncpg pool, one transaction per command."""
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=pool_size, max_size=pool_size,
                                     reset=_no_reset)
    await pool.execute(RESTART_IDS)  # as in the recording: the results compare equal
    results: list[list[Any] | None] = [None] * len(recorded)

    async def one(i: int) -> None:
        seen: list[Any] = []
        async with pool.acquire() as conn, conn.transaction():
            for many, sql, params in recorded[i][0]:
                if many:
                    await conn.executemany(sql, params)
                    seen.append(None)
                else:
                    seen.append(await conn.fetch(sql, *params))
        results[i] = seen

    try:
        elapsed = await waves(one, len(recorded), concurrency)
    finally:
        await pool.close()
    if concurrency == 1:  # in the recording's order: every result as recorded
        for i, seen in enumerate(results):
            assert seen is not None
            got = [None if r is None else [tuple(row) for row in r] for r in seen]
            if got != recorded[i][1]:
                raise AssertionError(f"command {i} replayed differently: {got} != {recorded[i][1]}")
    return len(recorded) / elapsed


# -- ours, and the checks -------------------------------------------------------------------

async def waves(one: Any, n: int, concurrency: int) -> float:
    """Run ``one(i)`` for i < n, ``concurrency`` at a time (in waves); the seconds it took."""
    gc.collect()
    start = time.perf_counter()
    if concurrency == 1:
        for i in range(n):
            await one(i)
    else:
        for base in range(0, n, concurrency):
            await asyncio.gather(*(one(i) for i in range(base, min(n, base + concurrency))))
    return time.perf_counter() - start


async def ours(url: str, n: int, concurrency: int) -> tuple[float, int]:
    repo = await open_repository(url)
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

    try:
        elapsed = await waves(one, n, concurrency)
    finally:
        await repo.close()
    return n / elapsed, acknowledged


STORED = ("SELECT COUNT(*), COUNT(DISTINCT request_id), "
          "(SELECT SUM(attempts_count) FROM members) FROM attempts")


async def stored_once(url: str, n: int) -> bool:
    """Every one of the n commands stored exactly once (rows, distinct requests, and the
    members' maintained counts), read from a connection of its own."""
    if url.startswith("sqlite:"):
        with sqlite3.connect(sqlite_path(url)) as conn:
            row = conn.execute(STORED).fetchone()
    else:
        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            row = await conn.fetchrow(STORED)
        finally:
            await conn.close()
    return tuple(row) == (n, n, n)


def line(label: str, rate: float) -> str:
    return f"{label:<62} {rate:8.0f} commands/s"


def verdict(ratio: float) -> str:
    return (f"goal: ratio >= {GOAL} at {GOAL_AT} concurrent: "
            f"{'met' if ratio >= GOAL else 'not met'} ({ratio:.2f})")


async def run_sqlite(scratch: Scratch, n: int, rounds: int) -> None:
    base = 0.0
    for _ in range(rounds):
        async with scratch.database() as url:
            base = max(base, sqlite_baseline(url, n))
    print(line("baseline (sqlite3, one transaction per command):", base))
    ratios: dict[int, float] = {}
    for concurrency in CONCURRENCY:
        best, ok = 0.0, True
        for _ in range(rounds):
            async with scratch.database() as url:
                rate, acknowledged = await ours(url, n, concurrency)
                ok &= acknowledged == n and await stored_once(url, n)
            best = max(best, rate)
        ratios[concurrency] = best / base
        print(f"{line(f'core dispatch, {concurrency:3d} concurrent:', best)}"
              f"   ratio {best / base:5.2f}   every acknowledged command committed: {ok}")
    print(verdict(ratios[GOAL_AT]))


async def run_postgresql(scratch: Scratch, n: int, rounds: int) -> None:
    from storage.postgres import PostgresRepository

    pool_size = inspect.signature(PostgresRepository.open).parameters["pool_size"].default
    t0 = time.perf_counter()
    async with scratch.database() as url:
        recorded = await record(url, n)
    per = sum(len(s) for s, _ in recorded) / n
    print(f"recorded {n} commands' statements ({per:.1f} a command) in "
          f"{time.perf_counter() - t0:.1f} s; pool of {pool_size} on both sides")
    best: dict[tuple[str, int], float] = {}
    ok = True
    for _ in range(rounds):  # interleaved, so that drift on a noisy machine hits both sides
        for concurrency in CONCURRENCY:
            async with scratch.database() as url:
                rate = await replay(url, recorded, concurrency, pool_size)
                ok &= await stored_once(url, n)
            best[("base", concurrency)] = max(best.get(("base", concurrency), 0.0), rate)
            async with scratch.database() as url:
                rate, acknowledged = await ours(url, n, concurrency)
                ok &= acknowledged == n and await stored_once(url, n)
            best[("ours", concurrency)] = max(best.get(("ours", concurrency), 0.0), rate)
    for concurrency in CONCURRENCY:
        base, mine = best[("base", concurrency)], best[("ours", concurrency)]
        print(line(f"baseline (asyncpg, recorded statements), {concurrency:3d} concurrent:", base))
        print(f"{line(f'core dispatch on PostgresRepository, {concurrency:3d} concurrent:', mine)}"
              f"   ratio {mine / base:5.2f}")
    print(f"every run, both sides: each command stored exactly once, every acknowledged "
          f"command committed: {ok}")
    print(verdict(best[("ours", GOAL_AT)] / best[("base", GOAL_AT)]))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="best of N for each measurement")
    parser.add_argument("--database", help="sqlite:///path.db or postgresql://user@host:port/db "
                        "(a scratch database is made there for each run); default: a temporary "
                        "SQLite file")
    args = parser.parse_args(argv)
    try:
        with Scratch(args.database) as scratch:
            print(scratch.describe())
            runner = run_postgresql if scratch.is_postgresql else run_sqlite
            asyncio.run(runner(scratch, args.commands, args.rounds))
    except KeyboardInterrupt:
        print("interrupted; scratch databases removed", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
