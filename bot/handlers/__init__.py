"""One module per feature area. Each handler takes the shared ``Deps``, the invocation and its
validated options, and returns a ``Reply``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.invocation import Caller
from bot.ports import Clock, Repository


@dataclass(frozen=True)
class Deps:
    repo: Repository
    clock: Clock
    default_timezone: str = "UTC"

    async def member_zone(self, caller: Caller) -> ZoneInfo:
        info = await self.repo.member(caller.community, caller.member)
        return ZoneInfo(info.timezone if info and info.timezone else self.default_timezone)

    def community_zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    def now(self) -> datetime:
        return self.clock.now()
