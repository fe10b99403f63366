"""A private ask on Slack: Slack shows the channel the member's typed command line beside any
in-channel answer, so a private ask is acked empty and its celebration posted by the bot
itself, without the private text. Nobody but the member ever reads it."""

from __future__ import annotations

import json

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

SECRET = "asked my sister for the loan"


def everything_sent(fake) -> str:
    """Every byte the bot sent Slack: Web API calls and response_url posts."""
    return json.dumps([c.args for c in fake.calls], default=str) + json.dumps(
        [r.payload for r in fake.responses])


async def test_a_private_ask_is_acked_empty_and_posted_without_its_text(http_adapter, fake, http,
                                                                         ids, repo):
    command = slash(fake, ids, "rejected", f"{SECRET} fear:8 private:true")
    ack = await reply_json(await post_signed(http, http_adapter, command))
    await http_adapter.idle()
    assert ack == {}  # nothing in_channel: Slack would echo the typed command line with it
    assert fake.responses_to(command["trigger_id"]) == []
    [post] = fake.calls_to("chat.postMessage")
    assert post.args["channel"] == CHANNEL
    assert "@ana got a no on a private ask" in post.args["text"]
    assert "sister" not in everything_sent(fake)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1


async def test_the_posted_celebration_can_be_cheered(http_adapter, fake, http, ids):
    await reply_json(await post_signed(http, http_adapter,
                                       slash(fake, ids, "rejected", f"{SECRET} private:true")))
    await http_adapter.idle()
    [post] = fake.calls_to("chat.postMessage")
    blocks = json.loads(post.args["blocks"]) if isinstance(post.args["blocks"], str) else post.args["blocks"]
    message = as_posted({"text": post.args["text"], "blocks": blocks})
    cheer = next(b["action_id"] for b in buttons(message) if b["text"]["text"] == "Cheer")
    press = block_actions(fake, ids, cheer, user=BEN, name="ben", message=message)
    await post_interaction(http, http_adapter, press)
    await http_adapter.idle()
    [update] = fake.calls_to("chat.update")  # the bot's own message: no response_url fallback
    assert "Cheer · 1" in json.dumps(update.args, ensure_ascii=False)
    assert "sister" not in everything_sent(fake)


async def test_where_the_bot_cant_post_only_the_member_sees_it(http_adapter, fake, http, ids, repo):
    fake.fail("chat.postMessage", "not_in_channel")
    command = slash(fake, ids, "rejected", f"{SECRET} private:true")
    assert await reply_json(await post_signed(http, http_adapter, command)) == {}
    await http_adapter.idle()
    [answer] = fake.responses_to(command["trigger_id"])
    assert answer["response_type"] == "ephemeral"
    assert "on a private ask" in section_texts(answer) and "/invite" in section_texts(answer)
    assert "sister" not in everything_sent(fake)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1  # counted all the same


async def test_a_public_ask_is_still_answered_in_channel(http_adapter, fake, http, ids):
    ack = await reply_json(await post_signed(http, http_adapter,
                                             slash(fake, ids, "rejected", "asked for a raise")))
    assert ack["response_type"] == "in_channel" and "asked for a raise" in section_texts(ack)
    assert fake.calls_to("chat.postMessage") == []


async def test_socket_mode_acks_a_private_ask_empty(socket_adapter, fake, ids):
    command = slash(fake, ids, "pending", f"{SECRET} private:true")
    envelope = await fake.send_envelope("slash_commands", command)
    ack = await fake.wait_for_ack(envelope)
    await socket_adapter.idle()
    assert not ack.get("payload")
    [post] = fake.calls_to("chat.postMessage")
    assert "private ask" in post.args["text"]
    assert "sister" not in everything_sent(fake) + json.dumps(ack)


async def test_in_a_dm_between_people_the_member_is_told_plainly(http_adapter, fake, http, ids):
    fake.fail("chat.postMessage", "channel_not_found")
    command = slash(fake, ids, "rejected", f"{SECRET} private:true", channel="D0ANABEN")
    assert await reply_json(await post_signed(http, http_adapter, command)) == {}
    await http_adapter.idle()
    [answer] = fake.responses_to(command["trigger_id"])
    text = section_texts(answer)
    assert "conversation between people" in text and "/invite" not in text
    assert "sister" not in everything_sent(fake)


async def test_a_passing_fault_says_nothing_about_the_channel(http_adapter, fake, http, ids, repo):
    fake.fail("chat.postMessage", "internal_error", status=500)
    command = slash(fake, ids, "rejected", f"{SECRET} private:true")
    assert await reply_json(await post_signed(http, http_adapter, command)) == {}
    await http_adapter.idle()
    [answer] = fake.responses_to(command["trigger_id"])
    text = section_texts(answer)
    assert answer["response_type"] == "ephemeral"
    assert "just now" in text and "/invite" not in text and "counted all the same" in text
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1
