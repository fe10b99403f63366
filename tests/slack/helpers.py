"""Helpers for the Slack suite (its fixtures are in ``tests/slack/conftest.py``): the fake
workspace's ids, builders for the requests Slack sends (slash commands, button presses, view
submissions), signing, and readers for what comes back."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.slack.config import SlackSettings
from bot.ids import CommunityRef, MemberRef, Platform
from tests.fakes.slack import FakeSlack

SECRET = "0123456789abcdef0123456789abcdef"
TEAM = "T0TEAM"
CHANNEL = "C0GENERAL"
ANA, BEN = "U0ANA", "U0BEN"
COMMUNITY = CommunityRef(Platform.SLACK, TEAM)


def member(user_id: str) -> MemberRef:
    return MemberRef(Platform.SLACK, user_id)


class Recorder:
    """An injected ``sleep`` that records the wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Ids:
    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self, prefix: str) -> str:
        return f"{prefix}{next(self._n):05d}"


def settings_for(fake: FakeSlack, mode: str) -> SlackSettings:
    return SlackSettings(_env_file=None, slack_bot_token="xoxb-1-test",
                         slack_app_token="xapp-1-test", slack_signing_secret=SECRET,
                         slack_mode=mode, slack_api_url=fake.api_url)


# ---------------------------------------------------------------------- payloads


def slash(fake: FakeSlack, ids: Ids, command: str, text: str = "", *, user: str = ANA,
          name: str = "ana", channel: str = CHANNEL, trigger_id: str | None = None) -> dict[str, str]:
    """A slash command as Slack sends it (form fields)."""
    trigger = trigger_id or ids("trig-")
    fake.register_command(trigger, user=user, channel=channel, command=command, text=text)
    return {
        "token": "legacy", "team_id": TEAM, "team_domain": "test", "channel_id": channel,
        "channel_name": "general", "user_id": user, "user_name": name, "command": f"/{command}",
        "text": text, "api_app_id": "A0APP", "is_enterprise_install": "false",
        "response_url": fake.response_url(trigger), "trigger_id": trigger,
    }


def block_actions(fake: FakeSlack, ids: Ids, action_id: str, *, user: str = ANA, name: str = "ana",
                  channel: str = CHANNEL, ephemeral: bool = False,
                  message: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button press; ``message`` is the pressed channel message as Slack includes it (see
    ``as_posted``). Slack sends no ``message`` for a press on an ephemeral message."""
    trigger = ids("press-")
    payload = {
        "type": "block_actions", "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": trigger,
        "container": {"type": "message", "message_ts": (message or {}).get("ts", "1700000000.000001"),
                      "channel_id": channel, "is_ephemeral": ephemeral},
        "channel": {"id": channel, "name": "general"},
        "response_url": fake.response_url(trigger),
        "actions": [{"action_id": action_id, "block_id": "b1", "type": "button",
                     "value": action_id.split(":", 2)[-1], "action_ts": f"1700000001.{trigger[-5:]}"}],
    }
    if message is not None:
        payload["message"] = message
    fake.register_press(trigger, user=user, channel=channel,
                        message_ts=payload["container"]["message_ts"], ephemeral=ephemeral,
                        action_ids=(action_id,), message=message)
    return payload


def as_posted(payload: dict[str, Any], ts: str = "1700000000.000042") -> dict[str, Any]:
    """A message payload (an ack, a response_url POST) as Slack shows it once posted: with a
    ``ts``, the bot's ids and a ``block_id`` on every block."""
    blocks = [{"block_id": f"blk{i}", **block} for i, block in enumerate(payload.get("blocks") or [])]
    return {"type": "message", "subtype": "bot_message", "ts": ts, "bot_id": "B0BOT",
            "app_id": "A0APP", "team": TEAM, "text": payload.get("text", ""), "blocks": blocks}


def view_submission(view: dict[str, Any], values: dict[str, Any], *, view_id: str = "V0001",
                    user: str = ANA, name: str = "ana") -> dict[str, Any]:
    return {
        "type": "view_submission", "team": {"id": TEAM, "domain": "test"},
        "user": {"id": user, "username": name, "name": name, "team_id": TEAM},
        "api_app_id": "A0APP", "token": "legacy", "trigger_id": f"sub-{view_id}",
        "view": {**view, "id": view_id, "team_id": TEAM, "hash": "h1", "state": {"values": values}},
        "response_urls": [],
    }


def text_value(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


# ---------------------------------------------------------------------- signed HTTP


def sign(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def post_signed(http: aiohttp.ClientSession, adapter: Any, form: dict[str, Any], *,
                      timestamp: int | None = None, secret: str = SECRET,
                      headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
    """POST a form body to the adapter's /slack/events, signed like Slack signs it. The fake
    Slack the request belongs to checks the ack that comes back, and shows it in its channel
    model, as Slack would."""
    body = urlencode(form).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    all_headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts, secret),
                   **(headers or {})}
    url = f"http://127.0.0.1:{adapter.http_port}/slack/events"
    payload = _request_payload(form)
    fake = FakeSlack.serving(payload)
    delivery = fake.delivered(payload) if fake is not None and payload is not None else None
    response = await http.post(url, data=body, headers=all_headers)
    raw = await response.read()
    if fake is not None and delivery is not None and response.status == 200:
        fake.acked(delivery, _ack_body(raw))
    return response


async def post_event(http: aiohttp.ClientSession, adapter: Any, body: dict[str, Any], *,
                     secret: str = SECRET) -> aiohttp.ClientResponse:
    """POST an Events API body (JSON) to the adapter's /slack/events, signed like Slack."""
    raw = json.dumps(body).encode()
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": str(ts),
               "X-Slack-Signature": sign(raw, ts, secret)}
    return await http.post(f"http://127.0.0.1:{adapter.http_port}/slack/events", data=raw,
                           headers=headers)


def _request_payload(form: dict[str, Any]) -> dict[str, Any] | None:
    """What Slack sent: a slash command's fields, or an interaction's JSON ``payload``."""
    if "payload" in form:
        try:
            payload = json.loads(form["payload"])
        except (TypeError, ValueError):
            return None
        return payload if isinstance(payload, dict) else None
    return form if "command" in form else None


def _ack_body(raw: bytes) -> Any:
    text = raw.decode("utf-8", "replace")
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


async def post_interaction(http: aiohttp.ClientSession, adapter: Any, payload: dict[str, Any],
                           **kwargs: Any) -> aiohttp.ClientResponse:
    return await post_signed(http, adapter, {"payload": json.dumps(payload)}, **kwargs)


async def reply_json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    assert response.status == 200, await response.text()
    text = await response.text()
    return json.loads(text) if text else {}


def section_texts(payload: dict[str, Any]) -> str:
    """All mrkdwn of a message payload, for assertions."""
    out = []
    for block in payload.get("blocks") or []:
        if block.get("type") == "section":
            out.append(block.get("text", {}).get("text", ""))
            out.extend(f.get("text", "") for f in block.get("fields", []))
        elif block.get("type") == "context":
            out.extend(e.get("text", "") for e in block.get("elements", []))
        elif block.get("type") == "header":
            out.append(block["text"]["text"])
    return "\n".join(out)


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in payload.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]

