"""Helpers for ``tests/test_outbox_kill.py``: real ``whosnext`` processes against the loopback
fake Slack, a database seeded with due check-ins, and readers of what the fake shows and what
the outbox recorded.

One bot token is one Slack workspace, but a community has one schedule, so the 200 check-ins
are 200 Slack communities (``T0K000000`` …), each with its own channel (``C0K000000`` …). The
Slack adapter serves every Slack community in the database with its one token (the Poster only
checks the platform), so all 200 channels are channels of the one fake workspace, the bot a
member of each (the Poster's history check needs membership).

For /edit's posts (``seed_edits``): each community has one member's public no, its
celebration already in the channel (posted as the bot through the Web API, with its Cheer
button), and an EDIT post due that rewords it; ``edited_once_each`` checks every post was
changed in place.

The database is a SQLite file (a ``Path``) or, for the multi-process tests
(``tests/test_multiprocess.py``), a PostgreSQL URL (a ``str``): ``seed``, ``bots`` and
``outbox`` take either.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import render
from bot.handlers.cheer import cheer_button
from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import EditStatus, EntryEdit, NewAttempt, Outcome, Schedule
from bot.reply import Buttons, Mention, Reply, Text
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository
from tests.fakes.slack import FakeSlack
from tests.postgres import run

ROOT = Path(__file__).resolve().parents[1]
TEAM = "T0KILL"  # the workspace the bot token belongs to
EVERY_DAY = "mon,tue,wed,thu,fri,sat,sun"
LEASE_SECONDS = 5  # OUTBOX_LEASE_SECONDS: the shortest the settings allow
POLL = 0.05  # how often a wait looks again when nothing woke it
T = TypeVar("T")


def channel(n: int) -> str:
    return f"C0K{n:06d}"


def community(n: int) -> CommunityRef:
    return CommunityRef(Platform.SLACK, f"T0K{n:06d}")


F = TypeVar("F", bound=FakeSlack)


def slack_for(count: int, cls: type[F]) -> F:
    """The fake workspace (a ``cls``), the bot a member of the ``count`` check-in channels."""
    return cls(team_id=TEAM, bot_channels={channel(n) for n in range(count)})


async def seed(db: Path | str, count: int, now: datetime) -> datetime:
    """``count`` communities whose daily check-in was due a few minutes before ``now`` (so the
    start-up catch-up posts each one late, well within CHECKIN_GRACE_MINUTES), each set ten
    minutes before that, no weekly recap. Returns when they were due."""
    due = (now - timedelta(minutes=3)).replace(second=0, microsecond=0)
    repo = await (PostgresRepository.open(db) if isinstance(db, str) else SqliteRepository.open(db))
    try:
        for n in range(count):
            await repo.save_schedule(Schedule(community(n), channel(n), "UTC", due.strftime("%H:%M"),
                                              EVERY_DAY, recap_day=None), due - timedelta(minutes=10))
    finally:
        await repo.close()
    return due


# ---------------------------------------------------------------------- the processes


@dataclass
class Bot:
    """One ``python -m bot run`` process; its log (stderr) goes to a file."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash or the OOM killer leaves it."""
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as ``docker stop`` sends it; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


def bot_env(fake: FakeSlack, db: Path | str, **extra: str) -> dict[str, str]:
    """The environment of a bot on the fake: Socket Mode, the outbox's shortest lease; ``extra``
    variables on top (``SLACK_MODE="http"``…)."""
    mine = ("SLACK_", "DISCORD_", "DATABASE_", "OUTBOX_", "CHECKIN_", "LOG_LEVEL", "DEFAULT_",
            "MAX_LOGS")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(mine)}
    env.update(SLACK_BOT_TOKEN="xoxb-1-test", SLACK_APP_TOKEN="xapp-1-test", SLACK_MODE="socket",
               SLACK_API_URL=fake.api_url,
               DATABASE_URL=db if isinstance(db, str) else f"sqlite:///{db}",
               OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS), CHECKIN_GRACE_MINUTES="120",
               LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p))
    env.update(extra)
    return env


@contextlib.asynccontextmanager
async def bots(fake: FakeSlack, db: Path | str, logs: Path
               ) -> AsyncIterator[Callable[..., Awaitable[Bot]]]:
    """``start(name, **env)`` starts a bot on ``db`` against ``fake`` (in ``logs``, which holds
    no ``.env``), with ``env`` on top of ``bot_env``'s; whatever is still running when the block
    ends is killed."""
    started: list[Bot] = []

    async def start(name: str, **env: str) -> Bot:
        log = logs / f"{name}.log"
        with log.open("wb") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=logs, env=bot_env(fake, db, **env),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err)
        bot = Bot(name, proc, log)
        started.append(bot)
        return bot

    try:
        yield start
    finally:
        for bot in started:
            if bot.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    bot.proc.kill()
                await bot.proc.wait()


