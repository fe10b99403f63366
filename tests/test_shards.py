"""Several processes of one sharded bot on one database, on both backends: which communities
each one posts for (``bot.shards.ShardSpec``, in the scheduler and in the outbox's SQL), the
identify slots they book, and the command sync claim that lets one of them sync."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.app import App
from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import NewCommitment, NewPost, PostKind, Schedule
from bot.ports import PostingLimits, SyncClaim
from bot.scheduler import Scheduler
from bot.shards import MAX_ID, ShardSpec
from tests.helpers import FakeClock
from tests.scheduler.helpers import RecordingPoster, utc

NOW = utc(2026, 11, 26, 8)
LEASE = timedelta(seconds=60)
INTERVAL = timedelta(seconds=5.5)
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"
BASE = 286102294  # 1200000000000000001 >> 22: ids shaped like today's snowflakes


def guild(n: int) -> str:
    """A server id whose shard, of 4, is ``n % 4``."""
    return str(((BASE - BASE % 4 + n) << 22) + 12345)


def spec(*ids: int, count: int = 4) -> ShardSpec:
    return ShardSpec(Platform.DISCORD, count, frozenset(ids), shift=22)


def discord(ident: str) -> CommunityRef:
    return CommunityRef(Platform.DISCORD, ident)


# ---------------------------------------------------------------------- the spec itself


def test_a_spec_owns_its_shards_servers_and_leaves_other_platforms_alone():
    first, second = spec(0, 1), spec(2, 3)
    for n in range(8):
        ref = discord(guild(n))
        assert first.owns(ref) == (n % 4 in (0, 1)) and second.owns(ref) == (n % 4 in (2, 3))
        assert first.shard_of(ref.id) == n % 4
    slack = CommunityRef(Platform.SLACK, "T0ABC")
    assert first.owns(slack) and second.owns(slack)
    assert not first.owns(discord("abc")) and not second.owns(discord("abc"))
    assert not first.owns(discord(str(MAX_ID + 1))) and not second.owns(discord(""))
    assert spec(0, 1, 2, 3).everything and spec(0, 1, 2, 3).owns(discord("abc"))
    assert first.share == 0.5


@pytest.mark.parametrize("args, message", [
    ((0, frozenset({0})), "at least 1"),
    ((4, frozenset()), "at least one shard"),
    ((4, frozenset({4})), "not below the shard count"),
])
def test_a_spec_refuses_what_cant_be(args, message):
    with pytest.raises(ValueError, match=message):
        ShardSpec(Platform.DISCORD, *args)


# ---------------------------------------------------------------------- the outbox's SQL


def post(ident: str, platform: Platform = Platform.DISCORD) -> NewPost:
    return NewPost(CommunityRef(platform, ident), PostKind.CHECKIN, "2026-11-26", "1",
                   NOW, NOW + timedelta(hours=2))


async def test_claims_keep_to_the_shards_and_agree_with_the_spec(repo):
    idents = [guild(n) for n in range(12)] + ["abc", "", "12x", str(MAX_ID), str(MAX_ID + 1),
                                              "0", "9" * 30]
    posts = [post(i) for i in idents] + [post("T0ONE", Platform.SLACK)]
    assert all(await repo.enqueue_posts(posts, NOW))
    first, second = spec(0, 1), spec(2, 3)
    got = {}
    for name, mine in (("first", first), ("second", second)):
        claimed, missed = await repo.claim_posts(name, NOW, LEASE, 100, None, None, [mine])
        assert not missed
        got[name] = {i.community for i in claimed if i.community.platform is Platform.DISCORD}
        assert got[name] == {p.community for p in posts if mine.owns(p.community)
                             and p.community.platform is Platform.DISCORD}, name
        assert len(got[name]) == 7  # six servers, and the biggest id the rule takes (or 0)
    assert not got["first"] & got["second"]
    # Ids that aren't numbers are nobody's; every real server is someone's.
    leftover, _ = await repo.claim_posts("third", NOW, LEASE, 100, ["discord"])
    assert {i.community.id for i in leftover} == {"abc", "", "12x", str(MAX_ID + 1), "9" * 30}


async def test_a_spec_of_every_shard_filters_nothing(repo):
    await repo.enqueue_posts([post("abc"), post(guild(1))], NOW)
    claimed, _ = await repo.claim_posts("all", NOW, LEASE, 10, None, None, [spec(0, 1, 2, 3)])
    assert len(claimed) == 2


# ---------------------------------------------------------------------- the scheduler


class DiscordPoster(RecordingPoster):
    pass


def scheduler(repo, clock, poster, shards) -> Scheduler:
    return Scheduler(repo, App(repo, clock), {Platform.DISCORD: poster}, clock,
                     limits={Platform.DISCORD: PostingLimits(4)}, shards=shards)


async def test_two_schedulers_post_each_servers_check_in_once_each_for_its_own(repo, reopen):
    clock = FakeClock(NOW + timedelta(minutes=2))
    for n in range(8):
        await repo.save_schedule(Schedule(discord(guild(n)), f"c{n}", "UTC", "08:00",
                                          EVERY_DAY, None), NOW - timedelta(days=1))
    posters = [DiscordPoster(), DiscordPoster()]
    other = await reopen()
    first = scheduler(repo, clock, posters[0], [spec(0, 1)])
    second = scheduler(other, clock, posters[1], [spec(2, 3)])
    assert first.serves(Schedule(discord(guild(4)), "c", "UTC", "08:00", EVERY_DAY, None))
    assert not first.serves(Schedule(discord(guild(2)), "c", "UTC", "08:00", EVERY_DAY, None))
    reports = await asyncio.gather(first.start(), second.start())
    try:
        assert [r.posted for r in reports] == [4, 4]
        for poster, mine in zip(posters, ((0, 1), (2, 3)), strict=True):
            assert sorted(c.id for c, _, _ in poster.posts) == sorted(
                guild(n) for n in range(8) if n % 4 in mine)
        # Only its own servers' jobs: the other half is the other process's.
        assert set(first._schedules) == {discord(guild(n)).key for n in (0, 1, 4, 5)}
    finally:
        await first.stop()
        await second.stop()


async def test_follow_ups_are_queued_by_the_process_of_their_servers_shard(repo):
    for n in range(8):
        ref = discord(guild(n))
        await repo.add_commitment(NewCommitment(ref, MemberRef(Platform.DISCORD, f"{n}"), "ana",
                                                f"ask {n}", NOW - timedelta(minutes=5),
                                                NOW - timedelta(days=1)))
    deadline = NOW + timedelta(hours=1)
    queued = [await repo.enqueue_followups(NOW, deadline, timedelta(days=3), ["discord"],
                                           None, [mine]) for mine in (spec(0, 1), spec(2, 3))]
    assert queued == [(4, 0), (4, 0)]
    claimed, _ = await repo.claim_posts("first", NOW, LEASE, 100, ["discord"], None,
                                        [spec(0, 1)])
    assert sorted(i.community.id for i in claimed) == sorted(guild(n) for n in (0, 1, 4, 5))
    assert {i.kind for i in claimed} == {PostKind.FOLLOWUP}


# ---------------------------------------------------------------------- identify slots


async def test_identify_slots_are_booked_an_interval_apart_per_bucket(repo):
    assert await repo.reserve_identify("discord:1:0", INTERVAL, NOW) == 0
    assert await repo.reserve_identify("discord:1:0", INTERVAL, NOW) == 5.5
    assert await repo.reserve_identify("discord:1:1", INTERVAL, NOW) == 0  # another bucket
    assert await repo.reserve_identify("discord:1:0", INTERVAL, NOW + timedelta(seconds=1)) == 10
    # Long after the last slot: at once again.
    assert await repo.reserve_identify("discord:1:0", INTERVAL, NOW + timedelta(minutes=1)) == 0


async def test_processes_booking_together_each_get_a_slot_of_their_own(repo, reopen):
    others = [repo] + [await reopen() for _ in range(3)]
    waits = await asyncio.gather(*(r.reserve_identify("discord:1:0", INTERVAL, NOW)
                                   for r in others for _ in range(2)))
    assert sorted(waits) == [5.5 * n for n in range(8)]


# ---------------------------------------------------------------------- command sync claims


KEY = "discord.command_hash.1"


async def test_one_process_syncs_a_changed_catalogue(repo, reopen):
    other = await reopen()
    assert await repo.claim_command_sync(KEY, "v1", "a", NOW, LEASE) is SyncClaim.MINE
    assert await other.claim_command_sync(KEY, "v1", "b", NOW, LEASE) is SyncClaim.TAKEN
    await repo.finish_command_sync(KEY, "v1", "a", synced=True)
    assert await repo.get_value(KEY) == "v1"
    for r, owner in ((repo, "a"), (other, "b")):
        assert await r.claim_command_sync(KEY, "v1", owner, NOW, LEASE) is SyncClaim.UNCHANGED
    assert await other.claim_command_sync(KEY, "v2", "b", NOW, LEASE) is SyncClaim.MINE


async def test_a_failed_or_abandoned_sync_is_taken_up_again(repo, reopen):
    other = await reopen()
    assert await repo.claim_command_sync(KEY, "v1", "a", NOW, LEASE) is SyncClaim.MINE
    await repo.finish_command_sync(KEY, "v1", "a", synced=False)  # Discord said no
    assert await repo.get_value(KEY) is None
    assert await other.claim_command_sync(KEY, "v1", "b", NOW, LEASE) is SyncClaim.MINE
    # b dies mid-sync: its claim holds until its lease lapses, then a takes over.
    assert await repo.claim_command_sync(KEY, "v1", "a", NOW + LEASE / 2, LEASE) is \
        SyncClaim.TAKEN
    assert await repo.claim_command_sync(KEY, "v1", "a", NOW + LEASE, LEASE) is SyncClaim.MINE
    # b, late, lets go of nothing of a's.
    await other.finish_command_sync(KEY, "v1", "b", synced=False)
    assert await other.claim_command_sync(KEY, "v1", "b", NOW + LEASE, LEASE) is \
        SyncClaim.TAKEN


async def test_processes_starting_together_make_one_claim(repo, reopen):
    repos = [repo] + [await reopen() for _ in range(4)]
    claims = await asyncio.gather(*(r.claim_command_sync(KEY, "v1", f"p{n}", NOW, LEASE)
                                    for n, r in enumerate(repos)))
    assert sorted(claims) == sorted([SyncClaim.MINE] + [SyncClaim.TAKEN] * 4)
