"""/edit end to end through the real Slack adapter (HTTP mode) against the strict fake: a public
/rejected celebrated in the channel, /edit's private list, its Edit button opening the modal
filled in with the entry (views.open), the submission changing it, and the outbox taking the
change to the channel's celebration itself (conversations.history + chat.update): the same
message, new words, "(edited)", its Cheer button kept, nothing new posted. Also: an edit making
the entry private hides its text from the channel, typed /edit options, bad input refused
without changing anything, a field emptied in the form cleared, and a celebration the bot can't
find any more (past the lookback, or deleted) ending MISSED without a new post."""

from __future__ import annotations

import json
from typing import Any

from bot.ids import Platform
from bot.models import Outcome
from bot.ports import EDIT_LOOKBACK
from bot.scheduler import Scheduler
from tests.fakes.slack import FakeSlack, Seen
from tests.helpers import edit_rows_in_file as edit_rows
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
    view_submission,
)

ASK = "asked for a raise"


# ---------------------------------------------------------------------- driving Slack


async def command(http, adapter, fake, ids, name: str, text: str = "", user: str = ANA,
                  user_name: str = "ana") -> dict[str, Any]:
    ack = await reply_json(await post_signed(http, adapter, slash(fake, ids, name, text,
                                                                  user=user, name=user_name)))
    await adapter.idle()
    return ack


def celebration_in(fake: FakeSlack, text: str) -> Seen:
    """The one message everyone in the channel reads that shows ``text``."""
    [seen] = [s for s in fake.channel_view(CHANNEL) if s.kind == "message" and text in s.text]
    return seen


def everything(seen: Seen) -> str:
    """All a channel message holds: what it shows, its blocks, its fallback text."""
    return "\n".join([seen.text, json.dumps(seen.blocks, ensure_ascii=False),
                      seen.fallback or ""])


def action_ids(seen: Seen) -> list[str]:
    return [b["action_id"] for b in buttons({"blocks": list(seen.blocks)})]


def labels(seen: Seen) -> list[str]:
    return [b["text"]["text"] for b in buttons({"blocks": list(seen.blocks)})]