async def until(what: str, check: Callable[[], T], timeout: float, *,
                fake: FakeSlack | None = None, alive: Iterable[Bot] = ()) -> T:
    """``check()`` once it is truthy: looked at again whenever the fake records a request
    (``fake``) and at least every 50 ms; fails if it takes more than ``timeout`` seconds, or as
    soon as one of ``alive`` exits."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    watched = list(alive)
    while True:
        value = check()
        if value:
            return value
        for bot in watched:
            if not bot.running:
                raise AssertionError(f"the bot {bot.name!r} exited ({bot.proc.returncode}) while "
                                     f"waiting for {what}; its log ends:\n{bot.tail()}")
        left = deadline - loop.time()
        if left <= 0:
            logs = "".join(f"\n--- {b.name}:\n{b.tail()}" for b in watched)
            raise AssertionError(f"{what}: not after {timeout:g} s{logs}")
        if fake is not None:
            with contextlib.suppress(TimeoutError):
                await fake.wait_for(check, timeout=min(POLL, left))
        else:
            await asyncio.sleep(min(POLL, left))


# ---------------------------------------------------------------------- what the fake saw


class Posts:
    """The ``chat.postMessage`` calls the fake has received so far, read incrementally (cheap
    enough to check on every request): how many, and to which channels."""

    def __init__(self, fake: FakeSlack):
        self.fake = fake
        self._read = 0
        self._count = 0
        self._channels: set[str] = set()

    def _update(self) -> None:
        calls = self.fake.calls
        for call in calls[self._read:]:
            if call.method == "chat.postMessage":
                self._count += 1
                self._channels.add(str(call.args.get("channel")))
        self._read = len(calls)

    @property
    def count(self) -> int:
        self._update()
        return self._count

    @property
    def channels(self) -> set[str]:
        self._update()
        return set(self._channels)


def bot_posts(fake: FakeSlack, channel_id: str) -> list[Any]:
    """What every member of the channel sees from the bot."""
    return [s for s in fake.channel_view(channel_id) if s.author == fake.bot_user_id]


def once_each(fake: FakeSlack, rows: list[sqlite3.Row], count: int) -> list[str]:
    """What is wrong with the channels: each must show exactly one post from the bot, the
    check-in, tagged with its outbox row's key, whose ts the row recorded."""
    by_community = {r["community_id"]: r for r in rows}
    problems = []
    for n in range(count):
        row = by_community.get(community(n).key)
        shown = bot_posts(fake, channel(n))
        if row is None:
            problems.append(f"{channel(n)}: no outbox row for {community(n).key}")
        elif len(shown) != 1:
            problems.append(f"{channel(n)}: {len(shown)} posts from the bot (outbox row "
                            f"{row['id']}: {row['state']}, {row['tries']} tries), keys "
                            f"{[_key(s.metadata) for s in shown]}")
        elif _key(shown[0].metadata) != f"whosnext-{row['id']}":
            problems.append(f"{channel(n)}: the post carries {shown[0].metadata!r}, not the key "
                            f"of outbox row {row['id']}")
        elif not shown[0].text.startswith("Check-in"):
            problems.append(f"{channel(n)}: the post isn't a check-in: {shown[0].text[:80]!r}")
        elif row["message_id"] != shown[0].ts:
            problems.append(f"{channel(n)}: outbox row {row['id']} recorded message "
                            f"{row['message_id']}, the channel shows {shown[0].ts}")
    return problems


def _key(metadata: Any) -> Any:
    if not isinstance(metadata, dict) or metadata.get("event_type") != "whosnext_post":
        return None
    return (metadata.get("event_payload") or {}).get("key")


# ---------------------------------------------------------------------- what the outbox holds


def outbox(db: Path | str) -> list[Any]:
    """Every outbox row, read as another process would (the bots may be writing): ``sqlite3.Row``
    from a file, ``asyncpg.Record`` from a PostgreSQL URL (both read by column name)."""
    if isinstance(db, str):
        return run(_pg_outbox(db))
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()


async def _pg_outbox(url: str) -> list[Any]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return list(await conn.fetch("SELECT * FROM outbox ORDER BY id"))
    finally:
        await conn.close()


def owner_pid(owner: str) -> int:
    """The pid in a lease's owner (``host:pid:random``)."""
    return int(owner.rsplit(":", 2)[1])


def held(rows: Iterable[sqlite3.Row]) -> dict[int, list[sqlite3.Row]]:
    """The rows leased (claimed or being sent) by each process, by pid."""
    out: dict[int, list[sqlite3.Row]] = {}
    for r in rows:
        if r["state"] in ("claimed", "sending") and r["owner"]:
            out.setdefault(owner_pid(r["owner"]), []).append(r)
    return out


def tries_allowed(at_kill: Iterable[sqlite3.Row]) -> dict[int, int]:
    """How many tries each post may have had in the end, from the outbox as the kill left it:
    one more than then for each post not sent yet (the process that takes it over tries it
    once: nothing here fails), none more for one already sent."""
    return {r["id"]: r["tries"] + (r["state"] not in ("sent", "missed")) for r in at_kill}


