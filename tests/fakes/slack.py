"""A loopback fake Slack: Web API, response_url endpoints, file uploads and a Socket Mode
websocket, on 127.0.0.1 only, on a free port. As strict as Slack, and it knows what each
channel shows.

Recording. It records every Web API call (``calls``, ``calls_to(method)``), every response_url
POST (``responses``, ``responses_to(key)``), uploaded bytes (``uploads``) and Socket Mode acks
(``acks``). It can fail a method with a Slack error, an HTTP 5xx (a JSON body, or ``raw`` text
as a load balancer sends it) or a 429 with Retry-After (``fail``, ``rate_limit_once``), answer
slowly (``delay``: before handling the request, or with ``after=True`` once it is handled, so a
client that gives up first leaves the post made), handle a request fully and then drop the
connection without answering (``drop_after``: the post IS made and shows; the client sees the
connection close), have a member or another app post (``say``), and push Socket Mode
envelopes (``send_envelope``, ``wait_for_ack``).
Waiting is event-driven (``wait_for``), never a sleep; ``stop()`` cuts every delay short.

The workspace. The bot token holds ``scopes`` (``DEFAULT_BOT_SCOPES``: the manifest's;
``revoke_scope`` / ``grant_scope``); a method whose scope it lacks is refused ``missing_scope``
with ``needed`` and ``provided``, as Slack does. The bot is a member of the channels in
``bot_channels`` (``invite_bot`` / ``remove_bot``) and of every DM it opened with
``conversations.open``; ``private_channels`` (``make_private``, and any ``G...`` id) are
private. ``chat.postMessage`` to a private channel the bot isn't in is ``channel_not_found``,
to a public one without ``chat:write.public`` ``not_in_channel``. ``conversations.history``
reads only conversations the bot is in (``not_in_channel`` for a public channel,
``channel_not_found`` for a private one or a DM it didn't open), needs the history scope of
that kind of conversation (``channels:history``, ``groups:history``, ``im:history``), and
returns what everyone in the channel sees, newest first, honouring ``oldest`` / ``latest`` /
``inclusive`` / ``limit`` / ``cursor`` (``has_more``, ``response_metadata.next_cursor``), with
each message's ``metadata`` only under ``include_all_metadata``. Message timestamps (``ts``)
come from ``clock`` (``time.time`` unless a test sets its own, as a test with a fake clock
must, so that ``oldest`` means the same to both), unique and increasing.

Workspaces and installs (OAuth v2). Besides its own workspace (``team_id``, any ``xoxb-``
token but those below), the fake hosts workspaces that install the app: ``add_workspace(team,
name, channels=)``. A test plays the installer's browser: it gets the authorize URL from the
app's install page, and ``approve(url, team)`` checks it as Slack's authorize page does (the
``client_id``, scopes Slack knows, a ``state``) and returns the ``code`` and ``state`` to send
back to the redirect path (``cancel(url)``: the ``error=access_denied`` a "Cancel" sends). A
code is good once, for ten minutes of ``clock``. ``oauth.v2.access`` takes the client id and
secret (HTTP Basic, or form fields) and the code, refusing ``invalid_client_id``,
``bad_client_secret``, ``invalid_code`` and ``bad_redirect_uri`` (a redirect URI other than the
one the code was issued for), and answers with the workspace's bot token (``xoxb-fake-…``, the
same on a reinstall) and bot user. A call made with a workspace's token acts in that
workspace: ``auth.test`` says its team and bot, its bot user authors the messages it posts,
and a channel of another workspace is ``channel_not_found``. ``uninstall(team)`` and
``revoke_bot_token(team)`` revoke the token and return the ``app_uninstalled`` /
``tokens_revoked`` event Slack sends: from then on that token is ``token_revoked`` (kept as a
refusal, so a test fails if the bot goes on using it), and an ``xoxb-fake-`` token the fake never
issued is ``invalid_auth``. ``Call.token`` is the token a call was made with.

Strictness (rules in ``tests.fakes.slack_rules``, each with its source). Every request the bot
sends is checked before it is answered, and refused the way Slack refuses it:

- Web API: HTTP 200 ``{"ok": false, "error": ..., "errors": [...]}`` (``invalid_blocks``,
  ``invalid_blocks_format``, ``no_text``, ``msg_too_long``, ``invalid_arguments``,
  ``unknown_method``, ``not_authed``, ``not_allowed_token_type``, ``invalid_metadata_format``,
  ``invalid_metadata_schema``, ``missing_scope``, and stateful ones:
  ``message_not_found`` (chat.update of a message the fake never showed),
  ``invalid_trigger_id`` / ``exchanged_trigger_id`` (views.open), ``file_not_found``, the
  membership and history errors above), so slack-sdk raises ``SlackApiError``. The rules run
  before an injected ``fail()``. Metadata Slack accepts but ignores (an ``event_type`` with a
  period, say) is posted without it and answered with Slack's warning, and also kept as a
  refusal: the test meant to tag the message.
- response_url POST: HTTP 400 with the error code as the body (``invalid_blocks``...).
- Acks: a slash command's or button's ack body (a message) and a view_submission's
  ``response_action`` (its ``errors`` must name input blocks of the submitted view). Socket
  Mode acks are checked when the fake receives them; HTTP-mode acks go back to the test, so
  ``tests/slack/helpers.py``'s ``post_signed`` hands them over (``delivered`` / ``acked``).

Every refusal is kept in ``refusals`` (``Refusal``: ``where``, ``error``, ``errors``,
``request``). The ``fake`` fixture fails the test at teardown if a refusal happened that the
test did not announce with ``fake.expect_refusal(error=None, where=None)`` (one call per
refusal), or if an announced one never happened. ``fake.pop_refusals()`` returns the refusals
so far and forgets them (for tests that assert on them directly).
``where`` is the Web API method (``"chat.postMessage"``), ``"response_url"``, or
``"ack:slash_commands"`` / ``"ack:block_actions"`` / ``"ack:view_submission"``.

The channel model. ``channel_view(channel_id) -> list[Seen]`` is what every member of the
channel can read, oldest first; ``seen_by(user_id, channel_id) -> list[Seen]`` adds what only
that member sees (ephemeral answers). ``channel_text(channel_id, user_id=None) -> str`` joins
their ``text``. A ``Seen`` has ``author`` (the member's user id, or ``bot_user_id``), ``kind``
(``"command"``: a member's typed command line as Slack echoes it; ``"message"``; ``"file"``),
``text`` (every line a reader sees: block texts, fields, context, button labels, then the
``text`` fallback; for a file its title and filename), ``ts``, ``channel``, ``only_for`` (the
one member who sees it, or ``None``), ``blocks``, ``fallback`` and ``metadata`` (what
``chat.postMessage`` attached, else ``None``). What goes in:

- a slash command's answer (its ack body, or a POST to its response_url): ``in_channel`` shows
  the member's command line (``/rejected text as typed``) once, just above the first
  ``in_channel`` answer, then the answer, to everyone; ``ephemeral`` (the default) shows the
  answer to that member only; an empty ack shows nothing. Only the first ack of a command is
  shown (a retry's ack is checked, not shown twice).
- a response_url POST from a button press: a new message (``in_channel`` to all, otherwise to
  the presser), or with ``replace_original`` / ``delete_original`` it replaces / removes the
  pressed message (found by ``container.message_ts``, else by the ``message`` the press
  carries, else as the latest message the presser can see holding the pressed ``action_id``).
  A replacement keeps the original's audience; one whose original the fake can't find is added
  with the pressed message's audience. For a slash command's response_url, "the original" is
  its latest answer.
- ``chat.postMessage``: to everyone in the channel (DMs are channels too, ``D...``);
  ``chat.update`` rewrites a message in place; ``chat.postEphemeral``: to its ``user`` only;
  ``files.completeUploadExternal`` with ``channel_id`` (or ``channels``): its files, to everyone.

To know a slash command or a press, the fake must be told when the test builds it:
``register_command(key, user=, channel=, command=, text=)`` and ``register_press(key, user=,
channel=, message_ts=, ephemeral=, action_ids=, message=)``, where ``key`` is the response_url's
key (``response_url(key)``); ``slash()`` and ``block_actions()`` in tests/slack/helpers.py do this. A
response_url the fake wasn't told about is checked but shows nowhere.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSMsgType, web

from tests.fakes import slack_rules as rules
from tests.fakes.slack_rules import Verdict

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

    @property
    def token(self) -> str | None:
        return rules.token_of(self.args, self.headers)


@dataclass
class Workspace:
    """A workspace that can install the app (``FakeSlack.add_workspace``)."""

    team_id: str
    name: str
    channels: set[str]
    bot_user_id: str
    bot_id: str
    token: str | None = None  # issued at the first install, the same after a reinstall
    installed: bool = False


@dataclass
class _Code:
    team_id: str
    user: str
    redirect_uri: str | None
    issued: float


@dataclass
class Posted:
    """A POST to a response_url."""

    key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    """A request Slack would have refused."""

    where: str
    error: str
    errors: tuple[str, ...]
    request: Any

    def __str__(self) -> str:
        details = "".join(f"\n      {e}" for e in self.errors)
        return f"{self.where}: {self.error}{details}"


@dataclass(frozen=True)
class Seen:
    """One thing a member can read in a channel."""

    author: str
    kind: str  # "command", "message" or "file"
    text: str
    ts: str
    channel: str
    only_for: str | None = None
    blocks: tuple[dict[str, Any], ...] = ()
    fallback: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass
class _Entry:
    channel: str
    ts: str
    order: tuple[int, int]
    author: str
    kind: str
    blocks: list[dict[str, Any]]
    fallback: str | None
    only_for: str | None = None
    deleted: bool = False
    metadata: dict[str, Any] | None = None

    def text(self) -> str:
        if self.kind == "message":
            return "\n".join(rules.visible_lines(self.blocks, self.fallback))
        return self.fallback or ""

    def seen(self) -> Seen:
        return Seen(self.author, self.kind, self.text(), self.ts, self.channel, self.only_for,
                    tuple(self.blocks), self.fallback, self.metadata)

    def visible_to(self, user: str | None) -> bool:
        return not self.deleted and (self.only_for is None or self.only_for == user)


@dataclass
class _Command:
    user: str
    channel: str
    command: str
    text: str
    echoed: bool = False
    acked: bool = False
    answer: _Entry | None = None


@dataclass
class _Press:
    user: str
    channel: str
    message_ts: str | None
    ephemeral: bool
    action_ids: tuple[str, ...]
    message: dict[str, Any] | None


@dataclass
class Delivery:
    """A request Slack sent the app (a slash command, an interaction), waiting for its ack."""

    kind: str  # "slash_commands", "block_actions", "view_submission", ...
    payload: dict[str, Any]
    order: int
    key: str | None


class Refused(Exception):
    """Raised by a handler to answer with a Slack error (and record the refusal)."""

    def __init__(self, error: str, *errors: str):
        super().__init__(error)
        self.verdict = Verdict(error, errors)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None = None
    times: int = 1
    raw: str | None = None


@dataclass
class _Delay:
    seconds: float
    after: bool = False


def _client_credentials(args: dict[str, Any]) -> tuple[str | None, str | None]:
    """oauth.v2.access's client id and secret: HTTP Basic (slack-sdk's way) or form fields."""
    headers = args.get("_headers") or {}
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if auth.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except ValueError:
            return None, None
        return client_id, secret
    return args.get("client_id"), args.get("client_secret")


def _cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _from_cursor(cursor: str) -> float:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        if not text.startswith("next_ts:"):
            raise ValueError(cursor)
        return float(text.removeprefix("next_ts:"))
    except ValueError:
        raise Refused("invalid_cursor") from None


def _key_of(url: Any) -> str | None:
    if isinstance(url, str) and "/response/" in url:
        return url.rsplit("/response/", 1)[1]
    return None


def _without_block_ids(blocks: Any) -> Any:
    if not isinstance(blocks, list):
        return blocks
    return [{k: v for k, v in b.items() if k != "block_id"} if isinstance(b, dict) else b
            for b in blocks]


def _buttons(blocks: list[dict[str, Any]]) -> set[str]:
    out = set()
    for block in blocks:
        for element in block.get("elements") or [] if block.get("type") == "actions" else []:
            if isinstance(element, dict) and isinstance(element.get("action_id"), str):
                out.add(element["action_id"])
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and isinstance(accessory.get("action_id"), str):
            out.add(accessory["action_id"])
    return out


@dataclass
class FakeSlack:
    team_id: str = "T0TEAM"
    team_name: str = "Test Team"
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"
    admins: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)
    host: str = "127.0.0.1"
    scopes: set[str] = field(default_factory=lambda: set(rules.DEFAULT_BOT_SCOPES))
    bot_channels: set[str] = field(default_factory=set)
    private_channels: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.time
    client_id: str = "1111.2222"
    client_secret: str = "fake-client-secret"

    calls: list[Call] = field(default_factory=list, init=False)
    responses: list[Posted] = field(default_factory=list, init=False)
    uploads: dict[str, bytes] = field(default_factory=dict, init=False)
    acks: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    refusals: list[Refusal] = field(default_factory=list, init=False)
    port: int = field(default=0, init=False)

    _running: ClassVar[dict[str, FakeSlack]] = {}

    def __post_init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, _Delay] = {}
        self._drops: dict[str, int] = {}
        self._stopping = asyncio.Event()
        self._last_ts = 0
        self._dms: set[str] = set()
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._socket: web.WebSocketResponse | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._expected: list[tuple[str | None, str | None]] = []
        # The channel model.
        self._order = itertools.count(1)
        self._entries: list[_Entry] = []
        self._by_ts: dict[tuple[str, str], _Entry] = {}
        self._commands: dict[str, _Command] = {}
        self._presses: dict[str, _Press] = {}
        self._envelopes: dict[str, Delivery] = {}
        self._triggers: set[str] = set()
        self.workspaces: dict[str, Workspace] = {}
        self._codes: dict[str, _Code] = {}
        self._revoked: set[str] = set()
        self._current: Workspace | None = None  # the workspace of the call being handled
        self._used_triggers: set[str] = set()
        self._files: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._connections_open,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            "views.open": self._views_open,
            "conversations.open": self._conversations_open,
            "conversations.history": self._history,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "oauth.v2.access": self._oauth_access,
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
        FakeSlack._running[self.base] = self
        return self

    async def stop(self) -> None:
        FakeSlack._running.pop(self.base, None)
        self._stopping.set()  # every delay ends now
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @classmethod
    def serving(cls, payload: dict[str, Any] | None = None) -> FakeSlack | None:
        """The running fake a request belongs to: the one its ``response_url`` points at, else
        the only one running."""
        url = (payload or {}).get("response_url")
        if isinstance(url, str):
            for base, fake in cls._running.items():
                if url.startswith(base + "/"):
                    return fake
        running = list(cls._running.values())
        return running[0] if len(running) == 1 else None

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
             times: int = 1, raw: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` with an error: ``{"ok": false, "error":
        error}`` with HTTP ``status`` (and ``Retry-After`` when given), or with ``raw`` the body
        as ``text/html`` (what a proxy in front of Slack sends with a 502). Nothing is done."""
        self._failures.setdefault(method, []).append(
            _Failure(status, error, retry_after, times, raw))

    def delay(self, method: str, seconds: float, *, after: bool = False) -> None:
        """Answer every call of ``method`` only after ``seconds`` (a slow Slack); 0 undoes it.
        ``after=True``: handle the call first (a post is made and shows), then wait before
        answering, so a client that times out has made the post all the same."""
        self._delays[method] = _Delay(seconds, after)

    def drop_after(self, method: str, times: int = 1) -> None:
        """Handle the next ``times`` calls of ``method`` fully (a post is made and shows), then
        close the connection without answering: the client sees the server disconnect."""
        self._drops[method] = self._drops.get(method, 0) + times

    # ------------------------------------------------------------------ workspaces (OAuth)

    def add_workspace(self, team_id: str, name: str, *, channels: tuple[str, ...] = ()
                      ) -> Workspace:
        """A workspace that may install the app; the bot is a member of its ``channels``."""
        ws = Workspace(team_id, name, set(channels), f"U{team_id}BOT", f"B{team_id}")
        self.workspaces[team_id] = ws
        self.bot_channels.update(channels)
        return ws

    def _authorize(self, url: str) -> dict[str, str]:
        """What Slack's authorize page reads from the URL the app sent the browser to."""
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        problems = []
        if parts.path.rstrip("/") != "/oauth/v2/authorize":
            problems.append(f"not Slack's authorize URL: {parts.path}")
        if query.get("client_id") != self.client_id:
            problems.append(f"client_id {query.get('client_id')!r} is not this app's")
        unknown = sorted(set(filter(None, query.get("scope", "").split(",")))
                         - set(rules.DEFAULT_BOT_SCOPES))
        if not query.get("scope") or unknown:
            problems.append(f"scopes Slack doesn't grant this app: {unknown or 'none asked'}")
        if not query.get("state"):
            problems.append("no state: the app can't tell this install from a forged one")
        if problems:
            self._refuse("oauth/v2/authorize", Verdict("invalid_request", tuple(problems)), url)
        return query

    def approve(self, url: str, team_id: str, *, user: str = "U0INSTALLER") -> dict[str, str]:
        """The installer approves the app for ``team_id`` on Slack's page at ``url``: the
        query Slack then sends the browser back with (``code``, ``state``)."""
        query = self._authorize(url)
        code = f"code-{team_id}-{next(self._ids)}"
        self._codes[code] = _Code(team_id, user, query.get("redirect_uri"), self.clock())
        return {"code": code, "state": query.get("state", "")}

    def cancel(self, url: str) -> dict[str, str]:
        """The installer presses Cancel on Slack's page."""
        return {"error": "access_denied", "state": self._authorize(url).get("state", "")}

    def uninstall(self, team_id: str) -> dict[str, Any]:
        """A workspace admin removes the app: its token stops working; the event Slack sends."""
        ws = self.workspaces[team_id]
        ws.installed = False
        if ws.token:
            self._revoked.add(ws.token)
        return self._event(team_id, {"type": "app_uninstalled"})

    def revoke_bot_token(self, team_id: str) -> dict[str, Any]:
        ws = self.workspaces[team_id]
        if ws.token:
            self._revoked.add(ws.token)
        return self._event(team_id, {"type": "tokens_revoked",
                                     "tokens": {"oauth": [], "bot": [ws.bot_user_id]}})

    def _event(self, team_id: str, event: dict[str, Any]) -> dict[str, Any]:
        now = int(self.clock())
        return {"token": "unused-verification-token", "team_id": team_id, "api_app_id": "A0APP",
                "event": {**event, "event_ts": f"{now}.000100"}, "type": "event_callback",
                "event_id": f"Ev{next(self._ids):08d}", "event_time": now}

    def _token_verdict(self, token: str | None) -> Verdict | None:
        """[AUTH] a revoked token, or an OAuth-looking one the fake never issued."""
        if token is None:
            return None
        if token in self._revoked:
            return Verdict("token_revoked")
        if token.startswith("xoxb-fake-") and self._token_workspace(token) is None:
            return Verdict("invalid_auth")
        return None

    def _token_workspace(self, token: str | None) -> Workspace | None:
        return next((w for w in self.workspaces.values() if token and w.token == token), None)

    def _channel_team(self, channel: str) -> str:
        owner = next((w for w in self.workspaces.values() if channel in w.channels), None)
        return owner.team_id if owner is not None else self.team_id

    def _check_channel(self, channel: str) -> None:
        """A workspace's token sees its own channels only (DMs it opened are its own)."""
        team = self._current.team_id if self._current is not None else self.team_id
        if channel.startswith("D"):
            return
        if self._channel_team(channel) != team:
            raise Refused("channel_not_found")

    def _bot_in(self, channel: str) -> str:
        """The bot user that posts in ``channel``: its workspace's (a DM: the calling token's)."""
        if channel.startswith("D") and self._current is not None:
            return self._current.bot_user_id
        ws = self.workspaces.get(self._channel_team(channel))
        return ws.bot_user_id if ws is not None else self.bot_user_id

    def _oauth_access(self, args: dict[str, Any]) -> dict[str, Any]:
        client_id, secret = _client_credentials(args)
        if client_id != self.client_id:
            raise Refused("invalid_client_id")
        if secret != self.client_secret:
            raise Refused("bad_client_secret")
        code = self._codes.pop(str(args.get("code") or ""), None)
        if code is None or self.clock() - code.issued > 600:
            raise Refused("invalid_code")
        if args.get("redirect_uri") and args.get("redirect_uri") != code.redirect_uri:
            raise Refused("bad_redirect_uri")
        ws = self.workspaces[code.team_id]
        if ws.token is None or ws.token in self._revoked:
            ws.token = f"xoxb-fake-{ws.team_id}-{next(self._ids)}"
        ws.installed = True
        return {"access_token": ws.token, "token_type": "bot",
                "scope": ",".join(rules.DEFAULT_BOT_SCOPES), "bot_user_id": ws.bot_user_id,
                "app_id": "A0APP", "team": {"id": ws.team_id, "name": ws.name},
                "enterprise": None, "is_enterprise_install": False,
                "authed_user": {"id": code.user}}

    def revoke_scope(self, *scopes: str) -> None:
        """The bot token no longer holds ``scopes`` (the app was reinstalled without them)."""
        self.scopes.difference_update(scopes)

    def grant_scope(self, *scopes: str) -> None:
        self.scopes.update(scopes)

    def invite_bot(self, *channels: str) -> None:
        """Someone ran ``/invite @bot`` in ``channels``."""
        self.bot_channels.update(channels)

    def remove_bot(self, *channels: str) -> None:
        self.bot_channels.difference_update(channels)

    def make_private(self, *channels: str) -> None:
        self.private_channels.update(channels)

    def say(self, user: str, channel: str, text: str, *,
            metadata: dict[str, Any] | None = None) -> Seen:
        """``user`` (a member, or another app's bot user) posts ``text`` in ``channel``, with
        ``metadata`` if given: it shows to everyone and is in the channel's history."""
        entry = self._add(channel, author=user, text=text)
        entry.metadata = metadata
        return entry.seen()

    def delete_message(self, channel: str, ts: str) -> None:
        """Someone (its author, an admin) deletes the message ``ts``: gone from the channel and
        its history; ``chat.update`` on it is ``message_not_found``."""
        self._by_ts[(channel, ts)].deleted = True

    def kind_of(self, channel: str) -> str:
        """``im`` (``D...``), ``private`` (``make_private`` or ``G...``) or ``public``."""
        if channel.startswith("D"):
            return "im"
        if channel in self.private_channels or channel.startswith("G"):
            return "private"
        return "public"

    def bot_is_in(self, channel: str) -> bool:
        if self.kind_of(channel) == "im":
            return channel in self._dms
        return channel in self.bot_channels

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

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

    # ------------------------------------------------------------------ refusals

    def _refuse(self, where: str, verdict: Verdict, request: Any) -> Verdict:
        self.refusals.append(Refusal(where, verdict.error, verdict.errors, request))
        return verdict

    def expect_refusal(self, error: str | None = None, *, where: str | None = None) -> None:
        """Announce one refusal this test causes on purpose (``None`` matches any)."""
        self._expected.append((error, where))

    def pop_refusals(self) -> list[Refusal]:
        """The refusals so far, forgotten (each counts as expected)."""
        out, self.refusals = self.refusals, []
        return out

    def unexpected_refusals(self) -> list[str]:
        """What the teardown complains about: refusals nobody announced, announced ones that
        never happened."""
        expected = list(self._expected)
        problems = []
        for refusal in self.refusals:
            match = next((i for i, (error, where) in enumerate(expected)
                          if error in (None, refusal.error) and where in (None, refusal.where)), None)
            if match is None:
                problems.append(f"Slack refused {refusal}")
            else:
                expected.pop(match)
        problems += [f"expected a refusal ({error or 'any error'} at {where or 'anywhere'}) that "
                     "never happened" for error, where in expected]
        return problems

    def check_refusals(self) -> None:
        problems = self.unexpected_refusals()
        if problems:
            raise AssertionError("The fake Slack:\n  " + "\n  ".join(problems))

    # ------------------------------------------------------------------ channel model: input

    def register_command(self, key: str, *, user: str, channel: str, command: str,
                         text: str = "") -> None:
        """A slash command the test built; ``key`` is its response_url's key (and trigger)."""
        self._commands[key] = _Command(user, channel, "/" + command.lstrip("/"), text)
        self._triggers.add(key)

    def register_press(self, key: str, *, user: str, channel: str, message_ts: str | None = None,
                       ephemeral: bool = False, action_ids: tuple[str, ...] = (),
                       message: dict[str, Any] | None = None) -> None:
        """A button press the test built, on the message ``message_ts`` (or the ``message``
        payload Slack includes); ``key`` is its response_url's key (and trigger)."""
        press = _Press(user, channel, message_ts, ephemeral, tuple(action_ids), message)
        self._presses[key] = press
        self._triggers.add(key)
        target = self._pressed(press)
        if target is not None and message_ts:
            # The test's copy of the message may carry a made-up ts: let chat.update find it.
            self._by_ts.setdefault((channel, message_ts), target)

    def delivered(self, payload: dict[str, Any]) -> Delivery:
        """Slack sends ``payload`` (a slash command's form fields or an interaction) to the app
        now: its answer takes this place in the channel, whenever the ack comes back."""
        if "command" in payload:
            kind = "slash_commands"
        else:
            kind = str(payload.get("type") or "events_api")
        return Delivery(kind, payload, next(self._order), _key_of(payload.get("response_url")))

    def acked(self, delivery: Delivery, body: Any) -> Verdict | None:
        """The app's ack of ``delivery``: checked, then shown. ``body`` is the JSON body (or
        ``None``/``""`` when empty, or a plain string)."""
        where = f"ack:{delivery.kind}"
        if delivery.kind == "slash_commands":
            if isinstance(body, str) and body:
                body = {"text": body}  # a plain-text ack is a message
            verdict = rules.slash_ack_verdict(body)
            if verdict is not None:
                return self._refuse(where, verdict, body)
            command = self._commands.get(delivery.key or "")
            if body and command is not None and not command.acked:
                command.acked = True
                self._answer_command(command, body, delivery.order)
        elif delivery.kind == "block_actions":
            verdict = rules.action_ack_verdict(body)
            if verdict is not None:
                return self._refuse(where, verdict, body)
        elif delivery.kind == "view_submission":
            errors = rules.view_submission_ack_errors(body, delivery.payload.get("view") or {})
            if errors:
                return self._refuse(where, Verdict("invalid_view_submission_response",
                                                   tuple(errors)), body)
        return None

    # ------------------------------------------------------------------ channel model: output

    def channel_view(self, channel_id: str) -> list[Seen]:
        """What every member of ``channel_id`` can read, oldest first."""
        return [e.seen() for e in self._ordered(channel_id) if e.visible_to(None)]

    def seen_by(self, user_id: str, channel_id: str) -> list[Seen]:
        """What ``user_id`` can read in ``channel_id``: the channel, and what only they see."""
        return [e.seen() for e in self._ordered(channel_id) if e.visible_to(user_id)]

    def channel_text(self, channel_id: str, user_id: str | None = None) -> str:
        seen = self.seen_by(user_id, channel_id) if user_id else self.channel_view(channel_id)
        return "\n".join(s.text for s in seen)

    def _ordered(self, channel_id: str) -> list[_Entry]:
        return sorted((e for e in self._entries if e.channel == channel_id), key=lambda e: e.order)

    def _add(self, channel: str, *, author: str | None = None, kind: str = "message",
             blocks: Any = None, text: str | None = None, only_for: str | None = None,
             order: tuple[int, int] | None = None) -> _Entry:
        entry = _Entry(channel, self._ts(), order or (next(self._order), 0),
                       author or self._bot_in(channel), kind, self._blocks(blocks), text, only_for)
        self._entries.append(entry)
        self._by_ts[(channel, entry.ts)] = entry
        return entry

    @staticmethod
    def _blocks(raw: Any) -> list[dict[str, Any]]:
        value = rules.decode(raw) if raw is not None else []
        return value if isinstance(value, list) else []

    def _answer_command(self, command: _Command, payload: dict[str, Any], slot: int | None = None
                        ) -> _Entry:
        slot = slot if slot is not None else next(self._order)
        public = payload.get("response_type") == "in_channel"
        if public and not command.echoed:
            command.echoed = True
            line = f"{command.command} {command.text}".strip()
            self._add(command.channel, author=command.user, kind="command", text=line,
                      order=(slot, 0))
        entry = self._add(command.channel, blocks=payload.get("blocks"), text=payload.get("text"),
                          only_for=None if public else command.user, order=(slot, 1))
        command.answer = entry
        return entry

    def _pressed(self, press: _Press) -> _Entry | None:
        """The message a press was on, as the fake showed it."""
        if press.message_ts and (press.channel, press.message_ts) in self._by_ts:
            return self._by_ts[(press.channel, press.message_ts)]
        candidates = [e for e in reversed(self._ordered(press.channel))
                      if e.kind == "message" and e.visible_to(press.user)]
        if press.message is not None:
            wanted = (press.message.get("text"), _without_block_ids(press.message.get("blocks") or []))
            for entry in candidates:
                if (entry.fallback, _without_block_ids(entry.blocks)) == wanted:
                    return entry
        for entry in candidates:
            if set(press.action_ids) & _buttons(entry.blocks):
                return entry
        return None

    def _show_response(self, key: str, payload: dict[str, Any]) -> None:
        command, press = self._commands.get(key), self._presses.get(key)
        if command is None and press is None:
            return
        target = command.answer if command is not None else self._pressed(press)  # type: ignore[arg-type]
        if payload.get("delete_original"):
            if target is not None:
                target.deleted = True
            return
        if payload.get("replace_original"):
            if target is not None:
                target.blocks = self._blocks(payload.get("blocks"))
                target.fallback = payload.get("text")
                return
            if press is not None:
                self._add(press.channel, blocks=payload.get("blocks"), text=payload.get("text"),
                          only_for=press.user if press.ephemeral else None)
                return
        if command is not None:
            self._answer_command(command, payload)
            return
        assert press is not None
        public = payload.get("response_type") == "in_channel"
        self._add(press.channel, blocks=payload.get("blocks"), text=payload.get("text"),
                  only_for=None if public else press.user)

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
        delay = self._delays.get(method)
        if delay is not None and delay.seconds and not delay.after:
            await self._pause(delay.seconds)
        try:
            verdict = rules.api_verdict(method, call.args, call.headers,
                                        known=lambda m: m in self.handlers) or \
                self._token_verdict(call.token) or self._scope_verdict(method, call.args)
            if verdict is not None:
                return web.json_response(self._refuse(method, verdict, call.args).body())
            failures = self._failures.get(method)
            if failures:
                failure = failures[0]
                failure.times -= 1
                if failure.times <= 0:
                    failures.pop(0)
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                if failure.raw is not None:
                    return web.Response(text=failure.raw, status=failure.status,
                                        content_type="text/html", headers=headers)
                return web.json_response({"ok": False, "error": failure.error}, status=failure.status,
                                         headers=headers)
            self._current = self._token_workspace(call.token)
            try:
                result = self.handlers[method](call.args | {"_headers": call.headers})
            except Refused as refused:
                return web.json_response(self._refuse(method, refused.verdict, call.args).body())
            finally:
                self._current = None
            await self._notify()  # handled: what it did shows before any answer goes back
            if delay is not None and delay.seconds and delay.after:
                await self._pause(delay.seconds)
            response = web.json_response({"ok": True, **result})
            if self._drops.get(method):
                self._drops[method] -= 1
                if request.transport is not None:
                    request.transport.close()  # no answer: the client sees the server disconnect
            return response
        finally:
            await self._notify()

    def _ts(self) -> str:
        """Now on ``clock``, in microseconds, later than every ts before it. Never in the second
        1700000000: the test helpers make up ts values there."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts + 1)
        if micros // 1_000_000 == 1_700_000_000:
            micros = 1_700_000_001_000_000
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _scope_verdict(self, method: str, args: dict[str, Any]) -> Verdict | None:
        kind = self.kind_of(str(args.get("channel") or "")) if method == "conversations.history" \
            else None
        return rules.scope_verdict(rules.scopes_needed(method, kind), self.scopes)

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        ws = self._current
        if ws is not None:
            return {"url": f"https://{ws.team_id.lower()}.slack.com/", "team": ws.name,
                    "user": "whos-next", "team_id": ws.team_id, "user_id": ws.bot_user_id,
                    "bot_id": ws.bot_id}
        return {"url": "https://test.slack.com/", "team": self.team_name, "user": "whos-next",
                "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id}

    def _connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://{self.host}:{self.port}/socket"}

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        self._check_channel(channel)
        if not self.bot_is_in(channel):
            if self.kind_of(channel) == "private":
                raise Refused("channel_not_found")  # a private channel the bot can't see
            if self.kind_of(channel) == "public" and "chat:write.public" not in self.scopes:
                raise Refused("not_in_channel")
        metadata, warning = self._metadata(args)
        entry = self._add(channel, blocks=args.get("blocks"), text=args.get("text"))
        entry.metadata = metadata
        out: dict[str, Any] = {"channel": channel, "ts": entry.ts,
                               "message": self._as_message(entry, with_metadata=True)}
        if warning:
            out["warning"] = warning
            out["response_metadata"] = {"warnings": [warning]}
        return out

    def _metadata(self, args: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The metadata to keep (None when absent or ignored) and Slack's warning, if any."""
        if "metadata" not in args:
            return None, None
        warning = rules.metadata_warning(args["metadata"])
        if warning is not None:
            self._refuse("chat.postMessage", Verdict(warning, (rules.at(
                "/metadata/event_type", "letters, numbers, _ and - only: the metadata was "
                "ignored"),)), args)
            return None, warning
        return dict(rules.decode(args["metadata"])), None

    def _as_message(self, entry: _Entry, *, with_metadata: bool) -> dict[str, Any]:
        """A message as the Web API returns it (conversations.history, chat.postMessage)."""
        out: dict[str, Any] = {"type": "message", "ts": entry.ts, "user": entry.author,
                               "team": self._channel_team(entry.channel),
                               "text": entry.fallback or ""}
        bots = {self.bot_user_id: self.bot_id} | {
            w.bot_user_id: w.bot_id for w in self.workspaces.values()}
        if entry.author in bots:
            out.update(bot_id=bots[entry.author], app_id="A0APP")
        if entry.kind == "file":
            lines = (entry.fallback or "").split("\n")
            out.update(text="", files=[{"title": lines[0], "name": lines[-1]}])
        elif entry.blocks:
            out["blocks"] = entry.blocks
        if with_metadata and entry.metadata is not None:
            out["metadata"] = entry.metadata
        return out

    def _history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args["channel"])
        self._check_channel(channel)
        if not self.bot_is_in(channel):
            raise Refused("not_in_channel" if self.kind_of(channel) == "public"
                          else "channel_not_found")
        try:
            oldest = rules.history_bound(args.get("oldest"), "invalid_ts_oldest", 0.0)
            latest = rules.history_bound(args.get("latest"), "invalid_ts_latest", float("inf"))
        except ValueError as bad:
            raise Refused(str(bad)) from None
        try:
            limit = min(max(int(args.get("limit") or 100), 1), 999)
        except (TypeError, ValueError):
            raise Refused("invalid_limit") from None
        inclusive = rules.truthy(args.get("inclusive"))
        if args.get("cursor"):
            latest, inclusive_latest = min(latest, _from_cursor(str(args["cursor"]))), False
        else:
            inclusive_latest = inclusive

        def within(ts: float) -> bool:
            above = ts >= oldest if inclusive else ts > oldest
            below = ts <= latest if inclusive_latest else ts < latest
            return above and below

        shown = sorted((e for e in self._entries if e.channel == channel and e.visible_to(None)
                        and within(float(e.ts))), key=lambda e: float(e.ts), reverse=True)
        page, more = shown[:limit], len(shown) > limit
        out: dict[str, Any] = {
            "messages": [self._as_message(e, with_metadata=rules.truthy(
                args.get("include_all_metadata"))) for e in page],
            "has_more": more, "pin_count": 0}
        if more:
            out["response_metadata"] = {"next_cursor": _cursor(page[-1].ts)}
        return out

    def _post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        entry = self._add(str(args["channel"]), blocks=args.get("blocks"), text=args.get("text"),
                          only_for=str(args["user"]))
        return {"message_ts": entry.ts}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        self._check_channel(str(args["channel"]))
        entry = self._by_ts.get((str(args["channel"]), str(args["ts"])))
        if entry is None or entry.deleted:
            raise Refused("message_not_found")
        bots = {self.bot_user_id} | {w.bot_user_id for w in self.workspaces.values()}
        if entry.author not in bots:  # a member's message, or the echoed command line
            raise Refused("cant_update_message")
        if "blocks" in args:
            entry.blocks = self._blocks(args["blocks"])
        if "text" in args:
            entry.fallback = args["text"]
        if "metadata" in args and rules.metadata_warning(args["metadata"]) is None:
            entry.metadata = dict(rules.decode(args["metadata"]))
        return {"channel": args["channel"], "ts": args["ts"], "text": entry.fallback}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger = str(args.get("trigger_id") or "")
        if trigger not in self._triggers:
            raise Refused("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise Refused("exchanged_trigger_id")
        self._used_triggers.add(trigger)
        return {"view": {"id": f"V{next(self._ids):06d}"}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = str(args.get("users", ""))
        channel = "D" + users.split(",")[0].lstrip("UW")
        self._dms.add(channel)  # the bot is in the DMs it opens
        return {"channel": {"id": channel}}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user", ""))
        team = self._current.team_id if self._current is not None else self.team_id
        return {"user": {"id": user, "team_id": team, "name": user.lower(),
                         "is_admin": user in self.admins or user in self.owners,
                         "is_owner": user in self.owners, "is_bot": False}}

    def _upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):06d}"
        self._files[file_id] = {"filename": str(args["filename"]), "length": int(args["length"])}
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        files = rules.decode(args["files"])
        unknown = [f["id"] for f in files if f["id"] not in self._files]
        if unknown:
            raise Refused("file_not_found", *(f"no upload started for {i}" for i in unknown))
        channels = [str(args["channel_id"])] if args.get("channel_id") else \
            [c for c in str(args.get("channels") or "").split(",") if c]
        for channel in channels:
            self._check_channel(channel)
        for f in files:
            filename = self._files[f["id"]]["filename"]
            title = f.get("title") or filename
            for channel in channels:
                lines = [title] if title == filename else [title, filename]
                self._add(channel, kind="file", text="\n".join(lines))
        return {"files": [{"id": f["id"], "title": f.get("title")} for f in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        await self._notify()
        return web.Response(text="OK")

    async def _response(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            payload = await request.json()
        except ValueError:
            payload = None
        try:
            verdict = rules.response_url_verdict(payload)
            if isinstance(payload, dict):
                self.responses.append(Posted(key, payload))
            if verdict is not None:
                self._refuse("response_url", verdict, payload)
                return web.Response(status=400, text=verdict.error)
            self._show_response(key, payload)
            return web.Response(text="ok")
        finally:
            await self._notify()

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
                    delivery = self._envelopes.get(data["envelope_id"])
                    if delivery is not None:
                        self.acked(delivery, data.get("payload"))
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
        if type_ != "events_api":
            self._envelopes[envelope_id] = self.delivered(payload)
        await self._socket.send_json(envelope)
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
        return await self.wait_for(lambda: self.acks.get(envelope_id), timeout)
