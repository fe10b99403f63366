"""/remind through the Slack adapter against the strict fake: set it with a slash command, the
scheduler DMs the nudge through the adapter's Poster, its button opens the /rejected form with
the press's trigger_id, and submitting the form logs the ask."""

from __future__ import annotations

from bot.ids import Platform
from bot.scheduler import Scheduler
from tests.scheduler.helpers import utc
from tests.slack.helpers import (
    ANA,
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
    text_value,
    view_submission,
)


async def test_a_nudge_on_slack_opens_the_log_form(http_adapter, fake, http, ids, repo, app,
                                                   clock):
    set_it = await reply_json(await post_signed(http, http_adapter,
                                                slash(fake, ids, "remind", "time:12:30")))
    assert set_it["response_type"] == "ephemeral" and "Nudge set!" in section_texts(set_it)
    bad = await reply_json(await post_signed(http, http_adapter,
                                             slash(fake, ids, "remind", "time:noon")))
    assert bad["response_type"] == "ephemeral" and "24-hour time" in bad["text"]

    sched = Scheduler(repo, app, {Platform.SLACK: http_adapter.poster}, clock)
    assert (await sched.run_due(utc(2026, 11, 26, 12, 29))).nudges == 0
    assert (await sched.run_due(utc(2026, 11, 26, 12, 30, 20))).nudges == 1
    assert (await sched.run_due(utc(2026, 11, 26, 12, 35))).nudges == 0
    (dm,) = fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == "D0ANA"
    payload = {"blocks": dm.blocks(), "text": dm.args["text"]}
    assert "Any ask in you today?" in section_texts(payload)
    assert [(b["text"]["text"], b["action_id"]) for b in buttons(payload)] == [
        ("Got a no", "wn:log:rejected"), ("Got a yes", "wn:log:accepted"),
        ("Still waiting", "wn:log:pending")]  # each opens the form of its outcome
    button = buttons(payload)[0]

    press = block_actions(fake, ids, button["action_id"], channel="D0ANA",
                          message=as_posted(payload))
    response = await post_interaction(http, http_adapter, press)
    assert response.status == 200
    await http_adapter.idle()
    (opened,) = fake.calls_to("views.open")
    assert opened.args["trigger_id"] == press["trigger_id"]
    view = opened.args["view"]
    assert view["blocks"][0]["block_id"] == "ask"
    assert fake.responses_to(press["trigger_id"]) == []  # the form is the answer

    values = {"ask": text_value("asked for a window seat")}
    answer = await reply_json(await post_interaction(http, http_adapter,
                                                     view_submission(view, values)))
    assert answer == {}
    await http_adapter.idle()
    [posted] = fake.responses_to(press["trigger_id"])  # answered in the DM it came from
    assert "asked for a window seat" in section_texts(posted)
    assert (await repo.totals(COMMUNITY, member(ANA))).rejected == 1
    # Logged today: the next run finds nothing more to nudge about.
    assert (await sched.run_due(utc(2026, 11, 26, 13))).nudges == 0
