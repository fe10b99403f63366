"""Scheduled posts under Discord's faults, end to end: the real Scheduler (fake clock) and its
outbox, the real ``DiscordPoster`` on a running adapter, the loopback fake Discord. Each test
reads what the channel (or the DM) really shows, how many message creates the fake received, and
what ``/checkin show`` tells an admin.

The fake's clock is the test's clock, so its nonce memory ages with the outbox's backoff; no
test sleeps for a backoff (the clock is moved to the row's ``next_try_at``). Faults are picked
to be fast: a 503 (discord.py doesn't repeat it inside one send, unlike a 500/502/504, which it
repeats after sleeping 1, 3, 5 … s), 429s with a tiny ``retry_after`` or a Cloudflare ban, and
delays of a few tenths of a second against a scheduler ``post_timeout`` of 0.1 s."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from adapters.discord.client import DiscordAdapter
from adapters.discord.poster import NONCE_WINDOW, DiscordPoster
from bot.app import App
from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import NewCommitment, OutboxItem, OutboxState, PostKind, Schedule
from bot.scheduler import Scheduler
from bot.schedules import EVERY_DAY
from tests.discord.helpers import ANA, run_command
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, Call, FakeDiscord
from tests.helpers import FakeClock, caller

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
CHANNEL = str(CHANNEL_ID)
POSTS = rf"/channels/{CHANNEL}/messages"
ANY_POST = r"/channels/\d+/messages"
OPEN_DM = "/users/@me/channels"
SET_AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
NINE = datetime(2026, 11, 26, 8, tzinfo=UTC)  # Thu 26 Nov 2026, 09:00 in Berlin
WENT_OUT = "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:0"
NOT_OUT = "The check-in of Thu 26 Nov didn't go out: "
ON_ITS_WAY = "The check-in of Thu 26 Nov is on its way: "
GRACE_CLOSED = "until the grace window closed."  # "I kept trying until the grace window …"
SERVER_ERROR = "Discord had a server error (503)"
NO_SECOND_COPY = ("it may already have gone out, and Discord only drops a repeat for a few "
                  "minutes, so the bot didn't risk a second copy")


@pytest.fixture(autouse=True)
def one_clock(fake: FakeDiscord, clock: FakeClock) -> None:
    """Discord's nonce memory runs on the test's clock, as the outbox and the poster do."""
    fake.clock = clock.now


# -- helpers ------------------------------------------------------------------------------------

async def checkins_on(repo, app: App, bot: DiscordAdapter, clock: FakeClock, *,
                      grace_minutes: int = 120, post_timeout: float = 30.0) -> Scheduler:
    """Daily check-ins at 09:00 Berlin in the fake's channel (no recap), the clock at 09:00,
    and a Scheduler posting through the adapter's own DiscordPoster."""
    await repo.save_schedule(Schedule(COMMUNITY, CHANNEL, "Europe/Berlin", "09:00", EVERY_DAY,
                                      None), SET_AT)
    clock.set(NINE)
    return Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock,
                     grace_minutes=grace_minutes, post_timeout=post_timeout)


async def show(app: App) -> str:
    """``/checkin show`` as a Discord admin, as the core answers it."""
    admin = caller("admin", admin=True, community=COMMUNITY)
    return (await app.run_text("checkin", "show", admin)).plain_text()


async def checkin_row(repo) -> OutboxItem:
    (item,) = [p for p in await repo.last_posts(COMMUNITY) if p.kind == PostKind.CHECKIN]
    return item


def stored(tmp_path, kind: PostKind) -> sqlite3.Row:
    """The outbox row itself, read from the database file (message id, follow-ups)."""
    with sqlite3.connect(f"file:{tmp_path / 'test.db'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        (row,) = db.execute("SELECT * FROM outbox WHERE community_id = ? AND kind = ?",
                            (COMMUNITY.key, str(kind))).fetchall()
        return row


