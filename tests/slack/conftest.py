"""Fixtures for the Slack adapter: a loopback fake Slack and the real adapter on top of the real
core and a real SQLite file. The helpers that build and sign Slack's requests are in
``tests/slack/helpers.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.slack.app import SlackAdapter
from tests.fakes.slack import FakeSlack
from tests.slack.helpers import CHANNEL, TEAM, Ids, Recorder, settings_for


@pytest.fixture
def ids() -> Ids:
    return Ids()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The loopback fake Slack. At teardown it fails the test if Slack would have refused
    something the test didn't announce with ``fake.expect_refusal(...)``."""
    # The bot was invited to #general (it may read its history); other channels it posts in
    # through chat:write.public without being a member.
    slack = FakeSlack(team_id=TEAM, admins={"U0ADMIN"}, bot_channels={CHANNEL})
    await slack.start()
    yield slack
    await slack.stop()
    slack.check_refusals()


@pytest.fixture
def sleeps() -> Recorder:
    return Recorder()


@pytest.fixture
async def http_adapter(app, fake, sleeps) -> AsyncIterator[SlackAdapter]:
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           sleep=sleeps)
    await adapter.start()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def socket_adapter(app, fake, sleeps) -> AsyncIterator[SlackAdapter]:
    adapter = SlackAdapter(app, settings_for(fake, "socket"), sleep=sleeps)
    await adapter.start()
    await fake.wait_for_socket()
    yield adapter
    await adapter.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def backend() -> str:
    """The platform's suite runs on SQLite alone: the core's suite covers both databases."""
    return "sqlite"
