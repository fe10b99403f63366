"""Plain values the core and the storage exchange, and the closed sets of words they use.

Each closed set is a ``StrEnum``: its members are the very strings the database stores (no
migration), so they compare equal to those strings, format as them and bind as them in SQL.
Storage maps every row back to the enum; the core and the Repository protocol use the enums.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Literal, TypeAlias

from bot.ids import CommunityRef, MemberRef


class Outcome(StrEnum):
    """How an ask ended: also the command that logs it (/rejected, /accepted, /pending)."""

    REJECTED = "rejected"
    ACCEPTED = "accepted"
    PENDING = "pending"  # still waiting to hear back


class CommitmentStatus(StrEnum):
    """Where a /who-next promise stands."""

    OPEN = "open"
    DONE = "done"  # the ask was made: an attempt was logged for it
    SKIPPED = "skipped"  # the ask wasn't made


# How a promise is resolved: the outcome of the ask it promised, or skipped (no ask made).
PromiseEnd: TypeAlias = Outcome | Literal[CommitmentStatus.SKIPPED]


class EntryKind(StrEnum):
    """What /undo removed."""

    ATTEMPT = "attempt"
    COMMITMENT = "commitment"


class ResolutionStatus(StrEnum):
    """How resolving an open item (a pending attempt or a promise) went."""

    DONE = "done"
    NOT_FOUND = "not_found"
    NOT_OWNER = "not_owner"
    ALREADY = "already"  # resolved before: nothing changed


class CheerStatus(StrEnum):
    """What pressing Cheer did."""

    ADDED = "added"
    REMOVED = "removed"  # pressed again: the cheer was taken back
    OWN = "own"  # one's own attempt: refused
    NOT_FOUND = "not_found"


class RankBy(StrEnum):
    """What a leaderboard counts."""

    ATTEMPTS = "attempts"
    REJECTIONS = "rejections"


class Period(StrEnum):
    """The stretch of time a leaderboard covers (a calendar week from Monday, a month)."""

    WEEK = "week"
    MONTH = "month"
    ALL = "all"


class PostKind(StrEnum):
    """What the scheduler posts on its own: on a community's schedule, or a promise's follow-up."""

    CHECKIN = "checkin"
    RECAP = "recap"
    FOLLOWUP = "followup"  # a DM to the member whose /who-next came due
    NEWS = "news"  # a promise resolved away from its channel (a follow-up DM), told there
    SEASON = "season"  # a season's end: its champions, in the community's channel
    REMIND = "remind"  # a member's own /remind nudge, a DM on a day with no ask yet
    EDIT = "edit"  # the posts of an entry changed by /edit, shown again as it is now


class OutboxState(StrEnum):
    """Where one scheduled post stands in the outbox: due -> claimed -> sending -> sent, or
    missed (with its reason). A claim is a lease: it lapses unless renewed, and a lapsed claim
    is due again (a lapsed *sending* one may already have reached the platform)."""

    DUE = "due"  # waiting for its first try, or for a retry
    CLAIMED = "claimed"  # a process holds it and is about to send
    SENDING = "sending"  # a try is under way: it may reach the platform at any moment
    SENT = "sent"
    MISSED = "missed"  # given up, with the reason


# Why a post was missed, where no platform said: read by admins in /checkin show.
OFFLINE = "the bot was offline until after the grace window"
CRASHED_WHILE_SENDING = "the bot stopped while posting it, so it may have gone out"


@dataclass(frozen=True)
class NewAttempt:
    community: CommunityRef
    member: MemberRef
    member_name: str
    outcome: Outcome
    ask: str
    at: datetime
    who: str | None = None
    area: str | None = None
    fear: int | None = None
    lesson: str | None = None
    private: bool = False
    request_id: str | None = None
    # The zone whose days it counts on when the community has no check-in zone of its own.
    default_zone: str = "UTC"
    # Fair play: refuse the write if the member already has this many entries in the hour
    # before ``at``. None: no limit.
    max_per_hour: int | None = None
    # On the member's first attempt of their day, return their days with an attempt since
    # this instant (for the streak celebrations).
    history_since: datetime | None = None
    channel_id: str | None = None  # where it is logged


# A member's days with an attempt, oldest first, each with how many attempts it had.
DayCounts = tuple[tuple[date, int], ...]


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
    # True when the hourly limit refused the write (nothing was written).
    limited: bool = False
    # The goal's target, when this attempt reached the member's rejection goal.
    goal_reached: int | None = None
    # For streak celebrations: the member's attempts on their day and in their week (from
    # Monday) so far, this one included, and, on the first attempt of the day only, their days
    # with an attempt since ``history_since``, oldest first (each day in the member's zone
    # when they asked).
    today_count: int = 0
    week_count: int = 0
    days: DayCounts = ()
    # The member's day this attempt counts on (their zone when they asked).
    day: date | None = None
    # The highest counts the member's celebrations had shown before this write: a milestone
    # is celebrated only past them (once, whatever /undo and /edit did to the counts since).
    celebrated: Totals | None = None


@dataclass(frozen=True)
class OpenPage:
    """One page of a member's open items (/asks): open promises first (soonest due first),
    then pending asks (oldest first); ``total`` is how many there are in all."""

    commitments: tuple[Commitment, ...]
    pending: tuple[Attempt, ...]
    total: int


@dataclass(frozen=True)
class Attempt:
    id: int
    member: MemberRef
    outcome: Outcome
    ask: str
    created_at: datetime
    private: bool = False
    who: str | None = None
    area: str | None = None
    fear: int | None = None
    lesson: str | None = None
    channel_id: str | None = None  # where it was logged (its celebration's channel)
    edited_at: datetime | None = None
    kept_promise: bool = False  # it closed a /who-next promise

    @property
    def version(self) -> str:
        """A short mark of what the entry holds now (what /edit can change): an /edit form
        carries the one it opened with, so that one sent after the entry changed meanwhile
        (resolved from /asks, another form) changes nothing rather than put old values back."""
        held = tuple(getattr(self, f) for f in EDITABLE)
        return f"{zlib.crc32(repr(held).encode()):08x}"


EDITABLE = ("ask", "outcome", "who", "lesson", "area", "fear", "private")  # what /edit changes


@dataclass(frozen=True)
class EntryEdit:
    """What /edit changes in an attempt: each field given, and ``clear`` the optional ones to
    empty (who, lesson, area, fear)."""

    ask: str | None = None
    outcome: Outcome | None = None
    who: str | None = None
    lesson: str | None = None
    area: str | None = None
    fear: int | None = None
    private: bool | None = None
    clear: frozenset[str] = frozenset()
    seen: str | None = None  # from a form: the entry's ``version`` it opened with


class EditStatus(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # every value given was the entry's already
    NOT_FOUND = "not_found"  # no such entry (of this member) here
    STALE = "stale"  # it changed since the form that sent this opened: nothing done


@dataclass(frozen=True)
class EditResult:
    """How an /edit went: the entry before and after, the member's totals after, the
    counts celebrated before it, a goal it reached, and how many public posts of the entry
    are queued to show the change."""

    status: EditStatus
    before: Attempt | None = None
    after: Attempt | None = None
    totals: Totals | None = None
    celebrated: Totals | None = None
    goal_reached: int | None = None
    posts_queued: int = 0


@dataclass(frozen=True)
class EntryPage:
    """One page of a member's latest attempts (newest first) for /edit, and how many there are."""

    entries: tuple[Attempt, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class NewCommitment:
    community: CommunityRef
    member: MemberRef
    member_name: str
    ask: str
    due_at: datetime
    at: datetime
    request_id: str | None = None
    max_per_hour: int | None = None
    zone: str | None = None  # the zone whose day it's due at the end of
    channel_id: str | None = None  # where it was made: the group hears how it went there


@dataclass(frozen=True)
class Commitment:
    id: int
    member: MemberRef
    ask: str
    due_at: datetime
    created_at: datetime
    status: CommitmentStatus
    zone: str | None = None  # the zone it was made in (None: made before zones were kept)
    channel_id: str | None = None  # the channel it was made in, if known


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
    kind: EntryKind
    ask: str
    outcome: Outcome | None  # for attempts


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving an open item from /asks or a follow-up."""

    status: ResolutionStatus
    attempt: LogResult | None = None
    ask: str = ""
    private: bool = False  # the resolved ask was private: nobody else hears of it
    announced_in: str | None = None  # the channel the group hears of it in, via the outbox


# -- check-ins ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A community's check-in schedule: ``time`` (HH:MM) on ``days`` in ``timezone``."""

    community: CommunityRef
    channel_id: str
    timezone: str
    time: str  # 'HH:MM', local
    days: str  # cron day_of_week, canonical order: 'mon,wed,fri'
    recap_day: str | None = "monday"  # None: no weekly recap
    enabled: bool = True
    updated_at: datetime | None = None
    community_name: str | None = None  # the Discord server's or Slack workspace's name
    dare: bool = False  # each check-in carries today's dare (/checkin set dare:on)


@dataclass(frozen=True)
class Activity:
    """What happened in a community in a window, for check-in posts and recaps."""

    attempts: tuple[Attempt, ...]  # created in [start, end), oldest first
    names: dict[str, str]  # member key -> display name, for everyone below
    prior: dict[str, Totals]  # totals before ``start`` of each member active in the window
    commitments: tuple[Commitment, ...]  # open, due in the asked range, earliest first
    # The community's own dares, where its check-ins carry today's dare (schedules.dare).
    dares: tuple[CommunityDare, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """A commitment that just came due, claimed for its one follow-up."""

    community: CommunityRef
    commitment: Commitment
    member: MemberInfo


@dataclass(frozen=True)
class NewPost:
    """One scheduled post to put in the outbox: the ``kind`` of post for ``subject`` (the local
    date of a check-in or recap, the commitment id of a follow-up), to ``target`` (a channel id,
    or the member id of a DM). It may go out until ``deadline``; ``missed`` records it as missed
    at once, with that reason (it was due while the bot was down, beyond the grace window)."""

    community: CommunityRef
    kind: PostKind
    subject: str
    target: str
    due_at: datetime
    deadline: datetime
    missed: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A post in the outbox as a process claimed (or an admin reads) it. ``sent_since``: the
    start of the earliest try that may have reached the platform (None: none may have), which
    the Poster must check before sending again. ``followup``: what a follow-up DM is about,
    None when its promise was closed or removed in the meantime."""

    id: int
    community: CommunityRef
    kind: PostKind
    subject: str
    target: str
    due_at: datetime
    deadline: datetime
    state: OutboxState
    tries: int = 0
    sent_since: datetime | None = None
    reason: str | None = None
    next_try_at: datetime | None = None
    finished_at: datetime | None = None
    followup: FollowUp | None = None
    zone: str | None = None  # the community's check-in zone (for a follow-up's wording)
    news: News | None = None  # what a news post tells: None when it was undone meanwhile
    nudge: Nudge | None = None  # what a /remind nudge needs: None when /remind was turned off

    @property
    def key(self) -> str:
        """The id the platforms see on every try (Discord's nonce: at most 25 characters)."""
        return f"whosnext-{self.id}"


@dataclass(frozen=True)
class News:
    """A kept promise the group hears of in the channel it was made in: the attempt it became
    and its member's name."""

    attempt: Attempt
    name: str
    cheers: int = 0  # for an edit's post: the Cheer count its button shows


@dataclass(frozen=True)
class PostResult:
    """How a claimed post's try ended, to record: ``state`` sent, due (retry at
    ``next_try_at``) or missed; ``uncertain``: the try may have reached the platform."""

    item_id: int
    state: OutboxState
    at: datetime
    reason: str | None = None
    next_try_at: datetime | None = None
    uncertain: bool = False
    message_id: str | None = None


@dataclass(frozen=True)
class ActivityWindow:
    """What one post reads: a community's attempts created in [start, end) and its open
    commitments due in [due_from, due_until)."""

    community: CommunityRef
    start: datetime
    end: datetime
    due_from: datetime
    due_until: datetime


@dataclass(frozen=True)
class Goal:
    target: int
    by_date: date | None
    set_at: datetime
    reached_at: datetime | None
    progress: int  # rejections logged from ``counts_from`` on
    counts_from: datetime | None = None  # None: from ``set_at``

    @property
    def counts_all(self) -> bool:
        """It counts every no the member ever logged here (``since:start``)."""
        return self.counts_from is not None and self.counts_from <= GOAL_FROM_START


# What a goal set with ``since:start`` counts from: before anyone could log an ask.
GOAL_FROM_START = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Profile:
    """Everything /stats shows about one member, read in one go."""

    info: MemberInfo
    totals: Totals
    days: DayCounts  # the days with an attempt, oldest first (the member's own days)
    areas: tuple[tuple[str, int], ...]  # most used first
    cheers_given: int
    cheers_received: int
    goal: Goal | None


@dataclass(frozen=True)
class Pause:
    """A member's break (/pause): their local days ``first_day`` through ``last_day``, both
    paused, running from ``started_at`` until ``ends_at`` (the start of the day after
    ``last_day``, or when they ended it early). ``reason`` is for the member's eyes only."""

    first_day: date
    last_day: date
    started_at: datetime
    ends_at: datetime
    reason: str | None = None

    def current(self, now: datetime) -> bool:
        return self.started_at <= now < self.ends_at


# -- seasons --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Season:
    """A community's season: it counts the asks made from ``started_at`` until it ends, at the
    end of ``end_date`` in ``timezone`` (``ends_at``) or earlier by /season end (``ended_at``).
    ``channel_id``: where /season start ran (its post goes there without a check-in channel)."""

    id: int
    community: CommunityRef
    name: str
    end_date: date
    timezone: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None
    channel_id: str | None = None

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def until(self) -> datetime:
        """The end of what it counts: when it ended, or will end."""
        return self.ended_at or self.ends_at


@dataclass(frozen=True)
class Brave:
    """A public ask with the season's highest fear rating, and its member's name."""

    attempt: Attempt
    name: str


@dataclass(frozen=True)
class SeasonResult:
    """What a season's post and the hall of fame show: the champions (everyone tied at the
    top shares the title), the group's totals and the asks per community-local day by
    outcome (for the chart). ``bravest``: public asks only, never a private one."""

    season: Season
    most_asks: tuple[LeaderRow, ...]
    most_nos: tuple[LeaderRow, ...]
    bravest: tuple[Brave, ...]
    totals: Totals
    members: int  # how many members asked in it
    days: tuple[tuple[date, str, int], ...] = ()  # (day, outcome, asks), by day


# -- dares (/dare) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommunityDare:
    """A dare a community's admins added to its deck: ``number`` as /dare list shows it."""

    number: int
    text: str
    area: str
    level: str


class DareAdded(StrEnum):
    ADDED = "added"
    DUPLICATE = "duplicate"  # the community has that dare already
    FULL = "full"  # the community has as many dares as it may


@dataclass(frozen=True)
class LastDare:
    """The dare a member was given last: their ``seq``-th."""

    seq: int
    text: str
    drawn_at: datetime


@dataclass(frozen=True)
class Remind:
    """A member's /remind setting: their local time ('HH:MM') and days (cron list), and when
    the next nudge is due (UTC)."""

    time: str
    days: str
    next_at: datetime


@dataclass(frozen=True)
class Nudge:
    """A /remind nudge as it is claimed: its member, their local day, and, read at send time,
    whether they logged an ask since that day began or are on a break."""

    member: MemberInfo
    day: date
    logged: bool
    paused: bool
