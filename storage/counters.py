"""Counters kept in step with the attempts: each member's totals by outcome, the all-time and
per-week and per-month aggregates the leaderboard reads, each attempt's community-local day,
and each member's own days and areas (``member_days``, ``member_areas``), so that what a
member's command reads never grows with their history.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from bot.ids import MemberRef
from bot.models import (
    DayCounts,
    Leaderboard,
    LeaderRow,
    Outcome,
    Period,
    Totals,
)
from storage.db import Tx
from storage.rows import from_ts, member_ref, ts

T = TypeVar("T")


def as_totals(counts: dict[str, int]) -> Totals:
    """Totals from counts by outcome (the outcomes' stored text)."""
    r, a, p = (counts.get(Outcome.REJECTED, 0), counts.get(Outcome.ACCEPTED, 0),
               counts.get(Outcome.PENDING, 0))
    return Totals(attempts=r + a + p, rejected=r, accepted=a, pending=p)


def totals(c: Tx, community: str, member: str) -> Totals:
    """The member's maintained counts (``bump`` keeps them)."""
    row = c.execute("SELECT attempts_count, rejections_count, accepted_count, pending_count "
                    "FROM members WHERE community_id = ? AND member_id = ?",
                    (community, member)).fetchone()
    if row is None:
        return Totals()
    return Totals(attempts=row[0], rejected=row[1], accepted=row[2], pending=row[3])


def celebrated(c: Tx, community: str, member: str) -> Totals:
    """The highest counts the member's celebrations have shown (``bump`` keeps them)."""
    row = c.execute("SELECT best_attempts, best_rejections, best_accepted FROM members "
                    "WHERE community_id = ? AND member_id = ?", (community, member)).fetchone()
    if row is None:
        return Totals()
    return Totals(attempts=row[0], rejected=row[1], accepted=row[2])


class Touched(NamedTuple):
    seq: int  # the member's rejection sequence, ``rejections`` added
    zone: str | None  # their own time zone, if they set one
    celebrated: Totals  # the highest counts their celebrations have shown so far


def touch_member(c: Tx, community: str, member: str, name: str, at: datetime,
                  rejections: int = 0) -> Touched:
    """Create or rename the member, adding ``rejections`` to their sequence; what a new
    entry needs of their row, read in the same statement."""
    row = c.execute(
        "INSERT INTO members (community_id, member_id, display_name, created_at, rejection_seq) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id) DO UPDATE SET "
        "display_name = excluded.display_name, "
        "rejection_seq = members.rejection_seq + excluded.rejection_seq "
        "RETURNING rejection_seq, timezone, best_attempts, best_rejections, best_accepted",
        (community, member, name, ts(at), rejections)).fetchone()
    return Touched(int(row[0]), row[1],
                   Totals(attempts=row[2], rejected=row[3], accepted=row[4]))


def zone_lock(community: str) -> str:
    """The lock a community's days and period counts are written under: shared by every write
    that adds to them, exclusive for one that moves them all (a new time zone, a recount)."""
    return f"days:{community}"


def bump(c: Tx, community: str, member: str, day: str, attempts: int,
         outcomes: Mapping[str, int]) -> Totals:
    """Keep the member's totals and the leaderboard aggregates in step with the attempts
    table: ``attempts`` more (or fewer) of them, and ``outcomes`` the change per outcome.
    Returns the member's totals as they are now."""
    c.lock(zone_lock(community), shared=True)
    rejections, accepted = outcomes.get(Outcome.REJECTED, 0), outcomes.get(Outcome.ACCEPTED, 0)
    # best_*: the highest counts celebrated (a count that goes up past its best is celebrated
    # now). Every expression reads the row as it was.
    now = c.execute(
        "UPDATE members SET attempts_count = attempts_count + ?, "
        "rejections_count = rejections_count + ?, accepted_count = accepted_count + ?, "
        "pending_count = pending_count + ?, "
        + ", ".join(f"best_{k} = CASE WHEN {k}_count + ? > best_{k} THEN {k}_count + ? "
                    f"ELSE best_{k} END" for k in ("attempts", "rejections", "accepted"))
        + " WHERE community_id = ? AND member_id = ? "
        "RETURNING attempts_count, rejections_count, accepted_count, pending_count",
        (attempts, rejections, accepted, outcomes.get(Outcome.PENDING, 0),
         attempts, attempts, rejections, rejections, accepted, accepted,
         community, member)).fetchone()
    totals = Totals() if now is None else Totals(attempts=now[0], rejected=now[1],
                                                 accepted=now[2], pending=now[3])
    if not attempts and not rejections:
        return totals  # a pending ask turned into a yes: the boards count neither
    local = date.fromisoformat(day)
    c.executemany(
        "INSERT INTO member_periods (community_id, period, member_id, attempts, rejections) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (community_id, period, member_id) DO UPDATE SET "
        "attempts = member_periods.attempts + excluded.attempts, "
        "rejections = member_periods.rejections + excluded.rejections",
        [(community, key, member, attempts, rejections)
         for key in (period_key(Period.WEEK, local), period_key(Period.MONTH, local))])
    return totals


def community_zone(c: Tx, community: str, default_zone: str) -> str:
    """The community's check-in zone, or ``default_zone``. Read inside the writing
    transaction, so a zone change can't slip in between."""
    c.lock(zone_lock(community), shared=True)
    row = c.execute("SELECT timezone FROM schedules WHERE community_id = ?", (community,)).fetchone()
    return str(row[0]) if row else default_zone


def _add(c: Tx, table: str, column: str, community: str, member: str, key: str,
         attempts: int) -> int:
    """``attempts`` more (or fewer) in the member's row of ``table`` for ``key``; how many it
    holds now (a row that falls to none is gone)."""
    n = int(c.execute(
        f"INSERT INTO {table} (community_id, member_id, {column}, attempts) VALUES (?, ?, ?, ?) "
        f"ON CONFLICT (community_id, member_id, {column}) DO UPDATE SET "
        f"attempts = {table}.attempts + excluded.attempts RETURNING attempts",
        (community, member, key, attempts)).fetchone()[0])
    if n <= 0:
        c.execute(f"DELETE FROM {table} WHERE community_id = ? AND member_id = ? "
                  f"AND {column} = ?", (community, member, key))
    return n


def add_day(c: Tx, community: str, member: str, day: str, attempts: int) -> int:
    """``attempts`` more (or fewer) on one of the member's days; how many that day has now."""
    return _add(c, "member_days", "day", community, member, day, attempts)


def add_area(c: Tx, community: str, member: str, area: str | None, attempts: int) -> None:
    if area is not None:
        _add(c, "member_areas", "area", community, member, area, attempts)


def active_days(c: Tx, community: str, member: str, since: date | None = None) -> DayCounts:
    """The member's days with an attempt (on or after ``since``), oldest first, each with its
    number of attempts."""
    return tuple((date.fromisoformat(r[0]), int(r[1])) for r in c.execute(
        "SELECT day, attempts FROM member_days WHERE community_id = ? AND member_id = ? "
        "AND day >= ? ORDER BY day", (community, member, since.isoformat() if since else "")))


def attempts_between(c: Tx, community: str, member: str, first: date, last: date) -> int:
    """The member's attempts on their days from ``first`` to ``last``."""
    return int(c.execute(
        "SELECT COALESCE(SUM(attempts), 0) FROM member_days WHERE community_id = ? "
        "AND member_id = ? AND day >= ? AND day <= ?",
        (community, member, first.isoformat(), last.isoformat())).fetchone()[0])


def move_to_zone(c: Tx, community: str, zone: ZoneInfo) -> None:
    """The community's days now end at another midnight: put every attempt on its local day
    there and recount the week and month boards."""
    c.lock(zone_lock(community))
    c.executemany("UPDATE attempts SET local_day = ? WHERE id = ?",
                  [(from_ts(at).astimezone(zone).date().isoformat(), ident) for ident, at in
                   c.execute("SELECT id, created_at FROM attempts WHERE community_id = ?",
                             (community,)).fetchall()])
    recount_periods(c, community)


def recount_periods(c: Tx, community: str) -> None:
    """Rebuild a community's week and month counts from its attempts' local days."""
    c.lock(zone_lock(community))
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


@dataclass(frozen=True)
class Counts:
    """Where a leaderboard's counts live: a table, its count column, and the key columns that
    pick the rows (community, and period for member_periods)."""

    table: str
    column: str
    keys: tuple[tuple[str, str], ...]


def board(c: Tx, src: Counts, caller: MemberRef, limit: int) -> Leaderboard:
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
        top.append(LeaderRow(rank, member_ref(r["member_id"]), r["display_name"], r["n"]))
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
