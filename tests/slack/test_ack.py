"""The 3-second ack: a slash command runs once however slow the work before its ack, and that
work (the admin check, opening a form) can't push the ack past Slack's deadline."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.modals import ModalContext, build_modal
from bot.commands import get_command
from tests.slack.helpers import (
    CHANNEL,
    COMMUNITY,
    post_interaction,
    post_signed,
    reply_json,
    settings_for,
    slash,
    view_submission,
)

SET_CHECKIN = "set time:09:00 days:weekdays channel:<#C0ASKS|asks>"


@pytest.fixture
async def impatient(app, fake, sleeps) -> AsyncIterator[SlackAdapter]:
    """An adapter whose bolt listeners give up waiting for an ack after 0.2 s instead of 3 s
    (bolt's ``ack_timeout``), so "slower than the ack timeout" takes a tiny test delay. bolt
    only applies it when it polls for the ack; the adapter runs with process_before_response,
    where bolt awaits the listener instead: the test keeps that a slow command runs once
    either way."""
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
    # A second run would have asked users.info before the first run's answer came back.
    await fake.wait_for(lambda: fake.calls_to("views.open"))
    await impatient.idle()
    [opened] = fake.calls_to("views.open")
    assert opened.args["trigger_id"] == form["trigger_id"]
    assert len(fake.calls_to("users.info")) == 1


async def adapter_with(app, fake, **kwargs) -> SlackAdapter:
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           **kwargs)
    await adapter.start()
    return adapter


async def test_a_rate_limited_admin_check_does_not_hold_the_ack(app, fake, http, ids, repo):
    # The real sleep: waiting out Retry-After before the ack would push it past 3 s.
    adapter = await adapter_with(app, fake)
    try:
        fake.rate_limit_once("users.info", retry_after=3)
        started = time.monotonic()
        payload = await reply_json(await post_signed(http, adapter, slash(
            fake, ids, "checkin", SET_CHECKIN, user="U0ADMIN")))
        assert time.monotonic() - started < 3
        assert payload["response_type"] == "ephemeral"
        assert "Slack is slow to answer right now" in payload["text"]
        assert "admins" not in payload["text"]  # not a refusal: the admin may try again
        assert await repo.get_schedule(COMMUNITY) is None
        assert len(fake.calls_to("users.info")) == 1  # no retry while the ack waits
    finally:
        await adapter.stop()


async def test_a_slow_admin_check_answers_within_the_budget_and_changes_nothing(app, fake, http,
                                                                               ids, repo, sleeps):
    adapter = await adapter_with(app, fake, ack_budget=0.2, sleep=sleeps)
    try:
        fake.delay("users.info", 1.0)
        started = time.monotonic()
        payload = await reply_json(await post_signed(http, adapter, slash(
            fake, ids, "checkin", SET_CHECKIN, user="U0ADMIN")))
        assert time.monotonic() - started < 1.0
        assert payload["response_type"] == "ephemeral"
        assert "Slack is slow to answer right now" in payload["text"]
        await adapter.idle()
        assert await repo.get_schedule(COMMUNITY) is None
        assert fake.responses == []
    finally:
        await adapter.stop()


async def test_a_slow_views_open_answers_within_the_budget(app, fake, http, ids, sleeps):
    adapter = await adapter_with(app, fake, ack_budget=0.2, sleep=sleeps)
    try:
        fake.delay("views.open", 1.0)
        started = time.monotonic()
        payload = await reply_json(await post_signed(http, adapter, slash(fake, ids, "rejected")))
        assert time.monotonic() - started < 1.0
        assert payload["response_type"] == "ephemeral"
        assert "couldn't open the form" in payload["text"]
    finally:
        await adapter.stop()


async def test_a_form_submitted_while_slack_is_slow_stays_open_with_a_note(app, fake, http, ids,
                                                                            repo, sleeps):
    adapter = await adapter_with(app, fake, ack_budget=0.2, sleep=sleeps)
    try:
        fake.delay("users.info", 1.0)
        view = build_modal(get_command("checkin"),
                           ModalContext("checkin", CHANNEL, fake.response_url("t1")))
        started = time.monotonic()
        payload = await reply_json(await post_interaction(http, adapter, view_submission(
            view, {}, user="U0ADMIN")))
        assert time.monotonic() - started < 1.0
        assert payload["response_action"] == "errors"
        assert any("Slack is slow" in error for error in payload["errors"].values())
        assert await repo.get_schedule(COMMUNITY) is None
    finally:
        await adapter.stop()
