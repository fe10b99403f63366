"""When the core fails or hangs: each failure is logged once, the member still gets an answer,
and stop() leaves nothing running."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.slack.app import SlackAdapter
from bot.app import App
from bot.invocation import Invocation
from bot.reply import OOPS, Reply
from tests.slack.helpers import (
    block_actions,
    post_interaction,
    post_signed,
    reply_json,
    settings_for,
    slash,
)


class BrokenRepository:
    """Every call raises."""

    def __getattr__(self, name: str):
        async def broken(*args, **kwargs):
            raise RuntimeError("boom")
        return broken


class BrokenApp(App):
    """The real core on a broken repository: every command (after ``delay`` seconds) and
    button press fails inside the core, which logs it and answers OOPS (it never raises)."""

    delay = 0.0

    def __init__(self, repo, clock, **kwargs):
        super().__init__(BrokenRepository(), clock, **kwargs)

    async def dispatch(self, inv: Invocation) -> Reply:
        await asyncio.sleep(self.delay)
        return await super().dispatch(inv)


class StuckApp(App):
    """The real core, except that a command never finishes (until cancelled)."""

    finished = False

    async def dispatch(self, inv: Invocation) -> Reply:
        try:
            await asyncio.Event().wait()
        finally:
            self.finished = True
        raise AssertionError("unreachable")


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("slow", [False, True], ids=["in the ack", "after the ack"])
async def test_a_failing_command_is_logged_once(repo, clock, fake, http, ids, sleeps, caplog, slow):
    caplog.set_level(logging.ERROR, logger="adapters.slack.app")
    core = BrokenApp(repo, clock, default_timezone="UTC")
    core.delay = 0.05 if slow else 0.0
    adapter = SlackAdapter(core, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           ack_budget=0.01 if slow else 2.0, sleep=sleeps)
    await adapter.start()
    try:
        form = slash(fake, ids, "rejected", "asked for a raise")
        acked = await reply_json(await post_signed(http, adapter, form))
        await adapter.idle()
    finally:
        await adapter.stop()
    [line] = failures(caplog)
    assert "/rejected failed" in line or "slow command failed" in line
    [answer] = fake.responses_to(form["trigger_id"]) if slow else [acked]
    assert answer["response_type"] == "ephemeral" and answer["text"] == OOPS


async def test_a_failing_button_is_logged_once_and_answered(repo, clock, fake, http, ids, sleeps,
                                                            caplog):
    caplog.set_level(logging.ERROR, logger="adapters.slack.app")
    adapter = SlackAdapter(BrokenApp(repo, clock, default_timezone="UTC"), settings_for(fake, "http"),
                           http_host="127.0.0.1", http_port=0, sleep=sleeps)
    await adapter.start()
    try:
        press = block_actions(fake, ids, "wn:cheer:1")
        assert await reply_json(await post_interaction(http, adapter, press)) == {}
        await adapter.idle()
    finally:
        await adapter.stop()
    [line] = failures(caplog)
    assert "cheer button failed" in line
    [answer] = fake.responses_to(press["trigger_id"])
    assert answer["response_type"] == "ephemeral" and answer["text"] == OOPS


async def test_stop_waits_for_the_replies_it_cancels(repo, clock, fake, http, ids, sleeps):
    core = StuckApp(repo, clock, default_timezone="UTC")
    adapter = SlackAdapter(core, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           ack_budget=0, sleep=sleeps)
    await adapter.start()
    response = await post_signed(http, adapter, slash(fake, ids, "rejected", "asked"))
    assert response.status == 200
    await adapter.stop(timeout=0.05)
    assert core.finished  # cancelled and awaited, not left pending
