"""Slack payloads -> options, callers and request ids."""

from __future__ import annotations

import pytest

from adapters.slack.modals import ModalContext, build_modal, options_from_view
from adapters.slack.translate import (
    action_request_id,
    caller_from_command,
    caller_from_interaction,
    command_request_id,
    options_from_text,
    retry_number,
    view_request_id,
)
from bot.commands import OptionError, get_command
from bot.ids import MemberRef, Platform


def test_text_grammar_with_slack_escaping():
    spec = get_command("rejected")
    options = options_from_text(spec, 'asked &lt;Bo&gt; &amp; co who:"my boss" fear:7')
    assert options == {"ask": "asked <Bo> & co", "who": "my boss", "fear": "7"}


def test_member_mentions_become_member_refs():
    spec = get_command("stats")
    assert options_from_text(spec, "<@U0BEN|ben smith>") == {"member": MemberRef(Platform.SLACK, "U0BEN")}
    assert options_from_text(spec, "member:<@U0BEN|ben smith>") == {
        "member": MemberRef(Platform.SLACK, "U0BEN")}
    assert options_from_text(spec, "ben") == {"member": "ben"}


def test_slack_sequences_in_free_text_become_plain_text():
    spec = get_command("rejected")
    options = options_from_text(spec, (
        'told <!channel> and <!here|@here> about <@U0123|bob smith> in <#C0ASK|asks> '
        '<https://x.io/a?b=1&amp;c=2|the doc> <https://y.io> <mailto:a@b.c|a@b.c> '
        '<!subteam^S1|@devs> who:<@U0BEN> lesson:"<!everyone> <#C0X>"'))
    assert options == {
        "ask": "told @channel and @here about @bob smith in #asks the doc (https://x.io/a?b=1&c=2) "
               "https://y.io a@b.c @devs",
        "who": "@U0BEN",
        "lesson": "@everyone #C0X",
    }


def test_channel_options_take_the_channel_id():
    options = options_from_text(get_command("checkin"), "set channel:<#C0ASKS|the asks>")
    assert options["channel"] == "C0ASKS"


def test_grammar_errors_are_option_errors():
    with pytest.raises(OptionError):
        options_from_text(get_command("rejected"), 'asked who:"unclosed')


def test_request_ids_repeat_only_for_the_same_request():
    body = {"trigger_id": "123.456.abc", "team_id": "T1"}
    assert command_request_id(body) == command_request_id(dict(body)) == "slack:cmd:123.456.abc"
    assert command_request_id({"trigger_id": "123.456.abd"}) != command_request_id(body)
    # A view's submission is one request however often Slack retries it (a new trigger each
    # time); another view is another request.
    assert view_request_id({"view": {"id": "V1"}, "trigger_id": "x"}) == "slack:view:V1"
    assert view_request_id({"view": {"id": "V1"}, "trigger_id": "y"}) == "slack:view:V1"
    assert view_request_id({"view": {"id": "V2"}, "trigger_id": "x"}) == "slack:view:V2"
    action = {"action_id": "wn:cheer:1", "action_ts": "1.2"}
    assert action_request_id({"trigger_id": "t1"}, action) != action_request_id({"trigger_id": "t2"}, action)
    assert action_request_id({}, action) == "slack:act:1.2:wn:cheer:1"


def test_retry_number_from_headers():
    assert retry_number({"x-slack-retry-num": ["2"]}) == 2
    assert retry_number({}) == 0
    assert retry_number({"x-slack-retry-num": ["junk"]}) == 0


def test_callers():
    caller = caller_from_command({"team_id": "T1", "user_id": "U1", "user_name": "ana",
                                  "channel_id": "C1"})
    assert caller.community.key == "slack:T1" and caller.member.key == "slack:U1"
    assert caller.channel is not None and caller.channel.id == "C1" and caller.name == "ana"
    caller = caller_from_interaction({"team": {"id": "T1"}, "user": {"id": "U2", "username": "ben"},
                                      "container": {"channel_id": "C2"}})
    assert (caller.member.id, caller.name, caller.channel.id) == ("U2", "ben", "C2")


def test_modal_round_trip_for_every_input_kind():
    spec = get_command("stats")
    view = build_modal(spec, ModalContext("stats", "C1", "https://hooks/x"))
    assert view["blocks"][0]["element"]["type"] == "users_select"
    assert ModalContext.decode(view["private_metadata"]) == ModalContext("stats", "C1", "https://hooks/x")
    values = {"member": {"value": {"type": "users_select", "selected_user": "U9"}}}
    assert options_from_view(spec, values) == {"member": MemberRef(Platform.SLACK, "U9")}
    goal = get_command("goal")
    kinds = [b["element"]["type"] for b in build_modal(goal, ModalContext("goal"))["blocks"]]
    assert kinds == ["plain_text_input", "datepicker", "plain_text_input"]  # target, by, since
    assert options_from_view(goal, {"by": {"value": {"selected_date": "2027-01-31"}}}) == {"by": "2027-01-31"}
    assert ModalContext.decode("not json") is None
