"""A loopback fake Discord: REST and gateway on 127.0.0.1, for the real discord.py client.

It answers what a slash-command bot uses (see ../shared/PLATFORM-NOTES.md), records every REST
call, speaks the gateway's JSON text frames (HELLO, IDENTIFY, heartbeats, READY, GUILD_CREATE)
and lets a test push INTERACTION_CREATE payloads built to Discord's shape. Commands synced to
it are kept, so an interaction for ``/rejected`` carries the option types the bot registered.

    fake = FakeDiscord(); await fake.start()
    settings: DISCORD_TOKEN=fake.token, DISCORD_API_URL=fake.api_url,
              DISCORD_GATEWAY_URL=fake.gateway_url
    await fake.push(fake.command("rejected", {"ask": "a raise"}))
    call = await fake.wait_for("POST", r"/interactions/.*/callback")

As strict as Discord. Every body is checked against Discord's published rules
(``discord_rules.py``); a refused one is answered as Discord answers it (400 ``Invalid Form
Body`` with its ``errors``, or ``Cannot send an empty message``), so discord.py raises
``discord.HTTPException``. Interactions keep Discord's clock: the first response within 3 s of
the interaction's creation (its snowflake), once; followups and ``@original`` after it, for 15
minutes. Every refusal is on its ``Call`` (``status``, ``error``) and in ``fake.refusals``; the
Discord suite's conftest fails a test that met one it didn't ask for (``allow_refusals``). To
make a late interaction, build it with ``created_at`` in the past (never sleep).

What members see. Messages are stored as Discord returns them, with ``interaction_metadata``
for interaction responses (id, type, user; the command name, subcommands included, for
commands). ``channel_view(channel)`` is what every member of the channel reads, in order: the
"<member> used /<command>" line Discord puts over a public command response (never the options
typed), content, embed texts, button labels, attachment names. Ephemeral messages (flag 64)
show only in ``seen_by(user, channel)``, to the member whose interaction they answer.

Channels and DMs refuse what Discord refuses: ``delete_channel(id)`` (404 Unknown Channel),
``deny(id, code)`` (403 Missing Permissions 50013, or Missing Access 50001), ``close_dms(user)``
(403 Cannot send messages to this user, 50007, on a post to their DM channel). A deleted or
denied channel refuses reading and changing its messages the same way (one kind of denial
stands for every permission the bot lacks there).

History and edits. ``GET /channels/{id}/messages`` answers as Discord does (docs "Get Channel
Messages"): ``limit`` 1-100 (50 if not given; anything else a 400 Invalid Form Body), at most
one of ``before``, ``after``, ``around``, the messages newest first, no ephemeral ones.
``member_message(channel, user)`` stores a member's own message; ``PATCH`` of a message the bot
didn't write is 403 Cannot edit a message authored by another user (50005). The bot's
interaction responses are its own. ``submit(modal, typed)`` builds a form's MODAL_SUBMIT with
every input, as Discord sends it.

Nonces (docs "Create Message"; changelog 2024-02-12 "Enforced Nonces on Create Message
Endpoint"). ``nonce`` is checked like Discord (an integer, or a string of at most 25
characters) and echoed in the message. With ``enforce_nonce: true``, a second create by the same
author (the bot: Discord scopes it to the sender, not the channel) with the same nonce within
``nonce_window`` (5 minutes unless set; on ``clock``) creates nothing and answers 200 with the
earlier message, or 404 Unknown Message if that message has been deleted since (what Discord
does, discord/discord-api-docs#6647). Only nonces sent with ``enforce_nonce`` are remembered,
and ``5`` and ``"5"`` are different nonces: the stricter reading where Discord says nothing.

Shards (docs "Gateway" → Sharding). ``FakeDiscord(shard_count=4, max_concurrency=2)``: ``GET
/gateway/bot`` recommends that many shards and says the session start limit, ``max_concurrency``
included. An IDENTIFY's ``shard`` must be ``[shard_id, num_shards]`` with ``0 <= shard_id <
num_shards``, and every session of the bot must agree on ``num_shards``; otherwise the
connection is closed with 4010 Invalid Shard. Each session gets the servers of its shard, ``(id
>> 22) % num_shards``, in READY and GUILD_CREATE, and only their interactions; DMs go to shard 0
(a session without ``shard`` is shard 0 of 1). Sessions start at most one per
``identify_interval`` (5 s) in each bucket ``shard_id % max_concurrency``, on the real clock
whichever process identifies: a faster IDENTIFY is answered with op 9 Invalid Session (what
the docs say Discord does when a bot exceeds its maximum concurrency) and recorded as a refusal
(code ``"identify_too_soon"``), which fails a test unless it allowed it. ``identify_times``
holds each bucket's accepted IDENTIFYs (``time.monotonic()``); ``dispatched`` every GUILD_CREATE
and INTERACTION_CREATE with the session it went to. Several processes can be told apart by
giving each its own addresses, ``api_url_for(tag)`` and ``gateway_url_for(tag)`` (the same
Discord under ``/via/<tag>``): each ``Call`` then carries ``via`` and ``session_via`` says which
session came through which. One liberty: the start limit is enforced
for a sharded fake only (``shard_count`` or ``max_concurrency`` above 1, or ``identify_limit=
True``), so that the unsharded suite may stop and start a bot within 5 s; Discord would make
such a restart wait (discord.py retries after an Invalid Session by itself).

Under load (``benchmarks/discord_interactions.py``). ``FakeDiscord(keep_calls=False)`` keeps no
call in ``calls`` (nor its headers), so that a long run doesn't grow with every request;
``on_answered(call)``, if set, is called with each REST call once it is answered, to time the
bot's answers. Every check of Discord's rules still runs and every refusal is still kept in
``refusals``. ``register_commands(payloads)`` registers commands as a sync would, for a bot
that doesn't sync.

Faults on demand. ``fail_next`` and ``rate_limit_next`` answer the next matching request
*instead of* handling it (a 5xx, a 429 the way Discord's edge sends it, or a Cloudflare ban
with ``via=False``). ``drop_after``, ``fail_after`` and ``delay_next`` let the request be
handled in full (the message *is* created and visible) and then close the connection without
an answer, answer an error status, or answer late.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSMsgType, web
from discord.utils import snowflake_time, time_snowflake

from tests.fakes import discord_rules as rules

API_PREFIX = "/api/v10"
BOT_ID = 1100000000000000001
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1300000000000000001
OWNER_ID = 1400000000000000001
MANAGE_GUILD = 1 << 5
# What Discord computes for a plain member in a plain channel (view, send, read history, ...).
MEMBER_PERMISSIONS = 0x0000000000000400 | 0x0000000000000800 | 0x0000000000010000
# docs "Receiving and Responding": a first response within 3 seconds; the token then works
# for 15 minutes (followups, @original).
RESPONSE_WINDOW = timedelta(seconds=3)
TOKEN_LIFETIME = timedelta(minutes=15)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Message types (docs "Message Resource" → Message Types).
DEFAULT, CHAT_INPUT_COMMAND = 0, 20

# Discord's JSON error bodies (docs "Opcodes and Status Codes" → JSON Error Codes).
UNKNOWN_INTERACTION = (404, {"code": 10062, "message": "Unknown interaction"})
ALREADY_ACKNOWLEDGED = (400, {"code": 40060, "message": "Interaction has already been acknowledged"})
UNKNOWN_WEBHOOK = (404, {"code": 10015, "message": "Unknown Webhook"})
INVALID_WEBHOOK_TOKEN = (401, {"code": 50027, "message": "Invalid Webhook Token"})
UNKNOWN_MESSAGE = (404, {"code": 10008, "message": "Unknown Message"})
UNKNOWN_CHANNEL = (404, {"code": 10003, "message": "Unknown Channel"})
MISSING_ACCESS = (403, {"code": 50001, "message": "Missing Access"})
CANNOT_DM = (403, {"code": 50007, "message": "Cannot send messages to this user"})
MISSING_PERMISSIONS = (403, {"code": 50013, "message": "Missing Permissions"})
CANNOT_EDIT_OTHERS = (403, {"code": 50005,
                             "message": "Cannot edit a message authored by another user"})
# docs "Create Message": enforce_nonce dedupes "in the past few minutes"; the fake's default.
NONCE_WINDOW = timedelta(minutes=5)
# docs "Gateway" → Session Start Limit: max_concurrency IDENTIFYs per 5 seconds.
IDENTIFY_INTERVAL = timedelta(seconds=5)
IDENTIFY_TOO_SOON = "identify_too_soon"  # the refusal's code, for allow_refusals
INVALID_SHARD = 4010  # close code (docs "Opcodes and Status Codes" → Gateway Close Event Codes)


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    error: dict[str, Any] | None = None  # the body of a refusal by Discord's rules
    problems: list[str] = field(default_factory=list)  # ...and what was wrong, readably
    handled: bool = False  # the fake has acted on it (``status`` is its answer from then on)
    dropped: bool = False  # handled, then the connection closed without an answer (drop_after)
    via: str | None = None  # the tag of the address it came to (api_url_for)


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Fault:
    """What happens to a matching request that the fake does handle: ``drop`` the connection
    after, answer ``status`` instead of the real answer, or ``delay`` it by ``seconds``."""

    method: str
    pattern: re.Pattern[str]
    kind: str  # "drop" | "status" | "delay"
    seconds: float = 0.0
    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    handle_first: bool = True  # delay: handle, then wait (False: wait, then handle)


@dataclass
class Interaction:
    """What the fake remembers of an interaction it built, to hold the bot to Discord's clock."""

    id: str
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    user: dict[str, Any]
    display_name: str
    channel_id: str
    created_at: datetime
    owners: dict[str, str]
    name: str | None = None  # the command, with its subcommands ("remind set")
    message: dict[str, Any] | None = None  # the message a component was on (as sent)
    focused_type: int = 3  # for autocomplete: the focused option's type
    response: int | None = None  # the callback type, once acknowledged
    original_id: str | None = None  # the message @original names
    deliveries: int = 0


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"id": str(user_id), "username": name, "discriminator": "0",
                            "global_name": name, "avatar": None, "public_flags": 0}
    if bot:
        data["bot"] = True
    return data


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json (no charset).
    return web.Response(status=status, body=json.dumps(data).encode(),
                        headers={"Content-Type": "application/json", **(headers or {})})


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def command_name(data: dict[str, Any]) -> str:
    """The name Discord shows for a command interaction: the command and any subcommand group
    and subcommand chosen (``remind set``)."""
    parts = [data.get("name", "")]
    options = data.get("options") or []
    while options and options[0].get("type") in (1, 2):
        parts.append(options[0]["name"])
        options = options[0].get("options") or []
    return " ".join(parts)


