"""Check-ins end to end on Slack: an admin's signed /checkin, the scheduler (fake clock) posting
through the adapter's Poster to the loopback fake, and a /who-next follow-up DM whose buttons
resolve the promise from the DM.

What every Poster does (a post shows once, a DM reaches its member, files arrive, a gone
channel is False) is in ``tests/test_poster_contract.py``; the recap at crowd size, chart
uploaded, is in ``test_stress.py``; the scheduler's own rules are in ``tests/scheduler``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from adapters.slack.app import SlackAdapter
from bot.app import App
from bot.ids import Platform
from bot.models import Schedule
from bot.scheduler import Scheduler
from bot.schedules import EVERY_DAY
from storage.sqlite import SqliteRepository
from tests.fakes.slack import Call, FakeSlack
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
    settings_for,
    slash,
)

ADMIN = "U0ADMIN"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def command(http, adapter, fake, ids, name: str, text: str = "", *, user: str = ANA,
                  user_name: str = "ana") -> dict[str, Any]:
    response = await post_signed(http, adapter, slash(fake, ids, name, text, user=user,
                                                      name=user_name))
    payload = await reply_json(response)
    await adapter.idle()
    return payload


async def log(http, adapter, fake, ids, clock, when: datetime, name: str, text: str,
              user: str = ANA, user_name: str = "ana") -> None:
    clock.set(when)
    posts = len(fake.calls_to("chat.postMessage"))
    payload = await command(http, adapter, fake, ids, name, text, user=user, user_name=user_name)
    if "private:true" in text:  # acked empty; the bot posts the celebration itself
        assert payload == {} and len(fake.calls_to("chat.postMessage")) == posts + 1
    else:
        assert payload["response_type"] == "in_channel", payload


async def set_checkin(http, adapter, fake, ids, repo) -> None:
    answer = await command(http, adapter, fake, ids, "checkin",
                           "set time:09:00 days:daily zone:Europe/Berlin", user=ADMIN,
                           user_name="admin")
    assert "Check-ins are on!" in section_texts(answer), answer
    stored = await repo.get_schedule(COMMUNITY)
    assert stored is not None and stored.enabled
    assert replace(stored, updated_at=None) == Schedule(
        COMMUNITY, CHANNEL, "Europe/Berlin", "09:00", EVERY_DAY, "monday",
        community_name="test")  # the workspace's domain: Slack sends no name


def scheduler(repo, app, adapter: SlackAdapter, clock) -> Scheduler:
    return Scheduler(repo, app, {Platform.SLACK: adapter.poster}, clock)


def channel_posts(fake: FakeSlack) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.args["channel"] == CHANNEL]


async def test_an_admins_checkin_is_posted_once_at_nine_berlin(http_adapter, fake, http, ids, repo,
                                                               app, clock, tmp_path):
    clock.set(utc(2026, 11, 25, 7))  # Wednesday 08:00 Berlin
    # Not an admin (users.info says so): refused, nothing stored.
    refused = await command(http, http_adapter, fake, ids, "checkin",
                            "set time:09:00 days:daily zone:Europe/Berlin")
    assert refused["response_type"] == "ephemeral"
    assert await repo.get_schedule(COMMUNITY) is None
    await set_checkin(http, http_adapter, fake, ids, repo)

    # Wednesday's asks, logged through Slack.
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 25, 9), "rejected",
              "asked for a raise fear:6")
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 25, 10), "accepted",
              "asked for a discount", user=BEN, user_name="ben")
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 25, 11), "rejected",
              "a very secret thing private:true")
    await command(http, http_adapter, fake, ids, "timezone", "Europe/Berlin", user=BEN,
                  user_name="ben")
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 25, 12), "who-next",
              "pitch the editor when:tomorrow", user=BEN, user_name="ben")
    # Thursday 00:30 Berlin: before Thursday's check-in, so in it.
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 25, 23, 30), "rejected",
              "an early bird ask")
    # Every answer so far went in the ack, but the private ask's, which the bot posted itself.
    assert len(fake.calls_to("chat.postMessage")) == 1
    fake.calls.clear()

    sched = scheduler(repo, app, http_adapter, clock)
    # 08:59 Berlin: not yet (Wednesday's 09:00, before any of this, was missed: skipped).
    early = await sched.run_due(utc(2026, 11, 26, 7, 59))
    assert (early.posted, early.skipped) == (0, 1)
    assert channel_posts(fake) == []
    # 09:00 Berlin (08:00 UTC): the check-in, in the channel /checkin ran in.
    report = await sched.run_due(utc(2026, 11, 26, 8))
    assert (report.posted, report.failed) == (1, 0)
    [post] = channel_posts(fake)
    assert post.headers["Authorization"] == "Bearer xoxb-1-test"
    text = section_texts({"blocks": post.blocks()})
    print(text)
    assert post.blocks()[0]["text"]["text"] == "Check-in · Thursday 26 Nov"
    # Everything since the last check-in: the schedule is new, so from Wednesday's midnight to
    # this check-in's time, the early bird's ask of this morning too.
    assert "*Since yesterday:* 4 asks: 3 no's, 1 yes." in text
    assert "Logged by @ana (3) and @ben (1)." in text
    assert "• @ana got a no: *asked for a raise*" in text
    assert "• @ben got a yes: *asked for a discount*" in text
    assert "Plus 1 private ask, counted with thanks." in text
    assert "*Promised for today:* @ben: *pitch the editor*" in text
    assert "secret" not in text and "secret" not in post.args["text"]
    assert "• @ana got a no: *an early bird ask*" in text
    assert "<!" not in post.args["text"]  # no @channel, @here or @everyone, ever

    # Exactly once: run again a minute later, then by a second scheduler (its own connection,
    # its own core) on the same database file.
    again = await sched.run_due(utc(2026, 11, 26, 8, 1))
    assert (again.posted, again.taken) == (0, 1)
    second_repo = await SqliteRepository.open(tmp_path / "test.db")
    try:
        second_app = App(second_repo, clock, default_timezone="UTC")
        second_adapter = SlackAdapter(second_app, settings_for(fake, "http"))
        other = await scheduler(second_repo, second_app, second_adapter, clock).run_due(
            utc(2026, 11, 26, 8, 2))
        assert (other.posted, other.taken) == (0, 1)
    finally:
        await second_repo.close()
    assert len(channel_posts(fake)) == 1
    assert fake.calls_to("files.completeUploadExternal") == []  # Thursday: no recap


async def test_a_due_promise_gets_one_dm_whose_button_resolves_it(http_adapter, fake, http, ids,
                                                                  repo, app, clock):
    clock.set(utc(2026, 11, 26, 10))  # Thursday
    await command(http, http_adapter, fake, ids, "timezone", "America/New_York")
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 26, 10), "who-next",
              "ask Lee for an intro when:today")
    off = await command(http, http_adapter, fake, ids, "reminders", "off", user=BEN,
                        user_name="ben")
    assert "Reminders off" in off["text"]
    await log(http, http_adapter, fake, ids, clock, utc(2026, 11, 26, 10), "who-next",
              "ask for a discount when:today", user=BEN, user_name="ben")
    sched = scheduler(repo, app, http_adapter, clock)

    # Ben's promise (UTC) is due at midnight UTC, but his reminders are off: no DM.
    quiet = await sched.run_due(utc(2026, 11, 27, 0, 0, 30))
    assert (quiet.followups, quiet.quiet_followups) == (0, 1)
    assert fake.calls_to("conversations.open") == []
    # Ana's is due at midnight New York (05:00 UTC).
    assert (await sched.run_due(utc(2026, 11, 27, 4, 59))).followups == 0
    report = await sched.run_due(utc(2026, 11, 27, 5, 0, 30))
    assert report.followups == 1
    [opened] = fake.calls_to("conversations.open")
    assert opened.args["users"] == ANA
    [dm] = fake.calls_to("chat.postMessage")
    assert dm.args["channel"] == "D0ANA"
    assert "How did your ask go?" in section_texts({"blocks": dm.blocks()})
    assert "ask Lee for an intro" in section_texts({"blocks": dm.blocks()})
    labels = [b["text"]["text"] for b in buttons({"blocks": dm.blocks()})]
    assert labels == ["Rejected", "Accepted", "Still waiting", "Didn't ask"]
    # Once: later runs send nothing more.
    assert (await sched.run_due(utc(2026, 11, 27, 5, 2))).followups == 0
    assert len(fake.calls_to("chat.postMessage")) == 1

    # Ana presses Rejected in the DM (Slack sends the DM's channel and the workspace).
    clock.set(utc(2026, 11, 27, 9))
    [rejected] = [b["action_id"] for b in buttons({"blocks": dm.blocks()})
                  if b["text"]["text"] == "Rejected"]
    message = as_posted({"text": dm.args["text"], "blocks": dm.blocks()})
    payload = block_actions(fake, ids, rejected, channel="D0ANA", message=message)
    payload["channel"]["name"] = "directmessage"
    response = await post_interaction(http, http_adapter, payload)
    assert response.status == 200
    await http_adapter.idle()
    [answer] = fake.responses_to(payload["trigger_id"])
    assert answer["replace_original"] is True  # the DM's buttons give way to the news
    assert "Logged as a no" in answer["text"] and "ask Lee for an intro" in answer["text"]
    # The group hears it where the promise was made, through the outbox: once.
    assert channel_posts(fake) == []
    assert (await sched.drain()).posted == 1
    [news] = channel_posts(fake)
    told = section_texts({"blocks": news.blocks()})
    assert "kept a promise and got a no" in told and "ask Lee for an intro" in told
    assert "@ana kept a promise" in told  # named, never pinged (see render.py)
    await sched.drain()
    assert len(channel_posts(fake)) == 1
    # A second press on the same DM changes nothing.
    again = block_actions(fake, ids, rejected, channel="D0ANA", message=message)
    assert (await post_interaction(http, http_adapter, again)).status == 200
    await http_adapter.idle()
    [second] = fake.responses_to(again["trigger_id"])
    assert second["response_type"] == "ephemeral" and "Already sorted" in second["text"]
    commitments, _ = await repo.open_items(COMMUNITY, member(ANA))
    assert commitments == []
    totals = await repo.totals(COMMUNITY, member(ANA))
    assert (totals.attempts, totals.rejected) == (1, 1)
    # Ben's promise is untouched (and never DMed).
    ben_open, _ = await repo.open_items(COMMUNITY, member(BEN))
    assert [c.ask for c in ben_open] == ["ask for a discount"]
    assert [c.args["users"] for c in fake.calls_to("conversations.open")] == [ANA]
