"""Socket Mode: the real slack-sdk client connects to the fake's websocket, receives envelopes
and acks them with the rendered reply."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.slack.app import SlackAdapter
from bot.config import ConfigError
from tests.slack.helpers import (
    ANA,
    COMMUNITY,
    block_actions,
    member,
    section_texts,
    settings_for,
    slash,
)


async def test_connects_and_acks_a_slash_command_with_the_reply(socket_adapter, fake, ids, repo):
    # Start-up: auth.test with the bot token, apps.connections.open with the app token.
    opened = fake.calls_to("apps.connections.open")
    assert len(opened) == 1
    assert opened[0].headers["Authorization"] == "Bearer xapp-1-test"
    assert fake.calls_to("auth.test")[0].headers["Authorization"] == "Bearer xoxb-1-test"

    envelope = await fake.send_envelope("slash_commands",
                                        slash(fake, ids, "rejected", "asked for a raise fear:6"))
    ack = await fake.wait_for_ack(envelope)
    payload = ack["payload"]
    assert payload["response_type"] == "in_channel"
    text = section_texts(payload)
    assert "@ana got a no" in text and "*asked for a raise*" in text
    assert any(b["type"] == "actions" for b in payload["blocks"])
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected) == (1, 1)


async def test_a_retried_envelope_counts_once(socket_adapter, fake, ids, repo, caplog):
    caplog.set_level(logging.INFO, logger="adapters.slack.app")
    body = slash(fake, ids, "pending", "pitched the editor")
    first = await fake.wait_for_ack(await fake.send_envelope("slash_commands", body))
    # Slack re-delivers the same payload in a new envelope, marked as a retry.
    again = await fake.wait_for_ack(await fake.send_envelope("slash_commands", body, retry_attempt=1))
    assert first["payload"]["response_type"] == again["payload"]["response_type"] == "in_channel"
    assert (await repo.totals(COMMUNITY, member(ANA))).pending == 1
    assert any("retry 1 of /pending" in r.getMessage() for r in caplog.records)


async def test_private_replies_are_ephemeral(socket_adapter, fake, ids):
    ack = await fake.wait_for_ack(await fake.send_envelope("slash_commands", slash(fake, ids, "help")))
    assert ack["payload"]["response_type"] == "ephemeral"
    assert "/rejected" in section_texts(ack["payload"])


async def test_a_button_press_over_the_socket(socket_adapter, fake, ids, repo):
    ack = await fake.wait_for_ack(await fake.send_envelope(
        "slash_commands", slash(fake, ids, "rejected", "asked for a raise")))
    cheer = next(e for b in ack["payload"]["blocks"] if b["type"] == "actions" for e in b["elements"])
    press = block_actions(fake, ids, cheer["action_id"], user="U0BEN", name="ben")
    ack = await fake.wait_for_ack(await fake.send_envelope("interactive", press))
    assert "payload" not in ack or not ack["payload"]
    await socket_adapter.idle()
    key = press["trigger_id"]
    [answer] = fake.responses_to(key)
    assert answer["response_type"] == "ephemeral" and "cheered" in answer["text"]


def ours(task: asyncio.Task) -> bool:
    """A task running slack-sdk's, bolt's or the adapter's code (not the fake server's)."""
    code = getattr(task.get_coro(), "cr_code", None)
    name = code.co_filename if code is not None else ""
    return any(part in name for part in ("slack_sdk", "slack_bolt", "adapters/slack"))


async def test_an_unreachable_websocket_is_a_config_error_and_leaves_nothing_running(app, fake,
                                                                                      sleeps):
    # slack-sdk's connect() retries forever; start() must give up and clean up.
    fake.handlers["apps.connections.open"] = lambda args: {"url": "ws://127.0.0.1:9/link?ticket=x"}
    before = asyncio.all_tasks()
    adapter = SlackAdapter(app, settings_for(fake, "socket"), sleep=sleeps, connect_timeout=0.3)
    with pytest.raises(ConfigError) as raised:
        await adapter.start()
    message = str(raised.value)
    assert "SLACK_APP_TOKEN" in message and "ws://127.0.0.1:9/link" in message
    assert "ticket" not in message
    assert [t for t in asyncio.all_tasks() - before if ours(t)] == []
    await adapter.stop()  # nothing left to stop