async def open_edit_form(http, adapter, fake, ids, user: str = ANA, name: str = "ana"
                         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """/edit with nothing else: the private list; its first Edit button pressed. Returns the
    list and the modal views.open got (with the press's trigger_id)."""
    listed = await command(http, adapter, fake, ids, "edit", user=user, user_name=name)
    assert listed["response_type"] == "ephemeral", listed
    edit_ids = [b["action_id"] for b in buttons(listed) if b["text"]["text"] == "Edit"]
    assert edit_ids, listed
    opened_before = len(fake.calls_to("views.open"))
    press = block_actions(fake, ids, edit_ids[0], user=user, name=name, ephemeral=True)
    response = await post_interaction(http, adapter, press)
    assert response.status == 200 and await response.text() == ""
    await adapter.idle()
    opened = fake.calls_to("views.open")[opened_before:]
    assert len(opened) == 1, "the Edit button opened no form"
    assert opened[0].args["trigger_id"] == press["trigger_id"]
    assert fake.responses_to(press["trigger_id"]) == []  # the form is the answer
    view = opened[0].args["view"]
    return listed, json.loads(view) if isinstance(view, str) else view


def elements(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}


def state_of(view: dict[str, Any], changes: dict[str, str | bool | None]) -> dict[str, Any]:
    """``view.state.values`` as Slack sends it on submit: every input as it started, unless
    ``changes`` gives it something else (``None`` or ``""``: emptied; a checkbox ``False``:
    unticked)."""
    out: dict[str, Any] = {}
    for name, element in elements(view).items():
        kind = element["type"]
        if kind in ("plain_text_input", "number_input"):
            value = changes[name] if name in changes else element.get("initial_value")
            state: dict[str, Any] = {"type": kind, "value": value or None}
        elif kind == "static_select":
            if name in changes:
                picked = [o for o in element["options"] if o["value"] == changes[name]]
                option = picked[0] if picked else None
            else:
                option = element.get("initial_option")
            state = {"type": kind, "selected_option": option}
        elif kind == "checkboxes":
            ticked = element.get("initial_options", [])
            if name in changes:
                ticked = element["options"][:1] if changes[name] else []
            state = {"type": kind, "selected_options": ticked}
        else:
            raise AssertionError(f"no state for a {kind} yet")
        out[name] = {element["action_id"]: state}
    return out


async def submit(http, adapter, view: dict[str, Any], changes: dict[str, str | bool | None],
                 *, user: str = ANA, name: str = "ana", view_id: str = "V0EDIT") -> dict[str, Any]:
    body = view_submission(view, state_of(view, changes), view_id=view_id, user=user, name=name)
    answer = await reply_json(await post_interaction(http, adapter, body))
    await adapter.idle()
    return answer


async def drain(repo, app, adapter, clock):
    return await Scheduler(repo, app, {Platform.SLACK: adapter.poster}, clock).drain()


async def logged(http, adapter, fake, ids, ask: str = ASK, extra: str = "") -> Seen:
    """/rejected ``ask`` (with ``extra`` options) in the channel: its celebration there."""
    ack = await command(http, adapter, fake, ids, "rejected", f"{ask} {extra}".strip())
    assert ack["response_type"] == "in_channel"
    seen = celebration_in(fake, ask)
    assert any(a.startswith("wn:cheer:") for a in action_ids(seen))
    return seen


# ---------------------------------------------------------------------- the tests


async def test_the_form_edits_the_celebration_in_place(http_adapter, fake, http, ids, repo, app,
                                                       clock, tmp_path):
    before = await logged(http, http_adapter, fake, ids, extra='who:"my boss" area:work fear:7')
    cheer_ids = action_ids(before)
    cheered = block_actions(fake, ids, cheer_ids[0], user=BEN, name="ben",
                            message=as_posted({"text": before.fallback,
                                               "blocks": list(before.blocks)}, ts=before.ts))
    assert (await post_interaction(http, http_adapter, cheered)).status == 200
    await http_adapter.idle()
    assert labels(celebration_in(fake, ASK)) == ["Cheer · 1"]
    updates = len(fake.calls_to("chat.update"))
    channel_before = len(fake.channel_view(CHANNEL))

    listed, view = await open_edit_form(http, http_adapter, fake, ids)
    assert ASK in section_texts(listed)
    shown = elements(view)
    assert shown["ask"]["initial_value"] == ASK
    assert shown["outcome"]["initial_option"]["value"] == "no"
    assert shown["who"]["initial_value"] == "my boss"
    assert shown["area"]["initial_option"]["value"] == "work"
    assert shown["fear"]["initial_value"] == "7"
    assert "initial_value" not in shown["lesson"]
    assert "initial_options" not in shown["private"]
    assert "entry" not in shown and "clear" not in shown  # fixed, and the adapter's own

    answer = await submit(http, http_adapter, view, {"ask": "asked for a 10% raise",
                                                     "outcome": "yes"})
    assert answer == {}  # the modal closes; the answer goes to the press's response_url
    confirmations = [s for s in fake.seen_by(ANA, CHANNEL) if "Updated" in s.text]
    assert len(confirmations) == 1 and confirmations[0].only_for == ANA
    assert "outcome: no → yes" in confirmations[0].text
    assert "asked for a 10% raise" not in fake.channel_text(CHANNEL)  # not yet: the outbox's

    attempts, _, _ = await repo.export_rows(COMMUNITY, member(ANA))
    [entry] = attempts
    assert (entry.ask, entry.outcome, entry.who, entry.area, entry.fear) == (
        "asked for a 10% raise", Outcome.ACCEPTED, "my boss", "work", 7)
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected, totals.accepted) == (1, 0, 1)

    report = await drain(repo, app, http_adapter, clock)
    assert (report.posted, report.failed) == (1, 0), report
    [update] = fake.calls_to("chat.update")[updates:]
    assert (update.args["channel"], update.args["ts"]) == (CHANNEL, before.ts)
    after = celebration_in(fake, "asked for a 10% raise")
    assert after.ts == before.ts  # the same message, changed
    assert "(edited)" in after.text and "got a yes" in after.text
    assert ASK not in everything(after)  # blocks and fallback text alike
    assert "asked for a 10% raise" in (after.fallback or "")
    assert action_ids(after) == cheer_ids  # its Cheer button still works, its count kept
    assert labels(after) == ["Cheer · 1"]
    assert len(fake.channel_view(CHANNEL)) == channel_before  # nothing new posted
    assert fake.calls_to("chat.postMessage") == []
    assert edit_rows(tmp_path) == [("sent", CHANNEL, None)]
    assert (await drain(repo, app, http_adapter, clock)).posted == 0  # once


