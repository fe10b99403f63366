"""One module per feature area. Each handler takes the shared ``Deps``, the invocation and its
validated options, and returns a ``Reply``, or raises a ``Refusal`` (``bot.errors``;
``OptionError`` is one) that ``App`` turns into the error reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.ids import CommunityRef, MemberRef
from bot.invocation import Caller
from bot.ports import Charts, Clock, Repository

ScheduleListener = Callable[[CommunityRef], Awaitable[None]]
# A command's options as ``bot.commands.validate`` returns them: each value of the type its
# OptionSpec declares (str, int, bool, date or MemberRef), so handlers read them as such.
Options = dict[str, Any]


class Hooks:
    """Listeners the composition root wires in: the scheduler hears about /checkin changes
    here and rebuilds that community's jobs."""

    def __init__(self) -> None:
        self.schedule_changed: list[ScheduleListener] = []

    async def notify_schedule_changed(self, community: CommunityRef) -> None:
        for listener in list(self.schedule_changed):
            await listener(community)


@dataclass(frozen=True)
class Deps:
    repo: Repository
    clock: Clock
    default_timezone: str = "UTC"
    max_logs_per_hour: int = 20
    hooks: Hooks = field(default_factory=Hooks, compare=False)
    charts: Charts | None = field(default=None, compare=False)  # no pictures without one

    def zone(self, member_tz: str | None, community_tz: str | None) -> ZoneInfo:
        """A member's zone: their own /timezone, else their community's check-in zone, else
        DEFAULT_TIMEZONE. Their day (promises, streaks, goals) ends at its midnight."""
        return ZoneInfo(member_tz or community_tz or self.default_timezone)

    async def member_zone(self, caller: Caller) -> ZoneInfo:
        return await self.zone_of(caller.community, caller.member)

    async def zone_of(self, community: CommunityRef, member: MemberRef) -> ZoneInfo:
        community_tz, member_tz = await self.repo.zones(community, member)
        return self.zone(member_tz, community_tz)

    async def community_zone(self, community: CommunityRef) -> ZoneInfo:
        """The zone of the community's check-ins if set, else the default: leaderboard weeks
        and months start at its midnight."""
        schedule = await self.repo.get_schedule(community)
        return ZoneInfo(schedule.timezone if schedule else self.default_timezone)

    def now(self) -> datetime:
        return self.clock.now()
