"""HTTP mode through a real socket: signed slash commands for every catalogue command, and
refusals that change nothing."""

from __future__ import annotations

import logging
import time

import pytest

from bot.commands import CATALOGUE
from tests.slack.helpers import (
    ANA,
    BEN,
    CHANNEL,
    COMMUNITY,
    member,
    post_signed,
    reply_json,
    section_texts,
    slash,
)

# A sample text per command that the core accepts (or, for commands without a handler yet,
# answers with its friendly error).
SAMPLES = {
    "rejected": 'asked for a raise who:"my boss" area:work fear:7 lesson:"ask earlier"',
    "accepted": "asked for a discount fear:3",
    "pending": "pitched the editor area:creative",
    "who-next": "ask Sam for an intro when:tomorrow",
    "asks": "",
    "leaderboard": "period:all by:attempts",
    "stats": "",
    "goal": "100",
    "timezone": "Europe/Berlin",
    "checkin": "show",
    "reminders": "off",
    "undo": "",
    "export": "",
    "forget-me": "",
    "help": "",
    "pause": 'until:friday reason:"a long weekend"',
    "dare": "area:work level:easy",
    "season": "history",
    "remind": "time:18:00 days:weekdays",
    "edit": 'outcome:yes who:"my boss" lesson:"ask earlier" fear:4',
}


def test_every_catalogue_command_has_a_sample():
    assert set(SAMPLES) == {spec.name for spec in CATALOGUE}


@pytest.mark.parametrize("spec", CATALOGUE, ids=lambda s: s.name)
async def test_every_command_answers_a_signed_request(spec, http_adapter, fake, http, ids, repo):
    if spec.name == "edit":  # something to change
        await reply_json(await post_signed(http, http_adapter,
                                           slash(fake, ids, "rejected", "asked for a raise")))
    response = await post_signed(http, http_adapter, slash(fake, ids, spec.name, SAMPLES[spec.name]))
    payload = await reply_json(response)
    assert payload["response_type"] in ("in_channel", "ephemeral")
    assert payload["text"].strip()
    assert payload["blocks"], payload
    if spec.available:
        assert "don't know the command" not in payload["text"], payload["text"]
    if spec.name in ("rejected", "accepted", "pending"):
        assert payload["response_type"] == "in_channel"
        totals = await repo.totals(COMMUNITY, member(ANA))
        assert totals.attempts == 1
        assert {"rejected": totals.rejected, "accepted": totals.accepted,
                "pending": totals.pending}[spec.name] == 1
    if spec.name == "edit":
        assert payload["response_type"] == "ephemeral" and "Updated" in payload["text"]
        totals = await repo.totals(COMMUNITY, member(ANA))
        assert (totals.attempts, totals.rejected, totals.accepted) == (1, 0, 1)


async def test_a_day_of_asking_through_http(http_adapter, fake, http, ids, repo):
    for text in ("asked for a raise fear:8", "asked a stranger for directions"):
        await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejected", text)))
    await reply_json(await post_signed(http, http_adapter,
                                       slash(fake, ids, "accepted", "asked for feedback", user=BEN,
                                             name="ben")))
    promise = await reply_json(await post_signed(http, http_adapter,
                                                 slash(fake, ids, "who-next", "ask Sam when:friday")))
    assert "ask Sam" in section_texts(promise)
    board = await reply_json(await post_signed(http, http_adapter,
                                               slash(fake, ids, "leaderboard", "period:all")))
    text = section_texts(board)
    assert board["response_type"] == "in_channel"
    assert "@ana · 2" in text and "@ben · 1" in text
    stats = await reply_json(await post_signed(http, http_adapter,
                                               slash(fake, ids, "stats", f"<@{BEN}|ben>")))
    assert "ben's asking so far" in section_texts(stats)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 2
    # Every answer travelled in the ack: no Web API call besides auth.test (ours at start-up,
    # bolt's on the first request) and, after the ack, the upload of ben's stats card.
    await http_adapter.idle()
    assert {c.method for c in fake.calls} == {
        "auth.test", "files.getUploadURLExternal", "files.completeUploadExternal"}
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == CHANNEL
    assert [png[:8] for png in fake.uploads.values()] == [b"\x89PNG\r\n\x1a\n"]


async def test_option_errors_are_private_and_write_nothing(http_adapter, fake, http, ids, repo):
    payload = await reply_json(await post_signed(http, http_adapter,
                                                 slash(fake, ids, "rejected", "asked fear:11")))
    assert payload["response_type"] == "ephemeral"
    assert "fear" in payload["text"] and "out of range" in payload["text"]
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


