"""The core's Repository on SQLite through aiosqlite.

One long-lived connection (aiosqlite runs it on its own thread), WAL, ``synchronous=NORMAL``,
foreign keys on. Every command's writes form one unit, and writes that arrive together are
group-committed: the writer takes whatever is queued, runs each command inside its own
SAVEPOINT (so one failing command rolls back alone) and commits the batch once. A caller's
await returns only after its batch has committed, so every acknowledged command is durable.

Each unit runs as one plain function on the connection's thread: one thread hop per batch
instead of one per statement (see PLATFORM-NOTES on aiosqlite's per-await cost).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Attempt,
    Commitment,
    Leaderboard,
    LeaderRow,
    LogResult,
    MemberInfo,
    NewAttempt,
    NewCommitment,
    Removed,
    Resolution,
    Totals,
)
from storage import migrate

T = TypeVar("T")
Unit = Callable[[sqlite3.Connection], Any]
MAX_BATCH = 512
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
)


def ts(value: datetime) -> str:
    """A UTC timestamp as sortable text."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _member(key: str) -> MemberRef:
    return MemberRef.from_key(key)


def _request_key(community: CommunityRef, request_id: str | None) -> str | None:
    return f"{community.key}/{request_id}" if request_id else None


def _attempt(row: sqlite3.Row) -> Attempt:
    return Attempt(id=row["id"], member=_member(row["member_id"]), outcome=row["outcome"],
                   ask=row["ask"], created_at=from_ts(row["created_at"]),
                   private=bool(row["private"]), who=row["who"], area=row["area"],
                   fear=row["fear"], lesson=row["lesson"])


def _commitment(row: sqlite3.Row) -> Commitment:
    return Commitment(id=row["id"], member=_member(row["member_id"]), ask=row["ask"],
                      due_at=from_ts(row["due_at"]), created_at=from_ts(row["created_at"]),
                      status=row["status"])


def _totals(c: sqlite3.Connection, community: str, member: str) -> Totals:
    counts = dict(c.execute(
        "SELECT outcome, COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
        "GROUP BY outcome", (community, member)).fetchall())
    r, a, p = counts.get("rejected", 0), counts.get("accepted", 0), counts.get("pending", 0)
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
    return row[0]


def _insert_attempt(c: sqlite3.Connection, new: NewAttempt, commitment_id: int | None = None
                    ) -> LogResult:
    community, member = new.community.key, new.member.key
    seq = _touch_member(c, community, member, new.member_name, new.at,
                        1 if new.outcome == "rejected" else 0)
    cur = c.execute(
        "INSERT INTO attempts (community_id, member_id, outcome, ask, who, area, fear, lesson, "
        "private, created_at, commitment_id, request_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (community, member, new.outcome, new.ask, new.who, new.area, new.fear, new.lesson,
         int(new.private), ts(new.at), commitment_id,
         _request_key(new.community, new.request_id)))
    return LogResult(cur.lastrowid, False, _totals(c, community, member), seq)


