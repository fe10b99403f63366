"""The core's Repository on SQLite.

One long-lived ``sqlite3`` connection, made on and used only from one worker thread of our own
(a one-thread ``ThreadPoolExecutor``), WAL, ``synchronous=NORMAL``, foreign keys on. Every
command's writes form one unit, and writes that arrive together are group-committed: the writer
takes whatever is queued, runs each command inside its own SAVEPOINT (so one failing command
rolls back alone) and commits the batch once. A caller's await returns only after its batch has
committed, so every acknowledged command is durable.

Each unit runs as one plain function on that thread: one thread hop per batch instead of one
per statement (see PLATFORM-NOTES on the per-await cost of a thread hop). A unit that has
started always runs to its end on the thread, whatever happens to the coroutine awaiting it,
and the thread never leaves a transaction open between units.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Activity,
    ActivityWindow,
    Attempt,
    CheerStatus,
    Commitment,
    CommitmentStatus,
    EntryKind,
    Goal,
    Leaderboard,
    LeaderRow,
    LogResult,
    MemberInfo,
    NewAttempt,
    NewCommitment,
    NewPost,
    OutboxItem,
    Outcome,
    Period,
    PostKind,
    PostResult,
    Profile,
    PromiseEnd,
    RankBy,
    Removed,
    Resolution,
    ResolutionStatus,
    Schedule,
    Totals,
)
from storage import migrate, outbox
from storage.rows import attempt as _attempt
from storage.rows import commitment as _commitment
from storage.rows import community_ref as _community
from storage.rows import from_ts, ts
from storage.rows import member_ref as _member

T = TypeVar("T")
Unit = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 512
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
)


def _request_key(community: CommunityRef, request_id: str | None) -> str | None:
    return f"{community.key}/{request_id}" if request_id else None


def _totals(c: sqlite3.Connection, community: str, member: str) -> Totals:
    return _as_totals(dict(c.execute(
        "SELECT outcome, COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
        "GROUP BY outcome", (community, member)).fetchall()))


def _as_totals(counts: dict[str, int]) -> Totals:
    """Totals from counts by outcome (the outcomes' stored text)."""
    r, a, p = (counts.get(Outcome.REJECTED, 0), counts.get(Outcome.ACCEPTED, 0),
               counts.get(Outcome.PENDING, 0))
    return Totals(attempts=r + a + p, rejected=r, accepted=a, pending=p)


def _touch_member(c: sqlite3.Connection, community: str, member: str, name: str, at: datetime,
                  rejections: int = 0) -> int:
    """Create or rename the member; returns their rejection sequence after adding ``rejections``."""
    row = c.execute(
        "INSERT INTO members (community_id, member_id, display_name, created_at, rejection_seq) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id) DO UPDATE SET "
        "display_name = excluded.display_name, "
        "rejection_seq = members.rejection_seq + excluded.rejection_seq "
        "RETURNING rejection_seq",
        (community, member, name, ts(at), rejections)).fetchone()
    return int(row[0])


def _bump(c: sqlite3.Connection, community: str, member: str, day: str, attempts: int,
          rejections: int) -> None:
    """Keep the leaderboard aggregates in step with the attempts table."""
    c.execute("UPDATE members SET attempts_count = attempts_count + ?, "
              "rejections_count = rejections_count + ? WHERE community_id = ? AND member_id = ?",
              (attempts, rejections, community, member))
    local = date.fromisoformat(day)
    c.executemany(
        "INSERT INTO member_periods (community_id, period, member_id, attempts, rejections) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, period, member_id) DO UPDATE SET "
        "attempts = member_periods.attempts + excluded.attempts, "
        "rejections = member_periods.rejections + excluded.rejections",
        [(community, key, member, attempts, rejections)
         for key in (period_key(Period.WEEK, local), period_key(Period.MONTH, local))])


def _community_day(c: sqlite3.Connection, community: str, at: datetime, default_zone: str) -> str:
    """The community-local day of ``at`` ('YYYY-MM-DD'), by its check-in zone if it has one.
    Read inside the writing transaction, so a zone change can't slip in between."""
    row = c.execute("SELECT timezone FROM schedules WHERE community_id = ?", (community,)).fetchone()
    return at.astimezone(ZoneInfo(row[0] if row else default_zone)).date().isoformat()


def _move_to_zone(c: sqlite3.Connection, community: str, zone: ZoneInfo) -> None:
    """The community's days now end at another midnight: put every attempt on its local day
    there and recount the week and month boards."""
    c.executemany("UPDATE attempts SET local_day = ? WHERE id = ?",
                  [(from_ts(at).astimezone(zone).date().isoformat(), ident) for ident, at in
                   c.execute("SELECT id, created_at FROM attempts WHERE community_id = ?",
                             (community,)).fetchall()])
    _recount_periods(c, community)


def _recount_periods(c: sqlite3.Connection, community: str) -> None:
    """Rebuild a community's week and month counts from its attempts' local days."""
    totals: dict[tuple[str, str], list[int]] = {}
    for member, day, attempts, rejections in c.execute(
            "SELECT member_id, local_day, COUNT(*), SUM(CASE WHEN outcome = 'rejected' THEN 1 "
            "ELSE 0 END) FROM attempts WHERE community_id = ? GROUP BY member_id, local_day",
            (community,)):
        local = date.fromisoformat(day)
        for key in (period_key(Period.WEEK, local), period_key(Period.MONTH, local)):
            counts = totals.setdefault((key, member), [0, 0])
            counts[0] += attempts
            counts[1] += rejections
    c.execute("DELETE FROM member_periods WHERE community_id = ?", (community,))
    c.executemany("INSERT INTO member_periods (community_id, period, member_id, attempts, "
                  "rejections) VALUES (?, ?, ?, ?, ?)",
                  [(community, key, member, a, r) for (key, member), (a, r) in totals.items()])


def period_key(period: Period, day: date) -> str:
    """The member_periods key of the week (from Monday) or month that ``day`` falls in."""
    if period == Period.WEEK:
        return "W" + (day - timedelta(days=day.weekday())).isoformat()
    return "M" + day.isoformat()[:7]


def _over_limit(c: sqlite3.Connection, community: str, member: str, at: datetime,
                limit: int | None) -> bool:
    """Fair play: has the member already made ``limit`` entries in the hour before ``at``?"""
    if limit is None:
        return False
    since = ts(at - timedelta(hours=1))
    args = (community, member, since)
    n = c.execute("SELECT (SELECT COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
                  "AND created_at > ?) + (SELECT COUNT(*) FROM commitments WHERE community_id = ? "
                  "AND member_id = ? AND created_at > ?)", args + args).fetchone()[0]
    return int(n) >= limit


def _insert_attempt(c: sqlite3.Connection, new: NewAttempt, commitment_id: int | None = None
                    ) -> LogResult:
    community, member = new.community.key, new.member.key
    if _over_limit(c, community, member, new.at, new.max_per_hour):
        return LogResult(0, False, _totals(c, community, member), 0, limited=True)
    rejected = 1 if new.outcome == Outcome.REJECTED else 0
    seq = _touch_member(c, community, member, new.member_name, new.at, rejected)
    day = _community_day(c, community, new.at, new.default_zone)
    cur = c.execute(
        "INSERT INTO attempts (community_id, member_id, outcome, ask, who, area, fear, lesson, "
        "private, created_at, commitment_id, request_id, local_day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (community, member, new.outcome, new.ask, new.who, new.area, new.fear, new.lesson,
         int(new.private), ts(new.at), commitment_id,
         _request_key(new.community, new.request_id), day))
    _bump(c, community, member, day, 1, rejected)
    goal = _check_goal(c, community, member, new.at) if rejected else None
    # Totals by outcome, and how many since the member's midnight and Monday, in one pass.
    never = "9999"  # sorts after every timestamp: counts nothing
    totals: dict[str, int] = {}
    today = week = 0
    for outcome, n, since_day, since_week in c.execute(
            "SELECT outcome, COUNT(*), SUM(created_at >= ?), SUM(created_at >= ?) FROM attempts "
            "WHERE community_id = ? AND member_id = ? GROUP BY outcome",
            (ts(new.day_start) if new.day_start else never,
             ts(new.week_start) if new.week_start else never, community, member)):
        totals[outcome] = n
        today, week = today + since_day, week + since_week
    history = (_times_since(c, community, member, new.history_since)
               if today == 1 and new.history_since else ())
    if cur.lastrowid is None:  # never after a one-row INSERT; says so to the type checker
        raise RuntimeError("the attempt was not inserted")
    return LogResult(cur.lastrowid, False, _as_totals(totals), seq, goal_reached=goal,
                     today_count=today, week_count=week, history=history)


