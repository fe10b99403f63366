"""The protocols the core depends on (and ``PostingLimits``, which a Poster declares). Storage
and adapters implement them; the core never imports an implementation."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Activity,
    ActivityWindow,
    Attempt,
    CheerStatus,
    Commitment,
    CommunityDare,
    DareAdded,
    DayCounts,
    EditResult,
    EntryEdit,
    EntryPage,
    Goal,
    LastDare,
    Leaderboard,
    LogResult,
    MemberInfo,
    NewAttempt,
    NewCommitment,
    NewPost,
    News,
    OpenPage,
    OutboxItem,
    Outcome,
    Pause,
    Period,
    PostResult,
    Profile,
    PromiseEnd,
    RankBy,
    Remind,
    Removed,
    Resolution,
    Schedule,
    Season,
    SeasonResult,
    Totals,
)
from bot.reply import Action, Reply
from bot.shards import ShardSpec


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


class SyncClaim(StrEnum):
    """What ``Coordinator.claim_command_sync`` found."""

    UNCHANGED = "unchanged"  # this catalogue is synced already: nothing to do
    TAKEN = "taken"  # another process is syncing right now: leave it to that one
    MINE = "mine"  # the caller syncs, then calls finish_command_sync


class Coordinator(KeyValueStore, Protocol):
    """What the processes of one bot agree on through the database before they talk to a
    platform (the repository is one; ``storage.gateway``). Times are on the database's clock
    where it has one (``at`` otherwise, as for leases)."""

    async def reserve_identify(self, bucket: str, interval: timedelta, at: datetime) -> float:
        """Book the next session start of ``bucket``, at least ``interval`` after the one
        booked before it (by any process); the seconds to wait until it."""

    async def claim_command_sync(self, key: str, digest: str, owner: str, at: datetime,
                                 lease: timedelta) -> SyncClaim:
        """Whether ``owner`` is to sync the catalogue ``digest`` stored under ``key``: once per
        change, whatever the number of processes starting together; the claim lasts
        ``lease``."""

    async def finish_command_sync(self, key: str, digest: str, owner: str,
                                  synced: bool) -> None:
        """Let the claim go; ``synced``: the platform has ``digest`` now (stored in ``key``)."""


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

    async def open_page(self, community: CommunityRef, member: MemberRef, limit: int,
                        offset: int) -> OpenPage:
        """``limit`` of the member's open items from ``offset`` on (the order of
        ``open_items``), and how many there are: reads only that page, whatever the total."""

    async def resolve_attempt(self, community: CommunityRef, member: MemberRef, attempt_id: int,
                              outcome: Outcome, at: datetime,
                              pressed_in: str | None = None) -> Resolution:
        """Turn a pending attempt into rejected/accepted; only its owner may. ``pressed_in``:
        the channel it was resolved in (its public celebration's, when the ask is public)."""

    async def resolve_commitment(self, community: CommunityRef, member: MemberRef,
                                 commitment_id: int, outcome: PromiseEnd, at: datetime,
                                 default_zone: str = "UTC", pressed_in: str | None = None
                                 ) -> Resolution:
        """Close a commitment: an ``Outcome`` logs an attempt (the commitment is done),
        ``skipped`` does not. Kept away from the channel it was made in (``pressed_in``, a
        channel id), a NEWS post for that channel is queued with it (``announced_in``)."""

    async def entry_page(self, community: CommunityRef, member: MemberRef, limit: int,
                         offset: int) -> EntryPage:
        """``limit`` of the member's attempts from ``offset`` on, newest first (/edit's list),
        and how many they have."""

    async def edited_entry(self, community: CommunityRef, subject: str,
                           edited_at: datetime) -> News | None:
        """For an EDIT post (its outbox ``subject``) queued by an edit at ``edited_at``: the
        attempt as it is now, its member's name and its cheers; None when it is gone (or its
        id another's since)."""

    async def entry(self, community: CommunityRef, member: MemberRef, attempt_id: int | None,
                    position: int = 1) -> Attempt | None:
        """The member's attempt by id, else their ``position``-th latest; None if none."""

    async def edit_attempt(self, community: CommunityRef, member: MemberRef,
                           attempt_id: int | None, position: int, edit: EntryEdit,
                           at: datetime, request_id: str | None = None) -> EditResult:
        """Change the member's attempt (by id, else the ``position``-th latest) and every count
        that follows from it in one transaction, queueing the change to its public posts (an
        ``EDIT`` outbox post per channel) when what they show changed. A retried request
        changes nothing more."""

    async def undo_last(self, community: CommunityRef, member: MemberRef, at: datetime,
                        request_id: str | None = None) -> Removed | None:
        """Delete the member's most recent attempt or commitment; a retried request (same id)
        deletes nothing more and gets the same answer."""

    async def totals(self, community: CommunityRef, member: MemberRef) -> Totals:
        ...

    async def limit_lifts_at(self, community: CommunityRef, member: MemberRef, at: datetime,
                             limit: int) -> datetime:
        """When the member may log again under an hourly ``limit`` (``at`` if they may now)."""

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

    async def active_days(self, community: CommunityRef, member: MemberRef,
                          since: date) -> DayCounts:
        """The member's days with an attempt, on or after ``since``, oldest first, each with
        its number of attempts (for streaks): each day in the member's zone when they asked."""

    async def zones(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[str | None, str | None]:
        """The community's check-in zone and the member's own zone (None where unset), in one
        read: what a logged attempt needs before it writes."""

    async def recount_periods(self, community: CommunityRef) -> None:
        """Rebuild the community's week and month leaderboard counts from its attempts."""

    async def profile(self, community: CommunityRef, member: MemberRef) -> Profile | None:
        """Everything /stats shows about a member, or None if they are unknown here."""

    async def set_goal(self, community: CommunityRef, member: MemberRef, name: str, target: int,
                       by_date: date | None, at: datetime, counts_from: datetime | None = None,
                       ) -> Goal:
        """Set or change the goal, counting no's from ``counts_from``. Without one, an open
        goal keeps what it counts from, and a new (or reached) one counts from ``at``. Returns
        it as it now is."""

    async def goal(self, community: CommunityRef, member: MemberRef) -> Goal | None:
        """The member's goal with its progress, if they have one."""

    async def clear_goal(self, community: CommunityRef, member: MemberRef) -> bool:
        ...

    async def export_rows(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[list[Attempt], list[Commitment], Goal | None]:
        """All of a member's own data in one community."""

    async def export_cheers(self, community: CommunityRef, member: MemberRef
                            ) -> tuple[dict[int, int], list[datetime]]:
        """The cheers on each of the member's attempts (by id), and when they gave theirs."""

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

    async def activity(self, community: CommunityRef, start: datetime, end: datetime,
                       due_from: datetime, due_until: datetime) -> Activity:
        """Attempts created in [start, end), the prior totals of the members active in it, and
        open commitments due in [due_from, due_until): one read."""

    async def activities(self, windows: Sequence[ActivityWindow]) -> list[Activity]:
        """``activity`` for many windows at once (a minute's check-ins), set-based: a few
        statements, whatever the number of windows."""

    # -- the outbox: every post the bot makes on its own -------------------------------------
    # Lease times are ``now`` plus ``lease`` on one clock every process shares (on SQLite the
    # machine's, which the caller passes; a server database takes its own).

    async def enqueue_posts(self, posts: Sequence[NewPost], at: datetime) -> list[bool]:
        """Put posts in the outbox in one transaction; True where this call added one, False
        where it was there already (queued before, or by another process)."""

    async def enqueue_followups(self, now: datetime, deadline: datetime, max_age: timedelta,
                                platforms: Collection[str] | None = None,
                                communities: Collection[CommunityRef] | None = None,
                                shards: Sequence[ShardSpec] = ()) -> tuple[int, int]:
        """Open promises due by ``now`` and not yet followed up (on those platforms, in those
        communities and shards), each marked followed up in the same transaction: queued as a
        follow-up DM (going out until ``deadline``) if its owner wants reminders and it fell due
        within ``max_age``, else closed quietly. Returns (queued, quiet)."""

    async def claim_posts(self, owner: str, now: datetime, lease: timedelta, limit: int,
                          platforms: Collection[str] | None = None,
                          communities: Collection[CommunityRef] | None = None,
                          shards: Sequence[ShardSpec] = ()
                          ) -> tuple[list[OutboxItem], list[OutboxItem]]:
        """Record as missed what can no longer go out before its deadline, then claim for
        ``owner`` up to ``limit`` posts ready at ``now`` (due, or whose lease lapsed), oldest
        first, each leased until ``now + lease``; both only in the communities of ``shards``
        (``bot.shards``). Returns (claimed, newly missed)."""

    async def start_sending(self, owner: str, ids: Sequence[int], now: datetime,
                            lease: timedelta) -> set[int]:
        """A try of each claimed post starts now (recorded before it reaches the platform);
        returns the ids ``owner`` still holds."""

    async def finish_posts(self, owner: str, results: Sequence[PostResult]) -> None:
        """Record how tries ended, in one transaction (only for posts ``owner`` still holds)."""

    async def renew_leases(self, owner: str, now: datetime, lease: timedelta) -> int:
        """Extend every lease ``owner`` holds to ``now + lease``; returns how many."""

    async def release_posts(self, owner: str) -> int:
        """Hand back posts claimed but not started: due again for whoever claims next."""

    async def last_posts(self, community: CommunityRef) -> list[OutboxItem]:
        """The community's latest check-in and latest recap in the outbox, whatever their state."""

    async def outbox_oldest_due(self, now: datetime, platforms: Collection[str] | None = None
                                ) -> datetime | None:
        """When the oldest post still to go out (due, claimed or being sent; due by ``now``)
        on those platforms fell due; None when there is none. For the backlog metric."""

    async def save_installation(self, platform: str, enterprise_id: str | None,
                                team_id: str | None, data: dict[str, Any],
                                at: datetime) -> None:
        """Records (or replaces) where the bot is installed: the platform's record, opaque
        JSON-able data, keyed by enterprise and team (None for "none")."""

    async def find_installation(self, platform: str, enterprise_id: str | None,
                                team_id: str | None) -> dict[str, Any] | None:
        """The installation saved for that enterprise/team, or None."""

    async def delete_installation(self, platform: str, enterprise_id: str | None,
                                  team_id: str | None) -> bool:
        """Forgets that installation; True when there was one."""

    async def issue_state(self, state: str, at: datetime, ttl: timedelta) -> None:
        """Records an OAuth state good for ``ttl`` on the repository's clock."""

    async def consume_state(self, state: str, at: datetime) -> bool:
        """True once for an issued, unexpired state; never again after that."""

    async def ping(self) -> None:
        """One cheap real query (the readiness check); raises when the database can't answer."""

    async def close(self) -> None:
        ...

    async def set_pause(self, community: CommunityRef, member: MemberRef, name: str,
                        pause: Pause) -> Pause:
        """Start a break, or change the one under way (the same ``first_day``: its last day,
        its end, and its reason when one is given). Returns the break as saved."""

    async def end_pause(self, community: CommunityRef, member: MemberRef, at: datetime,
                        today: date) -> Pause | None:
        """End the break under way at ``at``: it ran until yesterday (one begun ``today`` is
        removed). Returns it as it was, or None when none was under way."""

    async def pauses(self, community: CommunityRef, member: MemberRef, since: date
                     ) -> tuple[Pause, ...]:
        """The member's breaks with a day from ``since`` on, oldest first."""

    async def community_dares(self, community: CommunityRef) -> tuple[CommunityDare, ...]:
        """The community's own dares, by number."""

    async def add_dare(self, community: CommunityRef, text: str, area: str, level: str,
                       at: datetime, most: int) -> tuple[DareAdded, CommunityDare | None]:
        """Add a dare to the community's deck, numbered after the last: refused as a
        DUPLICATE of one it has (case, spacing and the end's punctuation aside; returned), or
        when it has ``most`` already (FULL)."""

    async def remove_dare(self, community: CommunityRef, number: int) -> CommunityDare | None:
        """Remove the community's dare ``number``; returns it, or None when there is none."""

    async def last_dare(self, community: CommunityRef, member: MemberRef) -> LastDare | None:
        """The dare the member was given last, if any."""

    async def remember_dare(self, community: CommunityRef, member: MemberRef, text: str,
                            at: datetime) -> LastDare:
        """Record ``text`` as the member's last dare, their next ``seq``."""

    # -- seasons -----------------------------------------------------------------------------

    async def start_season(self, community: CommunityRef, name: str, end_date: date,
                           zone: str, ends_at: datetime, channel_id: str | None,
                           at: datetime, window: timedelta) -> tuple[Season, bool]:
        """Start a season running until ``ends_at`` (the end of ``end_date`` in ``zone``);
        returns it and True, or the season already running and False (nothing written). One
        whose end passed unnoticed ends first (its post queued, going out within ``window``)."""

    async def running_season(self, community: CommunityRef) -> Season | None:
        ...

    async def end_season(self, community: CommunityRef, at: datetime, window: timedelta
                         ) -> Season | None:
        """End the running season at ``at`` and queue its post (to go out within ``window``)
        in the same transaction; None when none runs."""

    async def end_due_seasons(self, now: datetime, window: timedelta,
                              platforms: Collection[str] | None = None,
                              communities: Collection[CommunityRef] | None = None,
                              shards: Sequence[ShardSpec] = ()) -> int:
        """End every running season whose end came by ``now`` (there, in the communities and
        shards served), each with its post queued in the same transaction; how many."""

    async def season_leaderboard(self, season: Season, by: RankBy, caller: MemberRef,
                                 limit: int = 10) -> Leaderboard:
        """``leaderboard`` over the asks made in the season."""

    async def season_result(self, community: CommunityRef, season_id: int,
                            with_days: bool = False) -> SeasonResult | None:
        """A season's champions and totals (and its asks per day, ``with_days``)."""

    async def season_history(self, community: CommunityRef, limit: int = 10
                             ) -> list[SeasonResult]:
        """The community's ended seasons, latest first, with their champions."""

    async def get_remind(self, community: CommunityRef, member: MemberRef) -> Remind | None:
        """The member's /remind setting, if they have one."""

    async def set_remind(self, community: CommunityRef, member: MemberRef, name: str,
                         remind: Remind, at: datetime) -> Remind:
        """Set (or change) the member's /remind time, days and next due moment."""

    async def clear_remind(self, community: CommunityRef, member: MemberRef) -> bool:
        """/remind off: False when there was none."""

    async def enqueue_reminds(self, now: datetime, window: timedelta, default_zone: str,
                              platforms: Collection[str] | None = None,
                              communities: Collection[CommunityRef] | None = None,
                              shards: Sequence[ShardSpec] = ()) -> int:
        """Queue the /remind nudges due by ``now`` (at most ``window`` late), one per member per
        local day, and move each due setting on to its next time; returns how many were
        queued."""


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


class DeliveryStatus(StrEnum):
    """How one try at a scheduled post ended, as the Poster saw it."""

    SENT = "sent"  # the platform has it
    RETRY = "retry"  # it didn't get there; trying again may work (5xx, 429, connection refused)
    UNCERTAIN = "uncertain"  # it may have got there (timed out, connection dropped after sending)
    FAILED = "failed"  # trying again won't help (channel gone, bot removed, no permission)


@dataclass(frozen=True)
class Delivery:
    """What a Poster reports for one try. ``reason`` is one plain sentence an admin reads in
    /checkin show ("the bot isn't in #asks: invite it with /invite"); ``retry_after`` the seconds
    the platform asked us to wait (a 429's Retry-After); ``message_id`` where it landed, if
    known."""

    status: DeliveryStatus
    reason: str = ""
    retry_after: float | None = None
    message_id: str | None = None

    @classmethod
    def sent(cls, message_id: str | None = None) -> Delivery:
        return cls(DeliveryStatus.SENT, message_id=message_id)

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> Delivery:
        return cls(DeliveryStatus.RETRY, reason, retry_after)

    @classmethod
    def uncertain(cls, reason: str) -> Delivery:
        return cls(DeliveryStatus.UNCERTAIN, reason)

    @classmethod
    def failed(cls, reason: str) -> Delivery:
        return cls(DeliveryStatus.FAILED, reason)

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.SENT


EDIT_LOOKBACK = 100  # how far back in a channel ``Poster.edit`` looks for an entry's posts
# A post older than the entry by more than this (the platform's clock and ours drift a little)
# is another's: an undone entry's, whose id a later one took again (SQLite reuses a top id).
EDIT_DRIFT = timedelta(seconds=5)


def made_since(posted: datetime, since: datetime | None) -> bool:
    """Whether a post made at ``posted`` (the platform's clock) can show an entry made at
    ``since``."""
    return since is None or posted >= since - EDIT_DRIFT


class Poster(Protocol):
    """How the scheduler reaches people; each adapter provides one, and declares in ``limits``
    how hard its platform may be pushed (the scheduler knows no platform's limits itself).

    The outbox decides retries, so a Poster makes one try per call (no blind retries in the
    client library underneath) and reports how it went as a ``Delivery``; it never raises for
    a platform's refusal or a network fault. ``key`` names the outbox item, the same on every
    try (at most 25 characters): the Poster tags the message with it where the platform allows
    (a message nonce, message metadata). ``sent_since`` is set when an earlier try, first made
    at that moment, may have reached the platform: the Poster must then not make a second
    visible post — it looks for the first (in the channel's history), lets the platform drop
    the repeat (a de-duplicating nonce), or, where it can't tell, reports FAILED with why."""

    @property
    def limits(self) -> PostingLimits:
        ...

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        ...

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        ...

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        """Show ``reply`` instead in each of the bot's own messages among the channel's
        latest ``EDIT_LOOKBACK`` that carries a button sending ``marker`` (an entry's Cheer)
        and was posted ``made_since`` the entry was made: an /edit reaching the posts that
        showed the entry. SENT (``message_id``: the last one
        changed) when at least one was changed, FAILED with why when none is there any more
        (or the platform won't let the bot change it), RETRY as for ``post``. Safe to call
        again: changing a message to what it shows already changes nothing."""
        ...


class CommandOutcome(StrEnum):
    """How the core answered a command or a button press, for ``Metrics``."""

    OK = "ok"  # done as asked
    REFUSED = "refused"  # the member's input or rights: a refusal, a bad option, an unknown name
    UNAVAILABLE = "unavailable"  # the database was out of reach: "try again in a minute"
    ERROR = "error"  # a bug of ours: the OOPS reply, logged with its traceback


class PostOutcome(StrEnum):
    """How one try of a scheduled post ended, as the outbox recorded it, for ``Metrics``."""

    SENT = "sent"
    RETRIED = "retried"  # didn't go out for now: tried again later, within the grace window
    MISSED = "missed"  # given up: refused for good, the window closed, or due while offline


class Metrics(Protocol):
    """What the core reports as it works, for an operator's dashboards. The composition root
    wires in the Prometheus one (``bot.metrics``) when metrics are served; ``NoMetrics``
    otherwise. Calls are cheap and never raise."""

    def command(self, name: str, outcome: CommandOutcome, seconds: float) -> None:
        """One command (``rejected``, ``button:cheer``…) answered in ``seconds``."""

    def post(self, platform: str, kind: str, outcome: PostOutcome) -> None:
        """One scheduled post (``checkin``, ``recap``, ``followup``) tried or given up."""


class NoMetrics:
    """Metrics that go nowhere: the default."""

    def command(self, name: str, outcome: CommandOutcome, seconds: float) -> None:
        pass

    def post(self, platform: str, kind: str, outcome: PostOutcome) -> None:
        pass


class Charts(Protocol):
    """Draws the bot's pictures as PNG bytes. Slow (tens of milliseconds): callers run it on a
    worker thread. The composition root wires in the matplotlib one (``bot.chart``); without
    one, replies simply carry no picture."""

    def week_chart(self, days: Sequence[date], counts: Mapping[str, Sequence[int]],
                   title: str, subtitle: str = "") -> bytes:
        """A stacked bar chart, one bar per day; ``counts[outcome][i]`` belongs to ``days[i]``;
        ``subtitle`` (its dates and the community's name, say) is drawn under the title."""
        ...

    def stats_card(self, name: str, totals: Mapping[str, int], weeks: Sequence[date],
                   per_week: Sequence[int], facts: Sequence[tuple[str, str]] = (),
                   goal: tuple[int, int, str] | None = None, notes: Sequence[str] = ()) -> bytes:
        """A member's card: ``name`` as its heading, their totals by outcome, ``facts`` as
        (label, value) tiles (streaks, cheers), a ``goal`` bar (progress, target, caption) when
        they have one, ``notes`` lines (milestones), and their asks per week (``weeks``: each
        week's Monday, oldest first, the last one this week's)."""
        ...
