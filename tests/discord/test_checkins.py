"""Check-ins end to end on Discord: an admin's /checkin through the real client and the loopback
fake, the scheduler (fake clock) posting through the adapter's Poster, a /who-next follow-up DM
whose buttons resolve the promise from the DM, where the interaction has no server, and
promises that can't join into a masked link.

What every Poster does (a post shows once, a DM reaches its member, files arrive, a gone
channel is False) is in ``tests/test_poster_contract.py``; the recap at crowd size, chart
attached, is in ``test_stress.py``; the scheduler's own rules are in ``tests/scheduler``."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from adapters.discord.client import DiscordAdapter
from bot.app import App
from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import Schedule
from bot.scheduler import Scheduler
from bot.schedules import EVERY_DAY
from storage.sqlite import SqliteRepository
from tests.discord.helpers import ANA, BEN, buttons, press, run_command, shown
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, Call, FakeDiscord, message_texts

EPHEMERAL = 64
ADMIN = 1500000000000000009
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
CHANNEL = str(CHANNEL_ID)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def member(user_id: int) -> MemberRef:
    return MemberRef(Platform.DISCORD, str(user_id))


async def command(fake: FakeDiscord, name: str, options: dict | None = None, *,
                  user_id: int = ANA, user_name: str = "ana", admin: bool = False) -> dict:
    """Run a slash command; return the data of the bot's first response (a message)."""
    _, call = await run_command(fake, name, options, user_id=user_id, user_name=user_name,
                                admin=admin)
    assert call.json["type"] == 4, call.json
    return call.json["data"]


async def log(fake: FakeDiscord, clock, when: datetime, name: str, options: dict, *,
              user_id: int = ANA, user_name: str = "ana") -> None:
    clock.set(when)
    data = await command(fake, name, options, user_id=user_id, user_name=user_name)
    assert not data.get("flags", 0) & EPHEMERAL, data  # a public celebration, not an error


CHECKIN = {"action": "set", "time": "09:00", "days": "daily", "zone": "Europe/Berlin"}


async def set_checkin(fake: FakeDiscord, repo) -> None:
    data = await command(fake, "checkin", CHECKIN, user_id=ADMIN, user_name="admin", admin=True)
    assert "Check-ins are on!" in shown(data["embeds"][0]["description"]), data
    stored = await repo.get_schedule(COMMUNITY)
    assert stored is not None and stored.enabled
    assert replace(stored, updated_at=None) == Schedule(
        COMMUNITY, CHANNEL, "Europe/Berlin", "09:00", EVERY_DAY, "monday",
        community_name=f"Askers {str(GUILD_ID)[-3:]}")  # the server's name, for the recap


def scheduler(repo, app, adapter: DiscordAdapter, clock) -> Scheduler:
    return Scheduler(repo, app, {Platform.DISCORD: adapter.poster}, clock)


def channel_posts(fake: FakeDiscord) -> list[Call]:
    return fake.find("POST", f"/channels/{CHANNEL}/messages")


