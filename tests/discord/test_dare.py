"""/dare through the real discord.py client against the strict loopback fake: a private dare,
"I'll do it" pressed twice (one promise, told to everyone once), and an admin's own dares."""

from __future__ import annotations

from bot.dares import DECK
from bot.ids import CommunityRef, MemberRef, Platform
from tests.discord.helpers import ANA, BEN, buttons, posted, press, run_command, shown
from tests.fakes.discord import GUILD_ID, FakeDiscord, message_texts

EPHEMERAL = 64
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))


def said(data: dict) -> str:
    return shown(" ".join(message_texts(data)))


async def test_a_dare_pressed_becomes_one_promise(bot, fake: FakeDiscord, repo):
    payload, call = await run_command(fake, "dare", {"area": "social", "level": "easy"})
    assert call.json["data"]["flags"] & EPHEMERAL  # the suggestion is the member's own
    dare = posted(fake, payload)
    [picked] = [d for d in DECK if d.text in said(call.json["data"])]
    assert (picked.area, picked.level) == ("social", "easy")
    [do_it] = buttons(dare)
    assert do_it["label"] == "I'll do it"

    _, call = await press(fake, dare, do_it["custom_id"])
    data = call.json["data"]
    assert call.json["type"] == 4 and not data.get("flags", 0) & EPHEMERAL  # public
    assert "is going to ask" in said(data) and "Due today" in said(data)
    _, again = await press(fake, dare, do_it["custom_id"])  # a double press
    assert again.json["data"]["flags"] & EPHEMERAL
    assert "Already promised" in said(again.json["data"])
    commitments, _ = await repo.open_items(COMMUNITY, ANA_REF)
    assert [c.ask for c in commitments] == [picked.text]


async def test_admins_add_and_remove_dares_members_cannot(bot, fake: FakeDiscord, repo):
    _, call = await run_command(fake, "dare", {"action": "add", "area": "creative",
                                               "text": "Ask the café to stock your zine."},
                                admin=True)
    assert call.json["data"]["flags"] & EPHEMERAL and "Dare 1 added" in said(call.json["data"])
    _, call = await run_command(fake, "dare", {"action": "remove", "number": 1},
                                user_id=BEN, user_name="ben")
    assert "for admins of this community" in said(call.json["data"])
    assert [d.number for d in await repo.community_dares(COMMUNITY)] == [1]
    _, call = await run_command(fake, "dare", {"action": "remove", "number": 1}, admin=True)
    assert "Dare 1 removed" in said(call.json["data"])
    assert await repo.community_dares(COMMUNITY) == ()