def all_sent(db: Path | str, count: int, allowed: dict[int, int]) -> list[sqlite3.Row] | None:
    """The outbox once it holds ``count`` rows and every one is final (sent or missed).

    Fails at once if a post was tried more often than ``allowed`` (one not in it: once): a try
    beyond those is a process taking up again a post that had gone out, one its own try had
    sent or one it had already found in the channel's history, because that try was never
    recorded (the row stayed *sending* until its lease lapsed)."""
    rows = outbox(db)
    over = [r for r in rows if r["tries"] > allowed.get(r["id"], 1)]
    if over:
        tries: dict[int, int] = {}
        for r in rows:
            tries[r["tries"]] = tries.get(r["tries"], 0) + 1
        shown = ", ".join(f"{r['id']} ({r['state']}, {r['tries']} tries, "
                          f"{allowed.get(r['id'], 1)} expected)" for r in over[:6])
        raise AssertionError(
            f"{len(over)} posts were tried more often than the kill explains (nothing failed), "
            f"e.g. outbox rows {shown}; posts by number of tries: {dict(sorted(tries.items()))}, "
            f"now {states(rows)}. A try that went out wasn't recorded when its answer came, so "
            "the post was taken up again once its lease lapsed.")
    if len(rows) == count and all(r["state"] in ("sent", "missed") for r in rows):
        return rows
    return None


def states(rows: Iterable[sqlite3.Row]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        out[r["state"]] = out.get(r["state"], 0) + 1
    return out


# ---------------------------------------------------------------------- starting together


class GatedSlack(FakeSlack):
    """The fake, able to hold each bot's first call (``auth.test``, the first thing a Slack
    adapter does) until the test lets them all go: processes started one after the other then
    reach their start-up catch-up together, as two replicas started at once would, instead of
    the first posting everything before the second has imported slack-bolt."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrived = 0  # auth.test calls held so far
        self._gate = asyncio.Event()
        self._gate.set()

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info.get("method") == "auth.test" and not self._gate.is_set():
            self.arrived += 1
            await self._notify()
            await self._gate.wait()
        return await super()._api(request)

    async def stop(self) -> None:
        self.release()
        await super().stop()


# ---------------------------------------------------------------------- /edit's posts


def member(n: int) -> MemberRef:
    return MemberRef(Platform.SLACK, f"U0K{n:06d}")


def edited_ask(n: int) -> str:
    return f"asked the landlord for a rent cut, take {n}"


async def seed_edits(db: Path | str, count: int, fake: FakeSlack, now: datetime) -> None:
    """``count`` communities, each with one member's public no logged in its channel a minute
    before ``now``, its celebration in the channel (posted as the bot, through the Web API, with
    its Cheer button), then reworded with /edit at ``now``: an EDIT post due in each."""
    repo = await (PostgresRepository.open(db) if isinstance(db, str) else SqliteRepository.open(db))
    client = AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url)
    try:
        for n in range(count):
            logged = await repo.log_attempt(NewAttempt(
                community=community(n), member=member(n), member_name=f"member{n}",
                outcome=Outcome.REJECTED, ask=f"asked the landlord, take {n}",
                at=now - timedelta(minutes=1), default_zone="UTC", channel_id=channel(n)))
            shown = render(Reply((Text.of(Mention(member(n), f"member{n}"),
                                          f" got a no: asked the landlord, take {n}"),
                                  Buttons((cheer_button(logged.attempt_id),)))))
            await client.chat_postMessage(channel=channel(n), **shown.payload())
            result = await repo.edit_attempt(community(n), member(n), None, 1,
                                             EntryEdit(ask=edited_ask(n)), now)
            assert result.status == EditStatus.DONE and result.posts_queued == 1, result
    finally:
        await repo.close()


def edited_once_each(fake: FakeSlack, rows: list[Any], count: int) -> list[str]:
    """What is wrong with the channels after the edits: each must still show exactly one post
    from the bot (changed in place, never posted again), reading the entry as reworded and
    marked edited, its outbox row sent."""
    by_community = {r["community_id"]: r for r in rows}
    problems = []
    for n in range(count):
        row = by_community.get(community(n).key)
        shown = bot_posts(fake, channel(n))
        if row is None or row["kind"] != "edit":
            problems.append(f"{channel(n)}: no EDIT outbox row for {community(n).key}")
        elif row["state"] != "sent":
            problems.append(f"{channel(n)}: EDIT row {row['id']} is {row['state']} "
                            f"({row['reason']})")
        elif len(shown) != 1:
            problems.append(f"{channel(n)}: {len(shown)} posts from the bot, not the one edited")
        elif edited_ask(n) not in shown[0].text or "(edited)" not in shown[0].text:
            problems.append(f"{channel(n)}: the post wasn't changed: {shown[0].text[:100]!r}")
    return problems
