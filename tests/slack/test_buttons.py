"""Buttons arrive as block_actions, run through the core, and answer through the response_url."""

from __future__ import annotations

import logging
from typing import Any

from tests.slack.helpers import (
    ANA,
    BEN,
    CHANNEL,
    COMMUNITY,
    as_posted,
    block_actions,
    buttons,
    member,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    slash,
)


async def command(http, adapter, fake, ids, name: str, text: str = "", user: str = ANA,
                  user_name: str = "ana") -> dict[str, Any]:
    return await reply_json(await post_signed(http, adapter, slash(fake, ids, name, text, user=user,
                                                                   name=user_name)))


async def press(http, adapter, fake, ids, action_id: str, user: str = ANA, name: str = "ana",
                ephemeral: bool = False, message: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = block_actions(fake, ids, action_id, user=user, name=name, ephemeral=ephemeral,
                            message=message)
    response = await post_interaction(http, adapter, payload)
    assert response.status == 200 and await response.text() == ""
    await adapter.idle()
    [answer] = fake.responses_to(payload["trigger_id"])
    return answer


def button(payload: dict[str, Any], label: str) -> str:
    return next(b["action_id"] for b in buttons(payload) if b["text"]["text"] == label)


async def test_cheer_is_private_and_toggles(http_adapter, fake, http, ids, repo):
    posted = await command(http, http_adapter, fake, ids, "rejected", "asked for a raise")
    cheer = button(posted, "Cheer")
    first = await press(http, http_adapter, fake, ids, cheer, user=BEN, name="ben")
    assert first["response_type"] == "ephemeral" and first["replace_original"] is False
    assert "1 cheer" in first["text"]
    again = await press(http, http_adapter, fake, ids, cheer, user=BEN, name="ben")
    assert "taken back" in again["text"]
    own = await press(http, http_adapter, fake, ids, cheer)
    assert own["response_type"] == "ephemeral" and "your own ask" in own["text"]


CAT = "U0CAT"


async def test_cheers_count_on_the_celebration(http_adapter, fake, http, ids):
    celebration = as_posted(await command(http, http_adapter, fake, ids, "rejected",
                                          "asked for a raise"))
    cheer = button(celebration, "Cheer")
    shown = celebration
    for user, name, label, says in ((BEN, "ben", "Cheer · 1", "1 cheer so far"),
                                    (CAT, "cat", "Cheer · 2", "2 cheers so far"),
                                    (BEN, "ben", "Cheer · 1", "taken back. (1 cheer now)")):
        answer = await press(http, http_adapter, fake, ids, cheer, user=user, name=name,
                             message=shown)
        # The presser's answer stays private...
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        assert says in answer["text"]
        # ...and the celebration itself now shows the count, nothing else changed.
        update = fake.calls_to("chat.update")[-1]
        assert (update.args["channel"], update.args["ts"]) == (CHANNEL, celebration["ts"])
        assert update.args["text"] == celebration["text"]
        assert [b["text"]["text"] for b in buttons({"blocks": update.blocks()})] == [label]
        expected = [dict(b) for b in celebration["blocks"]]
        actions = next(i for i, b in enumerate(expected) if b["type"] == "actions")
        expected[actions] = {**expected[actions], "elements": [
            {**e, "text": {**e["text"], "text": label}} for e in expected[actions]["elements"]]}
        assert update.blocks() == expected
        shown = {**celebration, "blocks": update.blocks()}  # what Slack shows from now on
    assert len(fake.calls_to("chat.update")) == 3


async def test_cheering_your_own_ask_relabels_nothing(http_adapter, fake, http, ids):
    celebration = as_posted(await command(http, http_adapter, fake, ids, "rejected",
                                          "asked for a raise"))
    own = await press(http, http_adapter, fake, ids, button(celebration, "Cheer"),
                      message=celebration)
    assert own["response_type"] == "ephemeral" and "your own ask" in own["text"]
    assert fake.calls_to("chat.update") == []


async def test_a_cheer_on_a_message_that_cant_be_edited_is_still_answered(http_adapter, fake, http,
                                                                          ids, caplog):
    celebration = as_posted(await command(http, http_adapter, fake, ids, "rejected",
                                          "asked for a raise"))
    cheer = button(celebration, "Cheer")
    # Ephemeral: Slack sends no message and nothing can update it.
    answer = await press(http, http_adapter, fake, ids, cheer, user=BEN, name="ben", ephemeral=True)
    assert "1 cheer so far" in answer["text"]
    assert fake.calls_to("chat.update") == []
    # Gone: Slack refuses; the press is answered all the same.
    fake.fail("chat.update", "message_not_found")
    with caplog.at_level(logging.WARNING, logger="adapters.slack.app"):
        answer = await press(http, http_adapter, fake, ids, cheer, user=CAT, name="cat",
                             message=celebration)
    assert answer["response_type"] == "ephemeral" and "2 cheers so far" in answer["text"]
    assert "message_not_found" in caplog.text
    assert len(fake.calls_to("chat.update")) == 1


async def test_a_message_the_bot_cant_update_is_relabelled_through_the_response_url(
        http_adapter, fake, http, ids):
    celebration = as_posted(await command(http, http_adapter, fake, ids, "rejected",
                                          "asked for a raise"))
    fake.fail("chat.update", "cant_update_message")
    payload = block_actions(fake, ids, button(celebration, "Cheer"), user=BEN, name="ben",
                            message=celebration)
    response = await post_interaction(http, http_adapter, payload)
    assert response.status == 200
    await http_adapter.idle()
    answers = fake.responses_to(payload["trigger_id"])
    [private] = [a for a in answers if a.get("response_type") == "ephemeral"]
    [replaced] = [a for a in answers if a.get("replace_original") is True]
    assert "1 cheer so far" in private["text"] and private["replace_original"] is False
    assert [b["text"]["text"] for b in buttons(replaced)] == ["Cheer · 1"]
    assert replaced["text"] == celebration["text"]


async def resolve_buttons(http, adapter, fake, ids) -> dict[str, Any]:
    await command(http, adapter, fake, ids, "pending", "pitched the editor")
    await command(http, adapter, fake, ids, "who-next", "ask Sam for an intro when:tomorrow")
    listing = await command(http, adapter, fake, ids, "asks")
    assert listing["response_type"] == "ephemeral"
    return listing


async def test_resolving_a_promise_celebrates_and_counts(http_adapter, fake, http, ids, repo):
    listing = await resolve_buttons(http, http_adapter, fake, ids)
    labels = [b["text"]["text"] for b in buttons(listing)]
    assert labels == ["Rejected", "Accepted", "Still waiting", "Didn't ask", "Rejected", "Accepted",
                      "Still waiting", "Edit"]
    promise_no = buttons(listing)[0]["action_id"]
    answer = await press(http, http_adapter, fake, ids, promise_no, ephemeral=True)
    assert answer["response_type"] == "in_channel"
    assert "ask Sam for an intro" in section_texts(answer)
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected, totals.pending) == (2, 1, 1)


