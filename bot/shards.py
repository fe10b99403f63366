"""Which communities of a sharded platform this process serves.

A platform whose connections are split into shards (Discord: each gateway session serves the
servers of one shard) runs them over several processes. Each process then owns the communities
of its own shards: it answers their commands (the platform sends them only there) and it alone
posts their check-ins. ``ShardSpec`` says which ones, in numbers only, so the core stays
platform-free: a community of ``platform`` whose numeric id, shifted right by ``shift`` bits,
is ``n`` modulo ``count`` belongs to shard ``n``. The adapter that knows the platform's rule
builds it (Discord's is ``(guild_id >> 22) % shard_count``); the scheduler keeps to it, and the
repository turns it into SQL (``storage.outbox.scope``) so that a claim never picks another
process's posts.

A community whose id isn't a number (no platform makes one; a hand-edited row might) is
nobody's: never posted for by a sharded process.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ids import CommunityRef, Platform

# The largest id the rule takes: the biggest signed 64-bit number (SQL's BIGINT).
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class ShardSpec:
    platform: Platform
    count: int
    ids: frozenset[int]
    shift: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"a shard count must be at least 1, not {self.count}")
        if not self.ids:
            raise ValueError("a process must own at least one shard")
        wrong = sorted(i for i in self.ids if not 0 <= i < self.count)
        if wrong:
            raise ValueError(f"shard ids {wrong} are not below the shard count {self.count}")
        if not 0 <= self.shift < 63:
            raise ValueError(f"shift must be in 0..62, not {self.shift}")

    @property
    def everything(self) -> bool:
        """Whether this process owns every shard (nothing to filter)."""
        return len(self.ids) == self.count

    @property
    def share(self) -> float:
        """The part of the platform this process serves (its shards over all of them)."""
        return len(self.ids) / self.count

    def shard_of(self, community_id: str) -> int | None:
        """The shard a community id belongs to; None for an id that isn't a number."""
        if not (community_id.isascii() and community_id.isdecimal()):
            return None
        number = int(community_id)
        if number > MAX_ID:
            return None
        return (number >> self.shift) % self.count

    def owns(self, community: CommunityRef) -> bool:
        """Whether this process serves the community (one of another platform: not its say)."""
        if community.platform is not self.platform or self.everything:
            return True
        return self.shard_of(community.id) in self.ids
