"""Dares (/dare): each community's own dares, and the last dare each member was given."""
from __future__ import annotations

from datetime import datetime

from bot.dares import fold
from bot.ids import CommunityRef, MemberRef
from bot.models import CommunityDare, DareAdded, LastDare
from storage.db import Row, Store, Tx
from storage.rows import from_ts, ts


def dare_row(row: Row) -> CommunityDare:
    return CommunityDare(row["number"], row["text"], row["area"], row["level"])


def dares_of(c: Tx, community: str) -> tuple[CommunityDare, ...]:
    return tuple(dare_row(r) for r in c.execute(
        "SELECT number, text, area, level FROM dares WHERE community_id = ? ORDER BY number",
        (community,)))


class DareStore(Store):
    """Community dares and members' last dares."""

    async def community_dares(self, community: CommunityRef) -> tuple[CommunityDare, ...]:
        return await self._read(lambda c: dares_of(c, community.key))

    async def add_dare(self, community: CommunityRef, text: str, area: str, level: str,
                       at: datetime, most: int) -> tuple[DareAdded, CommunityDare | None]:
        key, folded = community.key, fold(text)

        def unit(c: Tx) -> tuple[DareAdded, CommunityDare | None]:
            c.lock(f"dares:{key}")  # adds take turns: the count and the numbers hold
            same = c.execute("SELECT number, text, area, level FROM dares WHERE community_id = ? "
                             "AND folded = ?", (key, folded)).fetchone()
            if same is not None:
                return DareAdded.DUPLICATE, dare_row(same)
            count, last = c.execute("SELECT COUNT(*), COALESCE(MAX(number), 0) FROM dares "
                                    "WHERE community_id = ?", (key,)).fetchone()
            if count >= most:
                return DareAdded.FULL, None
            row = c.execute(
                "INSERT INTO dares (community_id, number, text, folded, area, level, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING number, text, area, level",
                (key, int(last) + 1, text, folded, area, level, ts(at))).fetchone()
            return DareAdded.ADDED, dare_row(row)
        return await self._write(unit)

    async def remove_dare(self, community: CommunityRef, number: int) -> CommunityDare | None:
        def unit(c: Tx) -> CommunityDare | None:
            row = c.execute("DELETE FROM dares WHERE community_id = ? AND number = ? "
                            "RETURNING number, text, area, level",
                            (community.key, number)).fetchone()
            return dare_row(row) if row is not None else None
        return await self._write(unit)

    async def last_dare(self, community: CommunityRef, member: MemberRef) -> LastDare | None:
        def unit(c: Tx) -> LastDare | None:
            row = c.execute("SELECT seq, text, drawn_at FROM member_dares WHERE community_id = ? "
                            "AND member_id = ?", (community.key, member.key)).fetchone()
            return LastDare(row["seq"], row["text"], from_ts(row["drawn_at"])) if row else None
        return await self._read(unit)

    async def remember_dare(self, community: CommunityRef, member: MemberRef, text: str,
                            at: datetime) -> LastDare:
        def unit(c: Tx) -> LastDare:
            row = c.execute(
                "INSERT INTO member_dares (community_id, member_id, seq, text, drawn_at) "
                "VALUES (?, ?, 1, ?, ?) ON CONFLICT (community_id, member_id) DO UPDATE SET "
                "seq = member_dares.seq + 1, text = excluded.text, drawn_at = excluded.drawn_at "
                "RETURNING seq", (community.key, member.key, text, ts(at))).fetchone()
            return LastDare(row["seq"], text, at)
        return await self._write(unit)
