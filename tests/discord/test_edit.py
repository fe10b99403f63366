"""/edit end to end through the real discord.py client against the strict loopback fake: a
public /rejected celebrated in the channel, /edit's private list, its Edit button answered with
the modal filled in with the entry (a MODAL callback, checked by the fake), the submission
changing it, and the outbox taking the change to the channel's celebration itself (one read of
the channel's history, one edit): the same message, new words, "(edited)", its Cheer button
kept, nothing new posted. Also: an edit making the entry private hides its text from the
channel, typed /edit options, bad input refused without changing anything, a field emptied in
the form cleared, and a celebration the bot can't find any more (past the lookback, or
deleted) ending MISSED without a new post."""

from __future__ import annotations

import json

import aiohttp

from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import Outcome
from bot.ports import EDIT_LOOKBACK
from bot.scheduler import Scheduler
from tests.discord.helpers import (
    ANA,
    BEN,
    buttons,
    inputs,
    posted,
    press,
    run_command,
    shown,
    submit_form,
)
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord, message_texts
from tests.helpers import edit_rows_in_file as edit_rows

EPHEMERAL = 64
MODAL, MESSAGE = 9, 4
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
CHANNEL = str(CHANNEL_ID)
ASK = "asked for a raise"


# -- driving Discord ---------------------------------------------------------------------------


def says(message: dict) -> str:
    """What a message shows, as a member reads it (escapes shown as their characters)."""
    return shown(" ".join(message_texts(message)))


def everything(message: dict) -> str:
    """All a message holds: content, embeds (and their every part), components."""
    return shown(json.dumps({k: message.get(k) for k in ("content", "embeds", "components")},
                            ensure_ascii=False))


def public_messages(fake: FakeDiscord) -> list[dict]:
    """The channel's messages everyone reads (ephemeral answers aside)."""
    return [m for m in fake.messages.values()
            if m["channel_id"] == CHANNEL and not m["flags"] & EPHEMERAL]


def private(call) -> bool:
    return bool((call.json.get("data") or {}).get("flags", 0) & EPHEMERAL)


def cheer_ids(message: dict) -> list[str]:
    return [b["custom_id"] for b in buttons(message) if b["custom_id"].startswith("wn:cheer:")]


async def logged(fake: FakeDiscord, ask: str = ASK, **options) -> dict:
    """/rejected in the channel: its celebration (the interaction's response message)."""
    payload, call = await run_command(fake, "rejected", {"ask": ask, **options})
    assert call.json["type"] == MESSAGE and not private(call)
    message = posted(fake, payload)
    assert ask in says(message) and cheer_ids(message)
    return message


async def open_edit_form(fake: FakeDiscord, user_id: int = ANA) -> tuple[dict, dict]:
    """/edit with nothing else: the private list; its first Edit button pressed. Returns the
    list and the modal the press was answered with."""
    payload, call = await run_command(fake, "edit", user_id=user_id)
    assert private(call), call.json
    listed = posted(fake, payload)
    edit_ids = [b["custom_id"] for b in buttons(listed) if b["label"] == "Edit"]
    assert edit_ids, listed
    _, call = await press(fake, listed, edit_ids[0], user_id=user_id)
    assert call.json["type"] == MODAL, call.json  # accepted by the fake, values and all
    return listed, call.json["data"]




async def drain(repo, app, bot, clock):
    return await Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock).drain()


def edits_of(fake: FakeDiscord, after: int = 0) -> list[str]:
    """The ids of the channel messages the bot edited (``PATCH /channels/…/messages/{id}``)."""
    return [c.path.rsplit("/", 1)[1] for c in fake.find(
        "PATCH", rf"/channels/{CHANNEL}/messages/\d+", after)]


def channel_posts(fake: FakeDiscord) -> list:
    return fake.find("POST", rf"/channels/{CHANNEL}/messages")


# -- the tests ---------------------------------------------------------------------------------