async def test_an_edit_making_it_private_hides_the_text(http_adapter, fake, http, ids, repo, app,
                                                        clock):
    before = await logged(http, http_adapter, fake, ids)
    channel_before = len(fake.channel_view(CHANNEL))
    _, view = await open_edit_form(http, http_adapter, fake, ids)
    answer = await submit(http, http_adapter, view, {"ask": "asked Sam for a secret raise",
                                                     "private": True})
    assert answer == {}
    # The submission's answer is Ana's alone; nothing the others read holds either wording.
    mine = [s for s in fake.seen_by(ANA, CHANNEL) if "Updated" in s.text]
    assert len(mine) == 1 and mine[0].only_for == ANA and "now private" in mine[0].text
    assert "to hide the text" in mine[0].text
    for reader in (None, BEN):
        seen = fake.channel_view(CHANNEL) if reader is None else fake.seen_by(reader, CHANNEL)
        assert not [s for s in seen if "secret raise" in everything(s)]
    for posted in fake.responses:
        if "secret raise" in json.dumps(posted.payload):
            assert posted.payload.get("response_type") == "ephemeral", posted.payload

    assert (await drain(repo, app, http_adapter, clock)).posted == 1
    [after] = [s for s in fake.channel_view(CHANNEL) if s.ts == before.ts]
    held = everything(after)
    assert "secret raise" not in held and "asked for a raise" not in held
    assert "private ask" in after.text and "(edited)" in after.text
    assert action_ids(after) == action_ids(before)
    assert len(fake.channel_view(CHANNEL)) == channel_before
    [update] = fake.calls_to("chat.update")
    assert "raise" not in json.dumps(update.args)  # blocks and fallback text alike
    # Slack's echo of the typed /rejected line is the member's own message, not the bot's to
    # change: the first wording stays there (a limit of logging with a typed command).
    [echo] = [s for s in fake.channel_view(CHANNEL) if s.kind == "command"]
    assert echo.author == ANA and ASK in echo.text


async def test_typed_options_edit_the_latest_and_bad_input_changes_nothing(
        http_adapter, fake, http, ids, repo, app, clock, tmp_path):
    await logged(http, http_adapter, fake, ids, "asked for a discount")
    before = await logged(http, http_adapter, fake, ids, extra='who:"my boss"')

    for text, says in (("entry:abc", "Say which entry by its place"),
                       ("clear:ask", "keeps its ask and its outcome"),
                       ("outcome:maybe", "maybe"),
                       ("who:boss clear:who", "gave who a value and cleared it too"),
                       ("entry:#999999 outcome:yes", "isn't here any more"),
                       ("outcome:no", "nothing changed")):
        refused = await command(http, http_adapter, fake, ids, "edit", text)
        assert refused["response_type"] == "ephemeral", (text, refused)
        assert says in refused["text"], (text, refused["text"])
    attempts, _, _ = await repo.export_rows(COMMUNITY, member(ANA))
    assert sorted((a.ask, a.outcome, a.who) for a in attempts) == [
        ("asked for a discount", Outcome.REJECTED, None),
        ("asked for a raise", Outcome.REJECTED, "my boss")]
    assert edit_rows(tmp_path) == []

    done = await command(http, http_adapter, fake, ids, "edit", "outcome:yes")
    assert done["response_type"] == "ephemeral" and "outcome: no → yes" in section_texts(done)
    assert "Updated" in section_texts(done) and "asked for a raise" in section_texts(done)
    # The typed line is never echoed in the channel: only Ana read the answer.
    assert "/edit" not in fake.channel_text(CHANNEL)
    attempts, _, _ = await repo.export_rows(COMMUNITY, member(ANA))
    assert sorted((a.ask, a.outcome) for a in attempts) == [
        ("asked for a discount", Outcome.REJECTED), ("asked for a raise", Outcome.ACCEPTED)]
    # The one before, by its place: only a lesson added, which no post shows.
    second = await command(http, http_adapter, fake, ids, "edit", 'entry:2 lesson:"ask later"')
    assert "lesson: - → ask later" in section_texts(second)
    assert edit_rows(tmp_path) == [("due", CHANNEL, None)]  # the outcome's change alone

    assert (await drain(repo, app, http_adapter, clock)).posted == 1
    after = [s for s in fake.channel_view(CHANNEL) if s.ts == before.ts][0]
    assert "got a yes" in after.text and "(edited)" in after.text
    assert "asked for a discount" in celebration_in(fake, "asked for a discount").text


