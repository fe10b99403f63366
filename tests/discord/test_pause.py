"""/pause through the real discord.py client against the strict loopback fake: set privately,
seen by another member's /stats without its reason, bad input explained, ended."""

from __future__ import annotations

import json
from datetime import date

from bot.ids import CommunityRef, MemberRef, Platform
from tests.discord.helpers import ANA, BEN, run_command
from tests.fakes.discord import GUILD_ID

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))


def answer(call) -> tuple[bool, str]:
    data = call.json["data"]
    return bool(data.get("flags", 0) & EPHEMERAL), json.dumps(data, ensure_ascii=False)


async def test_pause_on_discord(bot, fake, repo):
    _, call = await run_command(fake, "pause", {"until": "in 2 weeks",
                                                "reason": "moving house"})
    private, text = answer(call)
    assert private and "You're paused until" in text and "moving house" in text
    (saved,) = await repo.pauses(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)),
                                 date(2000, 1, 1))
    assert saved.reason == "moving house"

    _, call = await run_command(fake, "stats", {"member": ANA}, user_id=BEN, user_name="ben")
    _, text = answer(call)
    assert "On a break until" in text and "moving" not in text

    _, call = await run_command(fake, "pause", {"until": "2020-01-01"})
    private, text = answer(call)
    assert private and "has already been" in text

    _, call = await run_command(fake, "pause", {"until": "off"})
    private, text = answer(call)
    assert private and "Welcome back" in text
    assert await repo.pauses(COMMUNITY, MemberRef(Platform.DISCORD, str(ANA)),
                             date(2000, 1, 1)) == ()  # begun and ended today: gone
    _, call = await run_command(fake, "pause")
    assert "not on a break" in answer(call)[1]