async def test_the_form_edits_the_celebration_in_place(bot, fake: FakeDiscord, repo, app,
                                                       clock, tmp_path):
    before = await logged(fake, who="my boss", area="work", fear=7)
    cheers = cheer_ids(before)
    await press(fake, before, cheers[0], user_id=BEN, user_name="ben")  # Ben cheers it
    assert [b["label"] for b in buttons(fake.messages[before["id"]])] == ["Cheer · 1"]
    count = len(public_messages(fake))

    listed, modal = await open_edit_form(fake)
    assert ASK in says(listed)
    fields = inputs(modal)
    assert {name: item.get("value") for name, item in fields.items()} == {
        "ask": ASK, "outcome": "no", "who": "my boss", "lesson": None, "private": "no"}
    assert "entry" not in fields and "clear" not in fields  # fixed, and the adapter's own

    call = await submit_form(fake, modal, {"ask": "asked for a 10% raise", "outcome": "yes"})
    assert call.json["type"] == MESSAGE and private(call)  # Ana's alone
    told = says(call.json["data"])
    assert "Updated" in told and "outcome: no → yes" in told
    assert "asked for a 10% raise" not in "\n".join(fake.channel_view(CHANNEL))  # the outbox's

    attempts, _, _ = await repo.export_rows(COMMUNITY, ANA_REF)
    [entry] = attempts
    assert (entry.ask, entry.outcome, entry.who, entry.area, entry.fear) == (
        "asked for a 10% raise", Outcome.ACCEPTED, "my boss", "work", 7)
    totals = await repo.totals(COMMUNITY, ANA_REF)
    assert (totals.attempts, totals.rejected, totals.accepted) == (1, 0, 1)

    calls = len(fake.calls)
    report = await drain(repo, app, bot, clock)
    assert (report.posted, report.failed) == (1, 0), report
    assert [c.query for c in fake.find("GET", rf"/channels/{CHANNEL}/messages", calls)] == [
        {"limit": str(EDIT_LOOKBACK)}]
    assert edits_of(fake, calls) == [before["id"]]
    after = fake.messages[before["id"]]  # the same message, changed
    assert "asked for a 10% raise" in says(after) and "got a yes" in says(after)
    assert "(edited)" in says(after) and after["edited_timestamp"] is not None
    assert "asked for a raise" not in says(after)
    assert cheer_ids(after) == cheers  # its Cheer button still works, its count kept
    assert [b["label"] for b in buttons(after)] == ["Cheer · 1"]
    assert len(public_messages(fake)) == count and channel_posts(fake) == []  # none new
    [edit] = fake.find("PATCH", rf"/channels/{CHANNEL}/messages/{before['id']}")
    assert edit.json["allowed_mentions"] == {"parse": []}  # names show, nobody is pinged
    assert edit_rows(tmp_path) == [("sent", CHANNEL, None)]
    assert (await drain(repo, app, bot, clock)).posted == 0  # once


async def test_an_edit_making_it_private_hides_the_text(bot, fake: FakeDiscord, repo, app,
                                                        clock):
    before = await logged(fake)
    count = len(public_messages(fake))
    _, modal = await open_edit_form(fake)
    call = await submit_form(fake, modal, {"ask": "asked Sam for a secret raise", "private": "yes"})
    assert call.json["type"] == MESSAGE and private(call)
    told = says(call.json["data"])
    assert "now private" in told and "to hide the text" in told
    # The submission's answer is Ana's alone; nobody else reads either wording anywhere.
    for seen in (fake.channel_view(CHANNEL), fake.seen_by(BEN, CHANNEL)):
        assert "secret raise" not in "\n".join(seen)
    assert "secret raise" in "\n".join(fake.seen_by(ANA, CHANNEL))

    assert (await drain(repo, app, bot, clock)).posted == 1
    after = fake.messages[before["id"]]
    held = everything(after)
    assert "secret raise" not in held and ASK not in held  # content, embeds, components
    assert "private ask" in says(after) and "(edited)" in says(after)
    assert cheer_ids(after) == cheer_ids(before)
    assert len(public_messages(fake)) == count
    [edit] = fake.find("PATCH", rf"/channels/{CHANNEL}/messages/{before['id']}")
    assert "raise" not in json.dumps(edit.json)


