"""Cheer and resolve buttons: persistent across restarts, owner-only rules, double presses."""

from __future__ import annotations

import asyncio
import copy

from bot.app import App
from bot.handlers.cheer import cheer_button
from bot.handlers.commitments import resolve_buttons
from bot.ids import CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation
from bot.reply import Buttons, Reply, Text
from bot.scheduler import Scheduler
from tests.discord.helpers import ANA, BEN, buttons, first_response, posted, press, run_command, shown
from tests.fakes.discord import BOT_ID, CHANNEL_ID, GUILD_ID, Call, FakeDiscord, message_texts

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))


def button(message: dict, label: str) -> str:
    return next(b["custom_id"] for b in buttons(message) if b["label"].endswith(label))


async def log_rejection(fake: FakeDiscord) -> dict:
    payload, _ = await run_command(fake, "rejected", {"ask": "asked for a raise"})
    return posted(fake, payload)


CAT = 1500000000000000003


async def cheer(fake: FakeDiscord, message: dict, user_id: int) -> tuple[Call, Call]:
    """Press Cheer on ``message``: the relabelling response and the private followup."""
    (cheer_id,) = [b["custom_id"] for b in buttons(message) if ":cheer:" in b["custom_id"]]
    payload, call = await press(fake, message, cheer_id, user_id=user_id, user_name=f"user{user_id}")
    (followup,) = await fake.wait_for("POST", rf"/webhooks/{BOT_ID}/{payload['token']}")
    return call, followup