def _times_since(c: sqlite3.Connection, community: str, member: str, since: datetime | None
                 ) -> tuple[datetime, ...]:
    """When the member's attempts were logged (all of them if ``since`` is None), oldest first."""
    return tuple(from_ts(r[0]) for r in c.execute(
        "SELECT created_at FROM attempts WHERE community_id = ? AND member_id = ? "
        "AND created_at >= ? ORDER BY created_at",
        (community, member, ts(since) if since else "")))


def _goal_progress(c: sqlite3.Connection, community: str, member: str, set_at: str) -> int:
    return int(c.execute("SELECT COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
                         "AND outcome = 'rejected' AND created_at >= ?",
                         (community, member, set_at)).fetchone()[0])


def _check_goal(c: sqlite3.Connection, community: str, member: str, at: datetime) -> int | None:
    """Mark the member's goal reached (once) if this rejection got there; returns its target."""
    goal = c.execute("SELECT target, set_at FROM goals WHERE community_id = ? AND member_id = ? "
                     "AND reached_at IS NULL", (community, member)).fetchone()
    if goal is None or _goal_progress(c, community, member, goal["set_at"]) < goal["target"]:
        return None
    c.execute("UPDATE goals SET reached_at = ? WHERE community_id = ? AND member_id = ?",
              (ts(at), community, member))
    return int(goal["target"])


def _once(c: sqlite3.Connection, community: CommunityRef, member: MemberRef, kind: str,
          request_id: str | None, at: datetime, compute: Callable[[], T],
          to_json: Callable[[T], Any], from_json: Callable[[Any], T]) -> T:
    """Run ``compute`` once per platform request id: a retry gets the first answer back and
    changes nothing. Answers are kept a day."""
    if request_id is None:
        return compute()
    key = f"{community.key}/{kind}/{request_id}"
    row = c.execute("SELECT result FROM processed_requests WHERE key = ?", (key,)).fetchone()
    if row is not None:
        return from_json(json.loads(row[0]))
    value = compute()
    c.execute("DELETE FROM processed_requests WHERE created_at < ?", (ts(at - timedelta(days=1)),))
    c.execute("INSERT INTO processed_requests (key, community_id, member_id, result, created_at) "
              "VALUES (?, ?, ?, ?, ?)", (key, community.key, member.key, json.dumps(to_json(value)),
                                         ts(at)))
    return value


def _owned_open_item(c: sqlite3.Connection, table: str, item_id: int, community: CommunityRef,
                     member: MemberRef, is_open: Callable[[sqlite3.Row], bool]
                     ) -> sqlite3.Row | Resolution:
    """The row of an attempt or commitment being resolved, or why it can't be."""
    row: sqlite3.Row | None = c.execute(f"SELECT * FROM {table} WHERE id = ? AND community_id = ?",
                                        (item_id, community.key)).fetchone()
    if row is None:
        return Resolution(ResolutionStatus.NOT_FOUND)
    if row["member_id"] != member.key:
        return Resolution(ResolutionStatus.NOT_OWNER, ask=row["ask"])
    if not is_open(row):
        return Resolution(ResolutionStatus.ALREADY, ask=row["ask"])
    return row


def log_attempt_unit(c: sqlite3.Connection, new: NewAttempt) -> LogResult:
    """Everything one logged attempt writes and reads, as one unit (the benchmark's baseline
    runs this same function straight on sqlite3)."""
    key = _request_key(new.community, new.request_id)
    if key is not None:
        row = c.execute("SELECT id, member_id FROM attempts WHERE request_id = ?", (key,)).fetchone()
        if row is not None:
            seq = c.execute("SELECT rejection_seq FROM members WHERE community_id = ? "
                            "AND member_id = ?", (new.community.key, row["member_id"])).fetchone()[0]
            return LogResult(row["id"], True, _totals(c, new.community.key, row["member_id"]), seq)
    return _insert_attempt(c, new)


