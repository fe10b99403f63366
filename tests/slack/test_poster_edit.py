"""``SlackPoster.edit``: an /edit reaching the bot's own posts that showed an entry, found by
their button's ``action_id`` among the channel's latest ``EDIT_LOOKBACK`` messages, through the
real client against the loopback fake."""

from __future__ import annotations

from bot.ports import EDIT_LOOKBACK, DeliveryStatus
from bot.reply import Action, Button, Buttons, Reply, Text
from tests.slack.helpers import ANA, CHANNEL, COMMUNITY

CHEER = Action("cheer", "7")


def showing(text: str, action: Action = CHEER) -> Reply:
    return Reply((Text.of(text), Buttons((Button("Cheer", action),))))


async def test_every_post_with_the_marker_is_changed_and_no_other(http_adapter, fake):
    poster = http_adapter.poster
    first = await poster.post(COMMUNITY, CHANNEL, showing("ana asked for a raise"))
    other = await poster.post(COMMUNITY, CHANNEL, showing("ben asked for a loan", Action("cheer", "8")))
    fake.say(ANA, CHANNEL, "nice one")
    second = await poster.post(COMMUNITY, CHANNEL, showing("recap: ana asked for a raise"))
    assert first.ok and other.ok and second.ok

    edited = await poster.edit(COMMUNITY, CHANNEL, CHEER, showing("ana asked for a big raise"))
    assert edited.status is DeliveryStatus.SENT
    assert edited.message_id == second.message_id  # the newest one changed last
    [history] = fake.calls_to("conversations.history")
    assert int(history.args["limit"]) == EDIT_LOOKBACK
    updates = fake.calls_to("chat.update")
    assert [u.args["ts"] for u in updates] == [first.message_id, second.message_id]
    assert all(u.args["text"] and u.args["blocks"] for u in updates)  # blocks + fallback text
    texts = {s.ts: s.text for s in fake.channel_view(CHANNEL)}
    assert "big raise" in texts[first.message_id] and "big raise" in texts[second.message_id]
    assert "ben asked for a loan" in texts[other.message_id]
    assert "nice one" in "".join(texts.values())

    again = await poster.edit(COMMUNITY, CHANNEL, CHEER, showing("ana asked for a big raise"))
    assert again.ok  # safe to call again


async def test_none_found_is_failed_with_a_plain_reason(http_adapter, fake):
    await http_adapter.poster.post(COMMUNITY, CHANNEL, showing("ben asked", Action("cheer", "8")))
    fake.say(ANA, CHANNEL, "wn:cheer:7")  # a member's message is never the bot's to change
    delivery = await http_adapter.poster.edit(COMMUNITY, CHANNEL, CHEER, showing("changed"))
    assert delivery.status is DeliveryStatus.FAILED
    assert f"latest {EDIT_LOOKBACK} messages" in delivery.reason
    assert fake.calls_to("chat.update") == []


async def test_a_channel_the_bot_isnt_in_is_failed(http_adapter, fake):
    fake.fail("conversations.history", "not_in_channel")
    delivery = await http_adapter.poster.edit(COMMUNITY, "C0SHY", CHEER, showing("changed"))
    assert delivery.status is DeliveryStatus.FAILED and "(not_in_channel)" in delivery.reason
    fake.fail("conversations.history", "channel_not_found")
    gone = await http_adapter.poster.edit(COMMUNITY, "C0GONE", CHEER, showing("changed"))
    assert gone.status is DeliveryStatus.FAILED and "(channel_not_found)" in gone.reason


async def test_a_refused_update_is_failed(http_adapter, fake):
    await http_adapter.poster.post(COMMUNITY, CHANNEL, showing("ana asked"))
    fake.fail("chat.update", "cant_update_message")
    delivery = await http_adapter.poster.edit(COMMUNITY, CHANNEL, CHEER, showing("changed"))
    assert delivery.status is DeliveryStatus.FAILED and "(cant_update_message)" in delivery.reason


async def test_a_passing_problem_is_left_to_the_outbox(http_adapter, fake, sleeps):
    await http_adapter.poster.post(COMMUNITY, CHANNEL, showing("ana asked"))
    fake.rate_limit_once("conversations.history", retry_after=7)
    limited = await http_adapter.poster.edit(COMMUNITY, CHANNEL, CHEER, showing("changed"))
    assert limited.status is DeliveryStatus.RETRY and limited.retry_after == 7
    assert len(fake.calls_to("conversations.history")) == 1  # one try, no blind retry
    fake.fail("chat.update", "internal_error", status=503)
    down = await http_adapter.poster.edit(COMMUNITY, CHANNEL, CHEER, showing("changed"))
    assert down.status is DeliveryStatus.RETRY  # an update is safe to repeat: never UNCERTAIN
    assert len(fake.calls_to("chat.update")) == 1 and sleeps.waits == []
    assert (await http_adapter.poster.edit(COMMUNITY, CHANNEL, CHEER, showing("changed"))).ok
    assert "changed" in fake.channel_view(CHANNEL)[-1].text


async def test_the_fake_refuses_to_update_a_members_message(http_adapter, fake):
    said = fake.say(ANA, CHANNEL, "hello")
    fake.expect_refusal("cant_update_message")
    client = http_adapter.poster.workspaces
    ws = await client.find(COMMUNITY.id)
    assert ws is not None
    try:
        await ws.one_try.chat_update(channel=CHANNEL, ts=said.ts, text="hijacked")
    except Exception as err:
        assert "cant_update_message" in str(err)
    else:
        raise AssertionError("the fake let the bot change a member's message")


async def test_a_post_from_before_the_entry_is_another_entrys_and_stays(http_adapter, fake):
    """An undone entry's post keeps its Cheer; a later entry that took its id again (SQLite)
    reaches only the posts made since it was."""
    from datetime import UTC, datetime, timedelta

    from bot.ports import EDIT_DRIFT

    now = [1_800_000_000.0]
    fake.clock = lambda: now[0]
    poster = http_adapter.poster
    old = await poster.post(COMMUNITY, CHANNEL, showing("ana's undone ask"))
    now[0] += 3600
    new = await poster.post(COMMUNITY, CHANNEL, showing("ben's ask, same id"))
    made = datetime.fromtimestamp(now[0], UTC) - EDIT_DRIFT / 2  # our clock a little ahead
    delivery = await poster.edit(COMMUNITY, CHANNEL, CHEER, showing("ben's ask, reworded"),
                                 since=made)
    assert delivery.ok and delivery.message_id == new.message_id
    texts = {s.ts: s.text for s in fake.channel_view(CHANNEL)}
    assert texts[old.message_id].startswith("ana's undone ask")
    assert "reworded" in texts[new.message_id]
    later = await poster.edit(COMMUNITY, CHANNEL, CHEER, showing("x"),
                              since=made + timedelta(hours=1))
    assert later.status is DeliveryStatus.FAILED  # none made since: nothing changed
