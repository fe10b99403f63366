"""Hostile requests to /slack/events, through the real adapter on a real socket: each kind gets a
short plain 4xx, never reaches bolt, changes nothing in the database and logs no traceback; a
flood logs a line or two; signed requests without the ids things are stored under are refused;
valid requests still work."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

from adapters.slack.app import EVENTS_PATH
from adapters.slack.guard import MAX_BODY
from adapters.slack.http import events_app
from tests.slack.helpers import (
    ANA,
    COMMUNITY,
    SECRET,
    TEAM,
    block_actions,
    member,
    post_signed,
    reply_json,
    slash,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
GUARD_LOGGER = "adapters.slack.guard"


@dataclass
class Req:
    body: bytes = b""
    headers: CIMultiDict[str] = field(default_factory=CIMultiDict)
    method: str = "POST"
    chunked: bool = False
    no_content_type: bool = False


def signed(body: bytes, content_type: str | None = FORM, *, timestamp: str | None = None,
           secret: str = SECRET, **extra: str) -> Req:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    base = f"v0:{ts}:".encode() + body
    headers = CIMultiDict({"X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": "v0=" + hmac.new(secret.encode(), base,
                                                                  hashlib.sha256).hexdigest()})
    if content_type is not None:
        headers["Content-Type"] = content_type
    headers.update(extra)
    return Req(body, headers, no_content_type=content_type is None)


def unsigned(body: bytes, content_type: str = FORM, **extra: str) -> Req:
    return Req(body, CIMultiDict({"Content-Type": content_type, **extra}))


def form(fields: dict[str, Any]) -> bytes:
    return urlencode(fields).encode()


def command(fake, ids, **changes: str | None) -> dict[str, str]:
    """A valid /rejected command, with fields changed (None drops a field)."""
    fields = slash(fake, ids, "rejected", "asked for a raise")
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return fields


def press(fake, ids) -> dict[str, Any]:
    return block_actions(fake, ids, "wn:cheer:1")


def deep(depth: int = 5000) -> str:
    return '{"a":' + "[" * depth + "]" * depth + "}"


def with_timestamp(fake, ids, ts: str) -> Req:
    return signed(form(command(fake, ids)), timestamp=ts)


def with_headers(req: Req, **headers: str) -> Req:
    req.headers.update(headers)
    return req


def without(req: Req, *names: str) -> Req:
    for name in names:
        req.headers.popall(name, None)
    return req


def repeated_signature(fake, ids) -> Req:
    req = signed(form(command(fake, ids)))
    req.headers.add("X-Slack-Signature", req.headers["X-Slack-Signature"])
    return req


def too_large(fake, ids, chunked: bool) -> Req:
    fields = command(fake, ids)
    fields["padding"] = "x" * (MAX_BODY + 1024)  # a valid, signed command, only too big
    req = signed(form(fields))
    req.chunked = chunked
    return req


def gzipped(fake, ids) -> Req:
    body = gzip.compress(form(command(fake, ids)))
    return signed(body, **{"Content-Encoding": "gzip"})


Builder = Callable[[Any, Any], Req]
now = lambda: int(time.time())  # noqa: E731

HOSTILE: list[Any] = [
    pytest.param(lambda f, i: Req(method="GET"), 405, id="get"),
    pytest.param(lambda f, i: Req(form(command(f, i)), CIMultiDict({"Content-Type": FORM}), method="PUT"),
                 405, id="put"),
    pytest.param(lambda f, i: unsigned(form(command(f, i))), 401, id="no-signature-headers"),
    pytest.param(lambda f, i: without(signed(form(command(f, i))), "X-Slack-Signature"), 401,
                 id="no-signature"),
    pytest.param(lambda f, i: without(signed(form(command(f, i))), "X-Slack-Request-Timestamp"), 401,
                 id="no-timestamp"),
    pytest.param(lambda f, i: with_timestamp(f, i, "soon"), 401, id="non-numeric-timestamp"),
    pytest.param(lambda f, i: with_timestamp(f, i, "-5"), 401, id="negative-timestamp"),
    pytest.param(lambda f, i: with_timestamp(f, i, "9" * 40), 401, id="huge-timestamp"),
    pytest.param(lambda f, i: with_timestamp(f, i, str(now() - 6 * 60)), 401, id="stale-timestamp"),
    pytest.param(lambda f, i: with_timestamp(f, i, str(now() + 6 * 60)), 401, id="future-timestamp"),
    pytest.param(lambda f, i: signed(form(command(f, i)), secret="f" * 32), 401, id="bad-signature"),
    pytest.param(lambda f, i: with_headers(signed(form(command(f, i))), **{"X-Slack-Signature": "v0=xyz"}),
                 401, id="malformed-signature"),
    pytest.param(repeated_signature, 401, id="repeated-signature"),
    pytest.param(lambda f, i: unsigned(b"text=\xff\xfe&team_id=\xc3("), 401, id="unsigned-not-utf8"),
    pytest.param(lambda f, i: signed(b"text=\xff\xfe&team_id=\xc3("), 400, id="signed-not-utf8"),
    pytest.param(lambda f, i: too_large(f, i, chunked=False), 413, id="too-large"),
    pytest.param(lambda f, i: too_large(f, i, chunked=True), 413, id="too-large-chunked"),
    pytest.param(lambda f, i: signed(form(command(f, i)), content_type=None), 415, id="no-content-type"),
    pytest.param(lambda f, i: signed(form(command(f, i)), "text/plain"), 415, id="text-plain"),
    pytest.param(lambda f, i: signed(form(command(f, i)), FORM + "; charset=latin-1"), 415,
                 id="latin-1"),
    pytest.param(gzipped, 415, id="gzip"),
    pytest.param(lambda f, i: signed(json.dumps(command(f, i)).encode(), FORM), 400, id="json-as-form"),
    pytest.param(lambda f, i: signed(form(command(f, i)), JSON), 400, id="form-as-json"),
    pytest.param(lambda f, i: signed(form({"payload": "not json"})), 400, id="payload-not-json"),
    pytest.param(lambda f, i: signed(form({"payload": "[1, 2]"})), 400, id="payload-array"),
    pytest.param(lambda f, i: signed(form({"payload": deep()})), 400, id="payload-deep"),
    pytest.param(lambda f, i: signed(b"[1, 2]", JSON), 400, id="json-array"),
    pytest.param(lambda f, i: signed(b'"hello"', JSON), 400, id="json-string"),
    pytest.param(lambda f, i: signed(deep().encode(), JSON), 400, id="json-deep"),
    pytest.param(lambda f, i: signed(b"{not json", JSON), 400, id="json-broken"),
    pytest.param(lambda f, i: signed(b""), 400, id="empty-form"),
]

MISSING_IDS: list[Any] = [
    pytest.param(lambda f, i: command(f, i, team_id=None), id="command-no-team_id"),
    pytest.param(lambda f, i: command(f, i, team_id=""), id="command-empty-team_id"),
    pytest.param(lambda f, i: command(f, i, user_id=None), id="command-no-user_id"),
    pytest.param(lambda f, i: command(f, i, user_id=" "), id="command-blank-user_id"),
    pytest.param(lambda f, i: {"payload": json.dumps(
        {**press(f, i), "team": None, "user": {"id": ANA, "name": "ana"}})}, id="press-no-team"),
    pytest.param(lambda f, i: {"payload": json.dumps({**press(f, i), "user": None})},
                 id="press-no-user"),
    pytest.param(lambda f, i: {"payload": json.dumps(
        {**press(f, i), "user": {"id": "", "team_id": TEAM}})}, id="press-empty-user-id"),
    pytest.param(lambda f, i: {"payload": json.dumps(
        {**press(f, i), "user": {"id": 42, "team_id": TEAM}})}, id="press-numeric-user-id"),
]


# ---------------------------------------------------------------------- helpers


@dataclass
class Answer:
    status: int
    content_type: str
    text: str


async def send(http: aiohttp.ClientSession, port: int, req: Req) -> Answer:
    url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
    data: Any = req.body
    if req.chunked:
        body = req.body

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 16 * 1024):
                yield body[start:start + 16 * 1024]
        data = chunks()
    skip = ["Content-Type"] if req.no_content_type else []
    async with http.request(req.method, url, data=data if req.body or req.chunked else None,
                            headers=req.headers, skip_auto_headers=skip) as response:
        return Answer(response.status, response.content_type, await response.text())


def db_dump(tmp_path) -> list[str]:
    """Every schema statement and row of the test's database, read on a connection of its own."""
    conn = sqlite3.connect(f"file:{tmp_path / 'test.db'}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


class DispatchSpy:
    """Counts the requests that reach bolt's dispatch (bolt's handler calls ``async_dispatch``)."""

    def __init__(self, bolt_app: Any, monkeypatch: pytest.MonkeyPatch):
        self.count = 0
        original = bolt_app.async_dispatch

        async def spy(req: Any) -> Any:
            self.count += 1
            return await original(req)

        monkeypatch.setattr(bolt_app, "async_dispatch", spy)


@pytest.fixture
def dispatched(http_adapter, monkeypatch) -> DispatchSpy:
    return DispatchSpy(http_adapter.bolt_app, monkeypatch)


def assert_quiet(records: list[logging.LogRecord]) -> None:
    """No traceback, nothing above WARNING."""
    loud = [r for r in records if r.exc_info or r.exc_text or r.levelno > logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]


async def assert_refused(answer: Answer, status: int, *, before: list[str], tmp_path, http_adapter,
                         fake, dispatched: DispatchSpy, caplog) -> None:
    assert answer.status == status, answer
    assert answer.content_type == "text/plain" and 0 < len(answer.text) < 80, answer
    assert dispatched.count == 0, "reached bolt"
    await http_adapter.idle()
    assert db_dump(tmp_path) == before
    assert fake.responses == []
    assert_quiet(caplog.records)
    guard_lines = [r for r in caplog.records if r.name == GUARD_LOGGER]
    assert len(guard_lines) == 1 and "refused a bad request to /slack/events" in guard_lines[0].getMessage()


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize(("build", "status"), HOSTILE)
async def test_a_hostile_request_gets_a_short_4xx_and_changes_nothing(
        build: Builder, status: int, http_adapter, fake, http, ids, repo, tmp_path, dispatched, caplog):
    caplog.set_level(logging.INFO)
    before = db_dump(tmp_path)
    answer = await send(http, http_adapter.http_port, build(fake, ids))
    await assert_refused(answer, status, before=before, tmp_path=tmp_path, http_adapter=http_adapter,
                         fake=fake, dispatched=dispatched, caplog=caplog)
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


@pytest.mark.parametrize("build", MISSING_IDS)
async def test_a_signed_request_without_team_or_user_is_refused_and_stores_nothing(
        build: Builder, http_adapter, fake, http, ids, repo, tmp_path, dispatched, caplog):
    caplog.set_level(logging.INFO)
    before = db_dump(tmp_path)
    answer = await send(http, http_adapter.http_port, signed(form(build(fake, ids))))
    await assert_refused(answer, 400, before=before, tmp_path=tmp_path, http_adapter=http_adapter,
                         fake=fake, dispatched=dispatched, caplog=caplog)
    assert "no team" in answer.text or "no user" in answer.text


async def test_events_need_a_team_but_url_verification_and_ssl_check_pass(
        http_adapter, fake, http, tmp_path, dispatched, caplog):
    caplog.set_level(logging.INFO)
    before = db_dump(tmp_path)
    event = {"type": "event_callback", "api_app_id": "A0APP", "event_id": "Ev1", "event_time": now(),
             "event": {"type": "app_home_opened", "user": ANA}}
    answer = await send(http, http_adapter.http_port, signed(json.dumps(event).encode(), JSON))
    await assert_refused(answer, 400, before=before, tmp_path=tmp_path, http_adapter=http_adapter,
                         fake=fake, dispatched=dispatched, caplog=caplog)
    # Signed, id-less requests that bolt answers itself still reach it.
    challenge = {"type": "url_verification", "token": "legacy", "challenge": "c-123"}
    answer = await send(http, http_adapter.http_port, signed(json.dumps(challenge).encode(), JSON))
    assert answer.status == 200 and "c-123" in answer.text
    answer = await send(http, http_adapter.http_port, signed(form({"ssl_check": "1", "token": "x"})))
    assert answer.status == 200
    assert dispatched.count == 2
    assert db_dump(tmp_path) == before


async def test_a_flood_logs_a_line_or_two_and_valid_commands_still_work(
        http_adapter, fake, http, ids, repo, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    builders = [p.values[0] for p in HOSTILE] + [lambda f, i, b=b: signed(form(b(f, i)))
                                                 for b in (p.values[0] for p in MISSING_IDS)]
    before = db_dump(tmp_path)
    statuses = set()
    for n in range(200):
        answer = await send(http, http_adapter.http_port, builders[n % len(builders)](fake, ids))
        statuses.add(answer.status)
    assert statuses <= {400, 401, 405, 413, 415}, statuses
    await http_adapter.idle()
    assert db_dump(tmp_path) == before
    assert_quiet(caplog.records)
    assert len(caplog.records) <= 2, [r.getMessage() for r in caplog.records]
    # A valid signed command afterwards is answered and counted.
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejected",
                                                                           "asked for a raise")))
    assert payload["response_type"] == "in_channel"
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 1
    # A charset, as some senders add it, is fine when it is UTF-8.
    await reply_json(await post_signed(
        http, http_adapter, slash(fake, ids, "accepted", "asked for a discount"),
        headers={"Content-Type": FORM + "; charset=UTF-8"}))
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 2


class StepClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_refusals_are_summed_up_at_most_once_a_minute(http_adapter, fake, http, ids, caplog):
    # The real adapter's events app, guarded with a clock the test moves.
    clock = StepClock()
    web_app = events_app(http_adapter.bolt_app, SECRET, path=EVENTS_PATH, monotonic=clock)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    caplog.set_level(logging.INFO)

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == GUARD_LOGGER]

    async def refuse(times: int, req: Callable[[], Req]) -> None:
        for _ in range(times):
            assert (await send(http, port, req())).status in (400, 401)

    bad_signature = lambda: signed(form(command(fake, ids)), secret="f" * 32)  # noqa: E731
    try:
        await refuse(200, bad_signature)
        assert lines() == ["Slack: refused a bad request to /slack/events (bad signature); further "
                           "refusals are summed up once a minute"]
        clock.now += 30
        await refuse(1, bad_signature)
        assert len(lines()) == 1
        clock.now += 31
        await refuse(1, lambda: signed(form({"payload": "[]"})))
        assert lines()[1:] == ["Slack: refused 201 bad requests to /slack/events in the last minute "
                               "(latest: payload is not a JSON object)"]
        await refuse(50, bad_signature)
        clock.now += 5 * 60
        await refuse(1, bad_signature)
        assert lines()[2:] == ["Slack: refused 51 bad requests to /slack/events in the last 5 minutes "
                               "(latest: bad signature)"]
        await refuse(1, lambda: with_timestamp(fake, ids, "soon"))
        assert len(lines()) == 3
    finally:
        await runner.cleanup()
    # What was not reported yet is reported at shutdown.
    assert lines()[3:] == ["Slack: refused 1 bad request to /slack/events in the last minute "
                           "(latest: malformed timestamp)"]
    assert_quiet(caplog.records)
    assert len(caplog.records) == 4



async def test_the_guard_stays_in_front_after_restarts(http_adapter, fake, http, ids, repo):
    # Each start builds its app anew, guarded once.
    for _ in range(2):
        await http_adapter.stop()
        await http_adapter.start()
        answer = await send(http, http_adapter.http_port, with_timestamp(fake, ids, "soon"))
        assert (answer.status, answer.content_type) == (401, "text/plain")
    await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejected", "asked")))
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 1
