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
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web
from discord.utils import time_snowflake

API_PREFIX = "/api/v10"
BOT_ID = 1100000000000000001
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1300000000000000001
OWNER_ID = 1400000000000000001
MANAGE_GUILD = 1 << 5
# What Discord computes for a plain member in a plain channel (view, send, read history, ...).
MEMBER_PERMISSIONS = 0x0000000000000400 | 0x0000000000000800 | 0x0000000000010000


@dataclass
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200


@dataclass
class Failure:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


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


class FakeDiscord:
    def __init__(self, *, bot_id: int = BOT_ID, guild_ids: tuple[int, ...] = (GUILD_ID,),
                 channel_id: int = CHANNEL_ID):
        self.bot_id = bot_id
        self.application_id = bot_id
        self.guild_ids = guild_ids
        self.channel_id = channel_id
        self.bot_user = user_payload(bot_id, "Who's Next", bot=True)
        self.calls: list[Call] = []
        self.identifies: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.heartbeats = 0
        # Synced commands: None → global; else a guild id. Each a list of command payloads.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.dm_channels: dict[str, str] = {}  # user id → DM channel id
        self._failures: list[Failure] = []
        self._source_messages: dict[str, dict[str, Any]] = {}  # interaction token → message
        self._token_channels: dict[str, str] = {}  # interaction token → channel id
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
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def token(self) -> str:
        """A token of the right shape: base64 of the bot id, a timestamp part, an HMAC part."""
        first = base64.b64encode(str(self.bot_id).encode()).decode().rstrip("=")
        return f"{first}.GfAkEx.{'f' * 38}"

    def snowflake(self) -> int:
        """A fresh id for now (interaction expiry is computed from it)."""
        return time_snowflake(datetime.now(UTC)) + next(self._ids)

    # -- failures on demand -----------------------------------------------------------------

    def fail_next(self, method: str, path: str, status: int, *, message: str = "",
                  code: int = 0) -> None:
        """The next request matching ``method`` and the ``path`` regex gets ``status``."""
        body = {"message": message or f"{status}", "code": code}
        self._failures.append(Failure(method, re.compile(path), status, body, {}))

    def rate_limit_next(self, method: str, path: str, retry_after: float = 0.05) -> None:
        """A 429 the way Discord's edge sends it (``Via``), which discord.py waits out."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after,
                "global": False}
        self._failures.append(Failure(method, re.compile(path), 429, body,
                                      {"Via": "1.1 google", "X-RateLimit-Scope": "user"}))

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

    # -- REST -------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body, files = await self._body(request)
        call = Call(request.method, path, dict(request.query), body, files, dict(request.headers))
        self.calls.append(call)
        try:
            for failure in self._failures:
                if failure.method == request.method and failure.pattern.fullmatch(path):
                    self._failures.remove(failure)
                    call.status = failure.status
                    return _json(failure.body, failure.status, failure.headers)
            response = self._route(request.method, path, body, request.query)
            call.status = response.status
            return response
        finally:
            await self._notify()

    @staticmethod
    async def _body(request: web.Request) -> tuple[Any, list[str]]:
        if request.content_type == "application/json":
            return await request.json(), []
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            files = [f.filename for k, f in form.items() if hasattr(f, "filename")]
            raw = form.get("payload_json")
            return (json.loads(raw) if isinstance(raw, str) else None), files
        return None, []

    def _route(self, method: str, path: str, body: Any, query: Any) -> web.Response:
        app = str(self.application_id)
        if method == "GET" and path == "/users/@me":
            return _json(self.bot_user)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(self.application_payload())
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        m = re.fullmatch(rf"/applications/{app}(?:/guilds/(\d+))?/commands", path)
        if m and method in ("PUT", "GET"):
            guild = int(m.group(1)) if m.group(1) else None
            if method == "PUT":
                self.commands[guild] = [self._command_payload(c, guild) for c in body]
            return _json(self.commands.get(guild, []))
        m = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)
        if m and method == "POST":
            return self._callback(m.group(1), m.group(2), body)
        m = re.fullmatch(rf"/webhooks/{app}/([^/]+)", path)
        if m and method == "POST":
            msg = self._message(self._interaction_channel(m.group(1)), body)
            return _json(msg)
        m = re.fullmatch(rf"/webhooks/{app}/([^/]+)/messages/@original", path)
        if m:
            key = f"original:{m.group(1)}"
            if method == "DELETE":
                self.messages.pop(key, None)
                return web.Response(status=204)
            if method == "PATCH":
                old = self.messages.get(key) or self._message(
                    self._interaction_channel(m.group(1)), {}, store=False)
                msg = {**old, **{k: v for k, v in (body or {}).items()
                                 if k in ("content", "embeds", "components", "flags")}}
                msg["edited_timestamp"] = _now_iso()
                self.messages[key] = self.messages[msg["id"]] = msg
                return _json(msg)
            if method == "GET" and key in self.messages:
                return _json(self.messages[key])
        m = re.fullmatch(r"/channels/(\d+)/messages", path)
        if m and method == "POST":
            return _json(self._message(m.group(1), body))
        if method == "POST" and path == "/users/@me/channels":
            user = str(body["recipient_id"])
            channel = self.dm_channels.setdefault(user, str(self.snowflake()))
            return _json({"id": channel, "type": 1, "last_message_id": None,
                          "recipients": [user_payload(int(user), f"user{user[-4:]}")]})
        return _json({"message": "404: Not Found", "code": 0}, 404)

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

    # Interaction callbacks --------------------------------------------------------------------

    def _callback(self, interaction_id: str, token: str, body: Any) -> web.Response:
        kind = body.get("type") if isinstance(body, dict) else None
        data = (body or {}).get("data") or {}
        info: dict[str, Any] = {"id": interaction_id, "type": 2}
        resource: dict[str, Any] = {"type": kind}
        channel = self._interaction_channel(token)
        if kind in (4, 5):  # a message, or "thinking…"
            msg = self._message(channel, data if kind == 4 else {"flags": data.get("flags", 0)})
            msg["interaction_token"] = token
            self.messages[f"original:{token}"] = msg
            info.update(response_message_id=msg["id"], response_message_loading=kind == 5,
                        response_message_ephemeral=bool(msg["flags"] & 64))
            resource["message"] = msg
        elif kind in (6, 7):  # (later) update the message the button was on
            source = self._source_messages.get(token)
            if source is not None:
                source.update({k: v for k, v in data.items()
                               if k in ("content", "embeds", "components")})
                # Now that message is the interaction's original (PATCH …/@original edits it).
                self.messages[f"original:{token}"] = self.messages[source["id"]] = source
                if kind == 7:
                    resource["message"] = source
        if kind in (8,):
            return web.Response(status=204)
        return _json({"interaction": info, "resource": resource})

    def _interaction_channel(self, token: str) -> str:
        return self._token_channels.get(token, str(self.channel_id))

    def _message(self, channel_id: str, body: dict[str, Any] | None, *,
                 store: bool = True) -> dict[str, Any]:
        body = body or {}
        msg = {"id": str(self.snowflake()), "channel_id": str(channel_id),
               "author": self.bot_user, "content": body.get("content") or "",
               "timestamp": _now_iso(), "edited_timestamp": None, "tts": False,
               "mention_everyone": False, "mentions": [], "mention_roles": [],
               "attachments": [], "embeds": body.get("embeds") or [], "pinned": False,
               "type": 0, "flags": body.get("flags") or 0,
               "components": body.get("components") or [],
               "allowed_mentions": body.get("allowed_mentions")}
        if store:
            self.messages[msg["id"]] = msg
        return msg

    # -- gateway ----------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        session = _Session(ws)
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

    async def _ready(self, session: _Session) -> None:
        await session.dispatch("READY", {
            "v": 10, "user": self.bot_user, "session_id": f"session-{self.snowflake()}",
            "resume_gateway_url": self.gateway_url, "guilds": [
                {"id": str(g), "unavailable": True} for g in self.guild_ids],
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "presences": [], "shard": [0, 1]})
        for guild in self.guild_ids:
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
            "channels": [self.channel_payload(self.channel_id, guild_id)], "threads": [],
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
        """Deliver an INTERACTION_CREATE on every connected gateway session."""
        if not self._sockets:
            await self.wait_until(lambda: self._sockets, timeout=10)
        for session in list(self._sockets):
            await session.dispatch("INTERACTION_CREATE", interaction)

    # -- interaction payloads ---------------------------------------------------------------

    def member_payload(self, user_id: int, name: str, permissions: int) -> dict[str, Any]:
        return {"user": user_payload(user_id, name), "roles": [], "joined_at": _now_iso(),
                "deaf": False, "mute": False, "flags": 0, "pending": False, "nick": None,
                "avatar": None, "premium_since": None, "permissions": str(permissions)}

    def interaction(self, kind: int, data: dict[str, Any], *, user_id: int, name: str,
                    admin: bool = False, guild_id: int | None = GUILD_ID,
                    channel_id: int | None = None, message: dict[str, Any] | None = None,
                    interaction_id: int | None = None) -> dict[str, Any]:
        ident = interaction_id or self.snowflake()
        token = f"itoken-{ident}"
        channel = channel_id or self.channel_id
        permissions = MEMBER_PERMISSIONS | (MANAGE_GUILD if admin else 0)
        payload: dict[str, Any] = {
            "id": str(ident), "application_id": str(self.application_id), "type": kind,
            "data": data, "token": token, "version": 1, "locale": "en-US",
            "app_permissions": str(MEMBER_PERMISSIONS), "entitlements": [],
            "attachment_size_limit": 10 * 1024 * 1024, "channel_id": str(channel),
        }
        if guild_id is not None:
            payload.update(guild_id=str(guild_id), guild_locale="en-US", context=0,
                           member=self.member_payload(user_id, name, permissions),
                           channel=self.channel_payload(channel, guild_id),
                           authorizing_integration_owners={"0": str(guild_id)})
        else:
            payload.update(user=user_payload(user_id, name), context=1,
                           channel={"id": str(channel), "type": 1, "recipients": [
                               user_payload(user_id, name)]},
                           authorizing_integration_owners={"0": str(GUILD_ID)})
        if message is not None:
            payload["message"] = message
            self._source_messages[token] = message
        self._token_channels[token] = str(channel)
        return payload

    def _synced(self, name: str, guild_id: int | None) -> dict[str, Any]:
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command
        raise KeyError(f"/{name} was never synced to the fake")

    def command(self, name: str, options: dict[str, Any] | None = None, *, user_id: int,
                user_name: str = "ana", admin: bool = False, guild_id: int = GUILD_ID,
                interaction_id: int | None = None,
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
                                guild_id=guild_id, interaction_id=interaction_id)

    def autocomplete(self, name: str, option: str, typed: str, *, user_id: int,
                     guild_id: int = GUILD_ID) -> dict[str, Any]:
        synced = self._synced(name, guild_id)
        kind = {o["name"]: o["type"] for o in synced.get("options", [])}[option]
        data = {"id": synced["id"], "name": name, "type": 1, "guild_id": str(guild_id),
                "options": [{"name": option, "type": kind, "value": typed, "focused": True}]}
        return self.interaction(4, data, user_id=user_id, name="ana", guild_id=guild_id)

    def press(self, message: dict[str, Any], custom_id: str, *, user_id: int,
              user_name: str = "ana", guild_id: int | None = GUILD_ID,
              interaction_id: int | None = None) -> dict[str, Any]:
        """A button press on ``message`` (a message the bot sent, as recorded here)."""
        ids = [c.get("custom_id") for row in message.get("components", [])
               for c in row.get("components", [])]
        assert custom_id in ids, f"{custom_id} is not a button on that message: {ids}"
        return self.interaction(3, {"custom_id": custom_id, "component_type": 2}, user_id=user_id,
                                name=user_name, guild_id=guild_id, message=message,
                                channel_id=int(message["channel_id"]),
                                interaction_id=interaction_id)


class _Session:
    """One gateway connection, with its own sequence numbers."""

    def __init__(self, ws: web.WebSocketResponse):
        self.ws = ws
        self.seq = 0
        self._lock = asyncio.Lock()

    async def send(self, op: int, data: Any) -> None:
        async with self._lock:
            await self.ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> None:
        async with self._lock:
            self.seq += 1
            await self.ws.send_str(json.dumps({"op": 0, "d": data, "s": self.seq, "t": event}))
