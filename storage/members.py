"""Members and their settings (name, zone, reminders), profiles, and the small key-value table
adapters keep their own settings in.
"""
from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    MemberInfo,
    Profile,
)
from storage.attempts import goal_of
from storage.counters import active_days, totals, touch_member
from storage.db import Store, Tx
from storage.rows import member_info

T = TypeVar("T")


def zones_unit(c: Tx, community: CommunityRef, member: MemberRef
                     ) -> tuple[str | None, str | None]:
    schedule = c.execute("SELECT timezone FROM schedules WHERE community_id = ?",
                         (community.key,)).fetchone()
    row = c.execute("SELECT timezone FROM members WHERE community_id = ? AND member_id = ?",
                    (community.key, member.key)).fetchone()
    return (schedule[0] if schedule else None), (row[0] if row else None)


class MemberStore(Store):
    """Members, profiles and settings."""

    async def member(self, community: CommunityRef, member: MemberRef) -> MemberInfo | None:
        def unit(c: Tx) -> MemberInfo | None:
            row = c.execute("SELECT * FROM members WHERE community_id = ? AND member_id = ?",
                            (community.key, member.key)).fetchone()
            return member_info(row) if row else None
        return await self._read(unit)

    async def find_member(self, community: CommunityRef, query: str) -> MemberInfo | None:
        def unit(c: Tx) -> MemberInfo | None:
            row = c.execute(
                "SELECT * FROM members WHERE community_id = ? AND (member_id = ? OR "
                "member_id = ? OR lower(display_name) = lower(?)) ORDER BY member_id LIMIT 1",
                (community.key, query, f"{community.platform.value}:{query}", query)).fetchone()
            if row is None and not query.isascii():
                # SQLite's lower() folds ASCII letters only, and so does PostgreSQL's on the
                # column's "C" collation: "JOSÉ" is "josÉ" to both. Names are compared here.
                key = query.casefold()
                row = next((r for r in c.execute(
                    "SELECT * FROM members WHERE community_id = ? ORDER BY member_id",
                    (community.key,)) if r["display_name"].casefold() == key), None)
            return member_info(row) if row else None
        return await self._read(unit)

    async def zones(self, community: CommunityRef, member: MemberRef
                          ) -> tuple[str | None, str | None]:
        return await self._read(lambda c: zones_unit(c, community, member))

    async def profile(self, community: CommunityRef, member: MemberRef) -> Profile | None:
        def unit(c: Tx) -> Profile | None:
            args = (community.key, member.key)
            row = c.execute("SELECT * FROM members WHERE community_id = ? AND member_id = ?",
                            args).fetchone()
            if row is None:
                return None
            # All from what's kept in step with the attempts: never the attempts themselves.
            areas = tuple((r[0], r[1]) for r in c.execute(
                "SELECT area, attempts FROM member_areas WHERE community_id = ? AND member_id = ? "
                "ORDER BY attempts DESC, area", args))
            given = c.execute("SELECT COUNT(*) FROM cheers WHERE community_id = ? AND member_id = ?",
                              args).fetchone()[0]
            received = c.execute("SELECT COUNT(*) FROM cheers WHERE community_id = ? "
                                 "AND owner_id = ?", args).fetchone()[0]
            return Profile(member_info(row), totals(c, *args), active_days(c, *args), areas,
                           given, received, goal_of(c, *args))
        return await self._read(unit)

    async def get_value(self, key: str) -> str | None:
        def unit(c: Tx) -> str | None:
            row = c.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        return await self._read(unit)

    async def set_value(self, key: str, value: str) -> None:
        def unit(c: Tx) -> None:
            c.execute("INSERT INTO kv (key, value) VALUES (?, ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        await self._write(unit)

    async def set_member_timezone(self, community: CommunityRef, member: MemberRef, name: str,
                                  zone: str, at: datetime) -> None:
        def unit(c: Tx) -> None:
            touch_member(c, community.key, member.key, name, at)
            c.execute("UPDATE members SET timezone = ? WHERE community_id = ? AND member_id = ?",
                      (zone, community.key, member.key))
        await self._write(unit)

    async def set_reminders(self, community: CommunityRef, member: MemberRef, name: str,
                            on: bool, at: datetime) -> None:
        def unit(c: Tx) -> None:
            touch_member(c, community.key, member.key, name, at)
            c.execute("UPDATE members SET reminders = ? WHERE community_id = ? AND member_id = ?",
                      (int(on), community.key, member.key))
        await self._write(unit)
