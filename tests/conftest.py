"""Shared fixtures: a real SQLite file per test, a fake clock, the real core."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.chart import MatplotlibCharts
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.reply import Action
from storage.sqlite import SqliteRepository


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def repo(tmp_path):
    repository = await SqliteRepository.open(tmp_path / "test.db")
    yield repository
    await repository.close()


@pytest.fixture
def app(repo, clock) -> App:
    # A generous hourly limit: many tests log dozens of asks without moving the clock.
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000,
               charts=MatplotlibCharts())


COMMUNITY = CommunityRef(Platform.CONSOLE, "test")


def caller(name: str = "ana", admin: bool = False, community: CommunityRef = COMMUNITY) -> Caller:
    return Caller(MemberRef(community.platform, name), name, community,
                  ChannelRef(community.platform, "general"), is_admin=admin)


async def run(app: App, line: str, who: str = "ana", request_id: str | None = None):
    """Run one text command (``/rejected asked for a raise fear:3``) as ``who``."""
    command, _, text = line.lstrip("/").partition(" ")
    return await app.run_text(command, text, caller(who), request_id)


async def press(app: App, action: Action, who: str = "ana"):
    return await app.handle_action(ActionInvocation(action.name, action.value, caller(who)))


__all__ = ["FakeClock", "COMMUNITY", "caller", "run", "press", "Invocation"]
