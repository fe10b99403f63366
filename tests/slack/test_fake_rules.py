"""The fake Slack is as strict as Slack: each rule refuses a request that breaks it and accepts
one that keeps it (``tests/fakes/slack_rules.py`` names where each comes from). Then the
channel model: what every member sees, and what only one does."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackAdapter
from adapters.slack.modals import ModalContext, build_modal
from adapters.slack.render import render
from bot.commands import get_command
from tests.fakes.slack import FakeSlack, Refusal
from tests.slack.helpers import (
    ANA,
    BEN,
    CHANNEL,
    as_posted,
    block_actions,
    buttons,
    post_interaction,
    post_signed,
    reply_json,
    settings_for,
    slash,
    text_value,
    view_submission,
)

# slack-sdk warns before sending blocks without text; these tests send them on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")


@pytest.fixture
def client(fake) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url, retry_handlers=[])


async def refused(fake: FakeSlack, call: Any, error: str) -> Refusal:
    """``call`` is answered ``error`` (slack-sdk raises), and the fake recorded that one refusal."""
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response["ok"] is False
    assert raised.value.response["error"] == error, raised.value.response
    [refusal] = fake.pop_refusals()
    assert refusal.error == error
    return refusal


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(label: str = "Go", action_id: str = "wn:go:1", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id,
            "value": "1", **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


# ---------------------------------------------------------------------- message blocks

# (name, blocks that break a rule, blocks that keep it)
BLOCK_RULES = [
    ("50 blocks a message", [section()] * 51, [section()] * 50),
    ("section text 3,000", [section("x" * 3001)], [section("x" * 3000)]),
    ("10 fields", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
     [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 10}]),
    ("field 2,000", [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
     [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}]}]),
    ("header 150", [{"type": "header", "text": plain("h" * 151)}],
     [{"type": "header", "text": plain("h" * 150)}]),
    ("header is plain_text", [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
     [{"type": "header", "text": plain("h")}]),
    ("context 10 elements", [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
     [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10}]),
    ("context holds text or images", [{"type": "context", "elements": [button()]}],
     [{"type": "context", "elements": [{"type": "plain_text", "text": "c"}]}]),
    ("actions 25 elements", [actions(*(button(action_id=f"a{i}") for i in range(26)))],
     [actions(*(button(action_id=f"a{i}") for i in range(25)))]),
    ("actions hold interactive elements",
     [actions({"type": "image", "image_url": "https://x.io/a.png", "alt_text": "a"})],
     [actions(button())]),
    ("button text 75", [actions(button("b" * 76))], [actions(button("b" * 75))]),
    ("button text is plain_text", [actions(button() | {"text": {"type": "mrkdwn", "text": "b"}})],
     [actions(button())]),
    ("action_id 255", [actions(button(action_id="a" * 256))], [actions(button(action_id="a" * 255))]),
    ("action_id unique in the message", [actions(button()), actions(button())],
     [actions(button()), actions(button(action_id="wn:go:2"))]),
    ("button value 2,000", [actions(button(value="v" * 2001))], [actions(button(value="v" * 2000))]),
    ("button style", [actions(button(style="green"))], [actions(button(style="danger"))]),
    ("block_id 255", [section(block_id="b" * 256)], [section(block_id="b" * 255)]),
    ("block_id unique", [section(block_id="b"), section(block_id="b")],
     [section(block_id="b"), section(block_id="c")]),
    ("known block types", [{"type": "banner", "text": plain("x")}], [{"type": "divider"}]),
    ("known properties", [section(colour="red")], [section(expand=True)]),
    ("text objects are not empty", [section("")], [section(" x")]),
    ("text object types", [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
     [{"type": "section", "text": {"type": "plain_text", "text": "x"}}]),
]


@pytest.mark.parametrize(("bad", "good"), [(b, g) for _, b, g in BLOCK_RULES],
                         ids=[name for name, _, _ in BLOCK_RULES])
async def test_message_block_rules(fake, client, bad, good):
    refusal = await refused(fake, client.chat_postMessage(channel=CHANNEL, text="t", blocks=bad),
                            "invalid_blocks")
    assert refusal.where == "chat.postMessage" and refusal.errors
    assert all("[json-pointer:/blocks" in e for e in refusal.errors)
    assert (await client.chat_postMessage(channel=CHANNEL, text="t", blocks=good))["ok"]
    assert fake.refusals == []


async def test_blocks_need_text_beside_them(fake, client):
    await refused(fake, client.chat_postMessage(channel=CHANNEL, blocks=[section()]), "no_text")
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text=" ", blocks=[section()]), "no_text")
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text=""), "no_text")
    assert (await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section()]))["ok"]
    assert (await client.chat_postMessage(channel=CHANNEL, text="just text"))["ok"]


async def test_message_text_40000(fake, client):
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text="x" * 40_001), "msg_too_long")
    assert (await client.chat_postMessage(channel=CHANNEL, text="x" * 40_000))["ok"]


async def test_blocks_must_be_an_array_of_objects(fake, client):
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text="t", blocks="[{not json"),
                  "invalid_blocks_format")
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text="t", blocks=["section"]),
                  "invalid_blocks_format")
    assert (await client.chat_postMessage(channel=CHANNEL, text="t",
                                          blocks=json.dumps([section()])))["ok"]


async def test_update_and_ephemeral_follow_the_same_rules(fake, client):
    posted = await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section()])
    await refused(fake, client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t",
                                           blocks=[section("x" * 3001)]), "invalid_blocks")
    await refused(fake, client.chat_postEphemeral(channel=CHANNEL, user=ANA, blocks=[section()]),
                  "no_text")
    assert (await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t2",
                                     blocks=[section("new")]))["ok"]
    assert (await client.chat_postEphemeral(channel=CHANNEL, user=ANA, text="psst"))["ok"]


async def test_update_needs_a_message_slack_showed(fake, client):
    await refused(fake, client.chat_update(channel=CHANNEL, ts="1.000001", text="t"),
                  "message_not_found")
    posted = await client.chat_postMessage(channel=CHANNEL, text="t")
    assert (await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="t2"))["ok"]


# ---------------------------------------------------------------------- Web API arguments

MISSING = [
    ("chat.postMessage", {"text": "t"}),
    ("chat.update", {"channel": CHANNEL, "text": "t"}),
    ("chat.postEphemeral", {"channel": CHANNEL, "text": "t"}),
    ("views.open", {"view": {"type": "modal"}}),
    ("views.open", {"trigger_id": "t1"}),
    ("conversations.open", {}),
    ("users.info", {}),
    ("files.getUploadURLExternal", {"filename": "a.csv"}),
    ("files.getUploadURLExternal", {"length": 3}),
    ("files.completeUploadExternal", {"channel_id": CHANNEL}),
]


@pytest.mark.parametrize(("method", "args"), MISSING,
                         ids=[f"{m}-{'+'.join(a) or 'nothing'}" for m, a in MISSING])
async def test_required_arguments(fake, client, method, args):
    refusal = await refused(fake, client.api_call(method, json=args), "invalid_arguments")
    assert any(e.startswith("missing required field: ") for e in refusal.errors)


async def test_every_required_argument_given_is_accepted(fake, client):
    assert (await client.users_info(user=ANA))["user"]["id"] == ANA
    assert (await client.conversations_open(users=ANA))["channel"]["id"] == "D0ANA"
    upload = await client.files_getUploadURLExternal(filename="a.csv", length=3)
    async with aiohttp.ClientSession() as http:
        await http.post(upload["upload_url"], data=b"a,b")
    assert (await client.files_completeUploadExternal(files=[{"id": upload["file_id"]}]))["ok"]


async def test_an_upload_is_completed_only_after_it_was_started(fake, client):
    await refused(fake, client.files_completeUploadExternal(files=[{"id": "F0NONE"}]),
                  "file_not_found")
    await refused(fake, client.api_call("files.getUploadURLExternal",
                                        params={"filename": "a.csv", "length": "0"}),
                  "invalid_arguments")


async def test_unknown_methods(fake, client):
    await refused(fake, client.api_call("chat.postMesage", json={"channel": CHANNEL, "text": "t"}),
                  "unknown_method")


async def test_tokens(fake, client):
    anonymous = AsyncWebClient(base_url=fake.api_url, retry_handlers=[])
    await refused(fake, anonymous.auth_test(), "not_authed")
    app_level = AsyncWebClient(token="xapp-1-test", base_url=fake.api_url, retry_handlers=[])
    await refused(fake, app_level.chat_postMessage(channel=CHANNEL, text="t"),
                  "not_allowed_token_type")
    await refused(fake, client.apps_connections_open(app_token="xoxb-1-test"),
                  "not_allowed_token_type")
    assert (await client.apps_connections_open(app_token="xapp-1-test"))["url"].startswith("ws://")
    assert (await client.auth_test())["user_id"] == fake.bot_user_id


# ---------------------------------------------------------------------- views

def modal(**changes: Any) -> dict[str, Any]:
    view = {"type": "modal", "callback_id": "cb", "title": plain("Title"), "submit": plain("Send"),
            "close": plain("Cancel"), "private_metadata": "{}",
            "blocks": [{"type": "input", "block_id": "ask", "label": plain("Ask"),
                        "element": {"type": "plain_text_input", "action_id": "value",
                                    "placeholder": plain("e.g. a raise")}}]}
    view.update(changes)
    return {k: v for k, v in view.items() if v is not None}


def with_input(**changes: Any) -> list[dict[str, Any]]:
    block = modal()["blocks"][0]
    element = {**block["element"], **changes.pop("element", {})}
    return [{**block, **changes, "element": element}]


# (name, a view breaking a rule, one keeping it)
VIEW_RULES = [
    ("title 24", modal(title=plain("t" * 25)), modal(title=plain("t" * 24))),
    ("title required", modal(title=None), modal()),
    ("submit 24", modal(submit=plain("s" * 25)), modal(submit=plain("s" * 24))),
    ("submit with inputs", modal(submit=None),
     modal(submit=None, blocks=[section("no inputs here")])),
    ("close 24", modal(close=plain("c" * 25)), modal(close=plain("c" * 24))),
    ("title is plain_text", modal(title={"type": "mrkdwn", "text": "t"}), modal()),
    ("private_metadata 3,000", modal(private_metadata="m" * 3001), modal(private_metadata="m" * 3000)),
    ("callback_id 255", modal(callback_id="c" * 256), modal(callback_id="c" * 255)),
    ("100 blocks", modal(blocks=[section()] * 101), modal(blocks=[section()] * 100)),
    ("a modal", modal(type="home", submit=None, close=None), modal()),
    ("label 2,000", modal(blocks=with_input(label=plain("l" * 2001))),
     modal(blocks=with_input(label=plain("l" * 2000)))),
    ("label is plain_text", modal(blocks=with_input(label={"type": "mrkdwn", "text": "l"})), modal()),
    ("placeholder 150", modal(blocks=with_input(element={"placeholder": plain("p" * 151)})),
     modal(blocks=with_input(element={"placeholder": plain("p" * 150)}))),
    ("text input max_length 3,000", modal(blocks=with_input(element={"max_length": 3001})),
     modal(blocks=with_input(element={"max_length": 3000}))),
    ("input holds an input element",
     modal(blocks=[{"type": "input", "label": plain("Go"), "element": button()}]), modal()),
    ("block_id unique", modal(blocks=with_input() * 2),
     modal(blocks=with_input() + with_input(block_id="who"))),
]


@pytest.mark.parametrize(("bad", "good"), [(b, g) for _, b, g in VIEW_RULES],
                         ids=[name for name, _, _ in VIEW_RULES])
async def test_view_rules(fake, client, ids, bad, good):
    trigger = slash(fake, ids, "rejected")["trigger_id"]
    refusal = await refused(fake, client.views_open(trigger_id=trigger, view=bad), "invalid_arguments")
    assert refusal.where == "views.open" and refusal.errors
    assert (await client.views_open(trigger_id=trigger, view=good))["ok"]


async def test_every_form_the_bot_builds_is_accepted(fake, client, ids):
    for name in ("rejected", "accepted", "pending", "who-next", "checkin", "goal", "timezone"):
        form = slash(fake, ids, name)
        view = build_modal(get_command(name), ModalContext(name, CHANNEL, form["response_url"]))
        assert (await client.views_open(trigger_id=form["trigger_id"], view=view))["ok"]


async def test_a_trigger_id_opens_one_view(fake, client, ids):
    await refused(fake, client.views_open(trigger_id="made-up", view=modal()), "invalid_trigger_id")
    trigger = slash(fake, ids, "rejected")["trigger_id"]
    assert (await client.views_open(trigger_id=trigger, view=modal()))["ok"]
    await refused(fake, client.views_open(trigger_id=trigger, view=modal()), "exchanged_trigger_id")


# ---------------------------------------------------------------------- response_url and acks

async def test_a_response_url_refuses_bad_blocks_with_a_400(fake, ids):
    url = slash(fake, ids, "help")["response_url"]
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "t", "blocks": [section("")]}) as response:
            assert (response.status, await response.text()) == (400, "invalid_blocks")
        async with http.post(url, json={"blocks": [section()]}) as response:
            assert (response.status, await response.text()) == (400, "no_text")
        [bad_blocks, no_text] = fake.pop_refusals()
        assert bad_blocks.where == no_text.where == "response_url"
        async with http.post(url, json={"text": "t", "blocks": [section()]}) as response:
            assert response.status == 200
        async with http.post(url, json={"delete_original": True}) as response:
            assert response.status == 200


async def test_a_slash_commands_ack_is_checked(fake, ids):
    delivery = fake.delivered(slash(fake, ids, "help"))
    assert fake.acked(delivery, {"text": "t", "blocks": [section("x" * 3001)]}) is not None
    [refusal] = fake.pop_refusals()
    assert (refusal.where, refusal.error) == ("ack:slash_commands", "invalid_blocks")
    assert fake.acked(fake.delivered(slash(fake, ids, "help")), {"text": "t"}) is None
    assert fake.acked(fake.delivered(slash(fake, ids, "help")), None) is None  # an empty ack


async def test_a_view_submission_ack_names_input_blocks_of_the_view(fake):
    view = modal()
    delivery = fake.delivered(view_submission(view, {}))
    fake.acked(delivery, {"response_action": "errors", "errors": {"when": "no such field"}})
    fake.acked(delivery, {"response_action": "errors", "errors": {"ask": ""}})
    fake.acked(delivery, {"response_action": "close"})
    fake.acked(delivery, {"response_action": "update", "view": modal(title=plain("t" * 25))})
    assert [r.where for r in fake.pop_refusals()] == ["ack:view_submission"] * 4
    for good in (None, {"response_action": "errors", "errors": {"ask": "Too long"}},
                 {"response_action": "clear"}, {"response_action": "update", "view": modal()}):
        assert fake.acked(delivery, good) is None
    assert fake.refusals == []


def too_many_blocks(reply: Any) -> Any:
    """render() gone wrong: 51 blocks."""
    message = render(reply)
    return replace(message, blocks=[section()] * 51)


async def test_the_adapters_http_acks_are_checked(http_adapter, fake, http, ids, monkeypatch):
    # post_signed hands the ack that came back to the fake.
    monkeypatch.setattr("adapters.slack.app.render", too_many_blocks)
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "help")))
    assert len(payload["blocks"]) == 51
    [refusal] = fake.pop_refusals()
    assert (refusal.where, refusal.error) == ("ack:slash_commands", "invalid_blocks")
    assert fake.seen_by(ANA, CHANNEL) == []  # a refused answer shows nothing


async def test_the_adapters_socket_mode_acks_are_checked(socket_adapter, fake, ids, monkeypatch):
    monkeypatch.setattr("adapters.slack.app.render", too_many_blocks)
    await fake.wait_for_ack(await fake.send_envelope("slash_commands", slash(fake, ids, "help")))
    [refusal] = fake.pop_refusals()
    assert (refusal.where, refusal.error) == ("ack:slash_commands", "invalid_blocks")


async def test_a_form_error_ack_names_a_field_of_the_form(http_adapter, fake, http, ids):
    form = slash(fake, ids, "rejected")
    view = build_modal(get_command("rejected"), ModalContext("rejected", CHANNEL, form["response_url"]))
    answer = await reply_json(await post_interaction(
        http, http_adapter, view_submission(view, {"ask": text_value("please " * 100)})))
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["ask"]
    assert fake.refusals == []  # checked against the submitted view, and accepted


# ---------------------------------------------------------------------- refusals fail tests

async def test_an_unannounced_refusal_fails_the_test_and_an_announced_one_does_not():
    fake = await FakeSlack().start()
    try:
        client = AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url, retry_handlers=[])
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel=CHANNEL, blocks=[section()])
    finally:
        await fake.stop()
    with pytest.raises(AssertionError, match="chat.postMessage: no_text"):
        fake.check_refusals()
    fake.expect_refusal("no_text", where="chat.postMessage")
    fake.check_refusals()
    fake.expect_refusal("invalid_blocks")
    with pytest.raises(AssertionError, match="never happened"):
        fake.check_refusals()


# ---------------------------------------------------------------------- the channel model

async def test_an_in_channel_answer_shows_the_typed_command_above_it(http_adapter, fake, http, ids):
    form = slash(fake, ids, "rejected", "asked for a raise fear:6")
    payload = await reply_json(await post_signed(http, http_adapter, form))
    assert payload["response_type"] == "in_channel"
    command, answer = fake.channel_view(CHANNEL)
    assert (command.author, command.kind, command.text) == (ANA, "command",
                                                            "/rejected asked for a raise fear:6")
    assert (answer.author, answer.kind, answer.only_for) == (fake.bot_user_id, "message", None)
    assert "@ana got a no: *asked for a raise*" in answer.text
    assert "Cheer" in answer.text  # button labels are read too
    assert answer.fallback is not None and answer.text.endswith(answer.fallback)
    assert fake.seen_by(BEN, CHANNEL) == fake.channel_view(CHANNEL)


async def test_an_ephemeral_answer_shows_nothing_to_others(http_adapter, fake, http, ids):
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "help")))
    assert payload["response_type"] == "ephemeral"
    assert fake.channel_view(CHANNEL) == []
    assert fake.seen_by(BEN, CHANNEL) == []
    [mine] = fake.seen_by(ANA, CHANNEL)
    assert mine.only_for == ANA and "/rejected" in mine.text and mine.kind == "message"


async def test_an_answer_sent_later_still_echoes_the_command_once(app, fake, http, ids, sleeps):
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           ack_budget=0, sleep=sleeps)
    await adapter.start()
    try:
        form = slash(fake, ids, "rejected", "asked for a raise")
        for retry in ({}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}):
            assert (await post_signed(http, adapter, form, headers=retry)).status == 200
        await adapter.idle()
    finally:
        await adapter.stop()
    seen = fake.channel_view(CHANNEL)
    assert [s.kind for s in seen][:2] == ["command", "message"]
    assert [s.text for s in seen].count("/rejected asked for a raise") == 1


async def test_a_cheer_relabels_the_celebration_everyone_sees(http_adapter, fake, http, ids):
    ack = await reply_json(await post_signed(http, http_adapter,
                                             slash(fake, ids, "rejected", "asked for a raise")))
    celebration = as_posted(ack)
    cheer = next(b["action_id"] for b in buttons(celebration))
    press = block_actions(fake, ids, cheer, user=BEN, name="ben", message=celebration)
    assert (await post_interaction(http, http_adapter, press)).status == 200
    await http_adapter.idle()
    command, shown = fake.channel_view(CHANNEL)
    assert "Cheer · 1" in shown.text  # chat.update rewrote it in place
    [thanks] = [s for s in fake.seen_by(BEN, CHANNEL) if s.only_for == BEN]
    assert "1 cheer so far" in thanks.text
    assert fake.seen_by(ANA, CHANNEL) == [command, shown]


async def test_replace_original_replaces_the_pressed_ephemeral_list(http_adapter, fake, http, ids):
    await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "pending",
                                                                 "pitched private:true")))
    listing = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "asks")))
    accepted = next(b["action_id"] for b in buttons(listing) if b["text"]["text"] == "Accepted")
    press = block_actions(fake, ids, accepted, ephemeral=True)
    assert (await post_interaction(http, http_adapter, press)).status == 200
    await http_adapter.idle()
    mine = [s for s in fake.seen_by(ANA, CHANNEL) if s.only_for == ANA]
    assert len(mine) == 1 and "Marked as a yes" in mine[0].text  # the list is gone, replaced
    # (a private ask resolved stays private: its answer replaces the list)
    assert all(s.only_for is None for s in fake.channel_view(CHANNEL))


async def test_posts_ephemerals_and_files(fake, client):
    await client.chat_postMessage(channel=CHANNEL, text="hello all")
    await client.chat_postEphemeral(channel=CHANNEL, user=BEN, text="psst ben")
    await client.files_upload_v2(channel=CHANNEL, content=b"a,b\n", filename="asks.csv",
                                 title="Your asks")
    posted = await client.chat_postMessage(channel=CHANNEL, text="to be edited")
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="edited")
    assert [(s.kind, s.text) for s in fake.channel_view(CHANNEL)] == [
        ("message", "hello all"), ("file", "Your asks\nasks.csv"), ("message", "edited")]
    assert [s.text for s in fake.seen_by(BEN, CHANNEL)][1] == "psst ben"
    assert "psst ben" not in fake.channel_text(CHANNEL, ANA)
    assert fake.channel_view("C0OTHER") == []


async def test_a_private_ask_never_shows_its_text_in_the_channel(http_adapter, fake, http, ids):
    await post_signed(http, http_adapter, slash(fake, ids, "rejected",
                                                "something personal private:true"))
    await http_adapter.idle()
    seen = fake.channel_view(CHANNEL)
    assert seen and "private ask" in fake.channel_text(CHANNEL)
    assert "something personal" not in fake.channel_text(CHANNEL)
    assert all(s.kind != "command" for s in seen)


# ---------------------------------------------------------------------- metadata and history


TAG = {"event_type": "whosnext_post", "event_payload": {"key": "checkin:1"}}


@pytest.mark.parametrize(("metadata", "error"), [
    ("not json", "invalid_metadata_format"),
    ([TAG], "invalid_metadata_format"),
    ({"event_payload": {}}, "invalid_metadata_schema"),
    ({"event_type": 7, "event_payload": {}}, "invalid_metadata_schema"),
    ({"event_type": "whosnext_post"}, "invalid_metadata_schema"),
    ({"event_type": "whosnext_post", "event_payload": "key"}, "invalid_metadata_schema"),
], ids=["unparsable", "array", "no-type", "type-not-string", "no-payload", "payload-not-object"])
async def test_metadata_must_be_an_object_with_type_and_payload(fake, client, metadata, error):
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text="t", metadata=metadata),
                  error)
    assert fake.channel_view(CHANNEL) == []


async def test_metadata_is_kept_as_a_json_body_or_a_form_field(fake, client):
    await client.chat_postMessage(channel=CHANNEL, text="as json", metadata=TAG)
    await client.api_call("chat.postMessage", data={"channel": CHANNEL, "text": "as form",
                                                    "metadata": json.dumps(TAG)})
    assert [s.metadata for s in fake.channel_view(CHANNEL)] == [TAG, TAG]


async def test_an_event_type_slack_ignores_is_posted_without_metadata_and_flagged(fake, client):
    posted = await client.chat_postMessage(
        channel=CHANNEL, text="t", metadata={"event_type": "whos.next", "event_payload": {}})
    assert posted["warning"] == "invalid_metadata_schema"
    assert fake.channel_view(CHANNEL)[0].metadata is None
    [refusal] = fake.pop_refusals()
    assert refusal.error == "invalid_metadata_schema"


async def test_history_is_newest_first_with_metadata_only_when_asked(fake, client):
    first = await client.chat_postMessage(channel=CHANNEL, text="one", metadata=TAG)
    await client.chat_postEphemeral(channel=CHANNEL, user=BEN, text="psst")
    fake.say(BEN, CHANNEL, "two")
    history = await client.conversations_history(channel=CHANNEL)
    assert [m["text"] for m in history["messages"]] == ["two", "one"]  # no ephemeral
    assert all("metadata" not in m for m in history["messages"])
    assert history["has_more"] is False and "response_metadata" not in history.data
    ours = (await client.conversations_history(channel=CHANNEL, include_all_metadata=True))[
        "messages"][1]
    assert ours["metadata"] == TAG and ours["ts"] == first["ts"]
    assert (ours["bot_id"], ours["user"]) == (fake.bot_id, fake.bot_user_id)
    assert "bot_id" not in history["messages"][0] and history["messages"][0]["user"] == BEN


async def test_history_honours_oldest_latest_inclusive_limit_and_cursor(fake, client):
    ts = [(await client.chat_postMessage(channel=CHANNEL, text=f"m{i}"))["ts"] for i in range(5)]

    async def texts(**args: Any) -> list[str]:
        return [m["text"] for m in (await client.conversations_history(channel=CHANNEL, **args))[
            "messages"]]

    assert await texts(oldest=ts[1]) == ["m4", "m3", "m2"]
    assert await texts(oldest=ts[1], inclusive=True) == ["m4", "m3", "m2", "m1"]
    assert await texts(oldest=ts[1], latest=ts[3]) == ["m2"]
    assert await texts(oldest=ts[1], latest=ts[3], inclusive=True) == ["m3", "m2", "m1"]
    page = await client.conversations_history(channel=CHANNEL, limit=2)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"] is True
    cursor = page["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel=CHANNEL, limit=2, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1"] and rest["has_more"] is True
    last = await client.conversations_history(
        channel=CHANNEL, limit=2, cursor=rest["response_metadata"]["next_cursor"])
    assert [m["text"] for m in last["messages"]] == ["m0"] and last["has_more"] is False
    await refused(fake, client.conversations_history(channel=CHANNEL, cursor="bogus"),
                  "invalid_cursor")
    await refused(fake, client.conversations_history(channel=CHANNEL, oldest="yesterday"),
                  "invalid_ts_oldest")
    await refused(fake, client.conversations_history(channel=CHANNEL, latest="-1"),
                  "invalid_ts_latest")


async def test_history_needs_the_bot_in_the_conversation(fake, client):
    await client.chat_postMessage(channel="C0SHY", text="posted with chat:write.public")
    await refused(fake, client.conversations_history(channel="C0SHY"), "not_in_channel")
    fake.make_private("C0SECRET")
    await refused(fake, client.conversations_history(channel="C0SECRET"), "channel_not_found")
    await refused(fake, client.chat_postMessage(channel="C0SECRET", text="t"),
                  "channel_not_found")
    await refused(fake, client.conversations_history(channel="D0BEN"), "channel_not_found")
    dm = (await client.conversations_open(users=BEN))["channel"]["id"]
    assert (await client.conversations_history(channel=dm))["messages"] == []
    fake.invite_bot("C0SHY", "C0SECRET")
    assert len((await client.conversations_history(channel="C0SHY"))["messages"]) == 1
    assert (await client.conversations_history(channel="C0SECRET"))["messages"] == []


@pytest.mark.parametrize(("channel", "scope"), [
    (CHANNEL, "channels:history"), ("G0PRIVATE", "groups:history"), ("D0ANA", "im:history")])
async def test_history_needs_the_scope_of_its_kind(fake, client, channel, scope):
    fake.invite_bot(channel)
    await client.conversations_open(users=ANA)
    fake.revoke_scope(scope)
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_history(channel=channel)
    assert raised.value.response["error"] == "missing_scope"
    assert raised.value.response["needed"] == scope
    assert scope not in raised.value.response["provided"].split(",")
    assert [r.error for r in fake.pop_refusals()] == ["missing_scope"]
    fake.grant_scope(scope)
    assert (await client.conversations_history(channel=channel))["ok"]


async def test_posting_needs_chat_write_and_public_channels_chat_write_public(fake, client):
    fake.revoke_scope("chat:write.public")
    await client.chat_postMessage(channel=CHANNEL, text="the bot is in #general")
    await refused(fake, client.chat_postMessage(channel="C0SHY", text="t"), "not_in_channel")
    fake.revoke_scope("chat:write")
    await refused(fake, client.chat_postMessage(channel=CHANNEL, text="t"), "missing_scope")
    assert len(fake.channel_view(CHANNEL)) == 1


async def test_drop_after_makes_the_post_then_hangs_up(fake, client):
    fake.drop_after("chat.postMessage")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=CHANNEL, text="landed")
    assert [s.text for s in fake.channel_view(CHANNEL)] == ["landed"]
    await client.chat_postMessage(channel=CHANNEL, text="answered")  # once only
    assert len(fake.channel_view(CHANNEL)) == 2


async def test_a_delay_after_handling_leaves_the_post_made(fake):
    quick = AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url, timeout=0.2,
                           retry_handlers=[])
    fake.delay("chat.postMessage", 2.0, after=True)
    with pytest.raises(TimeoutError):
        await quick.chat_postMessage(channel=CHANNEL, text="made, answered late")
    assert [s.text for s in fake.channel_view(CHANNEL)] == ["made, answered late"]


async def test_a_5xx_can_come_as_a_proxys_page(fake, client):
    fake.fail("chat.postMessage", "bad_gateway", status=502, raw="<html>Bad Gateway</html>")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=CHANNEL, text="t")
    assert raised.value.response.status_code == 502
    assert fake.channel_view(CHANNEL) == []


async def test_timestamps_follow_the_fakes_clock(fake, client):
    fake.clock = lambda: 1_800_000_000.5
    one = (await client.chat_postMessage(channel=CHANNEL, text="a"))["ts"]
    two = (await client.chat_postMessage(channel=CHANNEL, text="b"))["ts"]
    assert (one, two) == ("1800000000.500000", "1800000000.500001")
