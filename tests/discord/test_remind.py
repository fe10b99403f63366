"""/remind through the real discord.py client against the strict loopback fake: set privately,
bad input explained, the scheduler DMs the nudge through the adapter's Poster, its button
answers with the /rejected form (a MODAL response, validated by the fake), and the form's
submission (a MODAL_SUBMIT interaction) logs the ask."""

from __future__ import annotations

import json

from bot.ids import CommunityRef, MemberRef, Platform
from bot.scheduler import Scheduler
from tests.discord.helpers import ANA, BEN, buttons, first_response, press, run_command
from tests.fakes.discord import GUILD_ID
from tests.scheduler.helpers import utc

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))


def answer(call) -> tuple[bool, str]:
    data = call.json["data"]
    return bool(data.get("flags", 0) & EPHEMERAL), json.dumps(data, ensure_ascii=False)


async def test_a_nudge_on_discord_opens_the_log_form(bot, fake, repo, app, clock):
    _, call = await run_command(fake, "remind", {"time": "12:30", "days": "weekdays"})
    private, text = answer(call)
    assert private and "Nudge set!" in text and "on weekdays" in text
    _, call = await run_command(fake, "remind", {"time": "12:30", "days": "someday"})
    private, text = answer(call)
    assert private and "I don't know the day" in text
    assert (await repo.get_remind(COMMUNITY, ANA_REF)).days == "mon,tue,wed,thu,fri"

    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 12, 30, 20))).nudges == 1  # a Thursday
    assert (await sched.run_due(utc(2026, 11, 26, 12, 40))).nudges == 0
    dm_channel = fake.dm_channels[str(ANA)]
    (message,) = [m for m in fake.messages.values() if m["channel_id"] == dm_channel]
    assert "Any ask in you today?" in json.dumps(message)
    assert [(b["label"], b["custom_id"]) for b in buttons(message)] == [
        ("Got a no", f"wn.{GUILD_ID}:log:rejected"), ("Got a yes", f"wn.{GUILD_ID}:log:accepted"),
        ("Still waiting", f"wn.{GUILD_ID}:log:pending")]  # each opens its outcome's form
    log_button = buttons(message)[0]

    # Pressed in the DM: the answer is the form itself.
    _, call = await press(fake, message, log_button["custom_id"], guild_id=None)
    assert call.json["type"] == 9
    modal = call.json["data"]
    inputs = [row["components"][0] for row in modal["components"]]
    # Five inputs at most: the needed one and the yes/no one first, so `lesson` gives way.
    assert [i["custom_id"] for i in inputs] == ["ask", "who", "area", "fear", "private"]
    assert inputs[2]["placeholder"] == "work, money, creative, social, learning, other"
    assert inputs[0]["required"] is True and all(len(i["label"]) <= 45 for i in inputs)

    submitted = fake.interaction(5, {"custom_id": modal["custom_id"], "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "ask",
                                    "value": "asked for a window seat"}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "fear", "value": "4"}]},
    ]}, user_id=ANA, name="ana", guild_id=None, channel_id=int(dm_channel))
    await fake.push(submitted)
    call = await first_response(fake, submitted)
    assert call.json["type"] == 4 and "asked for a window seat" in json.dumps(call.json["data"])
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert (totals.attempts, totals.rejected) == (1, 1)
    assert (await sched.run_due(utc(2026, 11, 27, 12, 30, 20))).nudges == 1  # Friday's


async def test_a_bad_value_in_the_form_is_explained_and_logs_nothing(bot, fake, repo, app,
                                                                     clock):
    await run_command(fake, "remind", {"time": "12:30"})
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 12, 31))).nudges == 1
    (message,) = [m for m in fake.messages.values()
                  if m["channel_id"] == fake.dm_channels[str(ANA)]]
    _, call = await press(fake, message, buttons(message)[0]["custom_id"], guild_id=None)
    submitted = fake.interaction(5, {"custom_id": call.json["data"]["custom_id"], "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": "ask", "value": "asked Bo"}]},
        {"type": 1, "components": [{"type": 4, "custom_id": "fear", "value": "eleven"}]},
    ]}, user_id=ANA, name="ana", guild_id=None, channel_id=int(fake.dm_channels[str(ANA)]))
    await fake.push(submitted)
    private, text = answer(await first_response(fake, submitted))
    assert private and "whole number" in text
    assert (await repo.totals(COMMUNITY, ANA_REF)).attempts == 0


async def test_two_members_forms_open_at_once_each_log_their_own(bot, fake, repo, app, clock):
    """discord.py keeps open forms by id: each press's form has its own, so neither member's
    ask lands as the other's, and both are answered."""
    await run_command(fake, "remind", {"time": "12:30"})
    await run_command(fake, "remind", {"time": "12:30"}, user_id=BEN, user_name="ben")
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 12, 31))).nudges == 2
    forms = {}
    for user in (ANA, BEN):
        (message,) = [m for m in fake.messages.values()
                      if m["channel_id"] == fake.dm_channels[str(user)]]
        _, call = await press(fake, message, buttons(message)[1]["custom_id"], guild_id=None,
                              user_id=user)
        forms[user] = call.json["data"]["custom_id"]
    assert forms[ANA] != forms[BEN]
    for user in (ANA, BEN):  # Ana first, though Ben's form opened last
        submitted = fake.interaction(5, {"custom_id": forms[user], "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "ask",
                                        "value": f"asked for a table {user}"}]},
        ]}, user_id=user, name=str(user), guild_id=None,
            channel_id=int(fake.dm_channels[str(user)]))
        await fake.push(submitted)
        private, text = answer(await first_response(fake, submitted))
        assert not private and f"asked for a table {user}" in text
    for user in (ANA, BEN):
        totals = await repo.totals(COMMUNITY, MemberRef(Platform.DISCORD, str(user)))
        assert (totals.attempts, totals.accepted) == (1, 1)
