"""/dare through the Slack adapter: a private dare with its "I'll do it" button, pressed (once,
then again), and an admin adding the community's own."""

from __future__ import annotations

from typing import Any

from bot.dares import DECK
from tests.slack.helpers import (
    ANA,
    COMMUNITY,
    block_actions,
    buttons,
    member,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    slash,
)

ADMIN = "U0ADMIN"


async def command(http, adapter, fake, ids, text: str = "", user: str = ANA,
                  name: str = "ana") -> dict[str, Any]:
    return await reply_json(await post_signed(http, adapter, slash(fake, ids, "dare", text,
                                                                   user=user, name=name)))


async def press(http, adapter, fake, ids, action_id: str) -> dict[str, Any]:
    payload = block_actions(fake, ids, action_id, ephemeral=True)
    response = await post_interaction(http, adapter, payload)
    assert response.status == 200 and await response.text() == ""
    await adapter.idle()
    [answer] = fake.responses_to(payload["trigger_id"])
    return answer


async def test_a_dare_pressed_becomes_one_promise(http_adapter, fake, http, ids, repo):
    dare = await command(http, http_adapter, fake, ids, "area:work level:hard")
    assert dare["response_type"] == "ephemeral"
    assert fake.calls_to("users.info") == []  # a dare is everyone's: no admin check for it
    shown = section_texts(dare)
    [picked] = [d.text for d in DECK if d.text in shown]
    assert next(d for d in DECK if d.text == picked).area == "work"
    [do_it] = buttons(dare)
    assert do_it["text"]["text"] == "I'll do it"
    made = await press(http, http_adapter, fake, ids, do_it["action_id"])
    assert made["response_type"] == "in_channel"  # the promise is public, as /who-next's
    assert "is going to ask" in section_texts(made) and "Due today" in section_texts(made)
    again = await press(http, http_adapter, fake, ids, do_it["action_id"])
    assert again["response_type"] == "ephemeral" and "Already promised" in again["text"]
    commitments, _ = await repo.open_items(COMMUNITY, member(ANA))
    assert [c.ask for c in commitments] == [picked]
    assert commitments[0].channel_id == "C0GENERAL"


async def test_an_admin_adds_a_dare_and_a_member_cannot(http_adapter, fake, http, ids, repo):
    added = await command(http, http_adapter, fake, ids,
                          'add text:"Ask the café to stock your zine." area:creative',
                          user=ADMIN, name="admin")
    assert added["response_type"] == "ephemeral" and "Dare 1 added" in section_texts(added)
    listed = await command(http, http_adapter, fake, ids, "list", user=ADMIN, name="admin")
    assert "1. Ask the café to stock your zine. (creative, medium)" in section_texts(listed)
    refused = await command(http, http_adapter, fake, ids, "remove number:1")
    assert refused["response_type"] == "ephemeral"
    assert "for admins of this community" in section_texts(refused)
    assert [d.number for d in await repo.community_dares(COMMUNITY)] == [1]
