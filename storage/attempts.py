"""Attempts: logging one (once per platform request), resolving a pending one, undo, cheers,
goals and the leaderboard.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    CheerStatus,
    DayCounts,
    EntryKind,
    Goal,
    Leaderboard,
    LogResult,
    NewAttempt,
    Outcome,
    Period,
    RankBy,
    Removed,
    Resolution,
    ResolutionStatus,
    Totals,
)
from storage.counters import (
    Counts,
    active_days,
    add_area,
    add_day,
    attempts_between,
    board,
    bump,
    celebrated,
    community_zone,
    period_key,
    recount_periods,
    totals,
    touch_member,
)
from storage.db import Row, Store, Tx
from storage.rows import from_ts, ts

T = TypeVar("T")


def request_key(community: CommunityRef, request_id: str | None) -> str | None:
    return f"{community.key}/{request_id}" if request_id else None


def member_lock(community: str, member: str) -> str:
    """The lock a member's writes that read before they change take turns under (PostgreSQL):
    the hourly limit's count; an edit, a resolve or an undo reading the entry it moves the
    counts of, so two of them never move them twice."""
    return f"member:{community}/{member}"


def over_limit(c: Tx, community: str, member: str, at: datetime,
                limit: int | None) -> bool:
    """Fair play: has the member already made ``limit`` entries in the hour before ``at``?
    From here the member's entries take turns (on PostgreSQL, under the member's lock), so
    entries arriving together can't all count the same rows and all squeeze under it."""
    if limit is None:
        return False
    c.lock(member_lock(community, member))
    since = ts(at - timedelta(hours=1))
    args = (community, member, since)
    n = c.execute("SELECT (SELECT COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
                  "AND created_at > ?) + (SELECT COUNT(*) FROM commitments WHERE community_id = ? "
                  "AND member_id = ? AND created_at > ?)", args + args).fetchone()[0]
    return int(n) >= limit


def insert_attempt(c: Tx, new: NewAttempt, commitment_id: int | None = None
                   ) -> LogResult:
    community, member = new.community.key, new.member.key
    if over_limit(c, community, member, new.at, new.max_per_hour):
        return LogResult(0, False, totals(c, community, member), 0, limited=True)
    rejected = 1 if new.outcome == Outcome.REJECTED else 0
    # The counts its celebrations have shown so far come with it (before this one: ``bump``
    # moves them).
    seq, own, shown = touch_member(c, community, member, new.member_name, new.at, rejected)
    zone = community_zone(c, community, new.default_zone)
    day = new.at.astimezone(ZoneInfo(zone)).date().isoformat()
    # The member's own day: in their zone, else the community's (as the core reckons it).
    mine = new.at.astimezone(ZoneInfo(own or zone)).date()
    attempt_id: int = c.execute(
        "INSERT INTO attempts (community_id, member_id, outcome, ask, who, area, fear, lesson, "
        "private, created_at, commitment_id, request_id, local_day, member_day, channel_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (community, member, new.outcome, new.ask, new.who, new.area, new.fear, new.lesson,
         int(new.private), ts(new.at), commitment_id,
         request_key(new.community, new.request_id), day, mine.isoformat(),
         new.channel_id)).fetchone()[0]
    counted = bump(c, community, member, day, 1, {new.outcome: 1})
    today = add_day(c, community, member, mine.isoformat(), 1)
    add_area(c, community, member, new.area, 1)
    goal = check_goal(c, community, member, new.at) if rejected else None
    week = attempts_between(c, community, member, mine - timedelta(days=mine.weekday()), mine)
    days = (active_days(c, community, member, new.history_since.astimezone(
        ZoneInfo(own or zone)).date()) if today == 1 and new.history_since else ())
    return LogResult(attempt_id, False, counted, seq, goal_reached=goal,
                     today_count=today, week_count=week, days=days, day=mine,
                     celebrated=shown)


def drop_news(c: Tx, community: str, attempt_id: int) -> None:
    """Unsent news and edits of an attempt about to go (undone): a later attempt may take a
    deleted id again on SQLite, and must not be told as that news, nor shown as that edit.
    (``/forget-me`` drops a member's all at once: ``storage.privacy``.)"""
    unsent = "DELETE FROM outbox WHERE community_id = ? AND kind = ? AND state <> 'sent' AND "
    c.execute(unsent + "subject = ?", (community, "news", str(attempt_id)))
    # Its edits' subjects start "<id>@": the range of them, in the key's index.
    c.execute(unsent + "subject >= ? AND subject < ?",
              (community, "edit", f"{attempt_id}@", f"{attempt_id}A"))


