"""Check-in schedules and what a scheduled post reads: a window's activity, set-based.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.ids import CommunityRef
from bot.models import (
    Activity,
    ActivityWindow,
    Attempt,
    Commitment,
    CommunityDare,
    Schedule,
)
from storage.counters import as_totals, move_to_zone, zone_lock
from storage.dares import dare_row
from storage.db import Row, Store, Tx
from storage.rows import attempt_row, commitment_row, schedule_row, ts

T = TypeVar("T")


WINDOWS_PER_STATEMENT = 1000  # 5 bound values each, far under SQLite's limit of 32,766


def activities_unit(c: Tx, windows: Sequence[ActivityWindow]) -> list[Activity]:
    """Many posts' reads, set-based: each statement joins a VALUES list of windows, so a
    minute's thousand check-ins cost four statements, not four thousand."""
    out: list[Activity] = []
    for start in range(0, len(windows), WINDOWS_PER_STATEMENT):
        out += activities_chunk(c, windows[start:start + WINDOWS_PER_STATEMENT])
    return out


def values_list(rows: Sequence[tuple[Any, ...]]) -> tuple[str, list[Any]]:
    row = "(" + ",".join("?" * len(rows[0])) + ")"
    return ",".join([row] * len(rows)), [v for values in rows for v in values]


def activities_chunk(c: Tx, windows: Sequence[ActivityWindow]) -> list[Activity]:
    if not windows:
        return []
    stamps: dict[datetime, str] = {}  # a minute's windows share a few dozen distinct bounds

    def stamp(at: datetime) -> str:
        text = stamps.get(at)
        if text is None:
            text = stamps[at] = ts(at)
        return text

    keys = [w.community.key for w in windows]
    marks, args = values_list([(str(i), keys[i], stamp(w.start), stamp(w.end))
                           for i, w in enumerate(windows)])
    attempts: list[list[Attempt]] = [[] for _ in windows]
    for r in c.execute(
            f"WITH w(i, community_id, lo, hi) AS (VALUES {marks}) SELECT w.i, a.* FROM w "
            "JOIN attempts a ON a.community_id = w.community_id AND a.created_at >= w.lo "
            "AND a.created_at < w.hi ORDER BY w.i, a.created_at, a.id", args):
        attempts[int(r["i"])].append(attempt_row(r))
    busy = [i for i in range(len(windows)) if attempts[i]]
    prior: dict[int, dict[str, dict[str, int]]] = {i: {} for i in busy}
    active = [(str(i), keys[i], member, stamp(windows[i].start)) for i in busy
              for member in {a.member.key for a in attempts[i]}]
    for chunk in range(0, len(active), 2000):
        marks, args = values_list(active[chunk:chunk + 2000])
        for r in c.execute(
                f"WITH w(i, community_id, member_id, lo) AS (VALUES {marks}) "
                "SELECT w.i, a.member_id, a.outcome, COUNT(*) AS n FROM w JOIN attempts a "
                "ON a.community_id = w.community_id AND a.member_id = w.member_id "
                "AND a.created_at < w.lo GROUP BY w.i, a.member_id, a.outcome", args):
            prior[int(r["i"])].setdefault(r["member_id"], {})[r["outcome"]] = r["n"]
    marks, args = values_list([(str(i), keys[i], stamp(w.due_from), stamp(w.due_until))
                           for i, w in enumerate(windows) if w.due_from < w.due_until] or
                          [("-1", "", "", "")])
    commitments: list[list[Commitment]] = [[] for _ in windows]
    for r in c.execute(
            f"WITH w(i, community_id, lo, hi) AS (VALUES {marks}) SELECT w.i, k.* FROM w "
            "JOIN commitments k ON k.community_id = w.community_id AND k.status = 'open' "
            "AND k.due_at >= w.lo AND k.due_at < w.hi ORDER BY w.i, k.due_at, k.id", args):
        commitments[int(r["i"])].append(commitment_row(r))
    named = [i for i in range(len(windows)) if attempts[i] or commitments[i]]
    wanted = sorted({(keys[i], m.key) for i in named
                     for m in [a.member for a in attempts[i]] + [k.member for k in commitments[i]]})
    names: dict[tuple[str, str], str] = {}
    for chunk in range(0, len(wanted), 5000):
        marks, args = values_list(wanted[chunk:chunk + 5000])
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
                          {m: as_totals(prior[i].get(m, {}))
                           for m in {a.member.key for a in attempts[i]}},
                          tuple(commitments[i]))
    return with_dares(c, keys, out)