async def test_resolving_a_pending_ask_tells_the_channel(http_adapter, fake, http, ids, repo):
    listing = await resolve_buttons(http, http_adapter, fake, ids)
    yes = buttons(listing)[5]["action_id"]  # the pending ask's "Accepted"
    answer = await press(http, http_adapter, fake, ids, yes, ephemeral=True)
    assert answer["response_type"] == "in_channel" and answer["replace_original"] is False
    assert "heard back and got a yes" in section_texts(answer)
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.accepted, totals.pending) == (1, 1, 0)


async def test_a_double_press_counts_once(http_adapter, fake, http, ids, repo):
    listing = await resolve_buttons(http, http_adapter, fake, ids)
    promise_yes = buttons(listing)[1]["action_id"]
    first = await press(http, http_adapter, fake, ids, promise_yes, ephemeral=True)
    second = await press(http, http_adapter, fake, ids, promise_yes, ephemeral=True)
    assert "got a yes" in section_texts(first)
    assert second["response_type"] == "ephemeral" and "Already sorted" in second["text"]
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.accepted) == (2, 1)


async def test_a_retried_press_counts_once(http_adapter, fake, http, ids, repo):
    listing = await resolve_buttons(http, http_adapter, fake, ids)
    payload = block_actions(fake, ids, buttons(listing)[0]["action_id"], ephemeral=True)
    for retry in ("", "1"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        assert (await post_interaction(http, http_adapter, payload, headers=headers)).status == 200
        await http_adapter.idle()
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1


async def test_a_stranger_cannot_resolve_someone_elses_ask(http_adapter, fake, http, ids, repo):
    listing = await resolve_buttons(http, http_adapter, fake, ids)
    for action in buttons(listing)[:2] + buttons(listing)[4:6]:
        answer = await press(http, http_adapter, fake, ids, action["action_id"], user=BEN, name="ben")
        assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
        assert "Only the person who made that ask" in answer["text"] or "can't find" in answer["text"]
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected, totals.accepted, totals.pending) == (1, 0, 0, 1)
    assert (await repo.totals(COMMUNITY, member(BEN))).attempts == 0


async def test_a_foreign_button_is_ignored(http_adapter, fake, http, ids):
    payload = block_actions(fake, ids, "someone_elses_button")
    response = await post_interaction(http, http_adapter, payload)
    assert response.status in (200, 404)
    await http_adapter.idle()
    assert fake.responses == []


async def test_forget_me_asks_first_then_forgets_on_the_danger_button(http_adapter, fake, http, ids, repo):
    await command(http, http_adapter, fake, ids, "rejected", "asked for a raise")
    question = await command(http, http_adapter, fake, ids, "forget-me")
    assert question["response_type"] == "ephemeral"
    [confirm] = buttons(question)
    assert confirm["style"] == "danger"
    stranger = await press(http, http_adapter, fake, ids, confirm["action_id"], user=BEN, name="ben",
                           ephemeral=True)
    assert stranger["replace_original"] is False
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 1
    done = await press(http, http_adapter, fake, ids, confirm["action_id"], ephemeral=True)
    assert done["replace_original"] is True and "gone" in done["text"]
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0
