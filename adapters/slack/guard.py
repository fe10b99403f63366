"""A guard in front of bolt's HTTP handler: refuse hostile requests cheaply and quietly.

bolt parses a request's body before it checks the signature, so junk sent to the events URL
(a body that isn't UTF-8, a timestamp that isn't a number, a ``payload`` that isn't JSON, a form
where JSON is expected…) gets a 500 and a traceback in the log each. The guard, an aiohttp
middleware on the events app (``adapters.slack.http``), looks at every request to the events path first:

- not a POST → 405; a body over ``MAX_BODY`` → 413; a compressed body, no content type or one
  other than a UTF-8 form or JSON → 415;
- signature headers missing, repeated or malformed, a timestamp more than 5 minutes off, a bad
  signature → 401, as bolt answers;
- then (signed requests only) a body that isn't UTF-8, a form that looks like JSON, JSON that
  isn't an object, a ``payload`` field that isn't a JSON object → 400;
- and a signed request that lacks the ids the adapter stores things under → 400: a slash
  command's ``team_id`` and ``user_id``; an interaction's ``team.id`` (or ``user.team_id``, as
  ``translate.team_id`` reads it) and ``user.id``; an event's ``team_id``. A url_verification
  event and Slack's ``ssl_check`` form carry neither, and pass.

A refusal is a short plain-text answer and never reaches bolt. Everything else reaches bolt
unchanged: aiohttp keeps the body it read, so bolt reads the very same bytes.

Refusals are logged without a traceback and without anything the sender chose: one WARNING line
for the first, then at most one summary line a minute ("refused N bad requests to
/slack/events in the last minute (latest: bad signature)"), written when a refusal arrives a
minute or more after the previous line, and once more when the app shuts down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import hdrs, web

log = logging.getLogger(__name__)

# Slack's requests are small: a slash command is a few hundred bytes plus its text (at most a few
# KB); our modals submit at most ~1,600 characters of input, under 30 KB form-encoded even if every
# character is an emoji; a button press echoes the pressed card, one of ours, typically a few KB.
# 256 KiB leaves a wide margin over all of these, and is a quarter of aiohttp's 1 MiB default:
# a declared larger body is refused before a byte of it is read.
MAX_BODY = 256 * 1024
MAX_SKEW = 5 * 60  # seconds between the request's timestamp and our clock, as Slack and bolt allow
SUMMARY_INTERVAL = 60.0

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_UTF8 = {"utf-8", "utf8"}

Clock = Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Refused(Exception):
    """A request the guard turns away: the status, and a short reason (never the sender's text)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RefusalLog:
    """Logs refusals: the first at once, then at most one summary line every ``interval``
    seconds of ``monotonic`` time."""

    def __init__(self, path: str, *, monotonic: Clock = time.monotonic,
                 interval: float = SUMMARY_INTERVAL, logger: logging.Logger = log):
        self.path = path
        self.monotonic = monotonic
        self.interval = interval
        self.logger = logger
        self._last_line: float | None = None
        self._pending = 0
        self._latest = ""

    def refused(self, reason: str) -> None:
        now = self.monotonic()
        self._pending += 1
        self._latest = reason
        if self._last_line is None:
            self.logger.warning("Slack: refused a bad request to %s (%s); further refusals are "
                                "summed up once a minute", self.path, reason)
            self._pending = 0
            self._last_line = now
        elif now - self._last_line >= self.interval:
            self._summary(now)

    def flush(self) -> None:
        """Log the refusals not reported yet, if any (at shutdown)."""
        if self._pending:
            self._summary(self.monotonic())

    def _summary(self, now: float) -> None:
        since = now if self._last_line is None else self._last_line
        minutes = int((now - since) // 60)
        window = "the last minute" if minutes < 2 else f"the last {minutes} minutes"
        noun = "request" if self._pending == 1 else "requests"
        self.logger.warning("Slack: refused %d bad %s to %s in %s (latest: %s)", self._pending,
                            noun, self.path, window, self._latest)
        self._pending = 0
        self._last_line = now


class RequestGuard:
    """The checks, and the aiohttp middleware that runs them (``middleware``)."""

    def __init__(self, signing_secret: str, *, path: str, max_body: int = MAX_BODY,
                 now: Clock = time.time, refusals: RefusalLog | None = None):
        if not signing_secret.strip():
            raise ValueError("the guard needs the signing secret")
        self._secret = signing_secret.encode()
        self.path = path
        self.max_body = max_body
        self.now = now
        self.refusals = refusals if refusals is not None else RefusalLog(path)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path != self.path:
            return await handler(request)  # the router's 404 (or bolt's OAuth pages, if any)
        try:
            await self.check(request)
        except Refused as refusal:
            self.refusals.refused(refusal.reason)
            response = web.Response(status=refusal.status, text=refusal.reason + "\n",
                                    content_type="text/plain")
            if refusal.status == 405:
                response.headers[hdrs.ALLOW] = "POST"
            return response
        return await handler(request)

    async def check(self, request: web.Request) -> None:
        """Raise ``Refused`` unless ``request`` is a well-formed, signed Slack request."""
        if request.method != hdrs.METH_POST:
            raise Refused(405, "not a POST")
        if request.content_length is not None and request.content_length > self.max_body:
            raise Refused(413, "body too large")
        content_type = self._content_type(request)
        timestamp, signature = self._signature_headers(request)
        try:
            raw = await request.read()  # kept by aiohttp: bolt reads the same bytes
        except web.HTTPRequestEntityTooLarge:
            raise Refused(413, "body too large") from None
        if len(raw) > self.max_body:
            raise Refused(413, "body too large")
        if not hmac.compare_digest(self.signature(timestamp, raw), signature):
            raise Refused(401, "bad signature")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(400, "body is not UTF-8") from None
        if content_type == JSON:
            _check_event(_json_object(text, "JSON body"))
        else:
            _check_form(text)

    def signature(self, timestamp: str, body: bytes) -> str:
        """Slack's v0 signature, over the raw bytes: slack_sdk's ``SignatureVerifier`` would
        decode them as UTF-8 first, and fail on a body that isn't."""
        base = b"v0:" + timestamp.encode() + b":" + body
        return "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()

    def _content_type(self, request: web.Request) -> str:
        if request.headers.get(hdrs.CONTENT_ENCODING, "identity").lower() != "identity":
            raise Refused(415, "compressed body")
        if len(request.headers.getall(hdrs.CONTENT_TYPE, [])) > 1:
            raise Refused(400, "repeated Content-Type")
        if hdrs.CONTENT_TYPE not in request.headers or request.content_type not in (FORM, JSON):
            raise Refused(415, "unsupported content type")
        if request.charset is not None and request.charset.lower() not in _UTF8:
            raise Refused(415, "unsupported charset")
        return request.content_type

    def _signature_headers(self, request: web.Request) -> tuple[str, str]:
        timestamps = request.headers.getall(TIMESTAMP_HEADER, [])
        signatures = request.headers.getall(SIGNATURE_HEADER, [])
        if not timestamps or not signatures:
            raise Refused(401, "no signature")
        if len(timestamps) > 1 or len(signatures) > 1:
            raise Refused(401, "repeated signature headers")
        timestamp, signature = timestamps[0], signatures[0]
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused(401, "malformed timestamp")
        if abs(self.now() - int(timestamp)) > MAX_SKEW:
            raise Refused(401, "stale timestamp")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused(401, "malformed signature")
        return timestamp, signature


def _json_object(text: str, what: str) -> dict[str, Any]:
    # bolt reads a body as JSON when it starts with "{": demand exactly that, so we agree.
    if not text.startswith("{"):
        raise Refused(400, f"{what} is not a JSON object")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Refused(400, f"{what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is not a JSON object")
    return value


_CHECKED = frozenset({"payload", "ssl_check", "team_id", "user_id"})


def form_fields(text: str, wanted: frozenset[str] = _CHECKED) -> dict[str, str]:
    """The ``wanted`` fields of a form body as ``parse_qsl(keep_blank_values=True)`` reads them
    (bolt's reading: the last of a name wins), decoding no other value: a slash command's text
    and response URL are most of its bytes, and bolt decodes them anyway."""
    found: dict[str, str] = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote(name.replace("+", " "), errors="replace")
        if name in wanted:
            found[name] = unquote(value.replace("+", " "), errors="replace")
    return found


def _check_form(text: str) -> None:
    if text.lstrip().startswith(("{", "[")):
        raise Refused(400, "JSON sent as a form")
    fields = form_fields(text)
    if "payload" in fields:
        _check_interaction(_json_object(fields["payload"], "payload"))
    elif "ssl_check" not in fields:  # Slack's certificate check carries no ids
        _require(fields.get("team_id"), "no team_id")
        _require(fields.get("user_id"), "no user_id")


def _check_interaction(payload: Mapping[str, Any]) -> None:
    team, user = payload.get("team"), payload.get("user")
    team_id = _text(payload.get("team_id")) or _text(_get(team, "id")) or _text(_get(user, "team_id"))
    _require(team_id, "no team id")
    _require(_get(user, "id"), "no user id")


def _check_event(body: Mapping[str, Any]) -> None:
    if body.get("type") == "url_verification":  # bolt answers the challenge
        return
    _require(body.get("team_id"), "no team_id")


def _get(node: Any, key: str) -> Any:
    return node.get(key) if isinstance(node, Mapping) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value.strip() else ""


def _require(value: Any, reason: str) -> None:
    if not _text(value):
        raise Refused(400, reason)


def guarded(web_app: web.Application, signing_secret: str, *, path: str,
            max_body: int = MAX_BODY, monotonic: Clock = time.monotonic,
            now: Clock = time.time) -> web.Application:
    """``web_app`` with a ``RequestGuard`` in front of its handlers for requests to ``path``.
    Call before the app is first started."""
    guard = RequestGuard(signing_secret, path=path, max_body=max_body, now=now,
                         refusals=RefusalLog(path, monotonic=monotonic))
    web_app.middlewares.append(guard.middleware)

    async def flush(_app: web.Application) -> None:
        guard.refusals.flush()

    web_app.on_cleanup.append(flush)
    return web_app
