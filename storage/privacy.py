"""Privacy: everything of a member, exported or forgotten.
"""
from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Attempt,
    Commitment,
    Goal,
)
from storage.attempts import goal_of
from storage.db import Store, Tx
from storage.rows import attempt_row, commitment_row, from_ts

T = TypeVar("T")


class PrivacyStore(Store):
    """Export and forget."""

    async def export_rows(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[list[Attempt], list[Commitment], Goal | None]:
        def unit(c: Tx) -> tuple[list[Attempt], list[Commitment], Goal | None]:
            args = (community.key, member.key)
            attempts = [attempt_row(r) for r in c.execute(
                "SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                "ORDER BY created_at, id", args)]
            commitments = [commitment_row(r) for r in c.execute(
                "SELECT * FROM commitments WHERE community_id = ? AND member_id = ? "
                "ORDER BY created_at, id", args)]
            return attempts, commitments, goal_of(c, *args)
        return await self._read(unit)

    async def export_cheers(self, community: CommunityRef, member: MemberRef
                            ) -> tuple[dict[int, int], list[datetime]]:
        """The cheers on each of the member's attempts (by id), and when they gave each of
        theirs (only when: the entry cheered is someone else's)."""
        def unit(c: Tx) -> tuple[dict[int, int], list[datetime]]:
            args = (community.key, member.key)
            received = {int(r[0]): int(r[1]) for r in c.execute(
                "SELECT attempt_id, COUNT(*) FROM cheers WHERE community_id = ? AND "
                "owner_id = ? GROUP BY attempt_id", args)}
            given = [from_ts(r[0]) for r in c.execute(
                "SELECT created_at FROM cheers WHERE community_id = ? AND member_id = ? "
                "ORDER BY created_at", args)]
            return received, given
        return await self._read(unit)

    async def forget_member(self, community: CommunityRef, member: MemberRef) -> int:
        """Every table with a member column is listed here; a test checks none is missed."""
        def unit(c: Tx) -> int:
            args = (community.key, member.key)
            # Unsent news and edits of their attempts (see ``drop_news``).
            c.execute("DELETE FROM outbox WHERE community_id = ? AND kind = 'news' AND "
                      "state <> 'sent' AND subject IN (SELECT CAST(id AS TEXT) FROM attempts "
                      "WHERE community_id = ? AND member_id = ?)", (community.key, *args))
            c.execute("DELETE FROM outbox WHERE community_id = ? AND kind = 'edit' AND "
                      "state <> 'sent' AND EXISTS (SELECT 1 FROM attempts x WHERE "
                      "x.community_id = ? AND x.member_id = ? AND "
                      "outbox.subject LIKE CAST(x.id AS TEXT) || '@%')", (community.key, *args))
            # Nudges, sent ones too: their subject is a day of this member's.
            c.execute("DELETE FROM outbox WHERE community_id = ? AND kind = 'remind' "
                      "AND target = ?", (community.key, member.id))
            gone = c.execute("DELETE FROM cheers WHERE attempt_id IN (SELECT id FROM attempts "
                             "WHERE community_id = ? AND member_id = ?)", args).rowcount
            for table in ("cheers", "attempts", "commitments", "goals", "member_periods",
                          "member_days", "member_areas", "pauses", "member_dares", "reminds",
                          "processed_requests", "members"):
                gone += c.execute(f"DELETE FROM {table} WHERE community_id = ? AND member_id = ?",
                                  args).rowcount
            return gone
        return await self._write(unit)