async def test_cheers_count_on_the_celebration(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    before = copy.deepcopy(message)
    cheer_id = button(message, "Cheer")
    for user_id, label, says in ((BEN, "Cheer · 1", "1 cheer so far"),
                                 (CAT, "Cheer · 2", "2 cheers so far"),
                                 (BEN, "Cheer · 1", "taken back. (1 cheer now)")):
        call, followup = await cheer(fake, fake.messages[message["id"]], user_id)
        # The celebration's button shows the count (UPDATE_MESSAGE, the buttons only)...
        assert call.json["type"] == 7
        assert "content" not in call.json["data"] and "embeds" not in call.json["data"]
        [relabelled] = buttons(call.json["data"])
        assert relabelled == {**buttons(before)[0], "label": label}
        assert relabelled["custom_id"] == cheer_id
        now = fake.messages[message["id"]]
        assert [b["label"] for b in buttons(now)] == [label]
        assert (now["embeds"], now["content"]) == (before["embeds"], before["content"])
        # ...and the presser alone hears about it.
        assert followup.json["flags"] & EPHEMERAL and says in shown(followup.json["content"])
        assert followup.json["allowed_mentions"]["parse"] == []


async def test_cheering_your_own_ask_is_a_friendly_no(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    payload, call = await press(fake, message, button(message, "Cheer"), user_id=ANA)
    data = call.json["data"]
    assert call.json["type"] == 4
    assert data["flags"] & EPHEMERAL and "your own ask" in data["content"]
    assert fake.find("POST", rf"/webhooks/{BOT_ID}/{payload['token']}") == []
    assert [b["label"] for b in buttons(fake.messages[message["id"]])] == ["Cheer"]


async def test_a_cheer_is_answered_when_the_message_cant_be_updated(bot, fake: FakeDiscord):
    message = await log_rejection(fake)
    fake.fail_next("POST", r"/interactions/\d+/[^/]+/callback", 404, message="Unknown Message",
                   code=10008)
    payload = fake.press(message, button(message, "Cheer"), user_id=BEN, user_name="ben")
    await fake.push(payload)
    refused, answer = await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback",
                                          count=2)
    assert (refused.status, refused.json["type"]) == (404, 7)
    assert answer.json["type"] == 4 and answer.json["data"]["flags"] & EPHEMERAL
    assert "1 cheer so far" in answer.json["data"]["content"]


async def test_buttons_work_after_a_restart(start_bot, fake: FakeDiscord):
    first = await start_bot()
    message = await log_rejection(fake)
    await first.stop()

    await start_bot()  # a new process: nothing in memory about that message
    call, followup = await cheer(fake, message, BEN)
    assert call.json["type"] == 7 and buttons(call.json["data"])[0]["label"] == "Cheer · 1"
    assert "cheered" in followup.json["content"]
    call, _ = await cheer(fake, fake.messages[message["id"]], CAT)  # the relabelled button works
    assert buttons(call.json["data"])[0]["label"] == "Cheer · 2"


async def test_a_cheer_in_a_dm_keeps_the_servers_button(bot, fake: FakeDiscord):
    celebration = await log_rejection(fake)
    attempt_id = int(button(celebration, "Cheer").rsplit(":", 1)[1])
    ben = MemberRef(Platform.DISCORD, str(BEN))
    assert (await bot.poster.dm(COMMUNITY, ben, Reply((Text.of("Ana got a no"),
                                                       Buttons((cheer_button(attempt_id),)))))).ok
    (message,) = [m for m in fake.messages.values()
                  if m["channel_id"] == fake.dm_channels[str(BEN)]]
    dm_id = f"wn.{GUILD_ID}:cheer:{attempt_id}"
    assert button(message, "Cheer") == dm_id

    payload, call = await press(fake, message, dm_id, user_id=BEN, user_name="ben", guild_id=None)
    assert call.json["type"] == 7
    assert [(b["custom_id"], b["label"]) for b in buttons(call.json["data"])] == [(dm_id, "Cheer · 1")]
    (followup,) = await fake.wait_for("POST", rf"/webhooks/{BOT_ID}/{payload['token']}")
    assert followup.json["flags"] & EPHEMERAL and "1 cheer so far" in followup.json["content"]


async def open_asks(fake: FakeDiscord, user_id: int = ANA) -> dict:
    payload, call = await run_command(fake, "asks", user_id=user_id)
    assert call.json["data"]["flags"] & EPHEMERAL
    return posted(fake, payload)


async def test_resolving_a_pending_ask_tells_the_channel(bot, fake: FakeDiscord, repo):
    await run_command(fake, "pending", {"ask": "asked for a reference"})
    asks = await open_asks(fake)
    assert "asked for a reference" in asks["content"]
    assert [b["label"] for b in buttons(asks)] == ["Rejected", "Accepted", "Still waiting", "Edit"]

    _, call = await press(fake, asks, button(asks, "Rejected"))
    assert call.json["type"] == 4  # a new message, as /rejected's would be: everyone sees it
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    assert "heard back and got a no" in shown(" ".join(message_texts(data)))
    assert [b["label"] for b in buttons(data)] == ["Cheer"]
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
    assert "**1.** Promise" in shown(asks["content"]) and "**2.** Waiting" in shown(asks["content"])
    labels = [b["label"] for b in buttons(asks)]
    assert labels[:4] == ["1 · Rejected", "1 · Accepted", "1 · Still waiting", "1 · Didn't ask"]
    assert labels[4:] == ["2 · Rejected", "2 · Accepted", "2 · Still waiting", "2 · Edit"]

    _, call = await press(fake, asks, button(asks, "1 · Accepted"))
    assert call.json["type"] == 4
    data = call.json["data"]
    assert not data.get("flags", 0) & EPHEMERAL
    assert "ask Sam for an intro" in data["embeds"][0]["description"]
    assert data["allowed_mentions"] == {"parse": []}
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert totals.accepted == 1


async def test_a_button_in_a_dm_knows_its_server(bot, fake: FakeDiscord, repo, app, clock):
    await run_command(fake, "who-next", {"ask": "ask Sam for an intro"})
    commitments, _ = await repo.open_items(COMMUNITY, ANA_REF)
    (commitment,) = commitments
    reply = Reply((Text.of("How did it go?"), resolve_buttons("c", commitment.id, waiting=False)))
    assert (await bot.poster.dm(COMMUNITY, ANA_REF, reply)).ok
    (opened,) = fake.find("POST", "/users/@me/channels")
    dm_channel = fake.dm_channels[str(ANA)]
    (message,) = [m for m in fake.messages.values() if m["channel_id"] == dm_channel]
    ids = [b["custom_id"] for b in buttons(message)]
    assert all(i.startswith(f"wn.{GUILD_ID}:resolve:") for i in ids)

    # Pressed in the DM: no guild on the interaction, the button names the community. The
    # DM's buttons give way to the news, and the group hears it in the promise's channel.
    _, call = await press(fake, message, button(message, "Rejected"), guild_id=None)
    assert call.json["type"] == 7 and call.json["data"]["components"] == []
    assert "Logged as a no" in call.json["data"]["content"]
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert totals.rejected == 1
    before = len(fake.channel_view(CHANNEL_ID))
    assert (await Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock).drain()
            ).posted == 1
    news = shown(" ".join(fake.channel_view(CHANNEL_ID)[before:]))
    assert "kept a promise and got a no" in news and "ask Sam for an intro" in news
    (told,) = [m for m in fake.messages.values() if m["channel_id"] == str(CHANNEL_ID)
               and "kept a promise" in shown(" ".join(message_texts(m)))]
    assert [b["label"] for b in buttons(told)] == ["Cheer"]


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
    # Deferred: the celebration's button is relabelled by editing the original (that message).
    (relabel,) = fake.find("PATCH", rf"/webhooks/{BOT_ID}/{cheer['token']}/messages/@original")
    assert "content" not in relabel.json and "embeds" not in relabel.json
    assert [b["label"] for b in buttons(relabel.json)] == ["Cheer · 1"]
    assert [b["label"] for b in buttons(fake.messages[message["id"]])] == ["Cheer · 1"]
    (told,) = await fake.wait_for("POST", rf"/webhooks/{BOT_ID}/{resolve['token']}")
    assert "heard back and got a no" in shown(" ".join(message_texts(told.json)))
    assert not told.json.get("flags", 0) & EPHEMERAL
    assert (await repo.totals(COMMUNITY, ANA_REF)).rejected == 2


async def press_later(fake: FakeDiscord, message: dict, custom_id: str, user_id: int):
    payload = fake.press(message, custom_id, user_id=user_id, user_name=f"user{user_id}")
    await fake.push(payload)
    call = await first_response(fake, payload)
    assert call.json["type"] == 6  # DEFERRED_UPDATE_MESSAGE: acknowledged, nothing shown yet
    return payload, call
