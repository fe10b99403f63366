"""The modal flow: an empty command opens a form built from the catalogue, its submission runs
the same invocation, and an error lands on its field."""

from __future__ import annotations

from typing import Any

from adapters.slack.modals import ModalContext, build_modal
from bot.commands import get_command
from tests.slack.helpers import (
    ANA,
    CHANNEL,
    COMMUNITY,
    member,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    slash,
    text_value,
    view_submission,
)


async def open_form(http, adapter, fake, ids, command: str) -> tuple[dict[str, Any], str]:
    form = slash(fake, ids, command)
    response = await post_signed(http, adapter, form)
    assert response.status == 200
    assert await response.text() == ""  # acknowledged empty: the form is the answer
    [call] = fake.calls_to("views.open")
    assert call.args["trigger_id"] == form["trigger_id"]
    return call.args["view"], form["trigger_id"]


async def test_empty_rejected_opens_a_form_and_its_submission_is_logged(http_adapter, fake, http, ids,
                                                                        repo):
    view, trigger = await open_form(http, http_adapter, fake, ids, "rejected")
    spec = get_command("rejected")
    assert [b["block_id"] for b in view["blocks"]] == [o.name for o in spec.options]
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds == {"ask": "plain_text_input", "who": "plain_text_input", "area": "static_select",
                     "fear": "number_input", "lesson": "plain_text_input", "private": "checkboxes"}
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["ask"]["optional"] is False and blocks["who"]["optional"] is True
    assert blocks["fear"]["element"]["min_value"] == "0" and blocks["fear"]["element"]["max_value"] == "10"
    assert [o["value"] for o in blocks["area"]["element"]["options"]] == [
        "work", "money", "creative", "social", "learning", "other"]

    values = {
        "ask": text_value("asked for a raise"),
        "who": text_value("my boss"),
        "area": {"value": {"type": "static_select", "selected_option": {"value": "work"}}},
        "fear": {"value": {"type": "number_input", "value": "7"}},
        "lesson": text_value(""),
        "private": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    response = await post_interaction(http, http_adapter, view_submission(view, values))
    assert await reply_json(response) == {}  # closes the modal
    await http_adapter.idle()
    [posted] = fake.responses_to(trigger)  # answered where the command was sent
    assert posted["response_type"] == "in_channel"
    assert "@ana got a no" in section_texts(posted) and "asked for a raise" in section_texts(posted)
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected) == (1, 1)


async def test_a_private_ask_from_the_form(http_adapter, fake, http, ids, repo):
    view, trigger = await open_form(http, http_adapter, fake, ids, "pending")
    values = {"ask": text_value("secret pitch"),
              "private": {"value": {"type": "checkboxes", "selected_options": [{"value": "true"}]}}}
    await reply_json(await post_interaction(http, http_adapter, view_submission(view, values)))
    await http_adapter.idle()
    assert fake.responses_to(trigger) == []  # not in_channel through the command's response_url
    [post] = fake.calls_to("chat.postMessage")  # the bot posts it in the channel itself
    assert post.args["channel"] == "C0GENERAL"
    assert "secret pitch" not in str(post.args) and "private ask" in post.args["text"]
    assert (await repo.totals(COMMUNITY, member(ANA))).pending == 1


async def test_a_field_error_is_shown_on_its_field_and_nothing_is_written(http_adapter, fake, http, ids,
                                                                          repo):
    view, trigger = await open_form(http, http_adapter, fake, ids, "who-next")
    assert [b["block_id"] for b in view["blocks"]] == ["ask", "when"]
    values = {"ask": text_value("ask Sam for an intro"), "when": text_value("someday maybe")}
    answer = await reply_json(await post_interaction(http, http_adapter,
                                                     view_submission(view, values, view_id="V0002")))
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["when"]
    assert "someday maybe" in answer["errors"]["when"]
    commitments, _pending = await repo.open_items(COMMUNITY, member(ANA))
    assert commitments == []

    # Fixed and sent again from the same modal: it goes through, once.
    values["when"] = text_value("tomorrow")
    for _ in range(2):  # a double click on Submit
        assert await reply_json(await post_interaction(
            http, http_adapter, view_submission(view, values, view_id="V0002"))) == {}
    await http_adapter.idle()
    commitments, _pending = await repo.open_items(COMMUNITY, member(ANA))
    assert [c.ask for c in commitments] == ["ask Sam for an intro"]
    assert "ask Sam for an intro" in section_texts(fake.responses_to(trigger)[0])


async def test_a_too_long_ask_is_an_error_on_the_ask_field(http_adapter, fake, http, ids, repo):
    view, _trigger = await open_form(http, http_adapter, fake, ids, "rejected")
    values = {"ask": text_value("please " * 100)}
    answer = await reply_json(await post_interaction(http, http_adapter, view_submission(view, values)))
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["ask"]
    assert "500" in answer["errors"]["ask"]
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


async def test_a_form_in_socket_mode_posts_member_text_escaped(socket_adapter, fake, ids, repo):
    """The answer goes to the command's response_url (kept in the form), and the member's text
    reaches Slack escaped."""
    form = slash(fake, ids, "rejected")
    await fake.wait_for_ack(await fake.send_envelope("slash_commands", form))
    view = fake.calls_to("views.open")[0].args["view"]
    assert ModalContext.decode(view["private_metadata"]) == ModalContext(
        "rejected", CHANNEL, form["response_url"])
    values = {"ask": text_value("told <!channel> and <@U123> & <!here>")}
    ack = await fake.wait_for_ack(await fake.send_envelope("interactive", view_submission(view, values)))
    assert not ack.get("payload")
    await socket_adapter.idle()
    [answer] = fake.responses_to(form["trigger_id"])
    assert answer["response_type"] == "in_channel"
    text = section_texts(answer)
    assert "told &lt;!channel&gt; and &lt;@U123&gt; &amp; &lt;!here&gt;" in text
    assert "<!channel>" not in answer["text"] and "<@U123>" not in answer["text"]
    assert "<!" not in text and "<@" not in text
    assert fake.calls_to("chat.postMessage") == []


def test_the_channel_picker_offers_channels_only():
    view = build_modal(get_command("checkin"), ModalContext("checkin", CHANNEL))
    [picker] = [b["element"] for b in view["blocks"] if b["element"]["type"] == "conversations_select"]
    assert picker["filter"] == {"include": ["public", "private"], "exclude_bot_users": True}