def goal_progress(c: Tx, community: str, member: str, counts_from: str) -> int:
    return int(c.execute("SELECT COUNT(*) FROM attempts WHERE community_id = ? AND member_id = ? "
                         "AND outcome = 'rejected' AND created_at >= ?",
                         (community, member, counts_from)).fetchone()[0])


def check_goal(c: Tx, community: str, member: str, at: datetime) -> int | None:
    """Mark the member's goal reached (once) if this rejection got there; returns its target."""
    goal = c.execute("SELECT target, counts_from FROM goals WHERE community_id = ? "
                     "AND member_id = ? AND reached_at IS NULL", (community, member)).fetchone()
    if goal is None or goal_progress(c, community, member, goal["counts_from"]) < goal["target"]:
        return None
    c.execute("UPDATE goals SET reached_at = ? WHERE community_id = ? AND member_id = ?",
              (ts(at), community, member))
    return int(goal["target"])


def reopen_goal(c: Tx, community: str, member: str) -> None:
    """A reached goal whose no's were taken back below its target (an /undo, an /edit) is open
    again, its start kept: reached again later, it is celebrated again."""
    goal = c.execute("SELECT target, counts_from FROM goals WHERE community_id = ? "
                     "AND member_id = ? AND reached_at IS NOT NULL", (community, member)).fetchone()
    if goal is not None and goal_progress(c, community, member, goal["counts_from"]) < goal["target"]:
        c.execute("UPDATE goals SET reached_at = NULL WHERE community_id = ? AND member_id = ?",
                  (community, member))


def goal_of(c: Tx, community: str, member: str) -> Goal | None:
    row = c.execute("SELECT * FROM goals WHERE community_id = ? AND member_id = ?",
                    (community, member)).fetchone()
    if row is None:
        return None
    return Goal(row["target"], date.fromisoformat(row["by_date"]) if row["by_date"] else None,
                from_ts(row["set_at"]), from_ts(row["reached_at"]) if row["reached_at"] else None,
                goal_progress(c, community, member, row["counts_from"]),
                from_ts(row["counts_from"]))


