"""Cheer and resolve buttons: persistent across restarts, owner-only rules, double presses."""

from __future__ import annotations

import asyncio
import copy

from bot.app import App
from bot.handlers.commitments import resolve_buttons
from bot.ids import CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation
from bot.reply import Reply, Text
from tests.discord.conftest import ANA, BEN, buttons, first_response, posted, press, run_command
from tests.fakes.discord import BOT_ID, GUILD_ID, FakeDiscord

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))


def button(message: dict, label: str) -> str:
    return next(b["custom_id"] for b in buttons(message) if b["label"].endswith(label))


async def log_rejection(fake: FakeDiscord) -> dict:
    payload, _ = await run_command(fake, "rejected", {"ask": "asked for a raise"})
    return posted(fake, payload)


async def test_cheer_from_another_member(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    _, call = await press(fake, message, button(message, "Cheer"), user_id=BEN, user_name="ben")
    assert call.json["type"] == 4
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL and "cheered" in data["content"] and "1 cheer" in data["content"]
    assert data["allowed_mentions"]["parse"] == []


async def test_double_press_takes_the_cheer_back(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    cheer = button(message, "Cheer")
    await press(fake, message, cheer, user_id=BEN, user_name="ben")
    _, call = await press(fake, message, cheer, user_id=BEN, user_name="ben")
    assert call.json["data"]["flags"] & EPHEMERAL
    assert "taken back" in call.json["data"]["content"] and "0 cheers" in call.json["data"]["content"]


async def test_cheering_your_own_ask_is_a_friendly_no(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    _, call = await press(fake, message, button(message, "Cheer"), user_id=ANA)
    data = call.json["data"]
    assert data["flags"] & EPHEMERAL and "your own ask" in data["content"]


async def test_buttons_work_after_a_restart(start_bot, fake: FakeDiscord):
    first = await start_bot()
    message = await log_rejection(fake)
    await first.stop()

    await start_bot()  # a new process: nothing in memory about that message
    payload, call = await press(fake, message, button(message, "Cheer"), user_id=BEN,
                                user_name="ben")
    assert call.json["type"] == 4 and "cheered" in call.json["data"]["content"]


async def open_asks(fake: FakeDiscord, user_id: int = ANA) -> dict:
    payload, call = await run_command(fake, "asks", user_id=user_id)
    assert call.json["data"]["flags"] & EPHEMERAL
    return posted(fake, payload)


async def test_resolving_a_pending_ask_edits_the_list(bot, fake: FakeDiscord, repo):
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)
    assert "asked for a reference" in asks["content"]
    assert [b["label"] for b in buttons(asks)] == ["Rejected", "Accepted", "Still waiting"]

    _, call = await press(fake, asks, button(asks, "Rejected"))
    assert call.json["type"] == 7  # UPDATE_MESSAGE: the list itself changes
    data = call.json["data"]
    assert "Marked as a no" in data["content"] and data["components"] == []
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert (totals.attempts, totals.rejected, totals.pending) == (1, 1, 0)


async def test_a_double_press_on_resolve_changes_nothing(bot, fake: FakeDiscord, repo):
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)
    rejected = button(asks, "Rejected")
    stale = copy.deepcopy(asks)  # as the member's screen still shows it
    await press(fake, asks, rejected)
    _, call = await press(fake, stale, rejected)  # the second click, before the edit landed
    data = call.json["data"]
    assert call.json["type"] == 4 and data["flags"] & EPHEMERAL
    assert "Already" in data["content"]
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert (totals.attempts, totals.rejected) == (1, 1)


async def test_a_stranger_cannot_resolve_your_ask(bot, fake: FakeDiscord, repo):
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)
    _, call = await press(fake, asks, button(asks, "Accepted"), user_id=BEN, user_name="ben")
    data = call.json["data"]
    assert call.json["type"] == 4 and data["flags"] & EPHEMERAL
    assert "Only the person who made that ask" in data["content"]
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert (totals.pending, totals.accepted) == (1, 0)


