"""What the processes of one bot agree on through the database before they talk to a platform
(``bot.ports.Coordinator``): when each may start a gateway session, and which one syncs the
commands.

Identify slots. Discord lets a bot start at most ``max_concurrency`` sessions per 5 seconds,
one per bucket (``shard_id % max_concurrency``), whichever process starts them. A process
books the next slot of its bucket in one transaction, under the bucket's lock (an advisory
lock on PostgreSQL; SQLite's one writer on SQLite): ``interval`` after the slot booked before,
or now if that is longer ago, on the database's clock (``Tx.now``). It then waits the seconds
returned before it identifies. A slot booked by a process that died is simply spent.

Command sync claims. Syncing the commands is a bulk overwrite, needed once per change of the
catalogue, not once per process. ``claim_command_sync`` answers, in one transaction under the
key's lock: the catalogue is already synced (its hash is in kv), another process is syncing
right now (a claim of its own, not lapsed), or the claim is the caller's. The caller syncs and
reports with ``finish_command_sync``: the hash goes to kv if it synced, and the claim is let go
either way (a failed sync is tried again by the next process that starts).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.ports import SyncClaim
from storage.db import Store, Tx
from storage.rows import from_ts, ts


def identify_lock(bucket: str) -> str:
    return f"identify:{bucket}"


def sync_lock(key: str) -> str:
    return f"sync:{key}"


def reserve_identify(c: Tx, bucket: str, interval: timedelta, at: datetime) -> float:
    """Book the bucket's next slot; the seconds from now until it."""
    c.lock(identify_lock(bucket))
    now = c.now(at)
    row = c.execute("SELECT slot_at FROM identify_slots WHERE bucket = ?", (bucket,)).fetchone()
    slot = now if row is None else max(now, from_ts(row[0]) + interval)
    c.execute("INSERT INTO identify_slots (bucket, slot_at) VALUES (?, ?) ON CONFLICT (bucket) "
              "DO UPDATE SET slot_at = excluded.slot_at", (bucket, ts(slot)))
    return (slot - now).total_seconds()


def claim_sync(c: Tx, key: str, digest: str, owner: str, at: datetime,
               lease: timedelta) -> SyncClaim:
    c.lock(sync_lock(key))
    now = c.now(at)
    synced = c.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
    if synced is not None and synced[0] == digest:
        return SyncClaim.UNCHANGED
    held = c.execute("SELECT owner, lease_until FROM sync_claims WHERE key = ?",
                     (key,)).fetchone()
    if held is not None and held[0] != owner and from_ts(held[1]) > now:
        return SyncClaim.TAKEN
    c.execute("INSERT INTO sync_claims (key, digest, owner, lease_until) VALUES (?, ?, ?, ?) "
              "ON CONFLICT (key) DO UPDATE SET digest = excluded.digest, owner = excluded.owner, "
              "lease_until = excluded.lease_until", (key, digest, owner, ts(now + lease)))
    return SyncClaim.MINE


def finish_sync(c: Tx, key: str, digest: str, owner: str, synced: bool) -> None:
    c.lock(sync_lock(key))
    if synced:
        c.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                  "value = excluded.value", (key, digest))
    c.execute("DELETE FROM sync_claims WHERE key = ? AND owner = ?", (key, owner))


class GatewayStore(Store):
    """Identify slots and command sync claims (``bot.ports.Coordinator``)."""

    async def reserve_identify(self, bucket: str, interval: timedelta, at: datetime) -> float:
        return float(await self._write(lambda c: reserve_identify(c, bucket, interval, at)))

    async def claim_command_sync(self, key: str, digest: str, owner: str, at: datetime,
                                 lease: timedelta) -> SyncClaim:
        return SyncClaim(await self._write(lambda c: claim_sync(c, key, digest, owner, at,
                                                                lease)))

    async def finish_command_sync(self, key: str, digest: str, owner: str,
                                  synced: bool) -> None:
        await self._write(lambda c: finish_sync(c, key, digest, owner, synced))
