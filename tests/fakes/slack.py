"""A loopback fake Slack: Web API, response_url endpoints, file uploads and a Socket Mode
websocket, on 127.0.0.1 only, on a free port.

It records every call (``calls``), answers what the adapter uses, can fail a method once with a
429 and ``Retry-After`` or with a Slack error, and lets a test push Socket Mode envelopes and
collect the app's acks. Waiting is event-driven (``wait_for``), never a sleep.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

DEFAULT_TIMEOUT = 5.0


@dataclass
class Call:
    """One Web API call: its method, query parameters and body (form or JSON), merged in ``args``."""

    method: str
    params: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def args(self) -> dict[str, Any]:
        return {**self.params, **self.body}

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.args.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else raw


@dataclass
class Posted:
    """A POST to a response_url."""

    key: str
    payload: dict[str, Any]


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None = None
    times: int = 1


@dataclass
class FakeSlack:
    team_id: str = "T0TEAM"
    team_name: str = "Test Team"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    admins: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"

    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[Posted] = field(default_factory=list, init=False)
    uploads: dict[str, bytes] = field(default_factory=dict, init=False)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    port: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": lambda a: {"message_ts": self._ts()},
            "chat.update": lambda a: {"channel": a.get("channel"), "ts": a.get("ts")},
            "views.open": lambda a: {"view": {"id": f"V{next(self._ids):06d}"}},
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{key}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._websocket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/response/{key}"

    # ------------------------------------------------------------------ test controls

    def fail(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None,
             times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with an error."""
        self._failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` only after ``seconds`` (a slow Slack); 0 undoes it."""
        self._delays[method] = seconds

    def rate_limit_once(self, method: str, retry_after: int = 1) -> None:
        self.fail(method, "ratelimited", status=429, retry_after=retry_after)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def responses_to(self, key: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.responses if r.key == key]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every recorded request)."""
        async with self._changed:
            return await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ Web API

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body: dict[str, Any] = {}
        if request.content_type == "application/json":
            body = await request.json()
        elif request.can_read_body:
            body = dict(await request.post())
        call = Call(method, dict(request.query), body, dict(request.headers))
        self.calls.append(call)
        await self._notify()
        if self._delays.get(method):
            await asyncio.sleep(self._delays[method])
        try:
            failures = self._failures.get(method)
            if failures:
                failure = failures[0]
                failure.times -= 1
                if failure.times <= 0:
                    failures.pop(0)
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                return web.json_response({"ok": False, "error": failure.error}, status=failure.status,
                                         headers=headers)
            handler = self.handlers.get(method)
            if handler is None:
                return web.json_response({"ok": False, "error": "unknown_method"})
            return web.json_response({"ok": True, **handler(call.args | {"_headers": call.headers})})
        finally:
            await self._notify()

    def _ts(self) -> str:
        return f"1700000000.{next(self._ids):06d}"

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://test.slack.com/", "team": self.team_name, "user": "whos-next",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://{self.host}:{self.port}/socket"}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = self._ts()
        return {"channel": args.get("channel"), "ts": ts,
                "message": {"text": args.get("text"), "ts": ts, "bot_id": self.bot_id}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        return {"channel": {"id": "D" + users.split(",")[0].lstrip("UW")}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        return {"user": {"id": user, "team_id": self.team_id, "name": user.lower(),
                         "is_admin": user in self.admins or user in self.owners,
                         "is_owner": user in self.owners, "is_bot": False}}

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(args.get("files") or "[]")
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text="OK")

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append(Posted(request.match_info["key"], await request.json()))
        await self._notify()
        return web.Response(text="ok")

    # ------------------------------------------------------------------ Socket Mode

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake-slack"}, "connection_info": {"app_id": "A0APP"}})
        await self._notify()
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                if "envelope_id" in data:
                    self.acks[data["envelope_id"]] = data
                    await self._notify()
        return ws

    async def wait_for_socket(self) -> None:
        await self.wait_for(lambda: self._socket is not None)

    async def send_envelope(self, type_: str, payload: dict[str, Any], *,
                            retry_attempt: int | None = None, envelope_id: str | None = None) -> str:
        assert self._socket is not None, "no Socket Mode connection yet"
        envelope_id = envelope_id or f"env-{next(self._ids)}"
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "type": type_, "payload": payload,
                                    "accepts_response_payload": type_ != "events_api"}
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout"
        await self._socket.send_json(envelope)
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return await self.wait_for(lambda: self.acks.get(envelope_id), timeout)
