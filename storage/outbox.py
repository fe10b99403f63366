"""The outbox's statements: units of work that run in one transaction of either backend.

Lease times are ``Tx.now`` plus the lease: the database's clock on PostgreSQL, so processes on
several machines agree on when a lease lapses; on SQLite every process sharing the file runs on
one machine and shares its clock (the caller's ``now``). Claims are one ``UPDATE … RETURNING``
over the ready rows; SQLite serialises writers, and on PostgreSQL the rows are picked ``FOR
UPDATE SKIP LOCKED``, so two processes never claim the same row, nor wait on each other's.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.ids import CommunityRef, MemberRef
from bot.models import (
    CRASHED_WHILE_SENDING,
    OFFLINE,
    FollowUp,
    MemberInfo,
    NewPost,
    News,
    Nudge,
    OutboxItem,
    OutboxState,
    PostKind,
    PostResult,
)
from bot.shards import MAX_ID, ShardSpec
from storage import reminds  # it queues through here: imported as a module
from storage.db import Row, Store, Tx
from storage.pauses import PAUSED_NOW, RESUMED_AT
from storage.rows import attempt_row, commitment_row, community_ref, from_ts, ts

FINAL = (OutboxState.SENT, OutboxState.MISSED)
HELD = "state IN ('claimed', 'sending')"  # as the partial index outbox_held says it


def _maybe(value: str | None) -> datetime | None:
    return None if value is None else from_ts(value)


def scope(platforms: Collection[str] | None, communities: Collection[CommunityRef] | None,
          column: str = "community_id", shards: Sequence[ShardSpec] = ()
          ) -> tuple[str, list[Any]]:
    """A WHERE fragment for the platforms, communities and shards a process serves."""
    where: list[str] = []
    args: list[Any] = []
    if platforms is not None:
        wanted = sorted({str(p) for p in platforms}) or ["-"]
        where.append("(" + " OR ".join(f"{column} LIKE ?" for _ in wanted) + ")")
        args += [f"{p}:%" for p in wanted]
    if communities is not None:
        keys = sorted({k.key for k in communities}) or ["-"]
        where.append(f"{column} IN ({','.join('?' * len(keys))})")
        args += keys
    for spec in shards:
        if not spec.everything:
            where.append(shard_filter(spec, column))
    return (" AND ".join(where) or "TRUE"), args


def shard_filter(spec: ShardSpec, column: str = "community_id") -> str:
    """``bot.shards.ShardSpec.owns`` in SQL, the same on both backends: a community of another
    platform passes; one of ``spec.platform`` passes when its numeric id, shifted and taken
    modulo the count, is one of the shards. An id that isn't a number up to BIGINT's largest
    is nobody's (the CASE keeps PostgreSQL from casting it). Only integers are inlined, so the
    statement stays one prepared statement per process."""
    prefix = f"{spec.platform.value}:"
    start = len(prefix) + 1
    ident = f"substr({column}, {start})"
    number = (f"CASE WHEN length({ident}) BETWEEN 1 AND {len(str(MAX_ID))} "
              f"AND trim({ident}, '0123456789') = '' "
              f"AND (length({ident}) < {len(str(MAX_ID))} OR {ident} <= '{MAX_ID}') "
              f"THEN CAST({ident} AS BIGINT) END")
    ids = ",".join(str(i) for i in sorted(spec.ids))
    return (f"(substr({column}, 1, {len(prefix)}) <> '{prefix}' "
            f"OR (({number}) >> {spec.shift:d}) % {spec.count:d} IN ({ids}))")


_KINDS = {k.value: k for k in PostKind}  # dict lookups: a minute's claims map thousands
_STATES = {s.value: s for s in OutboxState}


def item(row: Row, followup: FollowUp | None = None, zone: str | None = None,
         news: News | None = None, nudge: Nudge | None = None) -> OutboxItem:
    return OutboxItem(
        id=row["id"], community=community_ref(row["community_id"]),
        kind=_KINDS[row["kind"]], subject=row["subject"], target=row["target"],
        due_at=from_ts(row["due_at"]),
        deadline=from_ts(row["deadline"]), state=_STATES[row["state"]],
        tries=row["tries"], sent_since=_maybe(row["sent_since"]), reason=row["reason"],
        next_try_at=_maybe(row["next_try_at"]), finished_at=_maybe(row["finished_at"]),
        followup=followup, zone=zone, news=news, nudge=nudge)


ROWS_PER_INSERT = 2500  # 11 values each: under SQLite's 32,766 bound values


def enqueue(c: Tx, posts: Sequence[NewPost], at: datetime) -> list[bool]:
    """Insert the posts not in the outbox yet, a few thousand per statement; True for those."""
    now = ts(at)
    added: set[tuple[str, str, str]] = set()
    for start in range(0, len(posts), ROWS_PER_INSERT):
        chunk = posts[start:start + ROWS_PER_INSERT]
        values = [v for p in chunk for v in (
            p.community.key, str(p.kind), p.subject, p.target, ts(p.due_at), ts(p.deadline),
            OutboxState.MISSED if p.missed else OutboxState.DUE, now, p.missed, now,
            now if p.missed else None)]
        added.update((r[0], r[1], r[2]) for r in c.execute(
            "INSERT INTO outbox (community_id, kind, subject, target, due_at, deadline, state, "
            "next_try_at, reason, created_at, finished_at) VALUES "
            + ",".join("(?,?,?,?,?,?,?,?,?,?,?)" for _ in chunk)
            + " ON CONFLICT DO NOTHING RETURNING community_id, kind, subject", values))
    return [(p.community.key, str(p.kind), p.subject) in added for p in posts]


def enqueue_followups(c: Tx, now: datetime, deadline: datetime,
                      max_age: timedelta, platforms: Collection[str] | None,
                      communities: Collection[CommunityRef] | None,
                      shards: Sequence[ShardSpec] = ()) -> tuple[int, int]:
    """Promises due by ``now`` and not yet followed up: each marked followed up and, if its
    owner wants reminders and it isn't older than ``max_age``, queued as a follow-up DM. A
    member on a break (/pause) is left alone until it ends: a promise that fell due during
    one counts as due when it ended."""
    where, args = scope(platforms, communities, "k.community_id", shards)
    stamp = ts(now)
    rows = c.execute(
        "SELECT k.id, k.community_id, k.member_id, k.due_at, m.reminders, "
        f"{RESUMED_AT} AS resumed_at FROM commitments k "
        "JOIN members m ON m.community_id = k.community_id AND m.member_id = k.member_id "
        "WHERE k.status = 'open' AND k.followed_up_at IS NULL AND k.due_at <= ? "
        f"AND NOT {PAUSED_NOW} AND " + where
        + " ORDER BY k.due_at, k.id LIMIT 5000", [stamp, stamp, stamp, *args]).fetchall()
    c.executemany("UPDATE commitments SET followed_up_at = ? WHERE id = ?",
                  [(stamp, r["id"]) for r in rows])
    oldest = now - max_age
    due = {r["id"]: from_ts(max(r["due_at"], r["resumed_at"] or "")) for r in rows}
    send = [r for r in rows if r["reminders"] and due[r["id"]] >= oldest]
    enqueue(c, [NewPost(community_ref(r["community_id"]), PostKind.FOLLOWUP,
                        str(r["id"]), MemberRef.from_key(r["member_id"]).id,
                        due[r["id"]], deadline) for r in send], now)
    return len(send), len(rows) - len(send)


def claim(c: Tx, owner: str, now: datetime, lease: timedelta, limit: int,
          platforms: Collection[str] | None, communities: Collection[CommunityRef] | None,
          shards: Sequence[ShardSpec] = ()) -> tuple[list[OutboxItem], list[OutboxItem]]:
    """Give up what can no longer go out in time, then claim up to ``limit`` ready posts: ones
    whose lease lapsed (their process died or hung) first, then due ones whose time has come,
    in the order they came due. A lapsed *sending* one may have reached the platform: it
    carries ``sent_since``. Returns (claimed, newly missed). Each statement walks a partial
    index, so the cost follows what is ready, not the outbox's history. ``shards``: only
    the communities of this process's shards, missed ones included (another process owns
    the rest, and records its own as missed)."""
    where, args = scope(platforms, communities, shards=shards)
    now = c.now(now)
    at = ts(now)
    missed = c.execute(
        "UPDATE outbox SET state = 'missed', finished_at = ?, reason = COALESCE(reason, ?) "
        f"WHERE state = 'due' AND deadline < ? AND {where} RETURNING *",
        [at, OFFLINE, at, *args]).fetchall()
    missed += c.execute(
        "UPDATE outbox SET state = 'missed', owner = NULL, lease_until = NULL, finished_at = ?, "
        "reason = CASE WHEN state = 'sending' THEN ? ELSE COALESCE(reason, ?) END, "
        "sent_since = CASE WHEN state = 'sending' THEN COALESCE(sent_since, try_at) "
        "ELSE sent_since END "
        f"WHERE {HELD} AND lease_until <= ? AND deadline < ? AND {where} RETURNING *",
        [at, CRASHED_WHILE_SENDING, OFFLINE, at, at, *args]).fetchall()
    take = ("UPDATE outbox SET state = 'claimed', owner = ?, lease_until = ?, "
            "sent_since = CASE WHEN state = 'sending' THEN COALESCE(sent_since, try_at) "
            "ELSE sent_since END WHERE id IN (SELECT id FROM outbox WHERE {ready} AND "
            + where + " ORDER BY {order} LIMIT ?" + c.skip_locked + ") RETURNING *")
    until = ts(now + lease)
    rows = c.execute(take.format(ready=f"{HELD} AND lease_until <= ?", order="lease_until"),
                     [owner, until, at, *args, limit]).fetchall()
    if len(rows) < limit:
        rows += c.execute(take.format(ready="state = 'due' AND next_try_at <= ?",
                                      order="next_try_at"),
                          [owner, until, at, *args, limit - len(rows)]).fetchall()
    rows.sort(key=lambda r: (r["due_at"], r["id"]))
    follow = _followups(c, [int(r["subject"]) for r in rows if r["kind"] == PostKind.FOLLOWUP])
    news = _news(c, [int(r["subject"]) for r in rows if r["kind"] == PostKind.NEWS])
    nudged = reminds.nudges(c, [r for r in rows if r["kind"] == PostKind.REMIND], now)
    claimed = [item(r, *follow.get(int(r["subject"]), (None, None)))
               if r["kind"] == PostKind.FOLLOWUP else
               item(r, news=news.get((r["community_id"], int(r["subject"]))))
               if r["kind"] == PostKind.NEWS
               else item(r, nudge=nudged.get(r["id"])) if r["kind"] == PostKind.REMIND
               else item(r) for r in rows]
    return claimed, [item(r) for r in missed]


def _news(c: Tx, ids: list[int]) -> dict[tuple[str, int], News]:
    """What each news post tells, by (community, attempt id): the attempt a promise became (made
    private since by /edit, it is told without its words), with its member's name. One undone
    (or forgotten) meanwhile is left out; its news went with it (``drop_news``), so no other
    attempt that took its id since (SQLite hands out a deleted top id again) is told."""
    found: dict[tuple[str, int], News] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in c.execute(
                "SELECT a.*, m.display_name FROM attempts a JOIN members m ON "
                "m.community_id = a.community_id AND m.member_id = a.member_id "
                f"WHERE a.id IN ({','.join('?' * len(chunk))}) AND a.commitment_id IS NOT NULL",
                chunk):
            found[(r["community_id"], r["id"])] = News(attempt_row(r), r["display_name"])
    return found


def _followups(c: Tx, ids: list[int]
               ) -> dict[int, tuple[FollowUp | None, str | None]]:
    """What each follow-up is about: the promise, still open, and its owner (with the
    community's check-in zone for the wording). A closed or removed one is left out."""
    if not ids:
        return {}
    found: dict[int, tuple[FollowUp | None, str | None]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in c.execute(
                "SELECT k.*, m.display_name, m.timezone AS member_zone, m.reminders, "
                "s.timezone AS community_zone FROM commitments k JOIN members m ON "
                "m.community_id = k.community_id AND m.member_id = k.member_id "
                "LEFT JOIN schedules s ON s.community_id = k.community_id "
                f"WHERE k.id IN ({','.join('?' * len(chunk))}) AND k.status = 'open'", chunk):
            promise = commitment_row(r)
            info = MemberInfo(promise.member, r["display_name"], r["member_zone"],
                              bool(r["reminders"]))
            found[r["id"]] = (FollowUp(community_ref(r["community_id"]), promise,
                                       info), r["community_zone"])
    return found


def start_sending(c: Tx, owner: str, ids: Sequence[int], now: datetime,
                  lease: timedelta) -> set[int]:
    """Mark claimed posts as being sent (a try starts now), renewing their lease; returns the
    ids still held by ``owner`` (a lease that lapsed meanwhile belongs to someone else now)."""
    mine: set[int] = set()
    now = c.now(now)
    at, until = ts(now), ts(now + lease)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        mine.update(r[0] for r in c.execute(
            "UPDATE outbox SET state = 'sending', tries = tries + 1, try_at = ?, lease_until = ? "
            f"WHERE id IN ({','.join('?' * len(chunk))}) AND owner = ? AND state = 'claimed' "
            "RETURNING id", [at, until, *chunk, owner]))
    return mine


# An /edit came after this try of its post began (``storage.edits.REARM`` moved its due_at):
# the try may show the entry as it was, so the post is due again at once (the next run).
AGAIN = "kind = 'edit' AND due_at > try_at"


def finish(c: Tx, owner: str, results: Sequence[PostResult]) -> None:
    c.executemany(
        f"UPDATE outbox SET state = CASE WHEN {AGAIN} THEN 'due' ELSE ? END, reason = ?, "
        f"next_try_at = CASE WHEN {AGAIN} THEN due_at ELSE COALESCE(?, next_try_at) END, "
        f"message_id = COALESCE(?, message_id), finished_at = CASE WHEN {AGAIN} THEN NULL "
        "ELSE ? END, owner = NULL, lease_until = NULL, "
        "sent_since = CASE WHEN ? = 1 THEN COALESCE(sent_since, try_at) ELSE sent_since END "
        f"WHERE id = ? AND owner = ? AND {HELD}",
        [(r.state, r.reason, None if r.next_try_at is None else ts(r.next_try_at),
          r.message_id, ts(r.at) if r.state in FINAL else None, int(r.uncertain), r.item_id,
          owner) for r in results])


def renew(c: Tx, owner: str, now: datetime, lease: timedelta) -> int:
    return c.execute(f"UPDATE outbox SET lease_until = ? WHERE {HELD} AND owner = ?",
                     (ts(c.now(now) + lease), owner)).rowcount


def release(c: Tx, owner: str) -> int:
    """Hand back what ``owner`` claimed but hasn't started sending (a clean stop): due again at
    once, for whoever claims next. Posts being sent keep their lease until it lapses."""
    return c.execute("UPDATE outbox SET state = 'due', owner = NULL, lease_until = NULL "
                     f"WHERE {HELD} AND state = 'claimed' AND owner = ?", (owner,)).rowcount


def latest(c: Tx, community: CommunityRef, kinds: Sequence[PostKind]
           ) -> list[OutboxItem]:
    """The most recent post of each kind in the community (for /checkin show): check-ins and
    recaps, whose subject is their local date, so the unique key finds the latest."""
    out = []
    for kind in kinds:
        row = c.execute("SELECT * FROM outbox WHERE community_id = ? AND kind = ? "
                        "ORDER BY subject DESC LIMIT 1", (community.key, kind)).fetchone()
        if row is not None:
            out.append(item(row))
    return out


def oldest_due(c: Tx, now: datetime, platforms: Collection[str] | None) -> datetime | None:
    """When the oldest post not yet sent or given up fell due (at or before ``now``): the due
    ones and the held ones, each read along its partial index, so the cost follows what is
    pending, not the outbox's history."""
    where, args = scope(platforms, None)
    at = ts(now)
    found = [row[0] for ready in ("state = 'due' AND next_try_at IS NOT NULL",
                                  f"{HELD} AND lease_until IS NOT NULL")
             for row in c.execute(f"SELECT MIN(due_at) FROM outbox WHERE {ready} AND "
                                  f"due_at <= ? AND {where}", [at, *args])
             if row[0] is not None]
    return from_ts(min(found)) if found else None


class OutboxStore(Store):
    """The outbox half of the repository."""

    async def enqueue_posts(self, posts: Sequence[NewPost], at: datetime) -> list[bool]:
        return await self._write(lambda c: enqueue(c, posts, at))

    async def enqueue_followups(self, now: datetime, deadline: datetime, max_age: timedelta,
                                platforms: Collection[str] | None = None,
                                communities: Collection[CommunityRef] | None = None,
                                shards: Sequence[ShardSpec] = ()) -> tuple[int, int]:
        return await self._write(lambda c: enqueue_followups(
            c, now, deadline, max_age, platforms, communities, shards))

    async def claim_posts(self, owner: str, now: datetime, lease: timedelta, limit: int,
                          platforms: Collection[str] | None = None,
                          communities: Collection[CommunityRef] | None = None,
                          shards: Sequence[ShardSpec] = ()
                          ) -> tuple[list[OutboxItem], list[OutboxItem]]:
        return await self._write(lambda c: claim(c, owner, now, lease, limit, platforms,
                                                 communities, shards))

    async def start_sending(self, owner: str, ids: Sequence[int], now: datetime,
                            lease: timedelta) -> set[int]:
        return await self._write(lambda c: start_sending(c, owner, ids, now, lease))

    async def finish_posts(self, owner: str, results: Sequence[PostResult]) -> None:
        await self._write(lambda c: finish(c, owner, results))

    async def renew_leases(self, owner: str, now: datetime, lease: timedelta) -> int:
        return await self._write(lambda c: renew(c, owner, now, lease))

    async def release_posts(self, owner: str) -> int:
        return await self._write(lambda c: release(c, owner))

    async def last_posts(self, community: CommunityRef) -> list[OutboxItem]:
        return await self._read(lambda c: latest(c, community,
                                                        (PostKind.CHECKIN, PostKind.RECAP)))

    async def outbox_oldest_due(self, now: datetime, platforms: Collection[str] | None = None
                                ) -> datetime | None:
        return await self._read(lambda c: oldest_due(c, now, platforms))
