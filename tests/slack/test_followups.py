"""Answers that can't travel in the ack: a core slower than the ack budget, and files."""

from __future__ import annotations

from adapters.slack.app import SlackAdapter
from bot.app import App
from bot.invocation import Invocation
from bot.reply import Attachment, Reply, Text, Visibility
from tests.slack.helpers import ANA, COMMUNITY, member, post_signed, section_texts, settings_for, slash


async def test_a_slow_answer_is_acked_empty_then_sent_to_the_response_url(app, fake, http, ids, repo,
                                                                          sleeps):
    # A zero budget: every command takes "too long" and goes the slow way.
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           ack_budget=0, sleep=sleeps)
    await adapter.start()
    try:
        form = slash(fake, ids, "rejected", "asked for a raise")
        response = await post_signed(http, adapter, form)
        assert response.status == 200 and await response.text() == ""
        await adapter.idle()
        [answer] = fake.responses_to(form["trigger_id"])
        assert answer["response_type"] == "in_channel"
        assert answer["unfurl_links"] is False and answer["unfurl_media"] is False
        assert "@ana got a no" in section_texts(answer)
        assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1
    finally:
        await adapter.stop()


class ExportingApp(App):
    """The real core, except that /help answers with a private file (like /export)."""

    async def dispatch(self, inv: Invocation) -> Reply:
        if inv.command == "help":
            return Reply((Text.of("Here's your file. Only you can see it."),), Visibility.PRIVATE,
                         attachments=(Attachment("asks.csv", b"when,ask\n", "text/csv"),))
        return await super().dispatch(inv)


async def test_a_private_file_goes_to_the_members_dm(repo, clock, fake, http, ids, sleeps):
    adapter = SlackAdapter(ExportingApp(repo, clock), settings_for(fake, "http"),
                           http_host="127.0.0.1", http_port=0, sleep=sleeps)
    await adapter.start()
    try:
        response = await post_signed(http, adapter, slash(fake, ids, "help"))
        payload = await response.json()
        assert payload["response_type"] == "ephemeral" and "Only you" in payload["text"]
        await adapter.idle()
        [opened] = fake.calls_to("conversations.open")
        assert opened.args["users"] == ANA
        [complete] = fake.calls_to("files.completeUploadExternal")
        assert complete.args["channel_id"] == "D0ANA"
        assert list(fake.uploads.values()) == [b"when,ask\n"]
    finally:
        await adapter.stop()


async def test_export_sends_the_csv_to_the_members_dm(http_adapter, fake, http, ids):
    await post_signed(http, http_adapter, slash(fake, ids, "rejected", "asked <Bo> for a raise"))
    response = await post_signed(http, http_adapter, slash(fake, ids, "export"))
    payload = await response.json()
    assert payload["response_type"] == "ephemeral"
    await http_adapter.idle()
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == "D0ANA"
    [data] = fake.uploads.values()
    assert b"asked <Bo> for a raise" in data  # a file is not mrkdwn: no escaping there
