"""Helpers for ``tests/test_multiprocess.py``: real ``whosnext`` processes in Slack HTTP mode on
one PostgreSQL database, a "balancer" that sends signed slash commands to them in turn and
retries the way Slack retries, and a recount of every maintained counter from the attempts.

The processes themselves (``bots``, ``Bot``, ``until``) and the outbox readers are
``tests/outbox_kill_helpers.py``'s; the signing and the fake's ack bookkeeping are
``tests/slack/helpers.py``'s (``post_signed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

from bot.models import Period
from storage.counters import period_key
from tests.fakes.slack import FakeSlack
from tests.outbox_kill_helpers import POLL, Bot
from tests.slack.helpers import SECRET, post_signed, sign

MAX_TRIES = 4  # a first try and Slack's three retries


def free_port() -> int:
    """A port nothing listens on right now, for a bot's SLACK_HTTP_PORT."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_env(port: int) -> dict[str, str]:
    """A bot in HTTP mode on ``port``, with an hourly limit no burst here reaches."""
    return {"SLACK_MODE": "http", "SLACK_SIGNING_SECRET": SECRET, "SLACK_HTTP_PORT": str(port),
            "MAX_LOGS_PER_HOUR": "10000"}


async def until_listening(bot: Bot, port: int, timeout: float) -> None:
    """Until ``bot`` accepts connections on ``port``; fails if it exits first or takes longer
    than ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            pass
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return
        if not bot.running:
            raise AssertionError(f"the bot {bot.name!r} exited ({bot.proc.returncode}) before "
                                 f"listening on {port}; its log ends:\n{bot.tail()}")
        if loop.time() > deadline:
            raise AssertionError(f"the bot {bot.name!r} isn't listening on {port} after "
                                 f"{timeout:g} s; its log ends:\n{bot.tail()}")
        await asyncio.sleep(POLL)


# ---------------------------------------------------------------------- the balancer


@dataclass
class Delivery:
    """One HTTP request carrying a command to one process."""

    port: int
    retry: int  # its X-Slack-Retry-Num (0: the first try)
    status: int | None = None  # None: no HTTP answer (refused, connection dropped, timed out)
    body: Any = None  # the ack's JSON body (None: an empty ack)
    error: str | None = None


@dataclass
class Command:
    """One slash command as Slack sends it, and every delivery of it. A ``checked`` one's acks
    go through the fake's checks (``post_signed``), as strict as Slack's; they cost the test
    process several milliseconds each, so a burst checks a sample."""

    n: int
    form: dict[str, str]
    checked: bool = True
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.form["text"]

    @property
    def trigger(self) -> str:
        return self.form["trigger_id"]

    @property
    def acks(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == 200]


class Balancer:
    """Slack with a load balancer in front of several processes, one port each: each command
    goes to the next live port in turn; one that gets no HTTP 200 is sent again, the same body
    with ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason`` (as Slack retries), to the next live
    port, at most ``MAX_TRIES`` times in all. A port that drops or refuses a connection is down
    from then on (a balancer's passive health check)."""

    def __init__(self, http: aiohttp.ClientSession, ports: Iterable[int]):
        self.http = http
        self.ports = list(ports)
        self.down: set[int] = set()

    def live(self) -> list[int]:
        return [p for p in self.ports if p not in self.down]

    def after(self, port: int) -> int:
        """The next live port after ``port`` in the ring."""
        i = self.ports.index(port)
        ring = self.ports[i + 1:] + self.ports[:i + 1]
        return next((p for p in ring if p not in self.down), port)

    async def send(self, command: Command, port: int | None = None) -> Delivery:
        """Deliver ``command`` (to ``port``, else the next in turn) until a process acks it."""
        live = self.live()
        port = port if port is not None else live[command.n % len(live)]
        reason = ""
        delivery = Delivery(port, 0)
        for retry in range(MAX_TRIES):
            delivery = await self.deliver(command, port, retry, reason)
            if delivery.status == 200:
                break
            if delivery.status is None:
                self.down.add(port)
            reason = "http_error" if delivery.status is not None else (
                "http_timeout" if delivery.error == "TimeoutError" else "connection_failed")
            port = self.after(port)
        return delivery

    async def deliver(self, command: Command, port: int, retry: int, reason: str = "") -> Delivery:
        """One delivery of ``command`` to ``port``: a retry when ``retry`` > 0."""
        delivery = Delivery(port, retry)
        command.deliveries.append(delivery)
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": reason} if retry else {}
        try:
            if command.checked or retry:
                response = await post_signed(self.http, SimpleNamespace(http_port=port),
                                             command.form, headers=headers)
            else:
                response = await self._post(port, command.form, headers)
            delivery.status = response.status
            raw = await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            delivery.error = type(err).__name__
            return delivery
        if response.status == 200 and raw.strip():
            delivery.body = await response.json(content_type=None)
        return delivery


    async def _post(self, port: int, form: dict[str, str], headers: dict[str, str]
                    ) -> aiohttp.ClientResponse:
        """``post_signed`` without the fake's bookkeeping and checks of the ack."""
        body = urlencode(form).encode()
        ts = int(time.time())
        response = await self.http.post(
            f"http://127.0.0.1:{port}/slack/events", data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded",
                     "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts),
                     **headers})
        await response.read()
        return response


