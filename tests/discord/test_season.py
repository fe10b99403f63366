"""/season through the real discord.py client and the strict loopback fake: a member with
Manage Server starts one (its name never pings), members log and see the season's board, a
member can't end it, the admin does, and the scheduler posts the champions, chart attached,
through the adapter's Poster, once."""

from __future__ import annotations

from bot.ids import CommunityRef, Platform
from bot.scheduler import Scheduler
from tests.discord.helpers import ANA, BEN, run_command, shown
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord

EPHEMERAL = 64
ADMIN = 1500000000000000009
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
CHANNEL = str(CHANNEL_ID)


async def command(fake: FakeDiscord, name: str, options: dict | None = None, *,
                  user_id: int = ANA, user_name: str = "ana", admin: bool = False) -> dict:
    _, call = await run_command(fake, name, options, user_id=user_id, user_name=user_name,
                                admin=admin)
    assert call.json["type"] == 4, call.json
    return call.json["data"]


def description(data: dict) -> str:
    """What the message shows: its content and its embeds' text."""
    return "\n".join([shown(data.get("content") or "")]
                     + [shown(e.get("description", "")) for e in data.get("embeds", [])])


async def test_a_season_on_discord(bot, fake, repo, app, clock):
    refused = await command(fake, "season", {"action": "start", "name": "Mine",
                                             "end": "2026-12-31"})
    assert refused["flags"] & EPHEMERAL and "for admins" in description(refused)
    assert await repo.running_season(COMMUNITY) is None

    started = await command(fake, "season", {"action": "start", "name": "Push @everyone <@&1>",
                                             "end": "2026-12-31"},
                            user_id=ADMIN, user_name="boss", admin=True)
    assert not started.get("flags", 0) & EPHEMERAL, started
    assert "A new season is on" in description(started)
    assert started["allowed_mentions"]["parse"] == []
    assert (await repo.running_season(COMMUNITY)).channel_id == CHANNEL

    bad = await command(fake, "season", {"action": "start", "name": "Late", "end": "2020-01-01"},
                        user_id=ADMIN, user_name="boss", admin=True)
    assert bad["flags"] & EPHEMERAL and "already past" in description(bad)

    await command(fake, "rejected", {"ask": "asked for a raise", "fear": 8})
    await command(fake, "rejected", {"ask": "a secret one", "fear": 10, "private": True},
                  user_id=BEN, user_name="ben")
    await command(fake, "accepted", {"ask": "asked for a table"}, user_id=BEN, user_name="ben")
    board = await command(fake, "leaderboard", {"period": "season"})
    assert f"1. <@{BEN}> · 2\n2. <@{ANA}> · 1" in description(board)

    assert "for admins" in description(await command(fake, "season", {"action": "end"},
                                                     user_id=BEN, user_name="ben"))
    clock.advance(hours=1)
    ended = await command(fake, "season", {"action": "end"}, user_id=ADMIN, user_name="boss",
                          admin=True)
    assert "is over: 3 asks" in description(ended)

    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    report = await sched.drain()
    assert report.posted == 1
    await sched.drain()
    (post,) = fake.find("POST", f"/channels/{CHANNEL}/messages")
    text = str(post.json)
    assert "Season over" in text and "asked for a raise" in text and "secret" not in text
    assert post.json["allowed_mentions"] == {"parse": []}
    assert [a["filename"] for a in post.json["attachments"]] == ["whosnext-season-1.png"]
    history = await command(fake, "season", {"action": "history"}, user_id=BEN, user_name="ben")
    assert "Most asks:" in description(history)
