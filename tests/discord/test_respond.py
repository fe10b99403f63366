"""How the adapter answers within Discord's 3 seconds (``DiscordAdapter._respond``): the core
runs in discord.py's own task for the interaction, and a timer starts the deferral beside it
when the budget runs out. These cover the paths of that timer the command and button suites
don't: a deferral Discord refuses, and a core that finishes while its deferral is on its way."""

from __future__ import annotations

import logging

import pytest

from bot.ids import CommunityRef, MemberRef, Platform
from tests.discord.helpers import ANA, first_response
from tests.discord.test_commands import SlowApp
from tests.fakes.discord import BOT_ID, GUILD_ID, FakeDiscord

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))


@pytest.fixture
def held(repo, clock) -> SlowApp:
    """The real core, held up until the test lets it go (``release``)."""
    return SlowApp(repo, clock, default_timezone="UTC")


async def test_a_refused_deferral_is_logged_and_the_ask_still_counts(
        start_bot, fake: FakeDiscord, held: SlowApp, repo, caplog):
    bot = await start_bot(core=held, response_budget=0.05)
    fake.fail_next("POST", r"/interactions/.*/callback", 400, message="Bad Request", code=50035)
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    with caplog.at_level(logging.WARNING, logger="adapters.discord.client"):
        await fake.push(payload)
        first = await first_response(fake, payload)
        assert first.json["type"] == 5 and first.status == 400
        held.release.set()
        await bot.drain(timeout=10)  # the interaction's answer has run its course
    assert f"could not answer interaction {payload['id']} (400" in caplog.text
    totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)))
    assert totals.attempts == 1  # the core's work was done; only the answer was lost
    assert not fake.find("PATCH", rf"/webhooks/{BOT_ID}/[^/]+/messages/@original")
    assert not fake.find("POST", rf"/webhooks/{BOT_ID}/[^/]+")


async def test_a_core_done_while_its_deferral_is_sent_follows_up(
        start_bot, fake: FakeDiscord, held: SlowApp):
    await start_bot(core=held, response_budget=0.05)
    # The deferral is answered late, and the core finishes meanwhile: the reply waits for
    # the deferral, then edits the placeholder (it never goes as a second first response).
    fake.delay_next("POST", r"/interactions/.*/callback", 0.3, handle_first=False)
    payload = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    await fake.push(payload)
    await fake.wait_until(lambda: fake.find("POST", r"/interactions/.*/callback"))
    held.release.set()
    (edit,) = await fake.wait_for("PATCH",
                                  rf"/webhooks/{BOT_ID}/{payload['token']}/messages/@original")
    assert "asked for a raise" in edit.json["embeds"][0]["description"]
    (callback,) = fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    assert callback.json["type"] == 5
