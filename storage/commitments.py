"""Commitments (/who-next promises): making one, listing what's open, keeping or skipping one.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Attempt,
    Commitment,
    CommitmentStatus,
    NewAttempt,
    NewCommitment,
    NewPost,
    OpenPage,
    Outcome,
    PostKind,
    PromiseEnd,
    Resolution,
    ResolutionStatus,
)
from storage.attempts import insert_attempt, over_limit, owned_open_item, request_key
from storage.counters import touch_member
from storage.db import Store, Tx
from storage.outbox import enqueue
from storage.rows import attempt_row, commitment_row, ts

T = TypeVar("T")

# How long a kept promise's news may still go out (after that it's old news: recorded missed).
NEWS_WINDOW = timedelta(hours=6)


class CommitmentStore(Store):
    """Promises."""

    async def add_commitment(self, new: NewCommitment) -> tuple[Commitment | None, bool]:
        def unit(c: Tx) -> tuple[Commitment | None, bool]:
            key = request_key(new.community, new.request_id)
            if key is not None:
                row = c.execute("SELECT * FROM commitments WHERE request_id = ?",
                                (key,)).fetchone()
                if row is not None:
                    return commitment_row(row), True
            if over_limit(c, new.community.key, new.member.key, new.at, new.max_per_hour):
                return None, False
            touch_member(c, new.community.key, new.member.key, new.member_name, new.at)
            row = c.execute(
                "INSERT INTO commitments (community_id, member_id, ask, due_at, created_at, "
                "request_id, zone, channel_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (new.community.key, new.member.key, new.ask, ts(new.due_at), ts(new.at), key,
                 new.zone, new.channel_id)
            ).fetchone()
            return commitment_row(row), False
        return await self._write(unit)

    async def open_items(self, community: CommunityRef, member: MemberRef
                         ) -> tuple[list[Commitment], list[Attempt]]:
        def unit(c: Tx) -> tuple[list[Commitment], list[Attempt]]:
            args = (community.key, member.key)
            commitments = [commitment_row(r) for r in c.execute(
                "SELECT * FROM commitments WHERE community_id = ? AND member_id = ? "
                "AND status = 'open' ORDER BY due_at, id", args)]
            pending = [attempt_row(r) for r in c.execute(
                "SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                "AND outcome = 'pending' ORDER BY id", args)]
            return commitments, pending
        return await self._read(unit)

    async def open_page(self, community: CommunityRef, member: MemberRef, limit: int,
                        offset: int) -> OpenPage:
        def unit(c: Tx) -> OpenPage:
            args = (community.key, member.key)
            promised = int(c.execute("SELECT COUNT(*) FROM commitments WHERE community_id = ? "
                                     "AND member_id = ? AND status = 'open'", args).fetchone()[0])
            row = c.execute("SELECT pending_count FROM members WHERE community_id = ? "
                            "AND member_id = ?", args).fetchone()
            pending = int(row[0]) if row else 0
            commitments = tuple(commitment_row(r) for r in c.execute(
                "SELECT * FROM commitments WHERE community_id = ? AND member_id = ? "
                "AND status = 'open' ORDER BY due_at, id LIMIT ? OFFSET ?",
                (*args, limit, offset))) if offset < promised else ()
            left = limit - len(commitments)
            attempts = tuple(attempt_row(r) for r in c.execute(
                "SELECT * FROM attempts WHERE community_id = ? AND member_id = ? "
                "AND outcome = 'pending' ORDER BY created_at, id LIMIT ? OFFSET ?",
                (*args, left, max(0, offset - promised)))) if left > 0 else ()
            return OpenPage(commitments, attempts, promised + pending)
        return await self._read(unit)

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: PromiseEnd, at: datetime,
                                 default_zone: str = "UTC", pressed_in: str | None = None
                                 ) -> Resolution:
        """Close the promise; a kept one becomes an attempt. Kept somewhere other than the
        channel it was made in (``pressed_in``: a follow-up DM), its news is queued for that
        channel in the same transaction."""
        def unit(c: Tx) -> Resolution:
            row = owned_open_item(c, "commitments", commitment_id, community, member,
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
            result = insert_attempt(c, NewAttempt(
                community=community, member=member, member_name=name, outcome=Outcome(outcome),
                ask=row["ask"], at=at, default_zone=default_zone,
                channel_id=row["channel_id"] or pressed_in), commitment_id=commitment_id)
            told = row["channel_id"]
            if told is None or told == pressed_in:
                return Resolution(ResolutionStatus.DONE, result, row["ask"])
            enqueue(c, [NewPost(community, PostKind.NEWS, str(result.attempt_id), told, at,
                                at + NEWS_WINDOW)], at)
            return Resolution(ResolutionStatus.DONE, result, row["ask"], announced_in=told)
        return await self._write(unit)
