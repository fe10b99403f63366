"""A form that starts filled in (``Reply.form_values``) and options it sends without showing
them (``Reply.form_fixed``): the modal's shape as Slack takes it, the fixed options through
``private_metadata``, the ``clears`` list on submission, and metadata that doesn't decode."""

from __future__ import annotations

from adapters.slack.modals import (
    MAX_METADATA,
    ModalContext,
    build_modal,
    options_from_view,
)
from bot.commands import get_command
from tests.fakes import slack_rules as rules
from tests.slack.helpers import (
    ANA,
    CHANNEL,
    COMMUNITY,
    member,
    post_interaction,
    reply_json,
    text_value,
    view_submission,
)

EDIT = get_command("edit")
VALUES = {"ask": "asked for a raise", "outcome": "no", "who": "boss", "lesson": "ask earlier",
          "private": "true", "area": "work", "fear": "7"}
FIXED = {"entry": "2"}


def edit_form() -> dict:
    assert EDIT is not None
    return build_modal(EDIT, ModalContext("edit", CHANNEL), values=VALUES, fixed=FIXED)


def test_a_filled_in_form_starts_with_each_value_the_slack_way():
    view = edit_form()
    assert rules.view_errors(view) == []  # what the fake's views.open checks
    elements = {b["block_id"]: b["element"] for b in view["blocks"]}
    # entry travels in the metadata, clear is the adapter's to fill: neither is shown
    assert list(elements) == ["ask", "outcome", "who", "lesson", "private", "area", "fear"]
    assert elements["ask"]["initial_value"] == "asked for a raise"
    assert elements["who"]["initial_value"] == "boss"
    assert elements["outcome"]["initial_option"] == {
        "text": {"type": "plain_text", "text": "no", "emoji": True}, "value": "no"}
    assert elements["area"]["initial_option"]["value"] == "work"
    assert [o["value"] for o in elements["private"]["initial_options"]] == ["true"]
    assert elements["fear"]["initial_value"] == "7"
    context = ModalContext.decode(view["private_metadata"])
    assert context is not None and context.fixed == FIXED and context.filled


def test_values_that_dont_fit_their_field_leave_it_empty():
    assert EDIT is not None
    view = build_modal(EDIT, ModalContext("edit", CHANNEL),
                       values={"outcome": "maybe", "fear": "11", "private": "false", "who": " "})
    assert rules.view_errors(view) == []
    elements = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert "initial_option" not in elements["outcome"]
    assert "initial_value" not in elements["fear"]
    assert "initial_options" not in elements["private"]
    assert "initial_value" not in elements["who"]
    assert "clear" not in elements  # filled in all the same


def test_other_elements_take_their_initial_values():
    checkin, rejected = get_command("checkin"), get_command("rejected")
    assert checkin is not None and rejected is not None
    for spec in (checkin, rejected):
        names = {o.name: o.type.value for o in spec.options}
        view = build_modal(spec, ModalContext(spec.name, CHANNEL),
                           values={n: "2027-01-10" if t == "date" else "U0ANA" if t == "member"
                                   else "C0GENERAL" if t == "channel" else "x" for n, t in
                                   names.items()})
        assert rules.view_errors(view) == []


def test_an_unfilled_form_is_as_before():
    rejected = get_command("rejected")
    assert rejected is not None
    view = build_modal(rejected, ModalContext("rejected", CHANNEL, "https://r"))
    assert all(set(b["element"]) & {"initial_value", "initial_option", "initial_options"} == set()
               for b in view["blocks"])
    assert ModalContext.decode(view["private_metadata"]) == ModalContext("rejected", CHANNEL,
                                                                         "https://r")
    values = {"ask": text_value("asked"), "who": text_value("")}
    assert options_from_view(rejected, values, ModalContext.decode(view["private_metadata"])) == {
        "ask": "asked"}


def test_emptied_and_unticked_fields_are_named_in_clears():
    view = edit_form()
    context = ModalContext.decode(view["private_metadata"])
    assert EDIT is not None and context is not None
    values = {
        "ask": text_value("asked for a bigger raise"),
        "outcome": {"value": {"type": "static_select", "selected_option": {"value": "yes"}}},
        "who": text_value(""),
        "lesson": text_value("ask earlier"),
        "private": {"value": {"type": "checkboxes", "selected_options": []}},
        "area": {"value": {"type": "static_select", "selected_option": None}},
        "fear": {"value": {"type": "number_input", "value": "7"}},
    }
    options = options_from_view(EDIT, values, context)
    assert options == {"ask": "asked for a bigger raise", "outcome": "yes",
                       "lesson": "ask earlier", "fear": "7", "entry": "2",
                       "clear": "who,private,area"}
    # nothing emptied: no clears option at all
    values.update(who=text_value("boss"),
                  private={"value": {"type": "checkboxes", "selected_options": [{"value": "true"}]}},
                  area={"value": {"type": "static_select", "selected_option": {"value": "work"}}})
    assert "clear" not in options_from_view(EDIT, values, context)