class SqliteRepository:
    def __init__(self, db: aiosqlite.Connection):
        self._db = db
        self._queue: list[tuple[Unit, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    @classmethod
    async def open(cls, path: str | Path) -> SqliteRepository:
        """Open (creating if needed) and migrate the database at ``path``."""
        db = await aiosqlite.connect(str(path), isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            for pragma in PRAGMAS:
                await db.execute(pragma)
            repo = cls(db)
            await repo._in_thread(migrate.apply)
        except BaseException:
            await db.close()
            raise
        return repo

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.shield(self._writer)
        await self._db.close()

    # -- running units on the connection's thread --------------------------------------------

    async def _in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # aiosqlite's own hook for running a function on its connection thread.
        return await self._db._execute(fn, self._db._conn)

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._in_thread(fn)

    async def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._queue.append((fn, fut))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                units = [fn for fn, _ in batch]
                outcomes = await self._in_thread(lambda c, units=units: _run_batch(c, units))
            except BaseException as err:  # the commit itself failed: nothing in it landed
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(err if isinstance(err, Exception)
                                          else RuntimeError("write cancelled"))
                if not isinstance(err, Exception):
                    raise
                continue
            for (_, fut), (ok, value) in zip(batch, outcomes, strict=True):
                if fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value)

    # -- the Repository protocol ---------------------------------------------------------------

    async def log_attempt(self, new: NewAttempt) -> LogResult:
        def unit(c: sqlite3.Connection) -> LogResult:
            key = _request_key(new.community, new.request_id)
            if key is not None:
                row = c.execute("SELECT id, member_id FROM attempts WHERE request_id = ?",
                                (key,)).fetchone()
                if row is not None:
                    seq = c.execute("SELECT rejection_seq FROM members WHERE community_id = ? "
                                    "AND member_id = ?", (new.community.key, row["member_id"])
                                    ).fetchone()[0]
                    return LogResult(row["id"], True,
                                     _totals(c, new.community.key, row["member_id"]), seq)
            return _insert_attempt(c, new)
        return await self._write(unit)

    async def add_commitment(self, new: NewCommitment) -> tuple[Commitment, bool]:
        def unit(c: sqlite3.Connection) -> tuple[Commitment, bool]:
            key = _request_key(new.community, new.request_id)
            if key is not None:
                row = c.execute("SELECT * FROM commitments WHERE request_id = ?",
                                (key,)).fetchone()
                if row is not None:
                    return _commitment(row), True
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
        def unit(c: sqlite3.Connection):
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
                              outcome: str, at: datetime) -> Resolution:
        def unit(c: sqlite3.Connection) -> Resolution:
            row = c.execute("SELECT * FROM attempts WHERE id = ? AND community_id = ?",
                            (attempt_id, community.key)).fetchone()
            if row is None:
                return Resolution("not_found")
            if row["member_id"] != member.key:
                return Resolution("not_owner", ask=row["ask"])
            if row["outcome"] != "pending":
                return Resolution("already", ask=row["ask"])
            seq = _touch_member(c, community.key, member.key,
                                c.execute("SELECT display_name FROM members WHERE community_id "
                                          "= ? AND member_id = ?", (community.key, member.key)
                                          ).fetchone()[0], at,
                                1 if outcome == "rejected" else 0)
            c.execute("UPDATE attempts SET outcome = ?, resolved_at = ? WHERE id = ?",
                      (outcome, ts(at), attempt_id))
            result = LogResult(attempt_id, False, _totals(c, community.key, member.key), seq)
            return Resolution("done", result, row["ask"])
        return await self._write(unit)

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: str, at: datetime,
                                 request_id: str | None = None) -> Resolution:
        def unit(c: sqlite3.Connection) -> Resolution:
            row = c.execute("SELECT * FROM commitments WHERE id = ? AND community_id = ?",
                            (commitment_id, community.key)).fetchone()
            if row is None:
                return Resolution("not_found")
            if row["member_id"] != member.key:
                return Resolution("not_owner", ask=row["ask"])
            if row["status"] != "open":
                return Resolution("already", ask=row["ask"])
            status = "skipped" if outcome == "skipped" else "done"
            c.execute("UPDATE commitments SET status = ?, closed_at = ? WHERE id = ?",
                      (status, ts(at), commitment_id))
            if status == "skipped":
                return Resolution("done", None, row["ask"])
            name = c.execute("SELECT display_name FROM members WHERE community_id = ? AND "
                             "member_id = ?", (community.key, member.key)).fetchone()[0]
            result = _insert_attempt(c, NewAttempt(
                community=community, member=member, member_name=name, outcome=outcome,
                ask=row["ask"], at=at, request_id=request_id), commitment_id=commitment_id)
            return Resolution("done", result, row["ask"])
        return await self._write(unit)

    async def undo_last(self, community: CommunityRef, member: MemberRef) -> Removed | None:
        def unit(c: sqlite3.Connection) -> Removed | None:
            args = (community.key, member.key)
            a = c.execute("SELECT id, ask, outcome, created_at, commitment_id FROM attempts "
                          "WHERE community_id = ? AND member_id = ? "
                          "ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
            k = c.execute("SELECT id, ask, created_at FROM commitments WHERE community_id = ? "
                          "AND member_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                          args).fetchone()
            if a is None and k is None:
                return None
            if a is not None and (k is None or a["created_at"] >= k["created_at"]):
                c.execute("DELETE FROM attempts WHERE id = ?", (a["id"],))
                if a["commitment_id"] is not None:  # the promise it kept is open again
                    c.execute("UPDATE commitments SET status = 'open', closed_at = NULL "
                              "WHERE id = ?", (a["commitment_id"],))
                return Removed("attempt", a["ask"], a["outcome"])
            c.execute("DELETE FROM commitments WHERE id = ?", (k["id"],))
            return Removed("commitment", k["ask"], None)
        return await self._write(unit)

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        return await self._read(lambda c: _totals(c, community.key, member.key))

    async def leaderboard(self, community: CommunityRef, since: datetime | None, by: str,
                          caller: MemberRef, limit: int = 10) -> Leaderboard:
        where = ["community_id = ?"]
        args: list[object] = [community.key]
        if since is not None:
            where.append("created_at >= ?")
            args.append(ts(since))
        if by == "rejections":
            where.append("outcome = 'rejected'")
        ranked = (
            "WITH counts AS (SELECT member_id, COUNT(*) AS n FROM attempts WHERE "
            + " AND ".join(where) + " GROUP BY member_id), "
            "ranked AS (SELECT member_id, n, RANK() OVER (ORDER BY n DESC) AS r, "
            "COUNT(*) OVER () AS total FROM counts) ")

        def unit(c: sqlite3.Connection) -> Leaderboard:
            rows = c.execute(
                ranked + "SELECT ranked.member_id, display_name, n, r, total FROM ranked "
                "JOIN members m ON m.community_id = ? AND m.member_id = ranked.member_id "
                "ORDER BY r, display_name, ranked.member_id LIMIT ?",
                (*args, community.key, limit)).fetchall()
            top = tuple(LeaderRow(r["r"], _member(r["member_id"]), r["display_name"], r["n"])
                        for r in rows)
            mine = next((row for row in top if row.member == caller), None)
            if mine is None:
                me = c.execute(ranked + "SELECT n, r FROM ranked WHERE member_id = ?",
                               (*args, caller.key)).fetchone()
                if me is not None:
                    name = c.execute("SELECT display_name FROM members WHERE community_id = ? "
                                     "AND member_id = ?", (community.key, caller.key)
                                     ).fetchone()[0]
                    mine = LeaderRow(me["r"], caller, name, me["n"])
            return Leaderboard(top, mine, rows[0]["total"] if rows else 0)
        return await self._read(unit)

    async def toggle_cheer(self, community: CommunityRef, attempt_id: int, member: MemberRef,
                           member_name: str, at: datetime) -> tuple[str, int]:
        def unit(c: sqlite3.Connection) -> tuple[str, int]:
            row = c.execute("SELECT member_id FROM attempts WHERE id = ? AND community_id = ?",
                            (attempt_id, community.key)).fetchone()
            if row is None:
                return "not_found", 0
            if row["member_id"] == member.key:
                return "own", self._cheer_count(c, attempt_id)
            _touch_member(c, community.key, member.key, member_name, at)
            gone = c.execute("DELETE FROM cheers WHERE attempt_id = ? AND member_id = ?",
                             (attempt_id, member.key)).rowcount
            if not gone:
                c.execute("INSERT INTO cheers (attempt_id, community_id, member_id, created_at) "
                          "VALUES (?, ?, ?, ?)", (attempt_id, community.key, member.key, ts(at)))
            return ("removed" if gone else "added"), self._cheer_count(c, attempt_id)
        return await self._write(unit)

    @staticmethod
    def _cheer_count(c: sqlite3.Connection, attempt_id: int) -> int:
        return c.execute("SELECT COUNT(*) FROM cheers WHERE attempt_id = ?",
                         (attempt_id,)).fetchone()[0]

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
