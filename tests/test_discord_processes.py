"""Discord on two real ``whosnext`` processes: one bot of four shards, shards 0,1 in one process
and 2,3 in the other, on one PostgreSQL database, against the loopback fake Discord (sharded as
strictly as Discord: each server's events go only to its shard's session, and sessions start at
most one per 5 s in each bucket, ``max_concurrency`` 2 here).

Both start together with eight servers spread over the four shards, each with a check-in due a
few minutes ago (the start-up catch-up posts it). Each process reaches the fake at addresses of
its own (``FakeDiscord.api_url_for``), so the fake can say which process did what: every server's
GUILD_CREATE reached one session, of the right process; each server's command is answered once,
by that process; each check-in is posted once, by the process of its server's shard; the
commands are synced once between them; the IDENTIFYs of each bucket are 5 s apart or more. Both
then stop cleanly on SIGTERM.

The same in one process, in detail, is ``tests/discord/test_shards.py``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ids import CommunityRef, Platform
from bot.models import Schedule
from storage.postgres import PostgresRepository
from tests.fakes.discord import BOT_ID, FakeDiscord
from tests.outbox_kill_helpers import ROOT, Bot, outbox, until
from tests.postgres import scratch_database

SHARDS = 4
PROCESSES = {"first": "0,1", "second": "2,3"}
BASE = 286102294  # 1200000000000000001 >> 22: ids shaped like today's snowflakes
GUILDS = tuple(((BASE - BASE % SHARDS + n) << 22) + 4242 for n in range(8))
CHANNELS = {g: 1300000000000000200 + n for n, g in enumerate(GUILDS)}
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"
START = 30.0  # seconds both may take to be ready (a 5.5 s wait for the second's sessions)
ANA = 1500000000000000001


def process_of(guild_id: int | str) -> str:
    shard = (int(guild_id) >> 22) % SHARDS
    return "first" if shard in (0, 1) else "second"


@pytest.fixture
def database():
    with scratch_database("whosnext_shards") as url:
        yield url


async def seed(url: str, now: datetime) -> None:
    """Each server's daily check-in, due three minutes ago in its own channel."""
    due = (now - timedelta(minutes=3)).replace(second=0, microsecond=0)
    repo = await PostgresRepository.open(url)
    try:
        for g in GUILDS:
            await repo.save_schedule(Schedule(CommunityRef(Platform.DISCORD, str(g)),
                                              str(CHANNELS[g]), "UTC", due.strftime("%H:%M"),
                                              EVERY_DAY, recap_day=None),
                                     due - timedelta(minutes=10))
    finally:
        await repo.close()


def env(fake: FakeDiscord, url: str, name: str) -> dict[str, str]:
    mine = ("SLACK_", "DISCORD_", "DATABASE_", "OUTBOX_", "CHECKIN_", "LOG_LEVEL", "DEFAULT_",
            "MAX_LOGS", "HEALTH_")
    out = {k: v for k, v in os.environ.items() if not k.upper().startswith(mine)}
    out.update(DISCORD_TOKEN=fake.token, DISCORD_API_URL=fake.api_url_for(name),
               DISCORD_GATEWAY_URL=fake.gateway_url_for(name), DATABASE_URL=url,
               DISCORD_SHARD_COUNT=str(SHARDS), DISCORD_SHARD_IDS=PROCESSES[name],
               OUTBOX_LEASE_SECONDS="5", CHECKIN_GRACE_MINUTES="120", LOG_LEVEL="INFO",
               PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), out.get("PYTHONPATH")) if p))
    return out


async def start(fake: FakeDiscord, url: str, name: str, logs: Path) -> Bot:
    log = logs / f"{name}.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=logs, env=env(fake, url, name),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err)
    return Bot(name, proc, log)


def ready_sessions(fake: FakeDiscord) -> dict[str, set[int]]:
    """The shards with a session open, by process."""
    out: dict[str, set[int]] = {}
    for number, shard in fake.session_shards.items():
        out.setdefault(fake.session_via[number] or "?", set()).add(shard[0])
    return out


def check_ins(fake: FakeDiscord) -> dict[int, list[str | None]]:
    """The processes that posted in each server's channel."""
    by_channel = {str(c): g for g, c in CHANNELS.items()}
    out: dict[int, list[str | None]] = {g: [] for g in GUILDS}
    for call in fake.find("POST", r"/channels/\d+/messages"):
        guild = by_channel.get(call.path.split("/")[2])
        if guild is not None and call.status == 200:
            out[guild].append(call.via)
    return out


async def test_two_processes_two_shards_each_serve_every_server_once(database, tmp_path):
    await seed(database, datetime.now(UTC))
    fake = FakeDiscord(guild_ids=GUILDS, shard_count=SHARDS, max_concurrency=2,
                       channels=CHANNELS)
    await fake.start()
    bots: list[Bot] = []
    try:
        bots = [await start(fake, database, name, tmp_path) for name in PROCESSES]
        await until("both processes connected, two shards each",
                    lambda: ready_sessions(fake) == {"first": {0, 1}, "second": {2, 3}},
                    START, alive=bots)
        # Every server's GUILD_CREATE went to one session: its shard's, in its process.
        creates = [(g, fake.session_via[s]) for event, g, s in fake.dispatched
                   if event == "GUILD_CREATE"]
        assert sorted(creates) == sorted((str(g), process_of(g)) for g in GUILDS)

        # Each check-in once, by the process of its server's shard.
        await until("every check-in posted", lambda: all(check_ins(fake).values()), START,
                    alive=bots)
        rows = await until("every outbox row sent",
                           lambda: (r := outbox(database)) and len(r) == len(GUILDS)
                           and all(x["state"] == "sent" for x in r) and r, START, alive=bots)
        assert {r["community_id"] for r in rows} == {f"discord:{g}" for g in GUILDS}
        assert check_ins(fake) == {g: [process_of(g)] for g in GUILDS}

        # Each server's command answered once, by its process.
        synced = await until("the commands synced", lambda: fake.commands.get(None), START,
                             alive=bots)
        assert synced
        for g in GUILDS:
            payload = fake.command("help", user_id=ANA, guild_id=g)
            await fake.push(payload)
            (call,) = await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
            assert call.status == 200 and call.via == process_of(g)
        pushed = [(g, fake.session_via[s]) for event, g, s in fake.dispatched
                  if event == "INTERACTION_CREATE"]
        assert sorted(pushed) == sorted((str(g), process_of(g)) for g in GUILDS)

        # One sync between them; every IDENTIFY accepted, 5 s apart in each bucket.
        (put,) = fake.find("PUT", rf"/applications/{BOT_ID}/commands")
        assert put.status == 200
        assert sorted(fake.identify_times) == [0, 1]
        for bucket, times in fake.identify_times.items():
            assert len(times) == 2, bucket
            assert times[1] - times[0] >= 5.0, (bucket, times)
        assert not fake.unexpected_refusals(), [c.problems for c in fake.refusals]
        assert len(fake.identifies) == SHARDS

        codes = await asyncio.gather(*(b.stop() for b in bots))
        assert codes == [0, 0], "\n".join(b.tail() for b in bots)
    finally:
        for bot in bots:
            if bot.running:
                bot.proc.kill()
                await bot.proc.wait()
        await fake.close()