async def test_bad_signature_is_refused_and_changes_nothing(http_adapter, fake, http, ids, repo):
    form = slash(fake, ids, "rejected", "asked for a raise")
    response = await post_signed(http, http_adapter, form, secret="f" * 32)
    assert response.status == 401
    body = dict(form, text="tampered")
    response = await post_signed(http, http_adapter, body,
                                 headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert response.status == 401
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0
    assert fake.responses == []


async def test_old_timestamp_is_refused_and_changes_nothing(http_adapter, fake, http, ids, repo):
    six_minutes_ago = int(time.time()) - 6 * 60
    response = await post_signed(http, http_adapter, slash(fake, ids, "rejected", "asked for a raise"),
                                 timestamp=six_minutes_ago)
    assert response.status == 401
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


async def test_unsigned_request_is_refused(http_adapter, fake, http, ids, repo):
    url = f"http://127.0.0.1:{http_adapter.http_port}/slack/events"
    async with http.post(url, data=slash(fake, ids, "rejected", "asked")) as response:
        assert response.status == 401
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 0


async def test_a_retried_request_counts_once(http_adapter, fake, http, ids, repo, caplog):
    form = slash(fake, ids, "rejected", "asked for a raise")
    first = await reply_json(await post_signed(http, http_adapter, form))
    caplog.set_level(logging.INFO, logger="adapters.slack.app")
    retry = await reply_json(await post_signed(
        http, http_adapter, form,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}))
    assert (await repo.totals(COMMUNITY, member(ANA))).attempts == 1
    # The retry gets the same answer: Slack shows whichever arrives.
    assert "1 ask so far" in section_texts(first) and "1 ask so far" in section_texts(retry)
    assert any("retry 1 of /rejected" in r.getMessage() for r in caplog.records)


async def test_member_text_is_escaped_in_the_reply(http_adapter, fake, http, ids):
    payload = await reply_json(await post_signed(
        http, http_adapter,
        slash(fake, ids, "rejected", "told <!channel> &lt;b&gt; about <@U0123|bob> & co")))
    text = section_texts(payload)
    assert "told @channel &lt;b&gt; about @bob &amp; co" in text
    assert "<!channel>" not in payload["text"] and "<@U0123>" not in text
    assert "@ana" in text and "<@" not in text  # named, never pinged


async def test_mentions_channels_and_links_in_free_text_read_as_plain_text(http_adapter, fake, http,
                                                                           ids):
    # A public celebration must neither ping nor show raw ids like @ben.
    payload = await reply_json(await post_signed(http, http_adapter, slash(
        fake, ids, "rejected",
        "asked <@U0BEN|ben> and <!here> in <#C0ASKS|asks> about <https://x.io/p?a=1&amp;b=2|the pitch>")))
    assert payload["response_type"] == "in_channel"
    text = section_texts(payload)
    assert ("asked @ben and @here in #asks about the pitch (https://x.io/p?a=1&amp;b=2)" in text), text
    for raw in ("<@U0BEN", "<!", "<#C0ASKS", "<https", "U0BEN", "C0ASKS"):
        assert raw not in text and raw not in payload["text"], raw


async def test_unknown_command_gets_a_friendly_answer(http_adapter, fake, http, ids):
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejectd", "x")))
    assert payload["response_type"] == "ephemeral"
    assert "/rejected" in payload["text"]


async def test_a_public_card_goes_to_the_dm_when_the_bot_is_not_in_the_channel(http_adapter, fake,
                                                                               http, ids):
    await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejected", "asked")))
    fake.fail("files.completeUploadExternal", "not_in_channel")
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "stats")))
    assert payload["response_type"] == "in_channel"  # the answer itself is unaffected
    await http_adapter.idle()
    completes = fake.calls_to("files.completeUploadExternal")
    assert [c.args["channel_id"] for c in completes] == [CHANNEL, "D0ANA"]
    assert fake.calls_to("conversations.open")[0].args["users"] == ANA


async def test_public_answers_show_no_link_previews(http_adapter, fake, http, ids):
    payload = await reply_json(await post_signed(http, http_adapter, slash(
        fake, ids, "rejected", "asked about <https://example.com/pitch|the pitch>")))
    assert payload["response_type"] == "in_channel"
    assert payload["unfurl_links"] is False and payload["unfurl_media"] is False


@pytest.mark.parametrize("text", ["pitched the payload team", "asked about payload=yes"])
async def test_an_ask_may_mention_a_payload(text, http_adapter, fake, http, ids, repo):
    """bolt reads any form body containing the word "payload" as an interaction; a command's
    text is free to contain it."""
    payload = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "rejected", text)))
    assert text.split()[-1] in section_texts(payload).replace("&amp;", "&")
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1


async def test_a_clean_stop_with_nothing_in_flight_warns_of_nothing(http_adapter, caplog):
    """The bot's stop drains first, then stops with no time left: nothing is being sent, so
    there is nothing to cancel and nothing to warn about."""
    import logging

    with caplog.at_level(logging.WARNING):
        await http_adapter.drain(1)
        await http_adapter.stop(0)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