async def test_typed_options_edit_the_latest_and_bad_input_changes_nothing(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    first = await logged(fake, "asked for a discount")
    before = await logged(fake, who="my boss")

    for options, expected in (({"entry": "abc"}, "Say which entry by its place"),
                              ({"clear": "ask"}, "keeps its ask and its outcome"),
                              ({"clear": "mood"}, "I can't clear"),
                              ({"who": "boss", "clear": "who"}, "gave who a value and cleared"),
                              ({"entry": "#999999", "outcome": "yes"}, "isn't here any more"),
                              ({"outcome": "no"}, "nothing changed")):
        _, call = await run_command(fake, "edit", options)
        assert private(call), options
        text = says(call.json["data"])
        assert expected in text, (options, text)
    attempts, _, _ = await repo.export_rows(COMMUNITY, ANA_REF)
    assert sorted((a.ask, a.outcome, a.who) for a in attempts) == [
        ("asked for a discount", Outcome.REJECTED, None),
        (ASK, Outcome.REJECTED, "my boss")]
    assert edit_rows(tmp_path) == []

    _, call = await run_command(fake, "edit", {"outcome": "yes"})
    assert private(call)
    text = says(call.json["data"])
    assert "Updated" in text and ASK in text and "outcome: no → yes" in text
    attempts, _, _ = await repo.export_rows(COMMUNITY, ANA_REF)
    assert sorted((a.ask, a.outcome) for a in attempts) == [
        ("asked for a discount", Outcome.REJECTED), (ASK, Outcome.ACCEPTED)]
    # The one before, by its place: only a lesson added, which no post shows.
    _, call = await run_command(fake, "edit", {"entry": "2", "lesson": "ask later"})
    assert "lesson: - → ask later" in says(call.json["data"])
    assert edit_rows(tmp_path) == [("due", CHANNEL, None)]  # the outcome's change alone

    assert (await drain(repo, app, bot, clock)).posted == 1
    assert "got a yes" in says(fake.messages[before["id"]])
    assert "(edited)" not in says(fake.messages[first["id"]])


async def test_a_field_emptied_in_the_form_is_cleared(bot, fake: FakeDiscord, repo, app, clock):
    await logged(fake, who="my boss", lesson="ask earlier", fear=6)
    _, modal = await open_edit_form(fake)
    assert inputs(modal)["who"]["value"] == "my boss"
    call = await submit_form(fake, modal, {"who": ""})
    assert private(call)
    assert "who: my boss → cleared" in says(call.json["data"])
    attempts, _, _ = await repo.export_rows(COMMUNITY, ANA_REF)
    [entry] = attempts
    assert (entry.ask, entry.who, entry.lesson, entry.fear) == (ASK, None, "ask earlier", 6)
    # Nothing a post shows changed: nothing to take to the channel.
    assert (await drain(repo, app, bot, clock)).posted == 0
    assert edits_of(fake) == []


async def test_a_celebration_out_of_reach_ends_missed_without_a_new_post(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    before = await logged(fake)
    for n in range(EDIT_LOOKBACK):  # the channel talks on: the celebration scrolls past
        fake.member_message(CHANNEL, BEN, "ben", content=f"chat {n}")
    count = len(public_messages(fake))
    _, call = await run_command(fake, "edit", {"outcome": "yes"})
    assert "updating its post in the channel to match" in says(call.json["data"])
    report = await drain(repo, app, bot, clock)
    assert (report.posted, report.failed) == (0, 1), report
    [(state, target, reason)] = edit_rows(tmp_path)
    assert (state, target) == ("missed", CHANNEL) and f"latest {EDIT_LOOKBACK}" in reason
    assert edits_of(fake) == [] and channel_posts(fake) == []
    assert len(public_messages(fake)) == count
    assert "got a no" in says(fake.messages[before["id"]])
    assert (await repo.totals(COMMUNITY, ANA_REF)).accepted == 1  # the entry changed


async def test_a_deleted_celebration_ends_missed_without_a_new_post(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    before = await logged(fake)
    # A moderator deletes it.
    async with aiohttp.ClientSession() as session, session.delete(
            f"{fake.api_url}/channels/{CHANNEL}/messages/{before['id']}",
            headers={"Authorization": f"Bot {fake.token}"}) as response:
        assert response.status == 204
    await run_command(fake, "edit", {"outcome": "pending"})
    report = await drain(repo, app, bot, clock)
    assert (report.posted, report.failed) == (0, 1), report
    [(state, _target, reason)] = edit_rows(tmp_path)
    assert state == "missed" and "none of its posts" in reason
    assert edits_of(fake) == [] and channel_posts(fake) == []
    assert public_messages(fake) == []