def message_texts(message: dict[str, Any]) -> list[str]:
    """What a message shows, top to bottom (the header line aside)."""
    out: list[str] = []
    if message.get("flags", 0) & LOADING:
        out.append(f"{message['author'].get('global_name') or message['author']['username']}"
                   " is thinking…")
    if message.get("content"):
        out.append(message["content"])
    for embed in message.get("embeds") or []:
        author = (embed.get("author") or {}).get("name")
        footer = (embed.get("footer") or {}).get("text")
        out.extend(t for t in (author, embed.get("title"), embed.get("description")) if t)
        for item in embed.get("fields") or []:
            out.extend((item["name"], item["value"]))
        if footer:
            out.append(footer)
    for row in message.get("components") or []:
        for item in row.get("components") or []:
            text = item.get("label") or item.get("placeholder")
            if text:
                out.append(text)
    out.extend(a["filename"] for a in message.get("attachments") or [])
    return out


class FakeDiscord:
    def __init__(self, *, bot_id: int = BOT_ID, guild_ids: tuple[int, ...] = (GUILD_ID,),
                 channel_id: int = CHANNEL_ID, nonce_window: timedelta = NONCE_WINDOW,
                 shard_count: int = 1, max_concurrency: int = 1,
                 identify_interval: timedelta = IDENTIFY_INTERVAL,
                 channels: dict[int, int] | None = None, identify_limit: bool | None = None,
                 keep_calls: bool = True):
        """``channels``: a channel of each server (guild id → channel id); the rest of the
        servers have ``channel_id``. ``keep_calls=False`` (for load: see "Under load" in the
        module doc) keeps no REST call in ``calls``; refusals are still checked and kept."""
        self.bot_id = bot_id
        self.application_id = bot_id
        self.guild_ids = guild_ids
        self.channel_id = channel_id
        self.bot_user = user_payload(bot_id, "Who's Next", bot=True)
        self.calls: list[Call] = []
        self.keep_calls = keep_calls
        # Called with each REST call once the fake has answered it (``handled``, ``status``).
        self.on_answered: Callable[[Call], None] | None = None
        self.refusals: list[Call] = []  # calls refused by Discord's rules (not fail_next's)
        self.identifies: list[dict[str, Any]] = []
        self.shard_count = shard_count  # what GET /gateway/bot recommends
        self.max_concurrency = max_concurrency
        self.identify_interval = identify_interval
        self.identify_limit = (shard_count > 1 or max_concurrency > 1 if identify_limit is None
                               else identify_limit)
        self.identify_times: dict[int, list[float]] = {}  # bucket → accepted IDENTIFYs
        # (event, guild id or None, session number): what went to which session
        self.dispatched: list[tuple[str, str | None, int]] = []
        self.guild_channels = dict(channels or {})
        self._sessions = itertools.count(1)
        self.session_via: dict[int, str | None] = {}  # session number → its address's tag
        self.session_shards: dict[int, tuple[int, int]] = {}  # ...→ its accepted shard
        self.gateway_queries: list[dict[str, str]] = []
        self.heartbeats = 0
        # Synced commands: None → global; else a guild id. Each a list of command payloads.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, Any]] = {}  # id → message, as Discord returns it
        self.interactions: dict[str, Interaction] = {}  # token → interaction
        self.dm_channels: dict[str, str] = {}  # user id → DM channel id
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._timeline: list[dict[str, Any]] = []  # messages still there, oldest first
        # How long an enforced nonce is remembered (measured on ``clock``); a test may set it.
        self.nonce_window = nonce_window
        self.deleted_channels: set[str] = set()
        self.denied_channels: dict[str, int] = {}  # channel id → 50013 or 50001
        self.closed_dms: set[str] = set()  # user ids whose DMs are closed to the bot
        # (author id, nonce) → (message id, when it was created)
        self._nonces: dict[tuple[str, int | str], tuple[str, datetime]] = {}
        self._allowed_refusals: set[int | str] = set()
        self._failures: list[Failure] = []
        self._faults: list[Fault] = []
        self._sockets: list[_Session] = []
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- server -------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{path:.*}", self._rest)
        app.router.add_get("/via/{via}/gateway", self._gateway)
        app.router.add_route("*", "/via/{via}" + API_PREFIX + "/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        for session in list(self._sockets):
            await session.ws.close()
        if self._runner is not None:  # closing twice is fine (a test may close it early)
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def api_url_for(self, tag: str) -> str:
        """The same REST API at an address of ``tag``'s own: its calls carry ``via=tag``."""
        return f"http://127.0.0.1:{self.port}/via/{tag}{API_PREFIX}"

    def gateway_url_for(self, tag: str) -> str:
        return f"ws://127.0.0.1:{self.port}/via/{tag}/gateway"

    @property
    def token(self) -> str:
        """A token of the right shape: base64 of the bot id, a timestamp part, an HMAC part."""
        first = base64.b64encode(str(self.bot_id).encode()).decode().rstrip("=")
        return f"{first}.GfAkEx.{'f' * 38}"

    def snowflake(self, at: datetime | None = None) -> int:
        """A fresh id for ``at`` (now by default): interaction expiry is computed from it."""
        return time_snowflake(at or self.clock()) + next(self._ids)

    # -- failures on demand, refusals on record ---------------------------------------------

    def fail_next(self, method: str, path: str, status: int, *, message: str = "",
                  code: int = 0) -> None:
        """The next request matching ``method`` and the ``path`` regex gets ``status``."""
        body = {"message": message or f"{status}", "code": code}
        self._failures.append(Failure(method, re.compile(path), status, body, {}))

    def rate_limit_next(self, method: str, path: str, retry_after: float = 0.05, *,
                        times: int = 1, via: bool = True) -> None:
        """The next ``times`` matching requests get a 429 the way Discord's edge sends it
        (docs "Rate Limits": ``retry_after`` in the body, ``Retry-After`` in whole seconds,
        ``X-RateLimit-Scope``; ``Via``, which makes discord.py wait it out and try again, up
        to 5 tries in all). ``via=False``: a Cloudflare ban instead (no ``Via``, a text body),
        which discord.py raises at once."""
        headers = {"Retry-After": str(math.ceil(retry_after))}
        if via:
            body = {"message": "You are being rate limited.", "retry_after": retry_after,
                    "global": False}
            headers.update({"Via": "1.1 google", "X-RateLimit-Scope": "user"})
        else:
            body = {}  # answered as text: "error code: 1015"
        for _ in range(times):
            self._failures.append(Failure(method, re.compile(path), 429, body, headers))

    def drop_after(self, method: str, path: str) -> None:
        """The next matching request is handled in full (a message it creates is there for
        everyone) and then the connection closes without an answer."""
        self._faults.append(Fault(method, re.compile(path), "drop"))

    def fail_after(self, method: str, path: str, status: int = 500, *, message: str = "",
                   code: int = 0) -> None:
        """The next matching request is handled in full, then answered with ``status`` (a 5xx
        from Discord's edge after the write went through)."""
        body = {"message": message or f"{status}", "code": code}
        self._faults.append(Fault(method, re.compile(path), "status", status=status, body=body))

    def delay_next(self, method: str, path: str, seconds: float, *,
                   handle_first: bool = True) -> None:
        """The next matching request is answered ``seconds`` late: handled first (the message
        is there while the client waits), or with ``handle_first=False`` handled only after
        the wait (a write that lands after the client gave up)."""
        self._faults.append(Fault(method, re.compile(path), "delay", seconds=seconds,
                                  handle_first=handle_first))

    def delete_channel(self, channel_id: int | str) -> None:
        """The channel is gone: posting there is 404 Unknown Channel (10003)."""
        self.deleted_channels.add(str(channel_id))

    def deny(self, channel_id: int | str, code: int = MISSING_PERMISSIONS[1]["code"]) -> None:
        """The bot may not post in the channel: 403 Missing Permissions (50013, it can see the
        channel but lacks Send Messages) or Missing Access (50001, it can't see it)."""
        assert code in (MISSING_PERMISSIONS[1]["code"], MISSING_ACCESS[1]["code"]), code
        self.denied_channels[str(channel_id)] = code

    def close_dms(self, user_id: int | str) -> None:
        """The member doesn't take DMs from the bot: opening the DM works (as on Discord), a
        message to it is 403 Cannot send messages to this user (50007)."""
        self.closed_dms.add(str(user_id))

    def allow_refusals(self, *codes: int | str) -> None:
        """This test expects Discord to refuse with these JSON codes (50035, 10062, ...)."""
        self._allowed_refusals.update(codes)

    def unexpected_refusals(self) -> list[Call]:
        """Refusals the test didn't ask for. A second answer to an interaction pushed twice (a
        redelivery) is refused as "already acknowledged": that is what redelivery costs."""
        redelivered = {i.id for i in self.interactions.values() if i.deliveries > 1}
        out = []
        for call in self.refusals:
            code = (call.error or {}).get("code")
            if code in self._allowed_refusals:
                continue
            m = re.fullmatch(r"/interactions/(\d+)/[^/]+/callback", call.path)
            if code == ALREADY_ACKNOWLEDGED[1]["code"] and m and m.group(1) in redelivered:
                continue
            out.append(call)
        return out

    # -- waiting on what the bot did ---------------------------------------------------------

    def find(self, method: str, path: str, after: int = 0) -> list[Call]:
        pattern = re.compile(path)
        return [c for c in self.calls[after:] if c.method == method and pattern.fullmatch(c.path)]

    async def wait_for(self, method: str, path: str, *, count: int = 1, after: int = 0,
                       timeout: float = 10.0) -> list[Call]:
        """The first ``count`` calls matching, waiting for them to arrive."""
        return await self.wait_until(lambda: self.find(method, path, after)[:count]
                                     if len(self.find(method, path, after)) >= count else None,
                                     timeout=timeout)

    async def wait_until(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        async def loop() -> Any:
            async with self._changed:
                while True:
                    value = check()
                    if value:
                        return value
                    await self._changed.wait()
        return await asyncio.wait_for(loop(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- what members see ---------------------------------------------------------------------

    def channel_view(self, channel_id: int | str) -> list[str]:
        """Everything every member of the channel can read, oldest first."""
        return self._view(str(channel_id), None)

    def seen_by(self, user_id: int | str, channel_id: int | str) -> list[str]:
        """The channel as ``user_id`` sees it: with the ephemeral answers to their own
        interactions."""
        return self._view(str(channel_id), str(user_id))

    def original(self, token: str) -> dict[str, Any]:
        """The message an interaction's ``@original`` names (its response, or the message a
        deferred button press left as it was)."""
        interaction = self.interactions[token]
        assert interaction.original_id is not None, "the interaction has no response message"
        return self.messages[interaction.original_id]

    def _view(self, channel: str, viewer: str | None) -> list[str]:
        out: list[str] = []
        for message in self._timeline:
            if message["channel_id"] != channel:
                continue
            meta = message.get("interaction_metadata") or {}
            if message["flags"] & EPHEMERAL and meta.get("user", {}).get("id") != viewer:
                continue
            # Discord's line over a command's response: who used which command, no options.
            if meta.get("name") and "original_response_message_id" not in meta:
                interaction = self._by_id(meta["id"])
                who = interaction.display_name if interaction else meta["user"]["username"]
                out.append(f"{who} used /{meta['name']}")
            out.extend(message_texts(message))
        return out

    def _by_id(self, interaction_id: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.id == interaction_id), None)

    # -- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body, files = await self._body(request)
        call = Call(request.method, path, dict(request.query), body, files,
                    dict(request.headers) if self.keep_calls else {},
                    via=request.match_info.get("via"))
        if self.keep_calls:
            self.calls.append(call)
        failure = self._take(self._failures, request.method, path)
        if failure is not None:  # answered instead of handled
            call.status, call.handled = failure.status, True
            await self._notify()
            if self.on_answered is not None:
                self.on_answered(call)
            if failure.status == 429 and "Via" not in failure.headers:
                return web.Response(status=429, text="error code: 1015", headers=failure.headers)
            return _json(failure.body, failure.status, failure.headers)
        fault = self._take(self._faults, request.method, path)
        if fault is not None and fault.kind == "delay" and not fault.handle_first:
            await self._notify()  # it has arrived (``handled`` still False)
            await asyncio.sleep(fault.seconds)
        try:
            response = self._answer(call)
        finally:
            await self._notify()
        if self.on_answered is not None:
            self.on_answered(call)
        if fault is None:
            return response
        if fault.kind == "delay":
            if fault.handle_first:
                await asyncio.sleep(fault.seconds)
            return response
        if fault.kind == "status":
            call.status = fault.status
            return _json(fault.body, fault.status)
        # "drop": the work is done and stays done; the client never hears of it.
        call.dropped = True
        assert request.transport is not None
        request.transport.close()
        return response

    @staticmethod
    def _take(pending: list[Any], method: str, path: str) -> Any:
        """The first of ``pending`` (failures or faults) matching the request, removed."""
        for item in pending:
            if item.method == method and item.pattern.fullmatch(path):
                pending.remove(item)
                return item
        return None

    def _answer(self, call: Call) -> web.Response:
        call.handled = True
        try:
            response = self._route(call)
        except _Refusal as refusal:
            call.status, call.error, call.problems = refusal.status, refusal.body, refusal.lines
            self.refusals.append(call)
            return _json(refusal.body, refusal.status)
        call.status = response.status
        return response

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[str]]:
        if request.content_type == "application/json":
            return await request.json(), []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            if isinstance(raw, web.FileField):
                raw.file.seek(0)
                raw = raw.file.read()
            if isinstance(raw, bytes | bytearray):  # a part with a content type of its own
                raw = raw.decode()
            files = [f.filename for k, f in form.items()
                     if k != "payload_json" and isinstance(f, web.FileField)]
            return (json.loads(raw) if isinstance(raw, str) else None), files
        return None, []

    def _route(self, call: Call) -> web.Response:
        method, path, body = call.method, call.path, call.json
        app = str(self.application_id)
        if method == "GET" and path == "/users/@me":
            return _json(self.bot_user)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self.application_payload())
        if method == "GET" and path == "/gateway":
            return _json({"url": self.gateway_url})
        if method == "GET" and path == "/gateway/bot":
            starts = sum(len(t) for t in self.identify_times.values())
            return _json({"url": self.gateway_url, "shards": self.shard_count,
                          "session_start_limit": {
                              "total": 1000, "remaining": 1000 - starts,
                              "reset_after": 86_400_000, "max_concurrency": self.max_concurrency}})
        m = re.fullmatch(rf"/applications/{app}(?:/guilds/(\d+))?/commands", path)
        if m and method in ("PUT", "GET"):
            guild = int(m.group(1)) if m.group(1) else None
            if method == "PUT":
                self.register_commands(body, guild)
            return _json(self.commands.get(guild, []))
        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m and method == "POST":
            return self._callback(m.group(1), m.group(2), body, call.files)
        m = re.fullmatch(rf"/webhooks/{app}/([^/]+)", path)
        if m and method == "POST":
            return self._followup(m.group(1), body, call.files)
        m = re.fullmatch(rf"/webhooks/{app}/([^/]+)/messages/(@original|\d+)", path)
        if m and method in ("GET", "PATCH", "DELETE"):
            return self._webhook_message(method, m.group(1), m.group(2), body, call.files)
        m = re.fullmatch(r"/channels/(\d+)/messages", path)
        if m and method == "POST":
            return self._channel_post(m.group(1), body, call.files)
        if m and method == "GET":
            return self._history(m.group(1), call.query)
        m = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)
        if m and method in ("PATCH", "DELETE", "GET"):
            self._reachable(m.group(1))
            message = self.messages.get(m.group(2))
            if message is None or message["channel_id"] != m.group(1):
                raise _Refusal(*UNKNOWN_MESSAGE)
            if method == "PATCH":
                if message["author"]["id"] != str(self.bot_id):
                    raise _Refusal(*CANNOT_EDIT_OTHERS)
                self._edit(message, body, call.files, "edit")
            elif method == "DELETE":
                self._delete(message)
                return web.Response(status=204)
            return _json(message)
        if method == "POST" and path == "/users/@me/channels":
            _check(rules.check_dm(body))
            user = str(body["recipient_id"])
            channel = self.dm_channels.setdefault(user, str(self.snowflake()))
            return _json({"id": channel, "type": 1, "last_message_id": None,
                          "recipients": [user_payload(int(user), f"user{user[-4:]}")]})
        return _json({"message": "404: Not Found", "code": 0}, 404)

    def register_commands(self, commands: Any, guild_id: int | None = None) -> None:
        """A bulk overwrite of the commands (global, or of one server), checked as Discord
        checks ``PUT .../commands``: what a bot's sync does, for a test or a load whose bot
        doesn't sync."""
        _check(rules.check_commands(commands))
        self.commands[guild_id] = [self._command_payload(c, guild_id) for c in commands]

    def application_payload(self) -> dict[str, Any]:
        return {"id": str(self.application_id), "name": "Who's Next", "icon": None,
                "description": "", "summary": "", "bot_public": True,
                "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                "owner": user_payload(OWNER_ID, "owner"), "team": None, "rpc_origins": [],
                "bot": self.bot_user}

    def _command_payload(self, command: dict[str, Any], guild: int | None) -> dict[str, Any]:
        data = {**command, "id": str(self.snowflake()), "application_id": str(self.application_id),
                "version": str(self.snowflake())}
        data.setdefault("default_member_permissions", None)
        if guild is not None:
            data["guild_id"] = str(guild)
        return data

    # Interaction callbacks, followups and @original ------------------------------------------

    def _callback(self, interaction_id: str, token: str, body: Any, files: list[str]
                  ) -> web.Response:
        interaction = self.interactions.get(token)
        if interaction is None or interaction.id != interaction_id:
            raise _Refusal(*UNKNOWN_INTERACTION)
        if self.clock() - interaction.created_at > RESPONSE_WINDOW:
            raise _Refusal(*UNKNOWN_INTERACTION)  # what a late first response gets
        if interaction.response is not None:
            raise _Refusal(*ALREADY_ACKNOWLEDGED)
        _check(rules.check_callback(body, interaction.type, len(files), interaction.focused_type))
        kind = body["type"]
        data = body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):  # a message, or "thinking…"
            flags = data.get("flags") or 0
            shown = data if kind == 4 else {}
            msg = self._new_message(interaction.channel_id, shown, files, interaction,
                                    flags=(flags & EPHEMERAL) | (LOADING if kind == 5 else 0))
            interaction.original_id = msg["id"]
            resource["message"] = msg
        elif kind in (6, 7):  # (later) update the message the button was on
            source = self._source(interaction)
            if kind == 7:
                self._edit(source, data, files, "callback_update", check=False)
                resource["message"] = source
            interaction.original_id = source["id"]
        interaction.response = kind
        if kind == 8:
            return web.Response(status=204)
        info: dict[str, Any] = {"id": interaction.id, "type": interaction.type}
        if interaction.original_id is not None and kind in (4, 5):
            msg = self.messages[interaction.original_id]
            info.update(response_message_id=msg["id"], response_message_loading=kind == 5,
                        response_message_ephemeral=bool(msg["flags"] & EPHEMERAL))
        return _json({"interaction": info, "resource": resource})

    def _source(self, interaction: Interaction) -> dict[str, Any]:
        """The stored message a component was pressed on (the test's copy, if never stored)."""
        assert interaction.message is not None, "only a component interaction has a message"
        stored = self.messages.get(interaction.message["id"])
        if stored is None:
            stored = self._store(dict(interaction.message))
        return stored

    def _live(self, token: str) -> Interaction:
        """An acknowledged interaction whose token still works (followups, @original)."""
        interaction = self.interactions.get(token)
        if interaction is None or interaction.response is None:
            raise _Refusal(*UNKNOWN_WEBHOOK)
        if self.clock() - interaction.created_at > TOKEN_LIFETIME:
            raise _Refusal(*INVALID_WEBHOOK_TOKEN)
        return interaction

    def _followup(self, token: str, body: Any, files: list[str]) -> web.Response:
        interaction = self._live(token)
        _check(rules.check_message(body, "webhook", len(files)))
        if rules.is_empty(body, len(files)):
            _check_empty()
        msg = self._new_message(interaction.channel_id, body, files, interaction,
                                flags=(body.get("flags") or 0) & EPHEMERAL, followup=True)
        return _json(msg)

    def _webhook_message(self, method: str, token: str, which: str, body: Any,
                         files: list[str]) -> web.Response:
        interaction = self._live(token)
        ident = interaction.original_id if which == "@original" else which
        message = self.messages.get(ident or "")
        if message is None:
            raise _Refusal(*UNKNOWN_MESSAGE)
        if method == "DELETE":
            self._delete(message)
            return web.Response(status=204)
        if method == "PATCH":
            self._edit(message, body, files, "webhook_edit")
        return _json(message)

    def _reachable(self, channel: str) -> None:
        """A deleted channel is 404 Unknown Channel, a denied one 403 with its code."""
        if channel in self.deleted_channels:
            raise _Refusal(*UNKNOWN_CHANNEL)
        if channel in self.denied_channels:
            raise _Refusal(*(MISSING_ACCESS if self.denied_channels[channel] == 50001
                             else MISSING_PERMISSIONS))

    def _history(self, channel: str, query: dict[str, str]) -> web.Response:
        """docs "Get Channel Messages": up to ``limit`` (1-100, default 50) of the channel's
        messages, newest first: the latest, those just ``before`` an id, or those just
        ``after`` one (still newest first, as Discord answers). Ephemeral messages are no
        one's history."""
        self._reachable(channel)
        _check(rules.check_history_query(query))
        limit = int(query.get("limit", "50"))
        there = [m for m in self._timeline
                 if m["channel_id"] == channel and not m.get("flags", 0) & EPHEMERAL]
        if "after" in query:
            later = [m for m in there if int(m["id"]) > int(query["after"])]
            picked = later[:limit]
        else:
            if "before" in query:
                there = [m for m in there if int(m["id"]) < int(query["before"])]
            elif "around" in query:
                at = int(query["around"])
                older = [m for m in there if int(m["id"]) < at][-(limit // 2):] if limit > 1 else []
                rest = [m for m in there if int(m["id"]) >= at][:limit - len(older)]
                there = older + rest
            picked = there[-limit:]
        return _json(sorted(picked, key=lambda m: int(m["id"]), reverse=True))

    def member_message(self, channel_id: int | str, user_id: int, name: str = "ana", *,
                       content: str = "", components: list[dict[str, Any]] | None = None
                       ) -> dict[str, Any]:
        """A message a member posted in the channel (the bot may read it, never edit it)."""
        return self._store({
            "id": str(self.snowflake()), "channel_id": str(channel_id),
            "author": user_payload(user_id, name), "content": content, "timestamp": _now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": [], "embeds": [], "pinned": False,
            "type": DEFAULT, "flags": 0, "components": components or []})

    def _channel_post(self, channel: str, body: Any, files: list[str]) -> web.Response:
        self._reachable(channel)
        if any(self.dm_channels.get(user) == channel for user in self.closed_dms):
            raise _Refusal(*CANNOT_DM)
        _check(rules.check_message(body, "create", len(files)))
        if rules.is_empty(body, len(files)):
            _check_empty()
        nonce = body.get("nonce")
        enforced = nonce is not None and body.get("enforce_nonce") is True
        # docs "Create Message": with enforce_nonce, the same author's same nonce within a few
        # minutes returns the earlier message (a deleted one: Unknown Message) and creates none.
        key = (str(self.bot_id), nonce)
        earlier = self._nonces.get(key) if enforced else None
        if earlier is not None and self.clock() - earlier[1] < self.nonce_window:
            message = self.messages.get(earlier[0])
            if message is None:
                raise _Refusal(*UNKNOWN_MESSAGE)
            return _json(message)
        msg = self._new_message(channel, body, files, None, flags=body.get("flags") or 0)
        if nonce is not None:
            msg["nonce"] = nonce
        if enforced:
            self._nonces[key] = (msg["id"], self.clock())
        return _json(msg)

    # Stored messages ------------------------------------------------------------------------

    def _attachments(self, body: dict[str, Any], files: list[str],
                     keep: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The attachments a message ends up with: those of ``keep`` the body names, and the
        files uploaded with it (``id`` = their index in ``files[n]``)."""
        listed = body.get("attachments")
        if listed is None:
            listed = [{"id": i} for i in range(len(files))] + [{"id": a["id"]} for a in keep]
        kept = {a["id"]: a for a in keep}
        out = []
        for item in listed:
            ident = str(item["id"])
            if ident in kept:
                out.append({**kept[ident], **{k: v for k, v in item.items() if k != "id"}})
                continue
            name = item.get("filename") or files[int(ident)]
            new_id = str(self.snowflake())
            out.append({"id": new_id, "filename": name, "size": 0,
                        "description": item.get("description"),
                        "url": f"https://cdn.example/attachments/{new_id}/{name}",
                        "proxy_url": f"https://media.example/attachments/{new_id}/{name}"})
        return out

    def _new_message(self, channel_id: str, body: dict[str, Any], files: list[str],
                     interaction: Interaction | None, *, flags: int,
                     followup: bool = False) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "id": str(self.snowflake()), "channel_id": str(channel_id), "author": self.bot_user,
            "content": body.get("content") or "", "timestamp": _now_iso(),
            "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
            "mention_roles": [], "attachments": self._attachments(body, files, []),
            "embeds": body.get("embeds") or [], "pinned": False, "type": DEFAULT,
            "flags": flags, "components": body.get("components") or []}
        if interaction is not None:
            # docs "Message Resource" → Message Interaction Metadata Object.
            meta: dict[str, Any] = {"id": interaction.id, "type": interaction.type,
                                    "user": interaction.user,
                                    "authorizing_integration_owners": interaction.owners}
            if interaction.type == 2:
                meta["name"] = interaction.name
                msg["type"] = CHAT_INPUT_COMMAND
            if interaction.type == 3 and interaction.message is not None:
                meta["interacted_message_id"] = interaction.message["id"]
            if followup and interaction.original_id is not None:
                meta["original_response_message_id"] = interaction.original_id
            msg.update(interaction_metadata=meta, webhook_id=str(self.application_id),
                       application_id=str(self.application_id))
        return self._store(msg)

    def _store(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.messages[msg["id"]] = msg
        self._timeline.append(msg)
        return msg

    def _edit(self, message: dict[str, Any], body: Any, files: list[str], kind: str, *,
              check: bool = True) -> None:
        """Replace the parts the body names (in place: every holder of the message sees it)."""
        if check:
            _check(rules.check_message(body, kind, len(files),
                                       [a["id"] for a in message.get("attachments", [])]))
        body = body or {}
        after = {**message}
        for key in ("content", "embeds", "components"):
            if key in body:
                after[key] = body[key] or ("" if key == "content" else [])
        if "attachments" in body or files:
            after["attachments"] = self._attachments(body, files, message.get("attachments", []))
        if rules.is_empty(after):
            _check_empty()
        after["flags"] = message.get("flags", 0) & ~LOADING
        after["edited_timestamp"] = _now_iso()
        message.update(after)

    def _delete(self, message: dict[str, Any]) -> None:
        self.messages.pop(message["id"], None)
        self._timeline = [m for m in self._timeline if m is not message]

    # -- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        session = _Session(ws, next(self._sessions))
        self.session_via[session.number] = request.match_info.get("via")
        await session.send(10, {"heartbeat_interval": 41250})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await session.send(11, None)
                elif op == 2:
                    self.identifies.append(frame["d"])
                    if await self._identify(session, frame["d"]):
                        await self._ready(session)
                        self._sockets.append(session)
                    await self._notify()
                elif op == 6:  # RESUME: we keep no sessions; ask for a fresh IDENTIFY
                    await session.send(9, False)
        finally:
            if session in self._sockets:
                self._sockets.remove(session)
            await self._notify()
        return ws

    async def _identify(self, session: _Session, data: dict[str, Any]) -> bool:
        """Whether Discord takes this IDENTIFY: a valid shard, agreeing with the other
        sessions, within its bucket's session start limit. A refusal is answered as Discord
        answers it and recorded."""
        shard = data.get("shard", [0, 1])
        valid = (isinstance(shard, list) and len(shard) == 2
                 and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
                 and shard[1] >= 1 and 0 <= shard[0] < shard[1])
        counts = {s.shard[1] for s in self._sockets}
        if not valid or (counts and counts != {shard[1]}):
            why = (f"shard {shard!r} is not [shard_id, num_shards] with shard_id < num_shards"
                   if not valid else f"shard {shard!r} disagrees with the sessions open "
                   f"(num_shards {sorted(counts)})")
            self._gateway_refusal(INVALID_SHARD, f"Invalid shard: {why}")
            await session.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return False
        bucket = shard[0] % self.max_concurrency
        now = time.monotonic()
        times = self.identify_times.setdefault(bucket, [])
        if (self.identify_limit and times
                and now - times[-1] < self.identify_interval.total_seconds()):
            self._gateway_refusal(IDENTIFY_TOO_SOON, (
                f"IDENTIFY of shard {shard[0]} {now - times[-1]:.2f} s after the last one in "
                f"bucket {bucket} (at most {self.max_concurrency} per "
                f"{self.identify_interval.total_seconds():g} s): Invalid Session"))
            await session.send(9, False)
            return False
        times.append(now)
        session.shard = (shard[0], shard[1])
        self.session_shards[session.number] = session.shard
        return True

    def _gateway_refusal(self, code: int | str, message: str) -> None:
        call = Call("GATEWAY", "/gateway", {}, None, status=0, error={"code": code,
                    "message": message}, problems=[message], handled=True)
        self.calls.append(call)
        self.refusals.append(call)

    def shard_of(self, guild_id: int | str | None, count: int) -> int:
        """The shard a server's events go to (DMs: shard 0)."""
        return 0 if guild_id is None else (int(guild_id) >> 22) % count

    def _sessions_for(self, guild_id: int | str | None) -> list[_Session]:
        return [s for s in self._sockets if self.shard_of(guild_id, s.shard[1]) == s.shard[0]]

    async def _ready(self, session: _Session) -> None:
        shard_id, count = session.shard
        guilds = [g for g in self.guild_ids if self.shard_of(g, count) == shard_id]
        await session.dispatch("READY", {
            "v": 10, "user": self.bot_user, "session_id": f"session-{self.snowflake()}",
            "resume_gateway_url": self.gateway_url, "guilds": [
                {"id": str(g), "unavailable": True} for g in guilds],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "presences": [],
            "shard": [shard_id, count]})
        for guild in guilds:
            self.dispatched.append(("GUILD_CREATE", str(guild), session.number))
            await session.dispatch("GUILD_CREATE", self.guild_payload(guild))

    def guild_payload(self, guild_id: int) -> dict[str, Any]:
        gid = str(guild_id)
        return {
            "id": gid, "name": f"Askers {gid[-3:]}", "icon": None, "splash": None,
            "discovery_splash": None, "owner_id": str(OWNER_ID), "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "features": [], "mfa_level": 0,
            "application_id": None, "system_channel_id": None, "system_channel_flags": 0,
            "rules_channel_id": None, "vanity_url_code": None, "description": None,
            "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
            "roles": [{"id": gid, "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS),
                       "position": 0, "color": 0, "hoist": False, "managed": False,
                       "mentionable": False, "flags": 0}],
            "emojis": [], "stickers": [], "joined_at": _now_iso(), "large": False,
            "unavailable": False, "member_count": 3, "voice_states": [], "members": [],
            "channels": [self.channel_payload(self.guild_channels.get(guild_id, self.channel_id),
                                              guild_id)], "threads": [],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    @staticmethod
    def channel_payload(channel_id: int, guild_id: int, name: str = "general") -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name,
                "position": 0, "permission_overwrites": [], "nsfw": False, "parent_id": None,
                "topic": None, "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def push(self, interaction: dict[str, Any]) -> None:
        """Deliver an INTERACTION_CREATE on the gateway sessions of its server's shard (a DM's:
        shard 0), as Discord does; waits for one to be connected."""
        guild = interaction.get("guild_id")
        sessions = self._sessions_for(guild) or await self.wait_until(
            lambda: self._sessions_for(guild), timeout=10)
        known = self.interactions.get(interaction.get("token", ""))
        if known is not None:
            known.deliveries += 1
        for session in list(sessions):
            self.dispatched.append(("INTERACTION_CREATE", guild, session.number))
            await session.dispatch("INTERACTION_CREATE", interaction)

    # -- interaction payloads ---------------------------------------------------------------

    def member_payload(self, user_id: int, name: str, permissions: int) -> dict[str, Any]:
        return {"user": user_payload(user_id, name), "roles": [], "joined_at": _now_iso(),
                "deaf": False, "mute": False, "flags": 0, "pending": False, "nick": None,
                "avatar": None, "premium_since": None, "permissions": str(permissions)}

    def interaction(self, kind: int, data: dict[str, Any], *, user_id: int, name: str,
                    admin: bool = False, guild_id: int | None = GUILD_ID,
                    channel_id: int | None = None, message: dict[str, Any] | None = None,
                    interaction_id: int | None = None,
                    created_at: datetime | None = None) -> dict[str, Any]:
        """An INTERACTION_CREATE payload, remembered so its answers keep Discord's clock. Its
        creation time is its id's: ``created_at`` (or an ``interaction_id`` made for an
        earlier time) builds one that is already late."""
        ident = interaction_id or self.snowflake(created_at)
        token = f"itoken-{ident}"
        channel = (channel_id or (self.guild_channels.get(guild_id) if guild_id else None)
                   or self.channel_id)
        permissions = MEMBER_PERMISSIONS | (MANAGE_GUILD if admin else 0)
        user = user_payload(user_id, name)
        payload: dict[str, Any] = {
            "id": str(ident), "application_id": str(self.application_id), "type": kind,
            "data": data, "token": token, "version": 1, "locale": "en-US",
            "app_permissions": str(MEMBER_PERMISSIONS), "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024, "channel_id": str(channel),
        }
        if guild_id is not None:
            owners = {"0": str(guild_id)}
            member = self.member_payload(user_id, name, permissions)
            payload.update(guild_id=str(guild_id), guild_locale="en-US", context=0,
                           member=member, channel=self.channel_payload(channel, guild_id),
                           authorizing_integration_owners=owners)
            shown_as = member["nick"] or name
        else:
            owners = {"0": str(GUILD_ID)}
            payload.update(user=user, context=1,
                           channel={"id": str(channel), "type": 1, "recipients": [user]},
                           authorizing_integration_owners=owners)
            shown_as = name
        if message is not None:
            payload["message"] = message
        focused = next((o for o in data.get("options") or [] if o.get("focused")), {})
        self.interactions[token] = Interaction(
            str(ident), token, kind, user, shown_as, str(channel), snowflake_time(ident),
            owners, name=command_name(data) if kind in (2, 4) else None, message=message,
            focused_type=focused.get("type", 3))
        return payload

    def _synced(self, name: str, guild_id: int | None) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"/{name} was never synced to the fake")

    def command(self, name: str, options: dict[str, Any] | None = None, *, user_id: int,
                user_name: str = "ana", admin: bool = False, guild_id: int = GUILD_ID,
                interaction_id: int | None = None, created_at: datetime | None = None,
                resolved_users: dict[int, str] | None = None,
                resolved: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        """An application-command interaction for a synced command; option types come from
        the synced definition, so the payload is what Discord would send for it. ``resolved``
        adds to the interaction's resolved data (say, for mentions typed into a text option)."""
        synced = self._synced(name, guild_id)
        types = {o["name"]: o["type"] for o in synced.get("options", [])}
        opts = []
        resolved = {kind: dict(items) for kind, items in (resolved or {}).items()}
        for key, value in (options or {}).items():
            kind = types[key]  # KeyError: the bot never registered this option
            if kind == 6:  # user
                uid = str(value)
                uname = (resolved_users or {}).get(int(uid), f"user{uid[-4:]}")
                resolved.setdefault("users", {})[uid] = user_payload(int(uid), uname)
                member = self.member_payload(int(uid), uname, MEMBER_PERMISSIONS)
                member.pop("user")
                resolved.setdefault("members", {})[uid] = member
                value = uid
            elif kind == 7:  # channel
                cid = str(value)
                resolved.setdefault("channels", {})[cid] = {
                    **self.channel_payload(int(cid), guild_id, "asks"),
                    "permissions": str(MEMBER_PERMISSIONS)}
                value = cid
            opts.append({"name": key, "type": kind, "value": value})
        data: dict[str, Any] = {"id": synced["id"], "name": name, "type": 1, "options": opts,
                                "guild_id": str(guild_id)}
        if resolved:
            data["resolved"] = resolved
        return self.interaction(2, data, user_id=user_id, name=user_name, admin=admin,
                                guild_id=guild_id, interaction_id=interaction_id,
                                created_at=created_at)

    def autocomplete(self, name: str, option: str, typed: str, *, user_id: int,
                     guild_id: int = GUILD_ID, created_at: datetime | None = None
                     ) -> dict[str, Any]:
        synced = self._synced(name, guild_id)
        kind = {o["name"]: o["type"] for o in synced.get("options", [])}[option]
        data = {"id": synced["id"], "name": name, "type": 1, "guild_id": str(guild_id),
                "options": [{"name": option, "type": kind, "value": typed, "focused": True}]}
        return self.interaction(4, data, user_id=user_id, name="ana", guild_id=guild_id,
                                created_at=created_at)

    def press(self, message: dict[str, Any], custom_id: str, *, user_id: int,
              user_name: str = "ana", guild_id: int | None = GUILD_ID,
              interaction_id: int | None = None, created_at: datetime | None = None
              ) -> dict[str, Any]:
        """A button press on ``message`` (a message the bot sent, as recorded here)."""
        ids = [c.get("custom_id") for row in message.get("components", [])
               for c in row.get("components", [])]
        assert custom_id in ids, f"{custom_id} is not a button on that message: {ids}"
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, user_id=user_id,
                                name=user_name, guild_id=guild_id, message=message,
                                channel_id=int(message["channel_id"]),
                                interaction_id=interaction_id, created_at=created_at)


    def submit(self, modal: dict[str, Any], typed: dict[str, str] | None = None, *,
               user_id: int, user_name: str = "ana", guild_id: int | None = GUILD_ID,
               channel_id: int | None = None) -> dict[str, Any]:
        """The MODAL_SUBMIT of a form the bot opened (``modal``: the MODAL callback's
        ``data``), as Discord sends it: every input, each with what ``typed`` gives it, else
        the value it was opened with (``""`` when it had none)."""
        typed = dict(typed or {})
        rows = []
        for row in modal["components"]:
            item = row["components"][0]
            value = typed.pop(item["custom_id"], item.get("value") or "")
            rows.append({"type": 1, "components": [
                {"type": 4, "custom_id": item["custom_id"], "value": value}]})
        assert not typed, f"the form has no input {sorted(typed)}"
        return self.interaction(5, {"custom_id": modal["custom_id"], "components": rows},
                                user_id=user_id, name=user_name, guild_id=guild_id,
                                channel_id=channel_id)


class _Session:
    """One gateway connection, with its own sequence numbers and (once identified) its shard."""

    def __init__(self, ws: web.WebSocketResponse, number: int = 0):
        self.ws = ws
        self.number = number
        self.shard: tuple[int, int] = (0, 1)
        self.seq = 0
        self._lock = asyncio.Lock()

    async def send(self, op: int, data: Any) -> None:
        async with self._lock:
            await self.ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> None:
        async with self._lock:
            self.seq += 1
            await self.ws.send_str(json.dumps({"op": 0, "d": data, "s": self.seq, "t": event}))


class _Refusal(Exception):
    """Discord says no: the status and JSON body it answers with."""

    def __init__(self, status: int, body: dict[str, Any], lines: list[str] | None = None):
        super().__init__(body.get("message"))
        self.status, self.body, self.lines = status, body, lines or [body["message"]]


def _check(problems: rules.Problems) -> None:
    if problems:
        raise _Refusal(400, problems.body(), problems.lines())


def _check_empty() -> None:
    empty = rules.Problems()
    empty.empty = True
    _check(empty)
