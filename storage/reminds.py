"""Personal nudges (/remind): a member's time and days, queued as outbox DMs.

The scheduler's tick reads only the rows whose ``next_at`` has come (along ``reminds_due``),
queues one nudge each for its member's local day, and moves ``next_at`` on, all in one
transaction: a second process or tick finds them moved on, and the outbox's unique key (one
nudge per member per local day) holds even if two raced.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.handlers.remind import last_remind, next_remind
from bot.ids import CommunityRef, MemberRef
from bot.models import MemberInfo, NewPost, Nudge, PostKind, Remind
from bot.shards import ShardSpec
from storage import outbox as queue  # it reads nudges from here: imported as a module
from storage.counters import touch_member
from storage.db import Row, Store, Tx
from storage.pauses import PAUSED_NOW
from storage.rows import community_ref, from_ts, ts

DUE_BATCH = 5000


def remind_row(row: Row) -> Remind:
    return Remind(row["remind_time"], row["days"], from_ts(row["next_at"]))


def subject(member: MemberRef, day: date) -> str:
    """A nudge's outbox subject: one per member per local day."""
    return f"{member.id}@{day.isoformat()}"


def enqueue_reminds(c: Tx, now: datetime, window: timedelta, default_zone: str,
                    platforms: Collection[str] | None,
                    communities: Collection[CommunityRef] | None,
                    shards: Sequence[ShardSpec] = ()) -> int:
    """Queue the nudges whose time has come (each in its member's zone as it is now) and move
    every due row on to its next time. A member with reminders off or on a break gets none
    (their row still moves on); one due longer ago than ``window`` (the bot was down) is
    skipped. Returns how many were queued."""
    where, args = queue.scope(platforms, communities, "k.community_id", shards)
    stamp = ts(now)
    rows = c.execute(
        "SELECT k.*, m.timezone AS member_zone, m.reminders, s.timezone AS community_zone, "
        f"{PAUSED_NOW} AS paused FROM reminds k "
        "JOIN members m ON m.community_id = k.community_id AND m.member_id = k.member_id "
        "LEFT JOIN schedules s ON s.community_id = k.community_id "
        f"WHERE k.next_at <= ? AND {where} ORDER BY k.next_at LIMIT {DUE_BATCH}",
        [stamp, stamp, stamp, *args]).fetchall()
    posts: list[NewPost] = []
    moves: list[tuple[str, str | None, str | None, str, str]] = []
    for r in rows:
        zone = ZoneInfo(r["member_zone"] or r["community_zone"] or default_zone)
        community, member = community_ref(r["community_id"]), MemberRef.from_key(r["member_id"])
        # The latest time on or before now (a day the bot was down for is skipped): one per
        # local day, by the outbox's key, even if the member's zone moved meanwhile.
        day, at = last_remind(r["remind_time"], r["days"], zone, now)
        queued_day, queued_from = r["queued_day"], r["queued_from"]
        if now - window <= at:
            if r["reminders"] and not r["paused"]:
                posts.append(NewPost(community, PostKind.REMIND, subject(member, day),
                                     member.id, at, at + window))
                queued_day = day.isoformat()
                queued_from = ts(datetime.combine(day, datetime.min.time(), tzinfo=zone))
        moves.append((ts(next_remind(r["remind_time"], r["days"], zone, now)), queued_day,
                      queued_from, r["community_id"], r["member_id"]))
    c.executemany("UPDATE reminds SET next_at = ?, queued_day = ?, queued_from = ? "
                  "WHERE community_id = ? AND member_id = ?", moves)
    return sum(queue.enqueue(c, posts, now))


def nudges(c: Tx, rows: Sequence[Row], now: datetime) -> dict[int, Nudge]:
    """What each claimed nudge needs, read now: its member, and whether they logged an ask
    since its day began or are on a break. A nudge whose /remind was turned off (or whose day
    was overtaken by a later one) is left out."""
    stamp = ts(now)
    found: dict[int, Nudge] = {}
    for row in rows:
        member = MemberRef.from_key(f"{row['community_id'].partition(':')[0]}:{row['target']}")
        r = c.execute(
            "SELECT k.queued_day, m.display_name, m.timezone, m.reminders, "
            f"{PAUSED_NOW} AS paused, EXISTS (SELECT 1 FROM attempts a WHERE "
            "a.community_id = k.community_id AND a.member_id = k.member_id "
            "AND a.created_at >= k.queued_from) AS logged FROM reminds k "
            "JOIN members m ON m.community_id = k.community_id AND m.member_id = k.member_id "
            "WHERE k.community_id = ? AND k.member_id = ?",
            (stamp, stamp, row["community_id"], member.key)).fetchone()
        if r is None or subject(member, date.fromisoformat(r["queued_day"] or "0001-01-01")
                                ) != row["subject"]:
            continue
        found[row["id"]] = Nudge(MemberInfo(member, r["display_name"], r["timezone"],
                                            bool(r["reminders"])),
                                 date.fromisoformat(r["queued_day"]), bool(r["logged"]),
                                 bool(r["paused"]))
    return found


class RemindStore(Store):
    """Nudges: set, read, turned off, queued."""

    async def get_remind(self, community: CommunityRef, member: MemberRef) -> Remind | None:
        def unit(c: Tx) -> Remind | None:
            row = c.execute("SELECT * FROM reminds WHERE community_id = ? AND member_id = ?",
                            (community.key, member.key)).fetchone()
            return None if row is None else remind_row(row)
        return await self._read(unit)

    async def set_remind(self, community: CommunityRef, member: MemberRef, name: str,
                         remind: Remind, at: datetime) -> Remind:
        def unit(c: Tx) -> Remind:
            touch_member(c, community.key, member.key, name, at)
            row = c.execute(
                "INSERT INTO reminds (community_id, member_id, remind_time, days, next_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (community_id, member_id) "
                "DO UPDATE SET remind_time = excluded.remind_time, days = excluded.days, "
                "next_at = excluded.next_at RETURNING *",
                (community.key, member.key, remind.time, remind.days, ts(remind.next_at),
                 ts(at))).fetchone()
            return remind_row(row)
        return await self._write(unit)

    async def clear_remind(self, community: CommunityRef, member: MemberRef) -> bool:
        def unit(c: Tx) -> bool:
            return bool(c.execute("DELETE FROM reminds WHERE community_id = ? AND member_id = ?",
                                  (community.key, member.key)).rowcount)
        return await self._write(unit)

    async def enqueue_reminds(self, now: datetime, window: timedelta, default_zone: str,
                              platforms: Collection[str] | None = None,
                              communities: Collection[CommunityRef] | None = None,
                              shards: Sequence[ShardSpec] = ()) -> int:
        return await self._write(lambda c: enqueue_reminds(
            c, now, window, default_zone, platforms, communities, shards))
