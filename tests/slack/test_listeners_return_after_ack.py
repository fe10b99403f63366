"""bolt awaits our listeners (``process_before_response``) instead of polling for their ack
every 10 ms, so each listener must return as soon as it has acked. Here the core is held at a
gate: a command, a form and a button press are each acked while the core is still at work, and
its answer goes out through the response_url once the gate opens; in Socket Mode too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackSettings
from adapters.slack.modals import ModalContext, build_modal
from bot.app import App
from bot.commands import get_command
from bot.invocation import ActionInvocation, Invocation
from bot.reply import Reply
from tests.slack.helpers import (
    ANA,
    CHANNEL,
    COMMUNITY,
    SECRET,
    block_actions,
    member,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    settings_for,
    slash,
    text_value,
    view_submission,
)

# Far below what the core takes here (it waits for the gate): every answer goes the slow way.
BUDGET = 0.05
# A listener that waited for the core would hold its ack until the gate opens, i.e. forever:
# the test fails after this long rather than hang.
NEVER = 10.0


async def acked(request):
    return await asyncio.wait_for(request, NEVER)


class GatedApp(App):
    """The real core, except that each command and press waits for ``gate`` before it runs."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.waiting = 0
        self.done = 0

    async def _held(self, work):
        self.waiting += 1
        await self.gate.wait()
        try:
            return await work
        finally:
            self.done += 1

    async def dispatch(self, inv: Invocation) -> Reply:
        return await self._held(super().dispatch(inv))

    async def handle_action(self, act: ActionInvocation) -> Reply:
        return await self._held(super().handle_action(act))


@pytest.fixture
def core(repo, clock) -> GatedApp:
    return GatedApp(repo, clock, default_timezone="UTC", max_logs_per_hour=1000)


async def started(core, fake, sleeps, mode: str) -> SlackAdapter:
    adapter = SlackAdapter(core, settings_for(fake, mode), http_host="127.0.0.1", http_port=0,
                           ack_budget=BUDGET, sleep=sleeps)
    await adapter.start()
    return adapter


@pytest.fixture
async def gated(core, fake, sleeps) -> AsyncIterator[SlackAdapter]:
    adapter = await started(core, fake, sleeps, "http")
    yield adapter
    core.gate.set()
    await adapter.stop()


def test_bolt_awaits_the_listeners_in_every_mode(app, repo, fake):
    single = SlackAdapter(app, settings_for(fake, "http"))
    oauth = SlackAdapter(app, SlackSettings(
        _env_file=None, slack_client_id=fake.client_id, slack_client_secret=fake.client_secret,
        slack_signing_secret=SECRET, slack_mode="http", slack_api_url=fake.api_url),
        installs=repo)
    assert single.bolt_app.process_before_response is True
    assert oauth.bolt_app.process_before_response is True


async def test_a_command_is_acked_while_the_core_works_and_answered_later(gated, core, fake, http,
                                                                          ids, repo):
    form = slash(fake, ids, "rejected", "asked for a raise fear:6")
    response = await acked(post_signed(http, gated, form))
    assert response.status == 200 and await response.text() == ""
    assert (core.waiting, core.done) == (1, 0)  # acked before the core was done
    assert fake.responses == []

    core.gate.set()
    await gated.idle()
    [answer] = fake.responses_to(form["trigger_id"])
    assert answer["response_type"] == "in_channel"
    assert "@ana got a no" in section_texts(answer)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1


async def test_a_form_is_closed_while_the_core_works_and_answered_later(gated, core, fake, http,
                                                                        repo):
    view = build_modal(get_command("rejected"),
                       ModalContext("rejected", CHANNEL, fake.response_url("t-form")))
    values = {"ask": text_value("asked for a raise"), "who": text_value(""),
              "area": {"value": {"type": "static_select", "selected_option": None}},
              "fear": {"value": {"type": "number_input", "value": "6"}},
              "lesson": text_value(""),
              "private": {"value": {"type": "checkboxes", "selected_options": []}}}
    response = await acked(post_interaction(http, gated, view_submission(view, values)))
    assert await reply_json(response) == {}  # the modal closes
    assert (core.waiting, core.done) == (1, 0)

    core.gate.set()
    await gated.idle()
    [answer] = fake.responses_to("t-form")
    assert "@ana got a no" in section_texts(answer)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1


async def test_a_press_is_acked_while_the_core_works_and_answered_later(gated, core, fake, http,
                                                                        ids):
    press = block_actions(fake, ids, "wn:cheer:1")
    assert await reply_json(await acked(post_interaction(http, gated, press))) == {}
    assert (core.waiting, core.done) == (1, 0)

    core.gate.set()
    await gated.idle()
    assert core.done == 1
    [answer] = fake.responses_to(press["trigger_id"])
    assert answer["text"]


async def test_socket_mode_acks_while_the_core_works_and_answers_later(core, fake, sleeps, ids,
                                                                       repo):
    adapter = await started(core, fake, sleeps, "socket")
    try:
        await fake.wait_for_socket()
        body = slash(fake, ids, "rejected", "asked for a raise fear:6")
        ack = await fake.wait_for_ack(await fake.send_envelope("slash_commands", body), NEVER)
        assert not ack.get("payload")  # an empty ack
        assert (core.waiting, core.done) == (1, 0)

        core.gate.set()
        await adapter.idle()
        [answer] = fake.responses_to(body["trigger_id"])
        assert "@ana got a no" in section_texts(answer)
        assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1
    finally:
        core.gate.set()
        await adapter.stop()