async def test_an_admins_checkin_is_posted_once_at_nine_berlin(bot, start_bot, fake, repo, app,
                                                               clock, tmp_path):
    clock.set(utc(2026, 11, 25, 7))  # Wednesday 08:00 Berlin
    # Without Manage Server: refused, nothing stored.
    refused = await command(fake, "checkin", CHECKIN)
    assert refused["flags"] & EPHEMERAL
    assert await repo.get_schedule(COMMUNITY) is None
    await set_checkin(fake, repo)

    # Wednesday's asks, logged through Discord.
    await log(fake, clock, utc(2026, 11, 25, 9), "rejected", {"ask": "asked for a raise",
                                                               "fear": 6})
    await log(fake, clock, utc(2026, 11, 25, 10), "accepted", {"ask": "asked for a discount"},
              user_id=BEN, user_name="ben")
    await log(fake, clock, utc(2026, 11, 25, 11), "rejected",
              {"ask": "a very secret thing", "private": True})
    await command(fake, "timezone", {"zone": "Europe/Berlin"}, user_id=BEN, user_name="ben")
    await log(fake, clock, utc(2026, 11, 25, 12), "who-next",
              {"ask": "pitch the editor", "when": "tomorrow"}, user_id=BEN, user_name="ben")
    # Thursday 00:30 Berlin: before Thursday's check-in, so in it.
    await log(fake, clock, utc(2026, 11, 25, 23, 30), "rejected", {"ask": "an early bird ask"})
    assert channel_posts(fake) == []  # every answer so far was an interaction response

    sched = scheduler(repo, app, bot, clock)
    # 08:59 Berlin: not yet (Wednesday's 09:00, before any of this, was missed: skipped).
    early = await sched.run_due(utc(2026, 11, 26, 7, 59))
    assert (early.posted, early.skipped) == (0, 1)
    assert channel_posts(fake) == []
    # 09:00 Berlin (08:00 UTC): the check-in, in the channel /checkin ran in.
    report = await sched.run_due(utc(2026, 11, 26, 8))
    assert (report.posted, report.failed) == (1, 0)
    [post] = channel_posts(fake)
    assert post.headers["Authorization"].startswith("Bot ")
    [embed] = post.json["embeds"]
    text = shown(embed["description"])
    print(text)
    assert shown(embed["title"]) == "Check-in · Thursday 26 Nov"
    # Everything since the last check-in: the schedule is new, so from Wednesday's midnight to
    # this check-in's time, the early bird's ask of this morning too.
    assert "**Since yesterday:** 4 asks: 3 no's, 1 yes." in text
    assert f"Logged by <@{ANA}> (3) and <@{BEN}> (1)." in text
    assert f"• <@{ANA}> got a no: **asked for a raise**" in text
    assert f"• <@{BEN}> got a yes: **asked for a discount**" in text
    assert "*Plus 1 private ask, counted with thanks.*" in text
    assert f"**Promised for today:** <@{BEN}>: **pitch the editor**" in text
    assert "secret" not in str(post.json)
    assert f"• <@{ANA}> got a no: **an early bird ask**" in text
    # Only the members named may be pinged: never @everyone, @here or a role.
    assert post.json["allowed_mentions"] == {"parse": []}

    # Exactly once: run again a minute later, then by a second scheduler (its own connection,
    # its own core) on the same database file.
    again = await sched.run_due(utc(2026, 11, 26, 8, 1))
    assert (again.posted, again.taken) == (0, 1)
    second_repo = await SqliteRepository.open(tmp_path / "test.db")
    try:
        second_app = App(second_repo, clock, default_timezone="UTC")
        second_bot = await start_bot(core=second_app)  # another process's own connection
        other = await scheduler(second_repo, second_app, second_bot, clock).run_due(
            utc(2026, 11, 26, 8, 2))
        assert (other.posted, other.taken) == (0, 1)
    finally:
        await second_repo.close()
    assert len(channel_posts(fake)) == 1
    assert post.files == []  # Thursday: no recap, no chart


