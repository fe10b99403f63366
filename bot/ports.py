"""The protocols the core depends on. Storage and adapters implement them; the core never
imports an implementation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Attempt,
    Commitment,
    Leaderboard,
    LogResult,
    MemberInfo,
    NewAttempt,
    NewCommitment,
    Removed,
    Resolution,
    Totals,
)
from bot.reply import Reply


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Repository(Protocol):
    async def log_attempt(self, new: NewAttempt) -> LogResult:
        """Record one attempt (and the member's latest name) in one transaction. A request id
        seen before writes nothing and returns the earlier attempt with ``duplicate=True``."""

    async def add_commitment(self, new: NewCommitment) -> tuple[Commitment, bool]:
        """Record a /who-next; returns it and whether the request id was a duplicate."""

    async def open_items(self, community: CommunityRef, member: MemberRef
                         ) -> tuple[list[Commitment], list[Attempt]]:
        """Open commitments and pending attempts of one member, oldest first."""

    async def resolve_attempt(self, community: CommunityRef, member: MemberRef, attempt_id: int,
                              outcome: str, at: datetime) -> Resolution:
        """Turn a pending attempt into rejected/accepted; only its owner may."""

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: str, at: datetime,
                                 request_id: str | None = None) -> Resolution:
        """Close a commitment: rejected/accepted/pending log an attempt, ``skipped`` does not."""

    async def undo_last(self, community: CommunityRef, member: MemberRef) -> Removed | None:
        """Delete the member's most recent attempt or commitment."""

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        ...

    async def leaderboard(self, community: CommunityRef, since: datetime | None, by: str,
                          caller: MemberRef, limit: int = 10) -> Leaderboard:
        """Ranked counts (``by``: attempts or rejections) since ``since`` (None: all time).
        Ties share a rank (1, 1, 3)."""

    async def toggle_cheer(self, community: CommunityRef, attempt_id: int, member: MemberRef,
                           member_name: str, at: datetime) -> tuple[str, int]:
        """Add the member's cheer to an attempt, or take it back if already there. Returns a
        status (added, removed, own, not_found) and the attempt's cheer count."""

    async def member(self, community: CommunityRef, member: MemberRef) -> MemberInfo | None:
        ...

    async def find_member(self, community: CommunityRef, query: str) -> MemberInfo | None:
        """A member of the community by id or by display name (case-insensitive)."""

    async def close(self) -> None:
        ...


class Poster(Protocol):
    """How the scheduler reaches people; each adapter provides one."""

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply) -> bool:
        ...

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply) -> bool:
        ...
