"""Helpers shared by the suite (the fixtures built on them live in ``tests/conftest.py``): a
fake clock, the console community, and shortcuts that run a command or press a button on the
real core as a member."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import App
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation, Caller
from bot.reply import Action, Reply


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


COMMUNITY = CommunityRef(Platform.CONSOLE, "test")


def caller(name: str = "ana", admin: bool = False, community: CommunityRef = COMMUNITY) -> Caller:
    return Caller(MemberRef(community.platform, name), name, community,
                  ChannelRef(community.platform, "general"), is_admin=admin)


async def run(app: App, line: str, who: str = "ana", request_id: str | None = None) -> Reply:
    """Run one text command (``/rejected asked for a raise fear:3``) as ``who``."""
    command, _, text = line.lstrip("/").partition(" ")
    return await app.run_text(command, text, caller(who), request_id)


async def press(app: App, action: Action, who: str = "ana") -> Reply:
    return await app.handle_action(ActionInvocation(action.name, action.value, caller(who)))


def edit_rows_in_file(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    """(state, target, reason) of every EDIT row in the outbox of ``tmp_path``'s test.db, read
    from the database file."""
    with sqlite3.connect(f"file:{tmp_path / 'test.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT state, target, reason FROM outbox WHERE kind = 'edit' "
                          "ORDER BY id").fetchall()