def answers(fake: FakeSlack, command: Command) -> list[dict[str, Any]]:
    """Every answer the command got: the bodies of its non-empty acks, then whatever was POSTed
    to its response_url (where an answer that missed the ack goes)."""
    return [d.body for d in command.acks if d.body] + fake.responses_to(command.trigger)


# ---------------------------------------------------------------------- the recount


async def recount_problems(conn: asyncpg.Connection, default_zone: str = "UTC") -> list[str]:
    """What the maintained counters get wrong, recounted from the attempts themselves:

    - each member's ``attempts_count``, ``rejections_count`` and ``rejection_seq`` (every
      rejection logged bumps it; nothing here resolves or undoes one);
    - each attempt's ``local_day``: its time in the community's check-in zone (else the
      default zone), whenever that zone was set;
    - every ``member_periods`` row (week and month boards), from those local days.
    """
    problems: list[str] = []
    attempts = await conn.fetch("SELECT id, community_id, member_id, outcome, created_at, local_day "
                                "FROM attempts")
    zones = {r["community_id"]: r["timezone"] for r in await conn.fetch(
        "SELECT community_id, timezone FROM schedules")}
    counts: dict[tuple[str, str], list[int]] = {}
    periods: dict[tuple[str, str, str], list[int]] = {}
    for a in attempts:
        key = (a["community_id"], a["member_id"])
        rejected = int(a["outcome"] == "rejected")
        total = counts.setdefault(key, [0, 0])
        total[0] += 1
        total[1] += rejected
        zone = ZoneInfo(zones.get(a["community_id"], default_zone))
        day = datetime.fromisoformat(a["created_at"]).astimezone(zone).date().isoformat()
        if a["local_day"] != day:
            problems.append(f"attempt {a['id']} of {key[1]} ({a['created_at']}) is on local day "
                            f"{a['local_day']}, not {day} ({zone.key})")
        for period in (Period.WEEK, Period.MONTH):
            row = periods.setdefault((key[0], period_key(period, date.fromisoformat(day)), key[1]),
                                     [0, 0])
            row[0] += 1
            row[1] += rejected
    for m in await conn.fetch("SELECT community_id, member_id, attempts_count, rejections_count, "
                              "rejection_seq FROM members"):
        key = (m["community_id"], m["member_id"])
        attempted, rejected = counts.get(key, [0, 0])
        kept = (m["attempts_count"], m["rejections_count"], m["rejection_seq"])
        if kept != (attempted, rejected, rejected):
            problems.append(f"member {key}: attempts_count, rejections_count, rejection_seq = "
                            f"{kept}, the attempts say {(attempted, rejected, rejected)}")
    stored = {(r["community_id"], r["period"], r["member_id"]): [r["attempts"], r["rejections"]]
              for r in await conn.fetch("SELECT * FROM member_periods")
              if r["attempts"] or r["rejections"]}
    for key in sorted(set(stored) | set(periods)):
        if stored.get(key) != periods.get(key):
            problems.append(f"member_periods {key}: {stored.get(key)} (attempts, rejections), the "
                            f"attempts say {periods.get(key)}")
    return problems