def test_metadata_stays_within_slacks_limit():
    rejected = get_command("rejected")
    assert rejected is not None
    view = build_modal(rejected, ModalContext("rejected", CHANNEL, "https://r/" + "x" * 2900),
                       fixed={"who": "boss", "lesson": "l" * 60})
    assert len(view["private_metadata"]) <= MAX_METADATA
    context = ModalContext.decode(view["private_metadata"])
    assert context is not None and context.fixed == {"who": "boss", "lesson": "l" * 60}


def test_bad_metadata_never_crashes_decoding():
    for raw in (None, "", "{", "[]", "null", '"c"', '{"c": 3}', '{"c": "edit", "f": [1]}',
                '{"c": "edit", "f": {"who": 3, "ask": "x"}, "ch": 5, "u": []}', "[" * 5000):
        context = ModalContext.decode(raw)
        assert context is None or context.fixed in ({}, {"ask": "x"})
    weird = ModalContext.decode('{"c": "edit", "f": {"who": 3, "ask": "x"}, "ch": 5, "u": []}')
    assert weird == ModalContext("edit", None, None, {"ask": "x"}, True)


async def test_fixed_options_round_trip_through_a_submission(http_adapter, fake, http, repo):
    """A /rejected form whose ``who`` is fixed: not shown, sent with the submission all the same
    (the view comes back from Slack with its private_metadata, as the fake's payload does)."""
    rejected = get_command("rejected")
    assert rejected is not None
    view = build_modal(rejected, ModalContext("rejected", CHANNEL), fixed={"who": "my boss"})
    assert rules.view_errors(view) == []
    assert "who" not in [b["block_id"] for b in view["blocks"]]
    values = {"ask": text_value("asked for a raise")}
    assert await reply_json(await post_interaction(http, http_adapter,
                                                   view_submission(view, values))) == {}
    await http_adapter.idle()
    _attempts, _commitments, _goal = await repo.export_rows(COMMUNITY, member(ANA))
    assert [(a.ask, a.who) for a in _attempts] == [("asked for a raise", "my boss")]


async def test_a_submission_with_bad_metadata_is_acknowledged_and_ignored(http_adapter, fake,
                                                                          http, repo):
    rejected = get_command("rejected")
    assert rejected is not None
    view = dict(build_modal(rejected, ModalContext("rejected", CHANNEL)),
                private_metadata='{"c": "rejected", "f": "not a dict", "ch": 7')
    values = {"ask": text_value("asked for a raise")}
    assert await reply_json(await post_interaction(http, http_adapter,
                                                   view_submission(view, values))) == {}
    await http_adapter.idle()
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


async def test_a_button_opens_its_form_filled_in_and_the_submission_keeps_the_fixed_options(
        http_adapter, fake, http, ids, repo, monkeypatch):
    """A press answered with a filled-in form (``Reply.form`` with ``form_values`` and
    ``form_fixed``): views.open gets the values and the metadata, the submission the fixed
    options. The core's reply is stood in for: /edit's handler answers so once it exists."""
    from types import SimpleNamespace

    from tests.slack.helpers import block_actions

    async def answer(press):
        return SimpleNamespace(form="rejected", form_values=(("ask", "asked for a raise"),
                                                             ("who", "boss")),
                               form_fixed=(("lesson", "ask earlier"),))

    monkeypatch.setattr(http_adapter.core, "handle_action", answer)
    press = block_actions(fake, ids, "wn:edit:1", channel=CHANNEL)
    assert (await post_interaction(http, http_adapter, press)).status == 200
    await http_adapter.idle()
    (opened,) = fake.calls_to("views.open")
    view = opened.args["view"]
    elements = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert "lesson" not in elements
    assert elements["ask"]["initial_value"] == "asked for a raise"
    assert elements["who"]["initial_value"] == "boss"
    values = {"ask": text_value("asked for a big raise"), "who": text_value("")}
    assert await reply_json(await post_interaction(http, http_adapter,
                                                   view_submission(view, values))) == {}
    await http_adapter.idle()
    attempts, _commitments, _goal = await repo.export_rows(COMMUNITY, member(ANA))
    assert [(a.ask, a.who, a.lesson) for a in attempts] == [
        ("asked for a big raise", None, "ask earlier")]
