"""Shared pieces for the scheduler tests: a recording Poster and schedule helpers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import Schedule
from bot.ports import PostingLimits
from bot.reply import Reply
from bot.scheduler import Scheduler


@dataclass
class RecordingPoster:
    """Records every post and DM. ``fail`` maps a community id to False (refused) or an
    exception to raise. Like every Poster it declares its ``limits``."""

    limits: PostingLimits = PostingLimits(concurrency=4)
    posts: list[tuple[CommunityRef, str, Reply]] = field(default_factory=list)
    dms: list[tuple[CommunityRef, MemberRef, Reply]] = field(default_factory=list)
    fail: dict[str, object] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0
    hold: asyncio.Event | None = None

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply) -> bool:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold is not None:
                await self.hold.wait()
            else:
                await asyncio.sleep(0)
            outcome = self.fail.get(community.id)
            if isinstance(outcome, BaseException):
                raise outcome
            if outcome is False:
                return False
            self.posts.append((community, channel_id, reply))
            return True
        finally:
            self.in_flight -= 1

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply) -> bool:
        self.dms.append((community, member, reply))
        return True

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
