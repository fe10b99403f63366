"""The protocols the core depends on (and ``PostingLimits``, which a Poster declares). Storage
and adapters implement them; the core never imports an implementation."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Activity,
    Attempt,
    CheerStatus,
    Claim,
    ClaimStatus,
    Commitment,
    FollowUp,
    Goal,
    Leaderboard,
    LogResult,
    MemberInfo,
    NewAttempt,
    NewCommitment,
    Outcome,
    Period,
    Profile,
    PromiseEnd,
    RankBy,
    Removed,
    Resolution,
    Schedule,
    Totals,
)
from bot.reply import Reply


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class KeyValueStore(Protocol):
    """Small settings an adapter keeps between runs (say, the hash of its last command sync)."""

    async def get_value(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""

    async def set_value(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing what was there."""


class Repository(KeyValueStore, Protocol):
    async def log_attempt(self, new: NewAttempt) -> LogResult:
        """Record one attempt (and the member's latest name) in one transaction. A request id
        seen before writes nothing and returns the earlier attempt with ``duplicate=True``."""

    async def add_commitment(self, new: NewCommitment) -> tuple[Commitment | None, bool]:
        """Record a /who-next; returns it and whether the request id was a duplicate. None when
        the hourly limit refused it (nothing written)."""

    async def open_items(self, community: CommunityRef, member: MemberRef
                         ) -> tuple[list[Commitment], list[Attempt]]:
        """Open commitments and pending attempts of one member, oldest first."""

    async def resolve_attempt(self, community: CommunityRef, member: MemberRef, attempt_id: int,
                              outcome: Outcome, at: datetime) -> Resolution:
        """Turn a pending attempt into rejected/accepted; only its owner may."""

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: PromiseEnd, at: datetime,
                                 default_zone: str = "UTC") -> Resolution:
        """Close a commitment: an ``Outcome`` logs an attempt (the commitment is done),
        ``skipped`` does not."""

    async def undo_last(self, community: CommunityRef, member: MemberRef, at: datetime,
                        request_id: str | None = None) -> Removed | None:
        """Delete the member's most recent attempt or commitment; a retried request (same id)
        deletes nothing more and gets the same answer."""

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        ...

    async def leaderboard(self, community: CommunityRef, since: date | None, by: RankBy,
                          caller: MemberRef, limit: int = 10, period: Period = Period.ALL
                          ) -> Leaderboard:
        """Ranked counts (``by``: attempts or rejections) for the ``period`` (week or month)
        starting on the community-local day ``since``, or all time when ``since`` is None.
        Ties share a rank (1, 1, 3); the caller's row comes too."""

    async def toggle_cheer(self, community: CommunityRef, attempt_id: int, member: MemberRef,
                           member_name: str, at: datetime, request_id: str | None = None
                           ) -> tuple[CheerStatus, int]:
        """Add the member's cheer to an attempt, or take it back if already there. Returns what
        happened and the attempt's cheer count."""

    async def member(self, community: CommunityRef, member: MemberRef) -> MemberInfo | None:
        ...

    async def attempt_times(self, community: CommunityRef, member: MemberRef,
                            since: datetime) -> tuple[datetime, ...]:
        """When the member's attempts since ``since`` were logged, oldest first (for streaks)."""

    async def zones(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[str | None, str | None]:
        """The community's check-in zone and the member's own zone (None where unset), in one
        read: what a logged attempt needs before it writes."""

    async def recount_periods(self, community: CommunityRef) -> None:
        """Rebuild the community's week and month leaderboard counts from its attempts."""

    async def profile(self, community: CommunityRef, member: MemberRef) -> Profile | None:
        """Everything /stats shows about a member, or None if they are unknown here."""

    async def set_goal(self, community: CommunityRef, member: MemberRef, name: str, target: int,
                       by_date: date | None, at: datetime) -> Goal:
        """Set or change the goal; an open goal keeps its progress. Returns it as it now is."""

    async def goal(self, community: CommunityRef, member: MemberRef) -> Goal | None:
        """The member's goal with its progress, if they have one."""

    async def clear_goal(self, community: CommunityRef, member: MemberRef) -> bool:
        ...

    async def export_rows(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[list[Attempt], list[Commitment], Goal | None]:
        """All of a member's own data in one community."""

    async def forget_member(self, community: CommunityRef, member: MemberRef) -> int:
        """Delete every row about the member in the community; returns how many rows went."""

    async def find_member(self, community: CommunityRef, query: str) -> MemberInfo | None:
        """A member of the community by id or by display name (case-insensitive)."""

    # -- check-ins, reminders and time zones -------------------------------------------------

    async def set_member_timezone(self, community: CommunityRef, member: MemberRef, name: str,
                                  zone: str, at: datetime) -> None:
        ...

    async def set_reminders(self, community: CommunityRef, member: MemberRef, name: str,
                            on: bool, at: datetime) -> None:
        ...

    async def save_schedule(self, schedule: Schedule, at: datetime,
                            default_zone: str = "UTC") -> None:
        """Create or replace the community's schedule (enabled), stamped ``at``. If that moves
        the community to another zone (``default_zone`` when it had none), its past asks move
        to their new local days in the same transaction."""

    async def disable_schedule(self, community: CommunityRef, at: datetime) -> bool:
        """Turn check-ins off; False when there was no enabled schedule."""

    async def get_schedule(self, community: CommunityRef) -> Schedule | None:
        ...

    async def list_schedules(self, platforms: Collection[str] | None = None,
                             changed_since: datetime | None = None) -> list[Schedule]:
        """Schedules (enabled and disabled when ``changed_since`` is given, else enabled only)
        on the given platforms."""

    async def claim_occurrences(self, claims: Sequence[Claim], at: datetime) -> list[bool]:
        """Insert every claim in one transaction; True where this call inserted it, False
        where it was already taken (by an earlier run or another process)."""

    async def finish_claim(self, claim: Claim, status: ClaimStatus, at: datetime) -> None:
        """Record how a claimed occurrence ended: posted or failed."""

    async def activity(self, community: CommunityRef, start: datetime, end: datetime,
                       due_from: datetime, due_until: datetime) -> Activity:
        """Attempts created in [start, end), the prior totals of the members active in it, and
        open commitments due in [due_from, due_until): one read."""

    async def claim_followups(self, now: datetime, platforms: Collection[str] | None = None,
                              communities: Collection[CommunityRef] | None = None
                              ) -> list[FollowUp]:
        """Open commitments due by ``now`` and not yet followed up (on those platforms, in those
        communities): marked followed up in the same transaction, so each is returned once,
        across restarts and processes."""

    async def close(self) -> None:
        ...


@dataclass(frozen=True)
class PostingLimits:
    """How hard the scheduler may push one Poster: at most ``concurrency`` posts and DMs in
    flight, and at most ``per_second`` of them started per second (None: no pacing)."""

    concurrency: int = 8
    per_second: float | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.per_second is not None and not self.per_second > 0:
            raise ValueError(f"per_second must be positive or None, not {self.per_second}")


class Poster(Protocol):
    """How the scheduler reaches people; each adapter provides one, and declares in ``limits``
    how hard its platform may be pushed (the scheduler knows no platform's limits itself)."""

    @property
    def limits(self) -> PostingLimits:
        ...

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply) -> bool:
        ...

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply) -> bool:
        ...


class Charts(Protocol):
    """Draws the bot's pictures as PNG bytes. Slow (tens of milliseconds): callers run it on a
    worker thread. The composition root wires in the matplotlib one (``bot.chart``); without
    one, replies simply carry no picture."""

    def week_chart(self, days: Sequence[date], counts: Mapping[str, Sequence[int]],
                   title: str) -> bytes:
        """A stacked bar chart, one bar per day; ``counts[outcome][i]`` belongs to ``days[i]``."""
        ...

    def stats_card(self, title: str, totals: Mapping[str, int], weeks: Sequence[date],
                   per_week: Sequence[int]) -> bytes:
        """A member's totals by outcome beside their asks per week."""
        ...