def with_dares(c: Tx, keys: Sequence[str], out: list[Activity]) -> list[Activity]:
    """Each activity with its community's own dares, where its check-ins carry today's dare."""
    marks, args = values_list([(str(i), key) for i, key in enumerate(keys)])
    dares: dict[int, list[CommunityDare]] = {}
    for r in c.execute(
            f"WITH w(i, community_id) AS (VALUES {marks}) SELECT w.i, d.number, d.text, "
            "d.area, d.level FROM w JOIN schedules s ON s.community_id = w.community_id "
            "AND s.dare = 1 JOIN dares d ON d.community_id = w.community_id "
            "ORDER BY w.i, d.number", args):
        dares.setdefault(int(r["i"]), []).append(dare_row(r))
    for i, own in dares.items():
        out[i] = replace(out[i], dares=tuple(own))
    return out


def named_schedule(row: Row) -> Schedule:
    """A schedule row, with the community's name (0011) beside the rest."""
    schedule, name = schedule_row(row), row["community_name"]
    schedule = replace(schedule, dare=True) if row["dare"] else schedule  # 0013
    return replace(schedule, community_name=name) if name is not None else schedule


class ScheduleStore(Store):
    """Schedules and activity."""

    async def save_schedule(self, schedule: Schedule, at: datetime,
                            default_zone: str = "UTC") -> None:
        """Save the schedule; if the community's zone changes with it, its past asks move to
        their new local days in the same transaction."""
        s = schedule

        def unit(c: Tx) -> None:
            c.lock(zone_lock(s.community.key))  # no ask is logged under the old zone meanwhile
            old = c.execute("SELECT timezone FROM schedules WHERE community_id = ?",
                            (s.community.key,)).fetchone()
            if (old[0] if old else default_zone) != s.timezone:
                move_to_zone(c, s.community.key, ZoneInfo(s.timezone))
            c.execute(
                "INSERT INTO schedules (community_id, channel_id, timezone, local_time, days, "
                "recap_day, enabled, updated_at, community_name, dare) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) "
                "ON CONFLICT (community_id) DO UPDATE SET channel_id = excluded.channel_id, "
                "timezone = excluded.timezone, local_time = excluded.local_time, "
                "days = excluded.days, recap_day = excluded.recap_day, enabled = 1, "
                "updated_at = excluded.updated_at, community_name = excluded.community_name, "
                "dare = excluded.dare",
                (s.community.key, s.channel_id, s.timezone, s.time, s.days, s.recap_day, ts(at),
                 s.community_name, 1 if s.dare else 0))
        await self._write(unit)

    async def disable_schedule(self, community: CommunityRef, at: datetime) -> bool:
        def unit(c: Tx) -> bool:
            return c.execute("UPDATE schedules SET enabled = 0, updated_at = ? "
                             "WHERE community_id = ? AND enabled = 1",
                             (ts(at), community.key)).rowcount > 0
        return await self._write(unit)

    async def get_schedule(self, community: CommunityRef) -> Schedule | None:
        def unit(c: Tx) -> Schedule | None:
            row = c.execute("SELECT * FROM schedules WHERE community_id = ?",
                            (community.key,)).fetchone()
            return named_schedule(row) if row else None
        return await self._read(unit)

    async def list_schedules(self, platforms: Collection[str] | None = None,
                             changed_since: datetime | None = None) -> list[Schedule]:
        def unit(c: Tx) -> list[Schedule]:
            if changed_since is None:
                rows = c.execute("SELECT * FROM schedules WHERE enabled = 1 ORDER BY community_id")
            else:
                rows = c.execute("SELECT * FROM schedules WHERE updated_at > ? "
                                 "ORDER BY community_id", (ts(changed_since),))
            found = [named_schedule(r) for r in rows]
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
