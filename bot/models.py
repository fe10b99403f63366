"""Plain values the core and the storage exchange."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.ids import CommunityRef, MemberRef


@dataclass(frozen=True)
class NewAttempt:
    community: CommunityRef
    member: MemberRef
    member_name: str
    outcome: str  # rejected | accepted | pending
    ask: str
    at: datetime
    who: str | None = None
    area: str | None = None
    fear: int | None = None
    lesson: str | None = None
    private: bool = False
    request_id: str | None = None


@dataclass(frozen=True)
class Totals:
    attempts: int = 0
    rejected: int = 0
    accepted: int = 0
    pending: int = 0


@dataclass(frozen=True)
class LogResult:
    attempt_id: int
    duplicate: bool  # the request id was seen before: nothing new was written
    totals: Totals  # the member's totals including this attempt
    # How many rejections this member has ever logged (never goes down, not even on /undo):
    # used to vary reflection prompts.
    rejection_seq: int


@dataclass(frozen=True)
class Attempt:
    id: int
    member: MemberRef
    outcome: str
    ask: str
    created_at: datetime
    private: bool = False
    who: str | None = None
    area: str | None = None
    fear: int | None = None
    lesson: str | None = None


@dataclass(frozen=True)
class NewCommitment:
    community: CommunityRef
    member: MemberRef
    member_name: str
    ask: str
    due_at: datetime
    at: datetime
    request_id: str | None = None


@dataclass(frozen=True)
class Commitment:
    id: int
    member: MemberRef
    ask: str
    due_at: datetime
    created_at: datetime
    status: str  # open | done | skipped


@dataclass(frozen=True)
class MemberInfo:
    member: MemberRef
    name: str
    timezone: str | None = None
    reminders: bool = True


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    member: MemberRef
    name: str
    count: int


@dataclass(frozen=True)
class Leaderboard:
    top: tuple[LeaderRow, ...]
    caller: LeaderRow | None  # None when the caller has nothing in the period
    members: int  # how many members have at least one in the period


@dataclass(frozen=True)
class Removed:
    kind: str  # attempt | commitment
    ask: str
    outcome: str | None  # for attempts


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving an open item from /asks or a follow-up."""

    status: str  # done | not_found | not_owner | already
    attempt: LogResult | None = None
    ask: str = ""