async def test_a_field_emptied_in_the_form_is_cleared(http_adapter, fake, http, ids, repo, app,
                                                      clock):
    await logged(http, http_adapter, fake, ids,
                 extra='who:"my boss" lesson:"ask earlier" area:work fear:6')
    _, view = await open_edit_form(http, http_adapter, fake, ids)
    assert elements(view)["who"]["initial_value"] == "my boss"
    answer = await submit(http, http_adapter, view, {"who": "", "area": None})
    assert answer == {}
    [told] = [s for s in fake.seen_by(ANA, CHANNEL) if "Updated" in s.text]
    assert "who: my boss → cleared" in told.text and "area: work → cleared" in told.text
    attempts, _, _ = await repo.export_rows(COMMUNITY, member(ANA))
    [entry] = attempts
    assert (entry.ask, entry.who, entry.area, entry.lesson, entry.fear) == (
        ASK, None, None, "ask earlier", 6)
    # Nothing a post shows changed: nothing to take to the channel.
    assert (await drain(repo, app, http_adapter, clock)).posted == 0
    assert fake.calls_to("chat.update") == []


async def test_a_celebration_out_of_reach_ends_missed_without_a_new_post(
        http_adapter, fake, http, ids, repo, app, clock, tmp_path):
    before = await logged(http, http_adapter, fake, ids)
    for n in range(EDIT_LOOKBACK):  # the channel talks on: the celebration scrolls past
        fake.say(BEN, CHANNEL, f"chat {n}")
    channel_before = len(fake.channel_view(CHANNEL))
    done = await command(http, http_adapter, fake, ids, "edit", "outcome:yes")
    assert "updating its post in the channel to match" in section_texts(done)
    report = await drain(repo, app, http_adapter, clock)
    assert (report.posted, report.failed) == (0, 1), report
    [(state, target, reason)] = edit_rows(tmp_path)
    assert (state, target) == ("missed", CHANNEL) and f"latest {EDIT_LOOKBACK}" in reason
    assert fake.calls_to("chat.update") == [] and fake.calls_to("chat.postMessage") == []
    assert len(fake.channel_view(CHANNEL)) == channel_before
    [still] = [s for s in fake.channel_view(CHANNEL) if s.ts == before.ts]
    assert "got a no" in still.text and "(edited)" not in still.text
    assert (await repo.totals(COMMUNITY, member(ANA))).accepted == 1  # the entry changed


async def test_a_deleted_celebration_ends_missed_without_a_new_post(
        http_adapter, fake, http, ids, repo, app, clock, tmp_path):
    before = await logged(http, http_adapter, fake, ids)
    fake.delete_message(CHANNEL, before.ts)
    await command(http, http_adapter, fake, ids, "edit", "outcome:pending")
    report = await drain(repo, app, http_adapter, clock)
    assert (report.posted, report.failed) == (0, 1), report
    [(state, _target, reason)] = edit_rows(tmp_path)
    assert state == "missed" and "not_found" in reason
    assert fake.calls_to("chat.update") == [] and fake.calls_to("chat.postMessage") == []
    assert [s for s in fake.channel_view(CHANNEL) if s.kind == "message"] == []


async def test_a_celebration_slack_wont_let_change_ends_missed_with_the_reason(
        http_adapter, fake, http, ids, repo, app, clock, tmp_path):
    """Slack may refuse to update a message a slash command's answer posted
    (``cant_update_message``): recorded as missed with the reason, nothing posted anew."""
    before = await logged(http, http_adapter, fake, ids)
    await command(http, http_adapter, fake, ids, "edit", "outcome:yes")
    fake.fail("chat.update", "cant_update_message")
    report = await drain(repo, app, http_adapter, clock)
    assert (report.posted, report.failed) == (0, 1), report
    [(state, _target, reason)] = edit_rows(tmp_path)
    assert state == "missed" and "won't let the bot change that post" in reason
    assert fake.calls_to("chat.postMessage") == []
    [still] = [s for s in fake.channel_view(CHANNEL) if s.ts == before.ts]
    assert "got a no" in still.text