def messages(fake: FakeDiscord, channel: str = CHANNEL) -> list[dict]:
    """The messages in the channel now (deleted ones gone), oldest first."""
    return [m for m in fake.messages.values() if m["channel_id"] == channel]


def creates(fake: FakeDiscord, path: str = POSTS) -> list[Call]:
    """Every message-create request the fake received there."""
    return fake.find("POST", path)


async def retry_when_due(sched: Scheduler, repo, clock: FakeClock, fake: FakeDiscord):
    """Move the clock to just before the row's next try (nothing may happen), then to it, and
    drain: the outbox retries no earlier than it said."""
    item = await checkin_row(repo)
    assert item.state == OutboxState.DUE and item.next_try_at is not None
    before = len(fake.calls)
    clock.set(item.next_try_at - timedelta(milliseconds=1))
    early = await sched.drain()
    assert (early.posted, early.retrying, early.failed) == (0, 0, 0)
    assert fake.calls[before:] == []
    clock.set(item.next_try_at)
    return await sched.drain()


# -- 1. a server error that outlasts one send -------------------------------------------------

async def test_a_server_error_outlasting_a_send_is_retried_later_and_shows_once(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    sched = await checkins_on(repo, app, bot, clock)
    for _ in range(2):  # a 503: discord.py doesn't repeat it, so each send meets one
        fake.fail_next("POST", POSTS, 503, message="Service Unavailable")

    report = await sched.run_due(NINE)
    assert (report.posted, report.retrying, report.failed) == (0, 1, 0)
    assert [c.status for c in creates(fake)] == [503] and messages(fake) == []
    item = await checkin_row(repo)
    assert item.tries == 1 and item.sent_since is None  # refused: nothing may have gone out
    assert timedelta(seconds=10) <= item.next_try_at - NINE <= timedelta(seconds=12)
    text = await show(app)
    assert ON_ITS_WAY + SERVER_ERROR in text and "I'll try again at 09:00" in text

    assert (await retry_when_due(sched, repo, clock, fake)).retrying == 1  # the second 503
    assert (await retry_when_due(sched, repo, clock, fake)).posted == 1
    assert [c.status for c in creates(fake)] == [503, 503, 200]
    (message,) = messages(fake)
    assert message["nonce"] == item.key  # every try carried the outbox key
    assert {c.json["nonce"] for c in creates(fake)} == {item.key}
    assert stored(tmp_path, PostKind.CHECKIN)["message_id"] == message["id"]
    assert fake.channel_view(CHANNEL)[0] == "Check-in · Thursday 26 Nov"
    assert WENT_OUT in await show(app)

    clock.advance(minutes=10)  # later runs find it sent
    assert (await sched.run_due()).taken == 1 and (await sched.drain()).posted == 0
    assert len(creates(fake)) == 3 and len(messages(fake)) == 1


# -- 2. 429s in a row --------------------------------------------------------------------------

async def test_rate_limits_in_a_row_are_retried_no_earlier_than_asked_and_show_once(
        bot, fake: FakeDiscord, repo, app, clock):
    sched = await checkins_on(repo, app, bot, clock)
    # First send: five 429s, which discord.py waits out (0.01 s each) and then gives up on;
    # Retry-After says 1 s. Second send: a Cloudflare ban for 30 s, raised at once.
    fake.rate_limit_next("POST", POSTS, retry_after=0.01, times=5)
    fake.rate_limit_next("POST", POSTS, retry_after=30, via=False)

    assert (await sched.run_due(NINE)).retrying == 1
    assert [c.status for c in creates(fake)] == [429] * 5 and messages(fake) == []
    item = await checkin_row(repo)
    assert item.next_try_at == NINE + timedelta(seconds=1)  # as asked, not the 10 s backoff

    assert (await retry_when_due(sched, repo, clock, fake)).retrying == 1
    assert [c.status for c in creates(fake)] == [429] * 6
    item = await checkin_row(repo)
    assert item.next_try_at == NINE + timedelta(seconds=31)
    text = await show(app)
    assert (ON_ITS_WAY + "Discord asked the bot to slow down (429) for 30 s") in text
    assert "I'll try again at 09:00" in text

    assert (await retry_when_due(sched, repo, clock, fake)).posted == 1
    assert [c.status for c in creates(fake)] == [429] * 6 + [200]
    assert len(messages(fake)) == 1
    assert WENT_OUT in await show(app)


async def test_a_long_rate_limit_is_retried_no_earlier_than_asked(bot, fake: FakeDiscord, repo,
                                                                   app, clock):
    poster = DiscordPoster(lambda: bot.client, clock=clock, timeout=0.1)  # 25 s in production
    await repo.save_schedule(Schedule(COMMUNITY, CHANNEL, "Europe/Berlin", "09:00", EVERY_DAY,
                                      None), SET_AT)
    clock.set(NINE)
    sched = Scheduler(repo, app, {Platform.DISCORD: poster}, clock)
    fake.rate_limit_next("POST", POSTS, retry_after=40)  # Discord's usual shape, with Via
    assert (await sched.run_due(NINE)).retrying == 1
    assert [c.status for c in creates(fake)] == [429] and messages(fake) == []
    item = await checkin_row(repo)
    assert item.sent_since is None, item.reason  # a 429 posts nothing
    assert item.next_try_at >= NINE + timedelta(seconds=40), item.next_try_at


# -- 3. slower than the scheduler's post_timeout ----------------------------------------------

async def test_an_answer_slower_than_post_timeout_is_uncertain_and_the_repeat_shows_once(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    sched = await checkins_on(repo, app, bot, clock, post_timeout=0.1)
    fake.delay_next("POST", POSTS, 0.5)  # made at once, answered after the outbox gave up

    report = await sched.run_due(NINE)
    assert (report.posted, report.retrying) == (0, 1)
    (made,) = messages(fake)  # Discord has it; the bot never heard
    item = await checkin_row(repo)
    assert item.sent_since == NINE  # the try may have reached Discord
    assert item.reason == "Discord didn't answer within 0.1 s"
    assert ON_ITS_WAY + "Discord didn't answer within 0.1 s" in await show(app)

    assert (await retry_when_due(sched, repo, clock, fake)).posted == 1
    first, again = creates(fake)
    assert first.json["nonce"] == again.json["nonce"] == item.key
    assert again.json["enforce_nonce"] is True and again.status == 200
    assert messages(fake) == [made]  # the repeat got the earlier message back
    assert stored(tmp_path, PostKind.CHECKIN)["message_id"] == made["id"]
    assert WENT_OUT in await show(app)


async def test_a_write_that_lands_after_its_repeat_still_shows_once(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    """The slow first request is handled by Discord only after the retry made the message:
    the nonce hands it the retry's message instead of making a second."""
    sched = await checkins_on(repo, app, bot, clock, post_timeout=0.1)
    fake.delay_next("POST", POSTS, 0.5, handle_first=False)

    assert (await sched.run_due(NINE)).retrying == 1
    assert messages(fake) == []  # not there yet
    assert (await retry_when_due(sched, repo, clock, fake)).posted == 1
    late, again = creates(fake)
    await fake.wait_until(lambda: late.handled, timeout=2)
    assert late.status == again.status == 200
    (message,) = messages(fake)
    assert stored(tmp_path, PostKind.CHECKIN)["message_id"] == message["id"]
    assert WENT_OUT in await show(app)


# -- 4. the connection drops after Discord made the message -----------------------------------

async def test_a_connection_dropped_after_the_write_is_retried_and_shows_once(
        bot, fake: FakeDiscord, repo, app, clock, tmp_path):
    sched = await checkins_on(repo, app, bot, clock)
    fake.drop_after("POST", POSTS)

    assert (await sched.run_due(NINE)).retrying == 1
    (made,) = messages(fake)
    item = await checkin_row(repo)
    assert item.sent_since == NINE
    assert "the connection to Discord broke before it answered" in item.reason
    assert "may have gone out" in await show(app)

    assert (await retry_when_due(sched, repo, clock, fake)).posted == 1
    assert [(c.status, c.dropped) for c in creates(fake)] == [(200, True), (200, False)]
    assert messages(fake) == [made]
    assert stored(tmp_path, PostKind.CHECKIN)["message_id"] == made["id"]
    assert WENT_OUT in await show(app)
    clock.advance(minutes=30)
    assert (await sched.run_due()).taken == 1 and len(creates(fake)) == 2


# -- 5. a retry that would come after the nonce window ----------------------------------------

def assert_unconfirmed(text: str) -> None:
    """What /checkin show says of a post given up on after an uncertain try: why, without
    claiming it didn't go out (it is in the channel) or that the grace window closed (it was
    two minutes in, of two hours)."""
    (line,) = [line for line in text.splitlines() if "check-in of Thu 26 Nov" in line]
    assert line.endswith(NO_SECOND_COPY + "."), line
    assert "didn't go out" not in line and GRACE_CLOSED not in line, line


async def test_a_retry_past_the_nonce_window_sends_nothing_and_is_missed_with_why(
        bot, fake: FakeDiscord, repo, app, clock):
    # Discord's window as short as the poster assumes: a repeat sent later would be a second
    # message here, so a poster that risked it fails this test.
    fake.nonce_window = NONCE_WINDOW
    sched = await checkins_on(repo, app, bot, clock)
    fake.drop_after("POST", POSTS)
    assert (await sched.run_due(NINE)).retrying == 1
    (made,) = messages(fake)

    clock.set(NINE + NONCE_WINDOW + timedelta(seconds=10))  # the bot was busy, or paused
    report = await sched.drain()
    assert (report.posted, report.retrying, report.failed) == (0, 0, 1)
    assert report.failures == [COMMUNITY.key]
    assert len(creates(fake)) == 1 and messages(fake) == [made]  # no request, no second copy
    item = await checkin_row(repo)
    assert item.state == OutboxState.MISSED and item.reason == NO_SECOND_COPY
    assert_unconfirmed(await show(app))

    clock.advance(minutes=30)
    assert (await sched.run_due()).taken == 1 and len(creates(fake)) == 1


async def test_uncertain_tries_that_walk_past_the_nonce_window_stop_there(
        bot, fake: FakeDiscord, repo, app, clock):
    """Every try times out (each repeat deduped by Discord, answered too late); the backoff
    (10, 20, 40, 80 s) carries the next try past 120 s after the first: not sent."""
    fake.nonce_window = NONCE_WINDOW
    sched = await checkins_on(repo, app, bot, clock, post_timeout=0.1)
    fake.drop_after("POST", POSTS)
    assert (await sched.run_due(NINE)).retrying == 1
    (made,) = messages(fake)
    while True:
        item = await checkin_row(repo)
        if item.state != OutboxState.DUE:
            break
        assert item.sent_since == NINE  # the first uncertain try's start, kept
        if item.next_try_at - NINE < NONCE_WINDOW:
            fake.delay_next("POST", POSTS, 0.3)
        clock.set(item.next_try_at)
        await sched.drain()
    assert item.state == OutboxState.MISSED and item.reason == NO_SECOND_COPY
    assert item.finished_at - NINE >= NONCE_WINDOW
    # Four tries reached Discord (all within 120 s of the first), the fifth was never made.
    sent = creates(fake)
    assert len(sent) == 4 == item.tries - 1
    assert {c.json["nonce"] for c in sent} == {item.key}
    assert messages(fake) == [made]
    assert_unconfirmed(await show(app))


# -- 6. faults that don't clear, refusals that can't be fixed ---------------------------------

async def test_a_fault_not_cleared_within_the_grace_window_is_missed_with_its_reason(
        bot, fake: FakeDiscord, repo, app, clock):
    sched = await checkins_on(repo, app, bot, clock, grace_minutes=5)
    for _ in range(10):
        fake.fail_next("POST", POSTS, 503, message="Service Unavailable")
    report = await sched.run_due(NINE)
    while report.retrying:
        report = await retry_when_due(sched, repo, clock, fake)
    assert (report.posted, report.failed, report.failures) == (0, 1, [COMMUNITY.key])
    # Tries at 0, ~10, ~30, ~70, ~150 s; the next (5 minutes on) would be past 09:05.
    assert [c.status for c in creates(fake)] == [503] * 5 and messages(fake) == []
    item = await checkin_row(repo)
    assert item.state == OutboxState.MISSED and item.tries == 5
    assert item.finished_at <= item.deadline == NINE + timedelta(minutes=5)
    text = await show(app)
    assert NOT_OUT + SERVER_ERROR in text and GRACE_CLOSED in text

    clock.set(NINE + timedelta(minutes=30))
    assert (await sched.run_due()).taken == 1 and len(creates(fake)) == 5


@pytest.mark.parametrize("fault", ["503 until the window closed", "429 longer than the window"])
async def test_a_missed_post_doesnt_promise_another_try(bot, fake: FakeDiscord, repo, app,
                                                        clock, fault: str):
    sched = await checkins_on(repo, app, bot, clock, grace_minutes=1)
    if fault.startswith("503"):
        for _ in range(5):
            fake.fail_next("POST", POSTS, 503, message="Service Unavailable")
    else:
        fake.rate_limit_next("POST", POSTS, retry_after=120, via=False)
    report = await sched.run_due(NINE)
    while report.retrying:
        report = await retry_when_due(sched, repo, clock, fake)
    assert report.failed == 1 and messages(fake) == []
    (line,) = [line for line in (await show(app)).splitlines() if NOT_OUT in line]
    assert "try again" not in line, line


@pytest.mark.parametrize("refusal", ["missing permission", "channel deleted"])
async def test_a_refusal_for_good_is_missed_at_once_after_one_try(
        bot, fake: FakeDiscord, repo, app, clock, refusal: str):
    if refusal == "missing permission":
        fake.allow_refusals(50013)
        fake.deny(CHANNEL)
        reason = ("the bot can't post in the check-in channel (missing permission: give it Send "
                  "Messages there)")
    else:
        fake.allow_refusals(10003)
        fake.delete_channel(CHANNEL)
        reason = (f"channel {CHANNEL} is gone (deleted, or the bot was removed from the "
                  "server): choose another with /checkin set")
    sched = await checkins_on(repo, app, bot, clock)

    report = await sched.run_due(NINE)
    assert (report.posted, report.retrying, report.failed) == (0, 0, 1)
    assert [c.status for c in creates(fake)] == [403 if "permission" in refusal else 404]
    item = await checkin_row(repo)
    assert (item.state, item.tries, item.reason) == (OutboxState.MISSED, 1, reason)
    text = await show(app)
    assert NOT_OUT + reason + "." in text and GRACE_CLOSED not in text

    clock.advance(minutes=30)
    assert (await sched.run_due()).taken == 1 and (await sched.drain()).failed == 0
    assert len(creates(fake)) == 1 and messages(fake) == []


async def test_a_refusal_after_a_passing_fault_doesnt_claim_the_grace_window_closed(
        bot, fake: FakeDiscord, repo, app, clock):
    fake.allow_refusals(50013)
    sched = await checkins_on(repo, app, bot, clock)  # a grace window of two hours
    fake.fail_next("POST", POSTS, 503, message="Service Unavailable")
    assert (await sched.run_due(NINE)).retrying == 1
    fake.deny(CHANNEL)  # meanwhile, someone took the bot's Send Messages away
    assert (await retry_when_due(sched, repo, clock, fake)).failed == 1
    item = await checkin_row(repo)
    assert item.state == OutboxState.MISSED and item.finished_at < item.deadline
    text = await show(app)
    assert NOT_OUT + "the bot can't post in" in text
    assert GRACE_CLOSED not in text  # it closed at 11:00; the bot gave up at 09:00


async def test_show_on_discord_says_which_channel_in_plain_words(bot, fake: FakeDiscord,
                                                                       repo, app, clock):
    fake.allow_refusals(50013)
    fake.deny(CHANNEL)
    sched = await checkins_on(repo, app, bot, clock)
    assert (await sched.run_due(NINE)).failed == 1
    # An interaction keeps Discord's clock, which the adapter reads as wall time.
    fake.clock = lambda: datetime.now(UTC)
    _, call = await run_command(fake, "checkin", {"action": "show"}, user_id=ANA, admin=True)
    content = call.json["data"]["content"]
    assert "the bot can't post in the check\\-in channel \\(missing permission" in content
    assert "<" not in content and "#1300" not in content, content  # plain words, no raw markup


# -- 7. follow-up DMs --------------------------------------------------------------------------

ANA_REF = MemberRef(Platform.DISCORD, str(ANA))
DUE = datetime(2026, 11, 26, 10, tzinfo=UTC)


async def promise_due(repo, clock: FakeClock) -> None:
    made, _ = await repo.add_commitment(NewCommitment(COMMUNITY, ANA_REF, "ana",
                                                      "ask Lee for an intro", DUE,
                                                      DUE - timedelta(days=1)))
    assert made is not None
    clock.set(DUE)


async def test_a_follow_up_dm_failing_once_is_dmed_exactly_once(bot, fake: FakeDiscord, repo,
                                                                 app, clock, tmp_path):
    await promise_due(repo, clock)
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    fake.fail_next("POST", ANY_POST, 503, message="Service Unavailable")  # the DM itself

    report = await sched.run_due(DUE)
    assert (report.followups, report.retrying) == (0, 1)
    dm_channel = fake.dm_channels[str(ANA)]
    assert [c.status for c in creates(fake, ANY_POST)] == [503]
    assert stored(tmp_path, PostKind.FOLLOWUP)["state"] == OutboxState.DUE

    clock.advance(seconds=15)  # past the first backoff (10–12 s)
    assert (await sched.drain()).followups == 1
    clock.advance(minutes=10)
    assert (await sched.run_due()).followups == 0 and (await sched.drain()).followups == 0
    assert [c.status for c in creates(fake, ANY_POST)] == [503, 200]
    assert len(fake.find("POST", OPEN_DM)) == 1  # discord.py keeps the DM channel it opened
    (dm,) = messages(fake, dm_channel)
    assert dm["embeds"][0]["title"] == "How did your ask go?"
    assert "ask Lee for an intro" in dm["embeds"][0]["description"]
    assert messages(fake) == []  # nothing in the server's channel
    row = stored(tmp_path, PostKind.FOLLOWUP)
    assert (row["state"], row["tries"], row["message_id"]) == (OutboxState.SENT, 2, dm["id"])


async def test_a_follow_up_to_closed_dms_is_missed_with_why(bot, fake: FakeDiscord, repo, app,
                                                            clock, tmp_path):
    fake.allow_refusals(50007)
    fake.close_dms(ANA)
    await promise_due(repo, clock)
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)

    report = await sched.run_due(DUE)
    assert (report.followups, report.retrying, report.failed) == (0, 0, 1)
    assert report.failures == [COMMUNITY.key]
    clock.advance(minutes=30)
    assert (await sched.run_due()).failed == 0
    assert [c.status for c in creates(fake, ANY_POST)] == [403]  # one try, not repeated
    assert messages(fake, fake.dm_channels[str(ANA)]) == []
    row = stored(tmp_path, PostKind.FOLLOWUP)
    assert (row["state"], row["tries"]) == (OutboxState.MISSED, 1)
    assert row["reason"] == ("that member doesn't take DMs from the bot: they can allow direct "
                             "messages from server members in the server's privacy settings")