async def test_a_due_promise_gets_one_dm_whose_button_resolves_it(bot, fake, repo, app, clock):
    clock.set(utc(2026, 11, 26, 10))  # Thursday
    await command(fake, "timezone", {"zone": "America/New_York"})
    await log(fake, clock, utc(2026, 11, 26, 10), "who-next",
              {"ask": "ask Lee for an intro", "when": "today"})
    off = await command(fake, "reminders", {"state": "off"}, user_id=BEN, user_name="ben")
    assert "Reminders off" in off["content"]
    await log(fake, clock, utc(2026, 11, 26, 10), "who-next",
              {"ask": "ask for a discount", "when": "today"}, user_id=BEN, user_name="ben")
    sched = scheduler(repo, app, bot, clock)

    # Ben's promise (UTC) is due at midnight UTC, but his reminders are off: no DM.
    quiet = await sched.run_due(utc(2026, 11, 27, 0, 0, 30))
    assert (quiet.followups, quiet.quiet_followups) == (0, 1)
    assert fake.find("POST", "/users/@me/channels") == []
    # Ana's is due at midnight New York (05:00 UTC).
    assert (await sched.run_due(utc(2026, 11, 27, 4, 59))).followups == 0
    report = await sched.run_due(utc(2026, 11, 27, 5, 0, 30))
    assert report.followups == 1
    [opened] = fake.find("POST", "/users/@me/channels")
    assert opened.json == {"recipient_id": ANA}
    dm_channel = fake.dm_channels[str(ANA)]
    [sent] = fake.find("POST", f"/channels/{dm_channel}/messages")
    [embed] = sent.json["embeds"]
    assert embed["title"] == "How did your ask go?"
    assert "ask Lee for an intro" in embed["description"]
    [message] = [m for m in fake.messages.values() if m["channel_id"] == dm_channel]
    # A DM has no server around it: every button names the community.
    ids = {b["label"]: b["custom_id"] for b in buttons(message)}
    assert list(ids) == ["Rejected", "Accepted", "Still waiting", "Didn't ask"]
    assert all(i.startswith(f"wn.{GUILD_ID}:resolve:c") for i in ids.values()), ids
    # Once: later runs send nothing more.
    assert (await sched.run_due(utc(2026, 11, 27, 5, 2))).followups == 0
    assert len(fake.find("POST", r"/channels/\d+/messages")) == 1

    # Ana presses Rejected in the DM: no guild on the interaction.
    clock.set(utc(2026, 11, 27, 9))
    _, call = await press(fake, message, ids["Rejected"], guild_id=None)
    assert call.json["type"] == 7  # the DM's buttons give way to the news
    data = call.json["data"]
    assert "Logged as a no" in shown(" ".join(message_texts(data))) and data["components"] == []
    # The group hears it in the channel the promise was made in, through the outbox: once.
    posts = len(channel_posts(fake))
    assert (await sched.drain()).posted == 1
    [news] = channel_posts(fake)[posts:]
    told = shown(news.json["embeds"][0]["description"])
    assert f"<@{ANA}> kept a promise and got a no" in told and "ask Lee for an intro" in told
    assert [b["label"] for b in buttons(news.json)] == ["Cheer"]
    await sched.drain()
    assert len(channel_posts(fake)) == posts + 1
    # The DM has no buttons left to press twice.
    assert buttons(fake.messages[message["id"]]) == []
    commitments, _ = await repo.open_items(COMMUNITY, member(ANA))
    assert commitments == []
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected) == (1, 1)
    # Ben's promise is untouched (and never DMed).
    ben_open, _ = await repo.open_items(COMMUNITY, member(BEN))
    assert [c.ask for c in ben_open] == ["ask for a discount"]
    assert [c.json["recipient_id"] for c in fake.find("POST", "/users/@me/channels")] == [ANA]


async def test_promises_posted_together_cannot_join_into_a_masked_link(bot, fake, repo, app,
                                                                         clock):
    # Two members' promises share one "Promised for today" line; each alone is harmless.
    clock.set(utc(2026, 11, 25, 7))
    await set_checkin(fake, repo)
    for user_id, name, ask in ((ANA, "ana", "[Free Nitro"),
                               (BEN, "ben", "claim](https://evil.example/x)")):
        await command(fake, "timezone", {"zone": "Europe/Berlin"}, user_id=user_id, user_name=name)
        await log(fake, clock, utc(2026, 11, 25, 12), "who-next", {"ask": ask, "when": "tomorrow"},
                  user_id=user_id, user_name=name)
    report = await scheduler(repo, app, bot, clock).run_due(utc(2026, 11, 26, 8))
    assert report.posted == 1
    [post] = channel_posts(fake)
    text = post.json["embeds"][0]["description"]
    line = next(line for line in text.split("\n") if "Promised for today" in line)
    assert "\\[Free Nitro" in line and "claim\\]\\(https://evil.example/x" in line
    assert not re.search(r"(?<!\\)[\[\]()]", line.replace("https://evil.example/x", ""))
    assert "[Free Nitro" in shown(line) and "claim](https://evil.example/x)" in shown(line)
