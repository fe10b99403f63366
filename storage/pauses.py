"""Breaks (/pause): a member's paused days, read by the streaks, /stats and the follow-ups.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.ids import CommunityRef, MemberRef
from bot.models import Pause
from storage.counters import touch_member
from storage.db import Row, Store, Tx
from storage.rows import from_ts, ts

# A member's break under way at a moment (two ``?``: the moment, twice), for SQL that reads
# their promises as ``k``: the follow-ups wait while one is.
PAUSED_NOW = ("EXISTS (SELECT 1 FROM pauses p WHERE p.community_id = k.community_id AND "
              "p.member_id = k.member_id AND p.started_at <= ? AND p.ends_at > ?)")
# When the break a promise fell due in ended (NULL: it fell due outside any): its follow-up
# counts as due from then.
RESUMED_AT = ("(SELECT MAX(p.ends_at) FROM pauses p WHERE p.community_id = k.community_id "
              "AND p.member_id = k.member_id AND p.started_at <= k.due_at "
              "AND p.ends_at > k.due_at)")


def pause_row(row: Row) -> Pause:
    return Pause(date.fromisoformat(row["first_day"]), date.fromisoformat(row["last_day"]),
                 from_ts(row["started_at"]), from_ts(row["ends_at"]), row["reason"])


def current_row(c: Tx, community: str, member: str, at: datetime) -> Row | None:
    row: Row | None = c.execute(
        "SELECT * FROM pauses WHERE community_id = ? AND member_id = ? AND started_at <= ? "
        "AND ends_at > ? ORDER BY started_at DESC LIMIT 1",
        (community, member, ts(at), ts(at))).fetchone()
    return row


class PauseStore(Store):
    """Breaks: started, changed, ended, read."""

    async def set_pause(self, community: CommunityRef, member: MemberRef, name: str,
                        pause: Pause) -> Pause:
        def unit(c: Tx) -> Pause:
            touch_member(c, community.key, member.key, name, pause.started_at)
            row = c.execute(
                "INSERT INTO pauses (community_id, member_id, first_day, last_day, reason, "
                "started_at, ends_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (community_id, member_id, first_day) DO UPDATE SET "
                "last_day = excluded.last_day, ends_at = excluded.ends_at, "
                "reason = COALESCE(excluded.reason, pauses.reason) RETURNING *",
                (community.key, member.key, pause.first_day.isoformat(),
                 pause.last_day.isoformat(), pause.reason, ts(pause.started_at),
                 ts(pause.ends_at))).fetchone()
            return pause_row(row)
        return await self._write(unit)

    async def end_pause(self, community: CommunityRef, member: MemberRef, at: datetime,
                        today: date) -> Pause | None:
        def unit(c: Tx) -> Pause | None:
            row = current_row(c, community.key, member.key, at)
            if row is None:
                return None
            key = (community.key, member.key, row["first_day"])
            if date.fromisoformat(row["first_day"]) >= today:  # begun today: as if never
                c.execute("DELETE FROM pauses WHERE community_id = ? AND member_id = ? "
                          "AND first_day = ?", key)
            else:
                c.execute("UPDATE pauses SET last_day = ?, ends_at = ? WHERE community_id = ? "
                          "AND member_id = ? AND first_day = ?",
                          ((today - timedelta(days=1)).isoformat(), ts(at), *key))
            return pause_row(row)
        return await self._write(unit)

    async def pauses(self, community: CommunityRef, member: MemberRef, since: date
                     ) -> tuple[Pause, ...]:
        def unit(c: Tx) -> tuple[Pause, ...]:
            return tuple(pause_row(r) for r in c.execute(
                "SELECT * FROM pauses WHERE community_id = ? AND member_id = ? AND last_day >= ? "
                "ORDER BY first_day", (community.key, member.key, since.isoformat())))
        return await self._read(unit)
