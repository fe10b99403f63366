"""Shared pieces for the scheduler tests: a recording Poster and schedule helpers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import Schedule
from bot.ports import Delivery, DeliveryStatus, PostingLimits
from bot.reply import Action, Reply
from bot.scheduler import Scheduler


@dataclass
class RecordingPoster:
    """Records every post and DM. ``fail`` maps a community id (for a DM: the member id) to what
    the next tries there do instead of posting: False (refused for good), a ``Delivery``, or an
    exception to raise; a list is used up one try at a time (then posts go through). A
    ``Delivery`` of ``DeliveryStatus.UNCERTAIN`` given as ``landed`` posts *and* reports it
    uncertain (a timeout after the platform took it). Like a platform with de-duplication, a
    try with ``sent_since`` whose key was already posted posts nothing again. Like every
    Poster it declares its ``limits``."""

    limits: PostingLimits = PostingLimits(concurrency=4)
    posts: list[tuple[CommunityRef, str, Reply]] = field(default_factory=list)
    dms: list[tuple[CommunityRef, MemberRef, Reply]] = field(default_factory=list)
    edits: list[tuple[CommunityRef, str, Action, Reply]] = field(default_factory=list)
    fail: dict[str, object] = field(default_factory=dict)
    landed: set[str] = field(default_factory=set)  # community ids whose uncertain tries landed
    tries: list[tuple[str, str | None, datetime | None]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    in_flight: int = 0
    most_in_flight: int = 0
    hold: asyncio.Event | None = None

    def _scripted(self, where: str) -> object:
        outcome = self.fail.get(where)
        if isinstance(outcome, list):
            if not outcome:
                return None
            return outcome.pop(0)
        return outcome

    def _outcome(self, where: str, key: str | None, sent_since: datetime | None,
                 record: callable) -> Delivery:
        self.tries.append((where, key, sent_since))
        outcome = self._scripted(where)
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome is False:
            return Delivery.failed("refused")
        if sent_since is not None and key in self.keys:
            return Delivery.sent()  # found the earlier try: nothing posted twice
        if isinstance(outcome, Delivery):
            if outcome.status is DeliveryStatus.UNCERTAIN and where in self.landed:
                record()
                self.keys.add(key)
            return outcome
        record()
        if key is not None:
            self.keys.add(key)
        return Delivery.sent()

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            else:
                await asyncio.sleep(0)
            return self._outcome(community.id, key, sent_since,
                                 lambda: self.posts.append((community, channel_id, reply)))
        finally:
            self.in_flight -= 1

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        await asyncio.sleep(0)
        return self._outcome(member.id, key, sent_since,
                             lambda: self.dms.append((community, member, reply)))

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        await asyncio.sleep(0)
        return self._outcome(community.id, None, None,
                             lambda: self.edits.append((community, channel_id, marker, reply)))

    def texts(self) -> list[str]:
        return [reply.plain_text() for _, _, reply in self.posts]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def community(name: str = "test") -> CommunityRef:
    return CommunityRef(Platform.CONSOLE, name)


def schedule(name: str = "test", time: str = "09:00", days: str = "mon,tue,wed,thu,fri,sat,sun",
             zone: str = "Europe/Berlin", recap: str | None = "monday",
             channel: str = "general") -> Schedule:
    return Schedule(community(name), channel, zone, time, days, recap)


def make_scheduler(repo, app, poster, clock, grace_minutes: int = 120, concurrency: int = 4
                   ) -> Scheduler:
    return Scheduler(repo, app, {Platform.CONSOLE: poster}, clock, grace_minutes=grace_minutes,
                     limits={Platform.CONSOLE: PostingLimits(concurrency)})
