"""The 3-second ack: a slash command runs once however slow the work before its ack, and that
work (the admin check, opening a form) can't push the ack past Slack's deadline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.slack.app import SlackAdapter
from tests.slack.conftest import post_signed, settings_for, slash


@pytest.fixture
async def impatient(app, fake, sleeps) -> AsyncIterator[SlackAdapter]:
    """An adapter whose bolt listeners give up waiting for an ack after 0.2 s instead of 3 s
    (bolt's ``ack_timeout``), so "slower than the ack timeout" takes a tiny test delay."""
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           sleep=sleeps)
    for listener in adapter.bolt_app._async_listeners:
        listener.ack_timeout = 0.2  # type: ignore[assignment]
    await adapter.start()
    yield adapter
    await adapter.stop()


async def test_a_command_slow_before_its_ack_runs_once(impatient, fake, http, ids):
    # When a listener hasn't acked within its ack timeout, bolt runs the next listener that
    # matches the command: with two matching listeners, the command ran twice.
    fake.delay("users.info", 0.5)
    form = slash(fake, ids, "checkin", user="U0ADMIN")
    await post_signed(http, impatient, form)  # answered once bolt gives up waiting
    assert len(fake.calls_to("users.info")) == 1
    await fake.wait_for(lambda: fake.calls_to("views.open"))
    await impatient.idle()
    [opened] = fake.calls_to("views.open")
    assert opened.args["trigger_id"] == form["trigger_id"]
    assert len(fake.calls_to("users.info")) == 1