def once(c: Tx, community: CommunityRef, member: MemberRef, kind: str,
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


def owned_open_item(c: Tx, table: str, item_id: int, community: CommunityRef,
                     member: MemberRef, is_open: Callable[[Row], bool]
                     ) -> Row | Resolution:
    """The row of an attempt or commitment being resolved, or why it can't be."""
    row: Row | None = c.execute(f"SELECT * FROM {table} WHERE id = ? AND community_id = ?",
                                        (item_id, community.key)).fetchone()
    if row is None:
        return Resolution(ResolutionStatus.NOT_FOUND)
    if row["member_id"] != member.key:
        return Resolution(ResolutionStatus.NOT_OWNER, ask=row["ask"])
    if not is_open(row):
        return Resolution(ResolutionStatus.ALREADY, ask=row["ask"])
    return row


def log_attempt_unit(c: Tx, new: NewAttempt) -> LogResult:
    """Everything one logged attempt writes and reads, as one unit (the benchmark's baseline
    runs this same function straight on sqlite3)."""
    key = request_key(new.community, new.request_id)
    if key is not None:
        row = c.execute("SELECT id, member_id FROM attempts WHERE request_id = ?", (key,)).fetchone()
        if row is not None:
            seq = c.execute("SELECT rejection_seq FROM members WHERE community_id = ? "
                            "AND member_id = ?", (new.community.key, row["member_id"])).fetchone()[0]
            return LogResult(row["id"], True, totals(c, new.community.key, row["member_id"]), seq)
    return insert_attempt(c, new)


def removed_from_json(j: Any) -> Removed | None:
    """What an earlier /undo answered, back from its stored JSON."""
    if not j:
        return None
    kind, ask, outcome = j
    return Removed(EntryKind(kind), ask, Outcome(outcome) if outcome else None)


class AttemptStore(Store):
    """The attempts half of the repository."""

    async def log_attempt(self, new: NewAttempt) -> LogResult:
        return await self._write(lambda c: log_attempt_unit(c, new))

    async def resolve_attempt(self, community: CommunityRef, member: MemberRef, attempt_id: int,
                              outcome: Outcome, at: datetime,
                              pressed_in: str | None = None) -> Resolution:
        def unit(c: Tx) -> Resolution:
            c.lock(member_lock(community.key, member.key))
            row = owned_open_item(c, "attempts", attempt_id, community, member,
                                   lambda r: r["outcome"] == Outcome.PENDING)
            if isinstance(row, Resolution):
                return row
            seq = c.execute("UPDATE members SET rejection_seq = rejection_seq + ? WHERE "
                            "community_id = ? AND member_id = ? RETURNING rejection_seq",
                            (1 if outcome == Outcome.REJECTED else 0, community.key, member.key)
                            ).fetchone()[0]
            # Heard back in another channel than it was logged in: its celebration goes there,
            # and an /edit must reach it too.
            elsewhere = pressed_in if not row["private"] and pressed_in != row["channel_id"] \
                else None
            c.execute("UPDATE attempts SET outcome = ?, resolved_at = ?, "
                      "resolved_in = COALESCE(?, resolved_in) WHERE id = ?",
                      (outcome, ts(at), elsewhere, attempt_id))
            moved: Counter[str] = Counter({Outcome.PENDING: -1})
            moved[outcome] += 1  # still pending: no change at all
            shown = celebrated(c, community.key, member.key)
            counted = bump(c, community.key, member.key, row["local_day"], 0, moved)
            goal = None
            if outcome == Outcome.REJECTED:
                goal = check_goal(c, community.key, member.key, at)
            result = LogResult(attempt_id, False, counted, seq, goal_reached=goal,
                               celebrated=shown)
            return Resolution(ResolutionStatus.DONE, result, row["ask"], bool(row["private"]))
        return await self._write(unit)

    async def undo_last(self, community: CommunityRef, member: MemberRef, at: datetime,
                        request_id: str | None = None) -> Removed | None:
        def remove(c: Tx) -> Removed | None:
            c.lock(member_lock(community.key, member.key))
            args = (community.key, member.key)
            a = c.execute("SELECT id, ask, outcome, area, created_at, commitment_id, local_day, "
                          "member_day FROM attempts WHERE community_id = ? AND member_id = ? "
                          "ORDER BY created_at DESC, id DESC LIMIT 1", args).fetchone()
            k = c.execute("SELECT id, ask, created_at FROM commitments WHERE community_id = ? "
                          "AND member_id = ? ORDER BY created_at DESC, id DESC LIMIT 1",
                          args).fetchone()
            if a is None and k is None:
                return None
            if a is not None and (k is None or a["created_at"] >= k["created_at"]):
                drop_news(c, community.key, a["id"])
                c.execute("DELETE FROM attempts WHERE id = ?", (a["id"],))
                bump(c, community.key, member.key, a["local_day"], -1, {a["outcome"]: -1})
                add_day(c, community.key, member.key, a["member_day"] or a["local_day"], -1)
                add_area(c, community.key, member.key, a["area"], -1)
                if a["outcome"] == Outcome.REJECTED:
                    reopen_goal(c, community.key, member.key)
                if a["commitment_id"] is not None:  # the promise it kept is open again
                    c.execute("UPDATE commitments SET status = 'open', closed_at = NULL "
                              "WHERE id = ?", (a["commitment_id"],))
                return Removed(EntryKind.ATTEMPT, a["ask"], Outcome(a["outcome"]))
            c.execute("DELETE FROM commitments WHERE id = ?", (k["id"],))
            return Removed(EntryKind.COMMITMENT, k["ask"], None)

        def unit(c: Tx) -> Removed | None:
            return once(c, community, member, "undo", request_id, at, lambda: remove(c),
                         lambda r: None if r is None else [r.kind, r.ask, r.outcome], removed_from_json)
        return await self._write(unit)

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        return await self._read(lambda c: totals(c, community.key, member.key))

    async def limit_lifts_at(self, community: CommunityRef, member: MemberRef, at: datetime,
                             limit: int) -> datetime:
        """When the member's entries in the hour before it fall below ``limit`` again: an hour
        after the newest ``limit``-th entry of that hour (``at`` when they already are)."""
        def unit(c: Tx) -> datetime:
            args = (community.key, member.key, ts(at - timedelta(hours=1)))
            row = c.execute("SELECT created_at FROM (SELECT created_at FROM attempts WHERE "
                            "community_id = ? AND member_id = ? AND created_at > ? UNION ALL "
                            "SELECT created_at FROM commitments WHERE community_id = ? AND "
                            "member_id = ? AND created_at > ?) t ORDER BY created_at DESC "
                            "LIMIT 1 OFFSET ?", args + args + (limit - 1,)).fetchone()
            return at if row is None else from_ts(row[0]) + timedelta(hours=1)
        return await self._read(unit)

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
        return await self._read(lambda c: board(c, source, caller, limit))

    async def toggle_cheer(self, community: CommunityRef, attempt_id: int, member: MemberRef,
                           member_name: str, at: datetime, request_id: str | None = None
                           ) -> tuple[CheerStatus, int]:
        def unit(c: Tx) -> tuple[CheerStatus, int]:
            return once(c, community, member, "cheer", request_id, at, lambda: toggle(c),
                         list, lambda j: (CheerStatus(j[0]), int(j[1])))

        def toggle(c: Tx) -> tuple[CheerStatus, int]:
            row = c.execute("SELECT member_id FROM attempts WHERE id = ? AND community_id = ?",
                            (attempt_id, community.key)).fetchone()
            if row is None:
                return CheerStatus.NOT_FOUND, 0
            if row["member_id"] == member.key:
                return CheerStatus.OWN, self._cheer_count(c, attempt_id)
            touch_member(c, community.key, member.key, member_name, at)
            gone = c.execute("DELETE FROM cheers WHERE attempt_id = ? AND member_id = ?",
                             (attempt_id, member.key)).rowcount
            if not gone:
                c.execute("INSERT INTO cheers (attempt_id, community_id, member_id, created_at, "
                          "owner_id) VALUES (?, ?, ?, ?, ?)",
                          (attempt_id, community.key, member.key, ts(at), row["member_id"]))
            return (CheerStatus.REMOVED if gone else CheerStatus.ADDED), self._cheer_count(c, attempt_id)
        return await self._write(unit)

    @staticmethod
    def _cheer_count(c: Tx, attempt_id: int) -> int:
        return int(c.execute("SELECT COUNT(*) FROM cheers WHERE attempt_id = ?",
                             (attempt_id,)).fetchone()[0])

    async def active_days(self, community: CommunityRef, member: MemberRef,
                          since: date) -> DayCounts:
        return await self._read(lambda c: active_days(c, community.key, member.key, since))

    async def set_goal(self, community: CommunityRef, member: MemberRef, name: str, target: int,
                       by_date: date | None, at: datetime, counts_from: datetime | None = None,
                       ) -> Goal:
        """Set or change the goal, counting no's from ``counts_from``. Without one, changing an
        open goal keeps what it counts from; a new goal, or one after a reached goal, counts
        from ``at``."""
        def unit(c: Tx) -> Goal:
            touch_member(c, community.key, member.key, name, at)
            keep = "goals.reached_at IS NULL" if counts_from is None else "FALSE"
            c.execute("INSERT INTO goals (community_id, member_id, target, by_date, set_at, "
                      "counts_from) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (community_id, "
                      "member_id) DO UPDATE SET target = excluded.target, "
                      "by_date = excluded.by_date, "
                      "set_at = CASE WHEN goals.reached_at IS NULL THEN goals.set_at "
                      "ELSE excluded.set_at END, "
                      f"counts_from = CASE WHEN {keep} THEN goals.counts_from "
                      "ELSE excluded.counts_from END, reached_at = NULL",
                      (community.key, member.key, target,
                       by_date.isoformat() if by_date else None, ts(at),
                       ts(counts_from or at)))
            check_goal(c, community.key, member.key, at)  # a lower target may be met already
            goal = goal_of(c, community.key, member.key)
            if goal is None:  # never: it was just written
                raise RuntimeError("the goal was not saved")
            return goal
        return await self._write(unit)

    async def goal(self, community: CommunityRef, member: MemberRef) -> Goal | None:
        return await self._read(lambda c: goal_of(c, community.key, member.key))

    async def clear_goal(self, community: CommunityRef, member: MemberRef) -> bool:
        def unit(c: Tx) -> bool:
            return c.execute("DELETE FROM goals WHERE community_id = ? AND member_id = ?",
                             (community.key, member.key)).rowcount > 0
        return await self._write(unit)

    async def recount_periods(self, community: CommunityRef) -> None:
        await self._write(lambda c: recount_periods(c, community.key))
