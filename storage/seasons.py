"""Seasons: starting one (one at a time per community), ending it with its post queued in the
same transaction (by command, or set-based for every season whose last day is over), and
what it counted: its board, its champions and its days.

A season spans any dates, so its counts are read from the attempts themselves: one range of
the ``attempts_by_time`` index (community, created_at) from its start to its end, grouped by
member. That costs what the season holds, not the community's history; the maintained
week and month aggregates can't serve an arbitrary span.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    Brave,
    Leaderboard,
    LeaderRow,
    NewPost,
    PostKind,
    RankBy,
    Season,
    SeasonResult,
    Totals,
)
from bot.shards import ShardSpec
from storage.db import Row, Store, Tx
from storage.outbox import enqueue, scope
from storage.rows import attempt_row, community_ref, from_ts, member_ref, ts

MAX_BRAVEST = 3  # asks sharing the highest fear that a season names


def season_row(row: Row) -> Season:
    return Season(id=int(row["id"]), community=community_ref(row["community_id"]),
                  name=row["name"], end_date=date.fromisoformat(row["end_date"]),
                  timezone=row["timezone"], started_at=from_ts(row["started_at"]),
                  ends_at=from_ts(row["ends_at"]),
                  ended_at=from_ts(row["ended_at"]) if row["ended_at"] else None,
                  channel_id=row["channel_id"])


def running(c: Tx, community: str) -> Season | None:
    row = c.execute("SELECT * FROM seasons WHERE community_id = ? AND ended_at IS NULL",
                    (community,)).fetchone()
    return None if row is None else season_row(row)


def queue_posts(c: Tx, seasons: Sequence[Season], at: datetime, window: timedelta) -> None:
    """The end-of-season post of each: to the community's check-in channel if it has one on,
    else where the season was started (nowhere without either)."""
    if not seasons:
        return
    keys = sorted({s.community.key for s in seasons})
    channels: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        channels.update((r[0], r[1]) for r in c.execute(
            "SELECT community_id, channel_id FROM schedules WHERE enabled = 1 AND "
            f"community_id IN ({','.join('?' * len(chunk))})", chunk))
    posts = [NewPost(s.community, PostKind.SEASON, str(s.id), target, at, at + window)
             for s in seasons
             if (target := channels.get(s.community.key) or s.channel_id)]
    enqueue(c, posts, at)


def end_due(c: Tx, now: datetime, window: timedelta, platforms: Collection[str] | None,
            communities: Collection[CommunityRef] | None, shards: Sequence[ShardSpec] = ()
            ) -> list[Season]:
    """End every running season whose last day is over (at that day's end, not later), and
    queue their posts: one statement along the partial index of running seasons. A second
    process finds them ended already and ends, and queues, nothing."""
    where, args = scope(platforms, communities, shards=shards)
    ended = [season_row(r) for r in c.execute(
        "UPDATE seasons SET ended_at = ends_at WHERE ended_at IS NULL AND ends_at <= ? AND "
        + where + " RETURNING *", [ts(now), *args]).fetchall()]
    queue_posts(c, ended, now, window)
    return ended


def end_now(c: Tx, community: str, at: datetime, window: timedelta) -> Season | None:
    """End the community's running season now (or at its end, if that passed already) and
    queue its post; None when none runs."""
    row = c.execute("UPDATE seasons SET ended_at = CASE WHEN ends_at < ? THEN ends_at ELSE ? END "
                    "WHERE community_id = ? AND ended_at IS NULL RETURNING *",
                    (ts(at), ts(at), community)).fetchone()
    if row is None:
        return None
    season = season_row(row)
    queue_posts(c, [season], at, window)
    return season


def _counts(c: Tx, season: Season) -> list[Row]:
    """Each member's asks and no's in the season, most first (ties by name): one range of
    the attempts' time index."""
    return c.execute(
        "SELECT a.member_id, m.display_name, COUNT(*) AS asks, "
        "SUM(CASE WHEN a.outcome = 'rejected' THEN 1 ELSE 0 END) AS nos FROM attempts a "
        "JOIN members m ON m.community_id = a.community_id AND m.member_id = a.member_id "
        "WHERE a.community_id = ? AND a.created_at >= ? AND a.created_at < ? "
        "GROUP BY a.member_id, m.display_name",
        (season.community.key, ts(season.started_at), ts(season.until))).fetchall()


def _ranked(rows: Sequence[Row], column: str) -> list[LeaderRow]:
    """Rows with at least one, ranked by ``column``: ties share a rank (1, 1, 3)."""
    ordered = sorted((r for r in rows if int(r[column]) > 0),
                     key=lambda r: (-int(r[column]), r["display_name"], r["member_id"]))
    out: list[LeaderRow] = []
    for place, r in enumerate(ordered, start=1):
        n = int(r[column])
        rank = out[-1].rank if out and out[-1].count == n else place
        out.append(LeaderRow(rank, member_ref(r["member_id"]), r["display_name"], n))
    return out


def board(c: Tx, season: Season, by: RankBy, caller: MemberRef, limit: int) -> Leaderboard:
    ranked = _ranked(_counts(c, season), "asks" if by == RankBy.ATTEMPTS else "nos")
    mine = next((r for r in ranked if r.member == caller), None)
    return Leaderboard(tuple(ranked[:limit]), mine, len(ranked))


def result(c: Tx, season: Season, with_days: bool = False) -> SeasonResult:
    rows = _counts(c, season)
    asks, nos = _ranked(rows, "asks"), _ranked(rows, "nos")
    args = (season.community.key, ts(season.started_at), ts(season.until))
    brave = [Brave(attempt_row(r), r["display_name"]) for r in c.execute(
        "SELECT a.*, m.display_name FROM attempts a JOIN members m ON "
        "m.community_id = a.community_id AND m.member_id = a.member_id "
        "WHERE a.community_id = ? AND a.created_at >= ? AND a.created_at < ? "
        "AND a.private = 0 AND a.fear = (SELECT MAX(fear) FROM attempts WHERE community_id = ? "
        "AND created_at >= ? AND created_at < ? AND private = 0) "
        "ORDER BY a.created_at, a.id LIMIT ?", (*args, *args, MAX_BRAVEST))]
    total = sum(int(r["asks"]) for r in rows)
    rejected = sum(int(r["nos"]) for r in rows)
    days: tuple[tuple[date, str, int], ...] = ()
    if with_days:
        days = tuple((date.fromisoformat(r[0]), str(r[1]), int(r[2])) for r in c.execute(
            "SELECT local_day, outcome, COUNT(*) FROM attempts WHERE community_id = ? AND "
            "created_at >= ? AND created_at < ? GROUP BY local_day, outcome "
            "ORDER BY local_day, outcome", args))
    return SeasonResult(season, tuple(r for r in asks if r.rank == 1),
                        tuple(r for r in nos if r.rank == 1), tuple(brave),
                        Totals(attempts=total, rejected=rejected), len(rows), days)


class SeasonStore(Store):
    """The seasons part of the repository."""

    async def start_season(self, community: CommunityRef, name: str, end_date: date,
                           zone: str, ends_at: datetime, channel_id: str | None,
                           at: datetime, window: timedelta) -> tuple[Season, bool]:
        def unit(c: Tx) -> tuple[Season, bool]:
            # One whose last day is over but that no tick has ended yet ends first.
            end_due(c, at, window, None, [community])
            row = c.execute(
                "INSERT INTO seasons (community_id, name, end_date, timezone, started_at, "
                "ends_at, channel_id) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (community_id) WHERE ended_at IS NULL DO NOTHING RETURNING *",
                (community.key, name, end_date.isoformat(), zone, ts(at), ts(ends_at),
                 channel_id)).fetchone()
            if row is not None:
                return season_row(row), True
            other = running(c, community.key)
            if other is None:  # never: the conflict was with it
                raise RuntimeError("no season was started, and none runs")
            return other, False
        return await self._write(unit)

    async def running_season(self, community: CommunityRef) -> Season | None:
        return await self._read(lambda c: running(c, community.key))

    async def end_season(self, community: CommunityRef, at: datetime, window: timedelta
                         ) -> Season | None:
        return await self._write(lambda c: end_now(c, community.key, at, window))

    async def end_due_seasons(self, now: datetime, window: timedelta,
                              platforms: Collection[str] | None = None,
                              communities: Collection[CommunityRef] | None = None,
                              shards: Sequence[ShardSpec] = ()) -> int:
        return len(await self._write(lambda c: end_due(c, now, window, platforms,
                                                       communities, shards)))

    async def season_leaderboard(self, season: Season, by: RankBy, caller: MemberRef,
                                 limit: int = 10) -> Leaderboard:
        return await self._read(lambda c: board(c, season, by, caller, limit))

    async def season_result(self, community: CommunityRef, season_id: int,
                            with_days: bool = False) -> SeasonResult | None:
        def unit(c: Tx) -> SeasonResult | None:
            row = c.execute("SELECT * FROM seasons WHERE id = ? AND community_id = ?",
                            (season_id, community.key)).fetchone()
            return None if row is None else result(c, season_row(row), with_days)
        return await self._read(unit)

    async def season_history(self, community: CommunityRef, limit: int = 10
                             ) -> list[SeasonResult]:
        def unit(c: Tx) -> list[SeasonResult]:
            rows = c.execute("SELECT * FROM seasons WHERE community_id = ? AND ended_at IS NOT "
                             "NULL ORDER BY ended_at DESC, id DESC LIMIT ?",
                             (community.key, limit)).fetchall()
            return [result(c, season_row(r)) for r in rows]
        return await self._read(unit)