async def test_a_kept_promise_is_celebrated_in_public(bot, fake: FakeDiscord, repo):
    await run_command(fake, "who-next", {"ask": "ask Sam for an intro"})
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)
    # Two items: each line and its row of buttons are numbered so they can't be confused.
    assert "**1.** Promise" in asks["content"] and "**2.** Waiting" in asks["content"]
    labels = [b["label"] for b in buttons(asks)]
    assert labels[:4] == ["1 · Rejected", "1 · Accepted", "1 · Still waiting", "1 · Didn't ask"]
    assert labels[4:] == ["2 · Rejected", "2 · Accepted", "2 · Still waiting"]

    _, call = await press(fake, asks, button(asks, "1 · Accepted"))
    assert call.json["type"] == 4
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    assert "ask Sam for an intro" in data["embeds"][0]["description"]
    assert data["allowed_mentions"] == {"parse": [], "users": [ANA]}
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert totals.accepted == 1


async def test_a_button_in_a_dm_knows_its_server(bot, fake: FakeDiscord, repo):
    await run_command(fake, "who-next", {"ask": "ask Sam for an intro"})
    commitments, _ = await repo.open_items(COMMUNITY, ANA_REF)
    (commitment,) = commitments
    reply = Reply((Text.of("How did it go?"), resolve_buttons("c", commitment.id, waiting=False)))
    assert await bot.poster.dm(COMMUNITY, ANA_REF, reply)
    (opened,) = fake.find("POST", "/users/@me/channels")
    dm_channel = fake.dm_channels[str(ANA)]
    (message,) = [m for m in fake.messages.values() if m["channel_id"] == dm_channel]
    ids = [b["custom_id"] for b in buttons(message)]
    assert all(i.startswith(f"wn.{GUILD_ID}:resolve:") for i in ids)

    # Pressed in the DM: no guild on the interaction, the button names the community.
    _, call = await press(fake, message, button(message, "Rejected"), guild_id=None)
    assert call.json["type"] == 4
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert totals.rejected == 1
    new_ids = [b["custom_id"] for b in buttons(call.json["data"])]
    assert all(i.startswith(f"wn.{GUILD_ID}:") for i in new_ids)


class SlowButtons(App):
    """The real core, whose button handling waits until the test lets it go."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.release = asyncio.Event()

    async def handle_action(self, act: ActionInvocation) -> Reply:
        await self.release.wait()
        return await super().handle_action(act)


async def test_a_slow_button_is_acknowledged_then_answered(start_bot, fake: FakeDiscord, repo, clock):
    core = SlowButtons(repo, clock, default_timezone="UTC")
    await start_bot(core=core, response_budget=0.05)
    message = await log_rejection(fake)
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)

    cheer, _ = await press_later(fake, message, button(message, "Cheer"), BEN)
    resolve, _ = await press_later(fake, asks, button(asks, "Rejected"), ANA)
    core.release.set()

    (followup,) = await fake.wait_for("POST", rf"/webhooks/{BOT_ID}/{cheer['token']}")
    assert followup.json["flags"] & EPHEMERAL and "cheered" in followup.json["content"]
    (edit,) = await fake.wait_for("PATCH", rf"/webhooks/{BOT_ID}/{resolve['token']}/messages/@original")
    assert "Marked as a no" in edit.json["content"] and edit.json["components"] == []
    assert (await repo.totals(COMMUNITY, ANA_REF)).rejected == 2


async def press_later(fake: FakeDiscord, message: dict, custom_id: str, user_id: int):
    payload = fake.press(message, custom_id, user_id=user_id, user_name=f"user{user_id}")
    await fake.push(payload)
    call = await first_response(fake, payload)
    assert call.json["type"] == 6  # DEFERRED_UPDATE_MESSAGE: acknowledged, nothing shown yet
    return payload, call