def zones_unit(c: sqlite3.Connection, community: CommunityRef, member: MemberRef
                     ) -> tuple[str | None, str | None]:
    schedule = c.execute("SELECT timezone FROM schedules WHERE community_id = ?",
                         (community.key,)).fetchone()
    row = c.execute("SELECT timezone FROM members WHERE community_id = ? AND member_id = ?",
                    (community.key, member.key)).fetchone()
    return (schedule[0] if schedule else None), (row[0] if row else None)


class DatabaseUnusable(Exception):
    """The database can't be opened for writing: the reason, in a sentence for an operator."""


WINDOWS_PER_STATEMENT = 1000  # 5 bound values each, far under SQLite's limit of 32,766


def activities_unit(c: sqlite3.Connection, windows: Sequence[ActivityWindow]) -> list[Activity]:
    """Many posts' reads, set-based: each statement joins a VALUES list of windows, so a
    minute's thousand check-ins cost four statements, not four thousand."""
    out: list[Activity] = []
    for start in range(0, len(windows), WINDOWS_PER_STATEMENT):
        out += _activities(c, windows[start:start + WINDOWS_PER_STATEMENT])
    return out


def _values(rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    row = "(" + ",".join("?" * len(rows[0])) + ")"
    return ",".join([row] * len(rows)), [v for values in rows for v in values]


def _activities(c: sqlite3.Connection, windows: Sequence[ActivityWindow]) -> list[Activity]:
    if not windows:
        return []
    stamps: dict[datetime, str] = {}  # a minute's windows share a few dozen distinct bounds

    def stamp(at: datetime) -> str:
        text = stamps.get(at)
        if text is None:
            text = stamps[at] = ts(at)
        return text

    keys = [w.community.key for w in windows]
    marks, args = _values([(i, keys[i], stamp(w.start), stamp(w.end))
                           for i, w in enumerate(windows)])
    attempts: list[list[Attempt]] = [[] for _ in windows]
    for r in c.execute(
            f"WITH w(i, community_id, lo, hi) AS (VALUES {marks}) SELECT w.i, a.* FROM w "
            "JOIN attempts a ON a.community_id = w.community_id AND a.created_at >= w.lo "
            "AND a.created_at < w.hi ORDER BY w.i, a.created_at, a.id", args):
        attempts[r["i"]].append(_attempt(r))
    busy = [i for i in range(len(windows)) if attempts[i]]
    prior: dict[int, dict[str, dict[str, int]]] = {i: {} for i in busy}
    active = [(i, keys[i], member, stamp(windows[i].start)) for i in busy
              for member in {a.member.key for a in attempts[i]}]
    for chunk in range(0, len(active), 2000):
        marks, args = _values(active[chunk:chunk + 2000])
        for r in c.execute(
                f"WITH w(i, community_id, member_id, lo) AS (VALUES {marks}) "
                "SELECT w.i, a.member_id, a.outcome, COUNT(*) AS n FROM w JOIN attempts a "
                "ON a.community_id = w.community_id AND a.member_id = w.member_id "
                "AND a.created_at < w.lo GROUP BY w.i, a.member_id, a.outcome", args):
            prior[r["i"]].setdefault(r["member_id"], {})[r["outcome"]] = r["n"]
    marks, args = _values([(i, keys[i], stamp(w.due_from), stamp(w.due_until))
                           for i, w in enumerate(windows) if w.due_from < w.due_until] or
                          [(-1, "", "", "")])
    commitments: list[list[Commitment]] = [[] for _ in windows]
    for r in c.execute(
            f"WITH w(i, community_id, lo, hi) AS (VALUES {marks}) SELECT w.i, k.* FROM w "
            "JOIN commitments k ON k.community_id = w.community_id AND k.status = 'open' "
            "AND k.due_at >= w.lo AND k.due_at < w.hi ORDER BY w.i, k.due_at, k.id", args):
        commitments[r["i"]].append(_commitment(r))
    named = [i for i in range(len(windows)) if attempts[i] or commitments[i]]
    wanted = sorted({(keys[i], m.key) for i in named
                     for m in [a.member for a in attempts[i]] + [k.member for k in commitments[i]]})
    names: dict[tuple[str, str], str] = {}
    for chunk in range(0, len(wanted), 5000):
        marks, args = _values(wanted[chunk:chunk + 5000])
        names.update(((r[0], r[1]), r[2]) for r in c.execute(
            f"WITH w(community_id, member_id) AS (VALUES {marks}) SELECT m.community_id, "
            "m.member_id, m.display_name FROM w JOIN members m ON m.community_id = w.community_id "
            "AND m.member_id = w.member_id", args))
    quiet = Activity((), {}, {}, ())
    out = [quiet] * len(windows)
    for i in named:
        key = keys[i]
        members = {a.member.key for a in attempts[i]} | {k.member.key for k in commitments[i]}
        out[i] = Activity(tuple(attempts[i]),
                          {m: names[(key, m)] for m in members if (key, m) in names},
                          {m: _as_totals(prior[i].get(m, {}))
                           for m in {a.member.key for a in attempts[i]}},
                          tuple(commitments[i]))
    return out


def _check_usable(path: str | Path) -> None:
    """Open the file as the repository will, and make a write that changes nothing: SQLite
    refuses it when the file (or its folder, where the WAL lives) is read-only. Without this a
    read-only database would open fine and then fail every write. A connection of its own,
    closed here, so that a database that can't be used leaves nothing open behind."""
    c = sqlite3.connect(str(path), isolation_level=None)
    try:
        c.execute(PRAGMAS[0])  # WAL: needs the folder to be writable too
        c.execute("BEGIN IMMEDIATE")
        try:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            c.execute(f"PRAGMA user_version = {version}")
        finally:
            c.execute("ROLLBACK")
    finally:
        c.close()


def _unusable(path: str | Path, err: sqlite3.Error) -> DatabaseUnusable:
    message = str(err)
    if "readonly" in message or "read-only" in message:
        why = "it is read-only; make the file and its folder writable for this user"
    elif "unable to open" in message:
        why = ("it can't be opened for writing; check that its folder exists and is writable "
               "(SQLite keeps a -wal file beside it)")
    elif "not a database" in message:
        why = "that file is not a SQLite database"
    else:
        why = f"SQLite says: {message}"
    return DatabaseUnusable(f"can't use the database at {path}: {why}.")


class _DatabaseThread:
    """One worker thread owning one ``sqlite3`` connection: the connection is made on the
    thread and used only there (``check_same_thread`` stays on, so a slip is an error). Jobs
    run in submission order, one at a time; each is one hop there and one back. A job that has
    been submitted runs to its end whatever happens to whoever awaits it; only its answer is
    then dropped. A ``ThreadPoolExecutor`` of one, so that even a repository never closed
    doesn't keep the interpreter from exiting."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whosnext-sqlite")
        self._sqlite: sqlite3.Connection | None = None  # touched on the thread only
        self._closing: asyncio.Future[None] | None = None

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...],
               done: Callable[[bool, Any], None]) -> None:
        """Run ``fn(*args)`` on the thread, then ``done(True, result)`` or ``done(False,
        exception)`` on the calling event loop."""
        if self._closing is not None:
            raise RuntimeError("the database is closed")
        self._executor.submit(_job, asyncio.get_running_loop(), fn, args, done)

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` on the thread, as a future."""
        fut = asyncio.get_running_loop().create_future()
        self.submit(fn, args, lambda ok, value: _resolve(fut, ok, value))
        return fut

    def run(self, unit: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """``unit(connection)`` on the thread, as a future."""
        return self.call(self.on_connection, unit)

    def connect(self, path: str | Path) -> asyncio.Future[None]:
        return self.call(self._connect, path)

    def on_connection(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """On the thread: run ``unit`` on the connection. Whatever it did, the next unit
        starts outside a transaction."""
        c = self._sqlite
        if c is None:
            raise RuntimeError("the database is not open")
        try:
            return unit(c)
        finally:
            if c.in_transaction:
                c.execute("ROLLBACK")

    def _connect(self, path: str | Path) -> None:
        c = sqlite3.connect(str(path), isolation_level=None)
        try:
            c.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                c.execute(pragma)
        except BaseException:
            c.close()
            raise
        self._sqlite = c

    def _disconnect(self) -> None:
        c, self._sqlite = self._sqlite, None
        if c is not None:
            c.close()

    async def close(self) -> None:
        """Close the connection once what's already submitted has run, and end the thread.
        Work submitted afterwards is refused. Safe to call again."""
        if self._closing is None:
            self._closing = self.call(self._disconnect)
            self._executor.shutdown(wait=False)  # what's queued, the disconnect last, still runs
        try:
            await asyncio.shield(self._closing)
        finally:
            if self._closing.done():
                self._executor.shutdown(wait=True)  # nothing left for the thread: join it


def _job(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], args: tuple[Any, ...],
         done: Callable[[bool, Any], None]) -> None:
    """On the database thread: run one job and hand its outcome back to the loop."""
    try:
        value, ok = fn(*args), True
    except BaseException as err:  # it belongs to the awaiting coroutine, not to this thread
        value, ok = err, False
    try:
        loop.call_soon_threadsafe(done, ok, value)
    except RuntimeError:  # the loop has closed: nobody is left to tell
        pass


def _fail(fut: asyncio.Future[Any], err: BaseException) -> None:
    if isinstance(err, StopIteration):  # a future can't carry one
        wrapped = RuntimeError(f"a unit raised {err!r}")
        wrapped.__cause__ = err
        err = wrapped
    fut.set_exception(err)


def _resolve(fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if fut.done():  # its caller was cancelled
        return
    if ok:
        fut.set_result(value)
    else:
        _fail(fut, value)


def _settle(batch: list[tuple[Unit, asyncio.Future[Any]]], ok: bool, value: Any) -> None:
    """Tell each caller in a batch how its unit ended."""
    if ok:
        for (_, fut), (unit_ok, result) in zip(batch, value, strict=True):
            _resolve(fut, unit_ok, result)
        return
    err = value if isinstance(value, Exception) else RuntimeError(f"write failed: {value!r}")
    for _, fut in batch:  # the transaction itself failed: nothing in it landed
        _resolve(fut, False, err)


class SqliteRepository:
    def __init__(self, thread: _DatabaseThread):
        self._thread = thread
        self._queue: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path) -> SqliteRepository:
        """Open (creating if needed), check it takes writes, and migrate the database at
        ``path``. ``DatabaseUnusable`` says why one can't be used. A failed open leaves no
        connection or thread behind."""
        thread = _DatabaseThread()
        try:
            try:
                await thread.call(_check_usable, path)
            except sqlite3.Error as err:
                raise _unusable(path, err) from None
            await thread.connect(path)
            await thread.run(migrate.apply)
        except BaseException:
            await thread.close()
            raise
        return cls(thread)

    async def close(self) -> None:
        """Let the queued writes finish and commit, then close the connection and its thread."""
        while not self._thread.closing:
            writer = self._writer
            if writer is not None and not writer.done():
                await asyncio.wait([writer])  # as a shield: cancelling close() leaves it running
            elif self._queue:  # a writer cancelled midway left these: they still run
                self._writer = asyncio.create_task(self._drain())
            else:
                break
        if self._writer is not None and self._writer.done() and not self._writer.cancelled():
            self._writer.exception()  # seen here; each caller was told its own outcome
        await self._thread.close()

    # -- running units on the connection's thread --------------------------------------------

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._thread.run(fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._thread.closing:
            raise RuntimeError("the database is closed")
        fut: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, fut))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        """Run what's queued, a batch (one transaction, one thread hop) at a time; what arrives
        meanwhile forms the next batch. A caller cancelled before its batch is taken is left
        out: nothing of it ran. Once a batch is on the thread it runs to its COMMIT or ROLLBACK
        there, and its callers hear how it ended even if this task is cancelled meanwhile."""
        loop = asyncio.get_running_loop()
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            batch = [(fn, fut) for fn, fut in batch if not fut.done()]
            if not batch:
                continue
            units = [fn for fn, _ in batch]
            finished = loop.create_future()

            def done(ok: bool, value: Any, batch: list[tuple[Unit, asyncio.Future[Any]]] = batch,
                     finished: asyncio.Future[None] = finished) -> None:
                _settle(batch, ok, value)
                if not finished.done():
                    finished.set_result(None)
            try:
                self._thread.submit(self._thread.on_connection,
                                    (lambda c, units=units: _run_batch(c, units),), done)
            except Exception as err:  # closed under us
                _settle(batch, False, err)
                continue
            await finished

    # -- the Repository protocol ---------------------------------------------------------------

    async def log_attempt(self, new: NewAttempt) -> LogResult:
        return await self._write(lambda c: log_attempt_unit(c, new))

    async def add_commitment(self, new: NewCommitment) -> tuple[Commitment | None, bool]:
        def unit(c: sqlite3.Connection) -> tuple[Commitment | None, bool]:
            key = _request_key(new.community, new.request_id)
            if key is not None:
                row = c.execute("SELECT * FROM commitments WHERE request_id = ?",
                                (key,)).fetchone()
                if row is not None:
                    return _commitment(row), True
            if _over_limit(c, new.community.key, new.member.key, new.at, new.max_per_hour):
                return None, False
            _touch_member(c, new.community.key, new.member.key, new.member_name, new.at)
            row = c.execute(
                "INSERT INTO commitments (community_id, member_id, ask, due_at, created_at, "
                "request_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
                (new.community.key, new.member.key, new.ask, ts(new.due_at), ts(new.at), key)
            ).fetchone()
            return _commitment(row), False
        return await self._write(unit)

    async def open_items(self, community: CommunityRef, member: MemberRef
                         ) -> tuple[list[Commitment], list[Attempt]]:
        def unit(c: sqlite3.Connection) -> tuple[list[Commitment], list[Attempt]]:
            args = (community.key, member.key)
            commitments = [_commitment(r) for r in c.execute(
                "SELECT * FROM commitments WHERE community_id = ? AND member_id = ? "
                "AND status = 'open' ORDER BY due_at, id", args)]
            pending = [_attempt(r) for r in c.execute(
                "SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                "AND outcome = 'pending' ORDER BY id", args)]
            return commitments, pending
        return await self._read(unit)

    async def resolve_attempt(self, community: CommunityRef, member: MemberRef, attempt_id: int,
                              outcome: Outcome, at: datetime) -> Resolution:
        def unit(c: sqlite3.Connection) -> Resolution:
            row = _owned_open_item(c, "attempts", attempt_id, community, member,
                                   lambda r: r["outcome"] == Outcome.PENDING)
            if isinstance(row, Resolution):
                return row
            seq = c.execute("UPDATE members SET rejection_seq = rejection_seq + ? WHERE "
                            "community_id = ? AND member_id = ? RETURNING rejection_seq",
                            (1 if outcome == Outcome.REJECTED else 0, community.key, member.key)
                            ).fetchone()[0]
            c.execute("UPDATE attempts SET outcome = ?, resolved_at = ? WHERE id = ?",
                      (outcome, ts(at), attempt_id))
            goal = None
            if outcome == Outcome.REJECTED:
                _bump(c, community.key, member.key, row["local_day"], 0, 1)
                goal = _check_goal(c, community.key, member.key, at)
            result = LogResult(attempt_id, False, _totals(c, community.key, member.key), seq,
                               goal_reached=goal)
            return Resolution(ResolutionStatus.DONE, result, row["ask"])
        return await self._write(unit)

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: PromiseEnd, at: datetime,
                                 default_zone: str = "UTC") -> Resolution:
        def unit(c: sqlite3.Connection) -> Resolution:
            row = _owned_open_item(c, "commitments", commitment_id, community, member,
                                   lambda r: r["status"] == CommitmentStatus.OPEN)
            if isinstance(row, Resolution):
                return row
            skipped = outcome == CommitmentStatus.SKIPPED
            status = CommitmentStatus.SKIPPED if skipped else CommitmentStatus.DONE
            c.execute("UPDATE commitments SET status = ?, closed_at = ? WHERE id = ?",
                      (status, ts(at), commitment_id))
            if skipped:
                return Resolution(ResolutionStatus.DONE, None, row["ask"])
            name = c.execute("SELECT display_name FROM members WHERE community_id = ? AND "
                             "member_id = ?", (community.key, member.key)).fetchone()[0]
            result = _insert_attempt(c, NewAttempt(
                community=community, member=member, member_name=name, outcome=Outcome(outcome),
                ask=row["ask"], at=at, default_zone=default_zone), commitment_id=commitment_id)
            return Resolution(ResolutionStatus.DONE, result, row["ask"])
        return await self._write(unit)

    async def undo_last(self, community: CommunityRef, member: MemberRef, at: datetime,
                        request_id: str | None = None) -> Removed | None:
        def remove(c: sqlite3.Connection) -> Removed | None:
            args = (community.key, member.key)
            a = c.execute("SELECT id, ask, outcome, created_at, commitment_id, local_day FROM attempts "
                          "WHERE community_id = ? AND member_id = ? "
                          "ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
            k = c.execute("SELECT id, ask, created_at FROM commitments WHERE community_id = ? "
                          "AND member_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                          args).fetchone()
            if a is None and k is None:
                return None
            if a is not None and (k is None or a["created_at"] >= k["created_at"]):
                c.execute("DELETE FROM attempts WHERE id = ?", (a["id"],))
                _bump(c, community.key, member.key, a["local_day"], -1,
                      -1 if a["outcome"] == Outcome.REJECTED else 0)
                if a["commitment_id"] is not None:  # the promise it kept is open again
                    c.execute("UPDATE commitments SET status = 'open', closed_at = NULL "
                              "WHERE id = ?", (a["commitment_id"],))
                return Removed(EntryKind.ATTEMPT, a["ask"], Outcome(a["outcome"]))
            c.execute("DELETE FROM commitments WHERE id = ?", (k["id"],))
            return Removed(EntryKind.COMMITMENT, k["ask"], None)

        def unit(c: sqlite3.Connection) -> Removed | None:
            return _once(c, community, member, "undo", request_id, at, lambda: remove(c),
                         lambda r: None if r is None else [r.kind, r.ask, r.outcome], _removed)
        return await self._write(unit)

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        return await self._read(lambda c: _totals(c, community.key, member.key))

    async def leaderboard(self, community: CommunityRef, since: date | None, by: RankBy,
                          caller: MemberRef, limit: int = 10, period: Period = Period.ALL
                          ) -> Leaderboard:
        """From the maintained aggregates, never the attempts: the top rows come off a count
        index, and each rank is a count of the members above (ties share it)."""
        if by not in tuple(RankBy) or period not in tuple(Period):  # names a column below
            raise ValueError(f"no leaderboard by {by!r} for {period!r}")
        if since is None:
            source = Counts("members", f"{by}_count", (("community_id", community.key),))
        else:
            source = Counts("member_periods", by, (("community_id", community.key),
                                                   ("period", period_key(period, since))))
        return await self._read(lambda c: _board(c, source, caller, limit))

    async def toggle_cheer(self, community: CommunityRef, attempt_id: int, member: MemberRef,
                           member_name: str, at: datetime, request_id: str | None = None
                           ) -> tuple[CheerStatus, int]:
        def unit(c: sqlite3.Connection) -> tuple[CheerStatus, int]:
            return _once(c, community, member, "cheer", request_id, at, lambda: toggle(c),
                         list, lambda j: (CheerStatus(j[0]), int(j[1])))

        def toggle(c: sqlite3.Connection) -> tuple[CheerStatus, int]:
            row = c.execute("SELECT member_id FROM attempts WHERE id = ? AND community_id = ?",
                            (attempt_id, community.key)).fetchone()
            if row is None:
                return CheerStatus.NOT_FOUND, 0
            if row["member_id"] == member.key:
                return CheerStatus.OWN, self._cheer_count(c, attempt_id)
            _touch_member(c, community.key, member.key, member_name, at)
            gone = c.execute("DELETE FROM cheers WHERE attempt_id = ? AND member_id = ?",
                             (attempt_id, member.key)).rowcount
            if not gone:
                c.execute("INSERT INTO cheers (attempt_id, community_id, member_id, created_at) "
                          "VALUES (?, ?, ?, ?)", (attempt_id, community.key, member.key, ts(at)))
            return (CheerStatus.REMOVED if gone else CheerStatus.ADDED), self._cheer_count(c, attempt_id)
        return await self._write(unit)

    @staticmethod
    def _cheer_count(c: sqlite3.Connection, attempt_id: int) -> int:
        return int(c.execute("SELECT COUNT(*) FROM cheers WHERE attempt_id = ?",
                             (attempt_id,)).fetchone()[0])

    async def member(self, community: CommunityRef, member: MemberRef) -> MemberInfo | None:
        def unit(c: sqlite3.Connection) -> MemberInfo | None:
            row = c.execute("SELECT * FROM members WHERE community_id = ? AND member_id = ?",
                            (community.key, member.key)).fetchone()
            return _member_info(row) if row else None
        return await self._read(unit)

    async def find_member(self, community: CommunityRef, query: str) -> MemberInfo | None:
        def unit(c: sqlite3.Connection) -> MemberInfo | None:
            row = c.execute(
                "SELECT * FROM members WHERE community_id = ? AND (member_id = ? OR "
                "member_id = ? OR lower(display_name) = lower(?)) ORDER BY member_id LIMIT 1",
                (community.key, query, f"{community.platform.value}:{query}", query)).fetchone()
            return _member_info(row) if row else None
        return await self._read(unit)

    # -- small key-value settings (adapters keep e.g. their command-sync hash here) ---------

    async def attempt_times(self, community: CommunityRef, member: MemberRef,
                            since: datetime) -> tuple[datetime, ...]:
        return await self._read(lambda c: _times_since(c, community.key, member.key, since))

    async def zones(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[str | None, str | None]:
        return await self._read(lambda c: zones_unit(c, community, member))

    async def profile(self, community: CommunityRef, member: MemberRef) -> Profile | None:
        def unit(c: sqlite3.Connection) -> Profile | None:
            args = (community.key, member.key)
            row = c.execute("SELECT * FROM members WHERE community_id = ? AND member_id = ?",
                            args).fetchone()
            if row is None:
                return None
            times = _times_since(c, *args, None)
            areas = tuple((r[0], r[1]) for r in c.execute(
                "SELECT area, COUNT(*) AS n FROM attempts WHERE community_id = ? AND member_id = ? "
                "AND area IS NOT NULL GROUP BY area ORDER BY n DESC, area", args))
            given = c.execute("SELECT COUNT(*) FROM cheers WHERE community_id = ? AND member_id = ?",
                              args).fetchone()[0]
            received = c.execute(
                "SELECT COUNT(*) FROM cheers JOIN attempts a ON a.id = cheers.attempt_id "
                "WHERE a.community_id = ? AND a.member_id = ?", args).fetchone()[0]
            return Profile(_member_info(row), _totals(c, *args), times, areas, given, received,
                           _goal(c, *args))
        return await self._read(unit)

    async def set_goal(self, community: CommunityRef, member: MemberRef, name: str, target: int,
                       by_date: date | None, at: datetime) -> Goal:
        """Set or change the goal. Changing an open goal keeps its progress (it counts from when
        it was first set); after a reached one, the new goal starts from zero."""
        def unit(c: sqlite3.Connection) -> Goal:
            _touch_member(c, community.key, member.key, name, at)
            c.execute("INSERT INTO goals (community_id, member_id, target, by_date, set_at) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id) DO UPDATE SET "
                      "target = excluded.target, by_date = excluded.by_date, "
                      "set_at = CASE WHEN goals.reached_at IS NULL THEN goals.set_at "
                      "ELSE excluded.set_at END, reached_at = NULL",
                      (community.key, member.key, target,
                       by_date.isoformat() if by_date else None, ts(at)))
            _check_goal(c, community.key, member.key, at)  # a lower target may be met already
            goal = _goal(c, community.key, member.key)
            if goal is None:  # never: it was just written
                raise RuntimeError("the goal was not saved")
            return goal
        return await self._write(unit)

    async def goal(self, community: CommunityRef, member: MemberRef) -> Goal | None:
        return await self._read(lambda c: _goal(c, community.key, member.key))

    async def clear_goal(self, community: CommunityRef, member: MemberRef) -> bool:
        def unit(c: sqlite3.Connection) -> bool:
            return c.execute("DELETE FROM goals WHERE community_id = ? AND member_id = ?",
                             (community.key, member.key)).rowcount > 0
        return await self._write(unit)

    async def export_rows(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[list[Attempt], list[Commitment], Goal | None]:
        def unit(c: sqlite3.Connection) -> tuple[list[Attempt], list[Commitment], Goal | None]:
            args = (community.key, member.key)
            attempts = [_attempt(r) for r in c.execute(
                "SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                "ORDER BY created_at, id", args)]
            commitments = [_commitment(r) for r in c.execute(
                "SELECT * FROM commitments WHERE community_id = ? AND member_id = ? "
                "ORDER BY created_at, id", args)]
            return attempts, commitments, _goal(c, *args)
        return await self._read(unit)

    async def forget_member(self, community: CommunityRef, member: MemberRef) -> int:
        """Every table with a member column is listed here; a test checks none is missed."""
        def unit(c: sqlite3.Connection) -> int:
            args = (community.key, member.key)
            gone = c.execute("DELETE FROM cheers WHERE attempt_id IN (SELECT id FROM attempts "
                             "WHERE community_id = ? AND member_id = ?)", args).rowcount
            for table in ("cheers", "attempts", "commitments", "goals", "member_periods",
                          "processed_requests", "members"):
                gone += c.execute(f"DELETE FROM {table} WHERE community_id = ? AND member_id = ?",
                                  args).rowcount
            return gone
        return await self._write(unit)

    async def recount_periods(self, community: CommunityRef) -> None:
        await self._write(lambda c: _recount_periods(c, community.key))

    async def get_value(self, key: str) -> str | None:
        def unit(c: sqlite3.Connection) -> str | None:
            row = c.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        return await self._read(unit)

    async def set_value(self, key: str, value: str) -> None:
        def unit(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO kv (key, value) VALUES (?, ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        await self._write(unit)

    # -- check-ins, reminders and time zones (issue 5) -----------------------------------------

    async def set_member_timezone(self, community: CommunityRef, member: MemberRef, name: str,
                                  zone: str, at: datetime) -> None:
        def unit(c: sqlite3.Connection) -> None:
            _touch_member(c, community.key, member.key, name, at)
            c.execute("UPDATE members SET timezone = ? WHERE community_id = ? AND member_id = ?",
                      (zone, community.key, member.key))
        await self._write(unit)

    async def set_reminders(self, community: CommunityRef, member: MemberRef, name: str,
                            on: bool, at: datetime) -> None:
        def unit(c: sqlite3.Connection) -> None:
            _touch_member(c, community.key, member.key, name, at)
            c.execute("UPDATE members SET reminders = ? WHERE community_id = ? AND member_id = ?",
                      (int(on), community.key, member.key))
        await self._write(unit)

    async def save_schedule(self, schedule: Schedule, at: datetime,
                            default_zone: str = "UTC") -> None:
        """Save the schedule; if the community's zone changes with it, its past asks move to
        their new local days in the same transaction."""
        s = schedule

        def unit(c: sqlite3.Connection) -> None:
            old = c.execute("SELECT timezone FROM schedules WHERE community_id = ?",
                            (s.community.key,)).fetchone()
            if (old[0] if old else default_zone) != s.timezone:
                _move_to_zone(c, s.community.key, ZoneInfo(s.timezone))
            c.execute(
                "INSERT INTO schedules (community_id, channel_id, timezone, local_time, days, "
                "recap_day, enabled, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?) "
                "ON CONFLICT (community_id) DO UPDATE SET channel_id = excluded.channel_id, "
                "timezone = excluded.timezone, local_time = excluded.local_time, "
                "days = excluded.days, recap_day = excluded.recap_day, enabled = 1, "
                "updated_at = excluded.updated_at",
                (s.community.key, s.channel_id, s.timezone, s.time, s.days, s.recap_day, ts(at)))
        await self._write(unit)

    async def disable_schedule(self, community: CommunityRef, at: datetime) -> bool:
        def unit(c: sqlite3.Connection) -> bool:
            return c.execute("UPDATE schedules SET enabled = 0, updated_at = ? "
                             "WHERE community_id = ? AND enabled = 1",
                             (ts(at), community.key)).rowcount > 0
        return await self._write(unit)

    async def get_schedule(self, community: CommunityRef) -> Schedule | None:
        def unit(c: sqlite3.Connection) -> Schedule | None:
            row = c.execute("SELECT * FROM schedules WHERE community_id = ?",
                            (community.key,)).fetchone()
            return _schedule(row) if row else None
        return await self._read(unit)

    async def list_schedules(self, platforms: Collection[str] | None = None,
                             changed_since: datetime | None = None) -> list[Schedule]:
        def unit(c: sqlite3.Connection) -> list[Schedule]:
            if changed_since is None:
                rows = c.execute("SELECT * FROM schedules WHERE enabled = 1 ORDER BY community_id")
            else:
                rows = c.execute("SELECT * FROM schedules WHERE updated_at > ? "
                                 "ORDER BY community_id", (ts(changed_since),))
            found = [_schedule(r) for r in rows]
            if platforms is not None:
                wanted = {str(p) for p in platforms}
                found = [s for s in found if s.community.platform.value in wanted]
            return found
        return await self._read(unit)

    async def activity(self, community: CommunityRef, start: datetime, end: datetime,
                       due_from: datetime, due_until: datetime) -> Activity:
        window = ActivityWindow(community, start, end, due_from, due_until)
        return (await self.activities([window]))[0]

    async def activities(self, windows: Sequence[ActivityWindow]) -> list[Activity]:
        return await self._read(lambda c: activities_unit(c, windows))

    # -- the outbox (storage/outbox.py) ----------------------------------------------------------

    async def enqueue_posts(self, posts: Sequence[NewPost], at: datetime) -> list[bool]:
        return await self._write(lambda c: outbox.enqueue(c, posts, at))

    async def enqueue_followups(self, now: datetime, deadline: datetime, max_age: timedelta,
                                platforms: Collection[str] | None = None,
                                communities: Collection[CommunityRef] | None = None
                                ) -> tuple[int, int]:
        return await self._write(lambda c: outbox.enqueue_followups(
            c, now, deadline, max_age, platforms, communities))

    async def claim_posts(self, owner: str, now: datetime, lease: timedelta, limit: int,
                          platforms: Collection[str] | None = None,
                          communities: Collection[CommunityRef] | None = None
                          ) -> tuple[list[OutboxItem], list[OutboxItem]]:
        return await self._write(lambda c: outbox.claim(c, owner, now, lease, limit, platforms,
                                                        communities))

    async def start_sending(self, owner: str, ids: Sequence[int], now: datetime,
                            lease: timedelta) -> set[int]:
        return await self._write(lambda c: outbox.start_sending(c, owner, ids, now, lease))

    async def finish_posts(self, owner: str, results: Sequence[PostResult]) -> None:
        await self._write(lambda c: outbox.finish(c, owner, results))

    async def renew_leases(self, owner: str, now: datetime, lease: timedelta) -> int:
        return await self._write(lambda c: outbox.renew(c, owner, now, lease))

    async def release_posts(self, owner: str) -> int:
        return await self._write(lambda c: outbox.release(c, owner))

    async def last_posts(self, community: CommunityRef) -> list[OutboxItem]:
        return await self._read(lambda c: outbox.latest(c, community,
                                                        (PostKind.CHECKIN, PostKind.RECAP)))


def _removed(j: Any) -> Removed | None:
    """What an earlier /undo answered, back from its stored JSON."""
    if not j:
        return None
    kind, ask, outcome = j
    return Removed(EntryKind(kind), ask, Outcome(outcome) if outcome else None)


def _schedule(row: sqlite3.Row) -> Schedule:
    return Schedule(community=_community(row["community_id"]), channel_id=row["channel_id"],
                    timezone=row["timezone"], time=row["local_time"], days=row["days"],
                    recap_day=row["recap_day"], enabled=bool(row["enabled"]),
                    updated_at=from_ts(row["updated_at"]))


@dataclass(frozen=True)
class Counts:
    """Where a leaderboard's counts live: a table, its count column, and the key columns that
    pick the rows (community, and period for member_periods)."""

    table: str
    column: str
    keys: tuple[tuple[str, str], ...]


def _board(c: sqlite3.Connection, src: Counts, caller: MemberRef, limit: int) -> Leaderboard:
    """Each query below reads one range of the count index (one range condition each, so
    SQLite can use it): the cut-off, the named top rows, the caller's rank, the total."""
    n = f"t.{src.column}"
    where = " AND ".join(f"t.{k} = ?" for k, _ in src.keys)
    args = tuple(v for _, v in src.keys)
    named = (f"SELECT t.member_id, m.display_name, {n} AS n FROM {src.table} t JOIN members m "
             f"ON m.community_id = t.community_id AND m.member_id = t.member_id WHERE {where}")

    # The limit-th largest count: only rows at or above it are named and sorted (ties broken
    # by name), however many members there are.
    cut = c.execute(f"SELECT {n} FROM {src.table} t WHERE {where} AND {n} > 0 "
                    f"ORDER BY {n} DESC LIMIT 1 OFFSET ?", (*args, limit - 1)).fetchone()
    top: list[LeaderRow] = []
    for place, r in enumerate(c.execute(
            f"{named} AND {n} >= ? ORDER BY {n} DESC, m.display_name, t.member_id LIMIT ?",
            (*args, cut[0] if cut else 1, limit)), start=1):
        # these are the very top rows, in order: a rank is the place of the first with that count
        rank = top[-1].rank if top and top[-1].count == r["n"] else place
        top.append(LeaderRow(rank, _member(r["member_id"]), r["display_name"], r["n"]))
    mine = next((r for r in top if r.member == caller), None)
    if mine is None:
        me = c.execute(f"{named} AND {n} > 0 AND t.member_id = ?", (*args, caller.key)).fetchone()
        if me is not None:  # ties share a rank: 1 + how many have more
            above = c.execute(f"SELECT COUNT(*) FROM {src.table} t WHERE {where} AND {n} > ?",
                              (*args, me["n"])).fetchone()[0]
            mine = LeaderRow(1 + above, caller, me["display_name"], me["n"])
    total = c.execute(f"SELECT COUNT(*) FROM {src.table} t WHERE {where} AND {n} > 0",
                      args).fetchone()[0]
    return Leaderboard(tuple(top), mine, total)


def _goal(c: sqlite3.Connection, community: str, member: str) -> Goal | None:
    row = c.execute("SELECT * FROM goals WHERE community_id = ? AND member_id = ?",
                    (community, member)).fetchone()
    if row is None:
        return None
    return Goal(row["target"], date.fromisoformat(row["by_date"]) if row["by_date"] else None,
                from_ts(row["set_at"]), from_ts(row["reached_at"]) if row["reached_at"] else None,
                _goal_progress(c, community, member, row["set_at"]))


def _member_info(row: sqlite3.Row) -> MemberInfo:
    return MemberInfo(_member(row["member_id"]), row["display_name"], row["timezone"],
                      bool(row["reminders"]))


def _run_batch(c: sqlite3.Connection, units: list[Unit]) -> list[tuple[bool, Any]]:
    """Run every unit in one transaction, each inside its own savepoint; commit once."""
    outcomes: list[tuple[bool, Any]] = []
    c.execute("BEGIN IMMEDIATE")
    try:
        for unit in units:
            c.execute("SAVEPOINT unit")
            try:
                value = unit(c)
            except Exception as err:  # this command fails alone; the others still commit
                c.execute("ROLLBACK TO unit")
                c.execute("RELEASE unit")
                outcomes.append((False, err))
            else:
                c.execute("RELEASE unit")
                outcomes.append((True, value))
        c.execute("COMMIT")
    except BaseException:
        if c.in_transaction:
            c.execute("ROLLBACK")
        raise
    return outcomes
