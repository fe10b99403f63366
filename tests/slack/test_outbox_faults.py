"""The outbox's fault table on Slack, end to end: the real ``Scheduler`` (fake clock: backoffs
are waited out by moving the clock, never by sleeping), the real ``SlackPoster`` and slack-sdk
client, and the strict loopback fake Slack breaking the way Slack breaks. Each case asserts
what the channel really shows (one check-in, or none) and what ``/checkin show`` tells the
admin.

=====  ==========================================================  ==============================
row    fault                                                       what must happen
=====  ==========================================================  ==============================
1      chat.postMessage answers HTTP 500 once                      retried after the backoff, once
2      429 five times in a row, with Retry-After                   no retry before Retry-After
3      Slack answers after post_timeout (the post was made)        the retry finds it in history
4      the connection drops after Slack took the post              found in history, once
5      a fault that never clears within the grace window           missed, with its reason
5b     a refusal retrying can't fix                                missed at once, one try
6      uncertain, and the bot can't read the channel's history     never posted twice; missed
7      a follow-up DM meets a 500 once                             DM'd once
=====  ==========================================================  ==============================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.poster import EVENT_TYPE, SlackPoster
from bot.ids import Platform
from bot.models import OutboxItem, OutboxState, PostKind, Schedule
from bot.outbox import RunReport
from bot.scheduler import Scheduler
from bot.schedules import EVERY_DAY
from tests.fakes.slack import FakeSlack, Seen
from tests.helpers import FakeClock, caller
from tests.slack.helpers import ANA, CHANNEL, COMMUNITY

ADMIN = "U0ADMIN"
SHY = "C0SHY"  # public; the bot posts there through chat:write.public without being a member
SECRET = "C0SECRET"  # private; the bot isn't in it
DM = "D0ANA"  # the fake's DM with ANA
SET_AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
NINE = datetime(2026, 11, 26, 8, tzinfo=UTC)  # Thu 26 Nov 2026, 09:00 in Berlin
HEADING = "Check-in · Thursday 26 Nov"
GRACE = timedelta(minutes=30)
PAGE_500 = "<html><body><h1>500 Internal Server Error</h1></body></html>"  # what a proxy sends
GRACE_CLOSED = "I kept trying until the grace window closed."


# ---------------------------------------------------------------------- building it


@pytest.fixture
def slack(fake: FakeSlack, clock: FakeClock) -> FakeSlack:
    """The fake, stamping messages on the test's clock (so ``oldest`` in conversations.history
    means the same to the poster and the fake)."""
    fake.clock = lambda: clock.now().timestamp()
    return fake


def slack_poster(fake: FakeSlack) -> SlackPoster:
    """The poster as the adapter builds it: from the app's client (a 5 s HTTP timeout; the
    scheduler's ``post_timeout`` is what cuts a slow try short)."""
    return SlackPoster(AsyncWebClient(token="xoxb-1-test", base_url=fake.api_url, timeout=5))


async def checkins_to(repo, app, fake: FakeSlack, *, channel: str = CHANNEL,
                      grace: timedelta = timedelta(minutes=120),
                      post_timeout: float = 5.0) -> Scheduler:
    """Daily 09:00 Berlin check-ins (no recap) to ``channel``, and a scheduler posting them."""
    await repo.save_schedule(Schedule(COMMUNITY, channel, "Europe/Berlin", "09:00", EVERY_DAY,
                                      None), SET_AT)
    return Scheduler(repo, app, {Platform.SLACK: slack_poster(fake)}, grace_minutes=int(
        grace.total_seconds() // 60), post_timeout=post_timeout)


async def show(app) -> str:
    """``/checkin show`` as the workspace's admin sees it."""
    reply = await app.run_text("checkin", "show", caller(ADMIN, admin=True, community=COMMUNITY))
    return reply.plain_text()


async def the_checkin(repo) -> OutboxItem:
    [post] = [p for p in await repo.last_posts(COMMUNITY) if p.kind == PostKind.CHECKIN]
    return post


def messages(fake: FakeSlack, channel: str) -> list[Seen]:
    """What every member of ``channel`` reads there (no ephemeral answers: none go out here)."""
    return fake.channel_view(channel)


def tagged(key: str) -> dict[str, object]:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


async def shows_one_checkin(fake: FakeSlack, repo, channel: str = CHANNEL) -> Seen:
    """The channel shows exactly one message: this check-in, tagged with its outbox key."""
    post = await the_checkin(repo)
    seen = messages(fake, channel)
    assert len(seen) == 1, [s.text for s in seen]
    [only] = seen
    assert only.author == fake.bot_user_id and only.kind == "message"
    assert only.text.startswith(HEADING), only.text
    assert only.metadata == tagged(post.key)
    return only


def posts_tried(fake: FakeSlack) -> int:
    return len(fake.calls_to("chat.postMessage"))


async def nothing_before(sched: Scheduler, clock: FakeClock, fake: FakeSlack,
                         at: datetime) -> None:
    """A drain just before ``at`` makes no call to Slack at all (the wait holds)."""
    calls = len(fake.calls)
    clock.set(at - timedelta(seconds=1))
    assert await sched.drain() == RunReport()
    assert len(fake.calls) == calls, [c.method for c in fake.calls[calls:]]


async def settles(sched: Scheduler, clock: FakeClock, fake: FakeSlack) -> None:
    """Later runs (the retries' schedule, the next minutes) send nothing more today."""
    calls = posts_tried(fake)
    for _ in range(3):
        clock.advance(minutes=5)
        report = await sched.run_due()
        assert (report.posted, report.retrying, report.failed) == (0, 0, 0), report
    assert posts_tried(fake) == calls


# ---------------------------------------------------------------------- 1. HTTP 500 once

FIVE_HUNDREDS = [
    # (how Slack's 500 looks, what the admin reads meanwhile, history reads before the repost)
    pytest.param({"error": "internal_error", "raw": PAGE_500},
                 "Slack had a passing problem (HTTP 500)", 0, id="proxy-page"),
    # Slack's own JSON internal_error "may have succeeded": the retry looks first, then posts.
    pytest.param({"error": "internal_error"},
                 "Slack had a problem partway through, so the post may have arrived "
                 "(internal_error)", 1, id="json-internal_error"),
]


@pytest.mark.parametrize(("failure", "reason", "history_reads"), FIVE_HUNDREDS)
async def test_a_500_once_is_retried_after_the_backoff_and_posted_once(
        slack, repo, app, clock, failure, reason, history_reads):
    sched = await checkins_to(repo, app, slack)
    slack.fail("chat.postMessage", status=500, **failure)
    clock.set(NINE)
    first = await sched.run_due(NINE)
    assert (first.posted, first.retrying, first.failed) == (0, 1, 0)
    assert messages(slack, CHANNEL) == []
    post = await the_checkin(repo)
    assert (post.state, post.tries, post.reason) == (OutboxState.DUE, 1, reason)
    assert (f"The check-in of Thu 26 Nov is on its way: {reason}. I'll try again at 09:00."
            in await show(app))

    # The backoff is 10 s (up to a fifth more): nothing at 9 s, the retry by 12 s.
    await nothing_before(sched, clock, slack, NINE + timedelta(seconds=10))
    clock.set(NINE + timedelta(seconds=12))
    assert (await sched.drain()).posted == 1
    assert posts_tried(slack) == 2
    assert len(slack.calls_to("conversations.history")) == history_reads
    await shows_one_checkin(slack, repo)
    await settles(sched, clock, slack)
    await shows_one_checkin(slack, repo)
    assert (await the_checkin(repo)).state == OutboxState.SENT
    assert "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:00." in await show(app)


# ---------------------------------------------------------------------- 2. 429 five times


async def test_five_429s_are_each_waited_out_then_it_posts_once(slack, repo, app, clock):
    sched = await checkins_to(repo, app, slack)
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=42, times=5)
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1
    assert ("is on its way: Slack asked the bot to slow down for 42 s (ratelimited). I'll try "
            "again at 09:00." in await show(app))
    tried_at = NINE
    for n in range(2, 7):  # tries 2 … 6: the 2nd to 5th meet a 429 too, the 6th posts
        await nothing_before(sched, clock, slack, tried_at + timedelta(seconds=42))
        clock.set(tried_at + timedelta(seconds=42))  # exactly when Retry-After allows
        report = await sched.drain()
        assert posts_tried(slack) == n, f"try {n} wasn't made once Retry-After had passed"
        tried_at = clock.now()
        if n < 6:
            assert (report.posted, report.retrying) == (0, 1)
            assert messages(slack, CHANNEL) == []
            assert (await the_checkin(repo)).next_try_at == tried_at + timedelta(seconds=42)
        else:
            assert report.posted == 1
    await shows_one_checkin(slack, repo)
    await settles(sched, clock, slack)
    assert posts_tried(slack) == 6 and slack.calls_to("conversations.history") == []
    await shows_one_checkin(slack, repo)
    assert "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:03." in await show(app)


# ---------------------------------------------------------------------- 3. slower than post_timeout


async def test_an_answer_slower_than_the_timeout_is_found_in_the_history(slack, repo, app,
                                                                          clock):
    sched = await checkins_to(repo, app, slack, post_timeout=0.2)
    # Slack makes the post at once and answers 0.3 s later: after the scheduler gave up.
    slack.delay("chat.postMessage", 0.3, after=True)
    clock.set(NINE)
    first = await sched.run_due(NINE)
    assert (first.posted, first.retrying) == (0, 1)
    landed = await shows_one_checkin(slack, repo)  # it did land
    post = await the_checkin(repo)
    assert post.sent_since == NINE  # uncertain: the retry must look before posting
    assert post.reason == "Slack didn't answer within 0.2 s"
    assert "is on its way: Slack didn't answer within 0.2 s. I'll try again at 09:00." in \
        await show(app)

    # Slack is still slow: a second chat.postMessage would land (and show) again.
    await nothing_before(sched, clock, slack, NINE + timedelta(seconds=10))
    clock.set(NINE + timedelta(seconds=12))
    assert (await sched.drain()).posted == 1
    assert posts_tried(slack) == 1  # no second chat.postMessage
    [history] = slack.calls_to("conversations.history")
    assert history.args["channel"] == CHANNEL
    assert float(history.args["oldest"]) <= float(landed.ts)
    assert await shows_one_checkin(slack, repo) == landed
    await settles(sched, clock, slack)
    assert posts_tried(slack) == 1
    assert "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:00." in await show(app)


# ---------------------------------------------------------------------- 4. connection dropped


async def test_a_connection_dropped_after_slack_took_the_post_leaves_one_post(slack, repo, app,
                                                                             clock):
    sched = await checkins_to(repo, app, slack)
    slack.drop_after("chat.postMessage")
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1
    landed = await shows_one_checkin(slack, repo)
    post = await the_checkin(repo)
    assert post.sent_since == NINE and "(connection_dropped)" in (post.reason or "")
    assert "is on its way: the connection to Slack dropped after the post was sent" in \
        await show(app)

    await nothing_before(sched, clock, slack, NINE + timedelta(seconds=10))
    clock.set(NINE + timedelta(seconds=12))
    assert (await sched.drain()).posted == 1
    assert posts_tried(slack) == 1 and len(slack.calls_to("conversations.history")) == 1
    assert await shows_one_checkin(slack, repo) == landed
    await settles(sched, clock, slack)
    assert "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:00." in await show(app)


# ---------------------------------------------------------------------- 5. never cleared

NEVER_CLEARS = [
    # (the fault on every try, the reason recorded, history reads per retry)
    pytest.param({"error": "internal_error", "status": 500, "raw": PAGE_500},
                 "Slack had a passing problem (HTTP 500)", 0, id="http-500"),
    pytest.param({"error": "service_unavailable", "status": 503},
                 "Slack had a passing problem (service_unavailable)", 0, id="503"),
    pytest.param({"error": "ratelimited", "status": 429, "retry_after": 120},
                 "Slack asked the bot to slow down for 120 s (ratelimited)", 0, id="429"),
    pytest.param({"error": "internal_error", "status": 500},
                 "Slack had a problem partway through, so the post may have arrived "
                 "(internal_error)", 1, id="json-internal_error"),
]


@pytest.mark.parametrize(("failure", "reason", "history_reads"), NEVER_CLEARS)
async def test_a_fault_that_outlasts_the_grace_window_is_missed_with_its_reason(
        slack, repo, app, clock, failure, reason, history_reads):
    sched = await checkins_to(repo, app, slack, grace=GRACE)
    slack.fail("chat.postMessage", times=10_000, **failure)
    clock.set(NINE)
    report = await sched.run_due(NINE)
    tries_at = [NINE]
    failed = report.failed
    for _ in range(100):  # each retry when the outbox asked for it, until it gives up
        post = await the_checkin(repo)
        if post.state != OutboxState.DUE:
            break
        assert post.next_try_at is not None and post.reason == reason
        await nothing_before(sched, clock, slack, post.next_try_at)
        clock.set(post.next_try_at)
        before = posts_tried(slack)
        failed += (await sched.drain()).failed
        assert posts_tried(slack) == before + 1
        tries_at.append(clock.now())
    post = await the_checkin(repo)
    assert (post.state, post.reason, failed) == (OutboxState.MISSED, reason, 1)
    assert post.tries == len(tries_at) == posts_tried(slack)
    assert max(tries_at) <= NINE + GRACE  # never tried once the window had closed
    gaps = [b - a for a, b in zip(tries_at, tries_at[1:], strict=False)]
    if "retry_after" in failure:
        assert gaps == [timedelta(seconds=120)] * 15  # Retry-After, all the way to 09:30
    else:  # backed off: 10 s, 20 s, 40 s … at most five minutes (each up to a fifth more)
        for i, gap in enumerate(gaps):
            base = min(timedelta(seconds=10 * 2 ** i), timedelta(minutes=5))
            assert base <= gap <= base * 1.2, (i, gap)
    assert len(slack.calls_to("conversations.history")) == history_reads * (len(tries_at) - 1)
    assert messages(slack, CHANNEL) == []
    await settles(sched, clock, slack)
    # Each try may have landed (history_reads): the admin is told it couldn't be confirmed.
    said = ("I couldn't confirm that the check-in of Thu 26 Nov went out" if history_reads
            else "The check-in of Thu 26 Nov didn't go out")
    assert f"{said}: {reason}. {GRACE_CLOSED}" in await show(app)


REFUSED_FOR_GOOD = [
    # (the channel, how the workspace refuses it, the reason recorded)
    pytest.param(CHANNEL, "archived",
                 "the channel is archived: unarchive it, or pick another channel with /checkin "
                 "set (is_archived)", id="is_archived"),
    pytest.param(SHY, "not_in_channel",
                 "the bot isn't in the channel: invite it with /invite @Who's Next "
                 "(not_in_channel)", id="not_in_channel"),
    pytest.param(SECRET, "channel_not_found",
                 "the bot can't find the channel: it may have been deleted, or it's private and "
                 "the bot isn't in it (invite it with /invite @Who's Next, or pick another "
                 "channel with /checkin set) (channel_not_found)", id="channel_not_found"),
]


@pytest.mark.parametrize(("channel", "refusal", "reason"), REFUSED_FOR_GOOD)
async def test_a_refusal_retrying_cant_fix_is_missed_at_once(slack, repo, app, clock, channel,
                                                              refusal, reason):
    sched = await checkins_to(repo, app, slack, channel=channel)
    if refusal == "archived":  # the fake has no archived channels: Slack's answer for one
        slack.fail("chat.postMessage", "is_archived", times=10_000)
    elif refusal == "not_in_channel":  # the app lost chat:write.public, and isn't in #shy
        slack.revoke_scope("chat:write.public")
        slack.expect_refusal("not_in_channel", where="chat.postMessage")
    else:
        slack.make_private(SECRET)
        slack.expect_refusal("channel_not_found", where="chat.postMessage")
    clock.set(NINE)
    report = await sched.run_due(NINE)
    assert (report.posted, report.retrying, report.failed, report.failures) == \
        (0, 0, 1, [COMMUNITY.key])
    post = await the_checkin(repo)
    assert (post.state, post.tries, post.reason) == (OutboxState.MISSED, 1, reason)
    await settles(sched, clock, slack)
    assert posts_tried(slack) == 1  # one try, never again
    assert messages(slack, channel) == []
    text = await show(app)
    assert f"The check-in of Thu 26 Nov didn't go out: {reason}." in text
    assert GRACE_CLOSED not in text


# ---------------------------------------------------------------------- 6. history unreadable

UNCHECKABLE = [
    # (the channel, what takes the history away, the refusal, words of the reason)
    pytest.param(CHANNEL, "channels:history", "missing_scope",
                 "add the channels:history permission under OAuth & Permissions and reinstall "
                 "the app (missing_scope)", id="no-channels-history"),
    pytest.param(SHY, None, "not_in_channel",
                 "invite the bot to the channel with /invite @Who's Next (not_in_channel)",
                 id="bot-not-in-channel"),
]
NO_CHECK = ("Slack didn't confirm an earlier try, and the bot can't read the channel's history "
            "to check whether it arrived, so it didn't post again: ")


@pytest.mark.parametrize(("channel", "scope", "refusal", "fix"), UNCHECKABLE)
async def test_an_uncertain_try_that_cant_be_checked_is_never_posted_twice(
        slack, repo, app, clock, channel, scope, refusal, fix):
    sched = await checkins_to(repo, app, slack, channel=channel)
    if scope is not None:
        slack.revoke_scope(scope)
    slack.drop_after("chat.postMessage")  # Slack has it; the bot can't know
    slack.expect_refusal(refusal, where="conversations.history")
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1
    landed = await shows_one_checkin(slack, repo, channel)

    await nothing_before(sched, clock, slack, NINE + timedelta(seconds=10))
    clock.set(NINE + timedelta(seconds=12))
    report = await sched.drain()
    assert (report.posted, report.retrying, report.failed) == (0, 0, 1)
    assert len(slack.calls_to("conversations.history")) == 1
    assert posts_tried(slack) == 1  # no second post
    post = await the_checkin(repo)
    assert (post.state, post.reason) == (OutboxState.MISSED, NO_CHECK + fix)
    await settles(sched, clock, slack)
    assert posts_tried(slack) == 1
    assert await shows_one_checkin(slack, repo, channel) == landed  # at most once
    assert (f"I couldn't confirm that the check-in of Thu 26 Nov went out: {NO_CHECK}{fix}."
            in await show(app))


@pytest.mark.parametrize(("channel", "scope", "refusal", "fix"), UNCHECKABLE)
async def test_show_doesnt_say_the_window_closed_nor_that_an_uncertain_post_didnt_go_out(
        slack, repo, app, clock, channel, scope, refusal, fix):
    sched = await checkins_to(repo, app, slack, channel=channel)
    if scope is not None:
        slack.revoke_scope(scope)
    slack.drop_after("chat.postMessage")
    slack.expect_refusal(refusal, where="conversations.history")
    clock.set(NINE)
    await sched.run_due(NINE)
    clock.set(NINE + timedelta(seconds=12))
    await sched.drain()
    assert (await the_checkin(repo)).state == OutboxState.MISSED
    await shows_one_checkin(slack, repo, channel)  # it is there for everyone to read
    text = await show(app)
    assert GRACE_CLOSED not in text  # 12 s into a 120-minute window
    assert "didn't go out" not in text  # it may well have: here it did


# ---------------------------------------------------------------------- 7. a follow-up DM

DM_FAULTS = [
    pytest.param("chat.postMessage", id="postMessage-500"),
    pytest.param("conversations.open", id="conversations.open-500"),
]


@pytest.mark.parametrize("method", DM_FAULTS)
async def test_a_follow_up_dm_that_meets_a_500_once_is_sent_once(slack, repo, app, clock,
                                                                 method):
    clock.set(datetime(2026, 11, 26, 10, tzinfo=UTC))
    promised = await app.run_text("who-next", "ask Lee for an intro when:today",
                                  caller(ANA, community=COMMUNITY))
    assert "ask Lee for an intro" in promised.plain_text()
    sched = Scheduler(repo, app, {Platform.SLACK: slack_poster(slack)})
    slack.fail(method, "internal_error", status=500, raw=PAGE_500)
    due = datetime(2026, 11, 27, 0, 0, 30, tzinfo=UTC)  # Ana's (UTC) promise fell due at 00:00
    clock.set(due)
    first = await sched.run_due(due)
    assert (first.followups, first.retrying, first.failed) == (0, 1, 0)
    assert messages(slack, DM) == []

    await nothing_before(sched, clock, slack, due + timedelta(seconds=10))
    clock.set(due + timedelta(seconds=12))
    assert (await sched.run_due()).followups == 1
    for _ in range(3):
        clock.advance(minutes=5)
        assert await sched.run_due() == RunReport()
    assert posts_tried(slack) == (2 if method == "chat.postMessage" else 1)
    seen = messages(slack, DM)
    assert len(seen) == 1, [s.text for s in seen]
    [dm] = seen
    assert dm.author == slack.bot_user_id
    assert "How did your ask go?" in dm.text and "ask Lee for an intro" in dm.text
    assert dm.metadata is not None and dm.metadata["event_type"] == EVENT_TYPE
    assert str(dm.metadata["event_payload"]["key"]).startswith("whosnext-")
    assert slack.calls_to("conversations.history") == []  # a 500 before posting: no doubt


async def test_show_doesnt_say_the_window_closed_for_a_refusal_after_one_retry(slack, repo, app,
                                                                             clock):
    sched = await checkins_to(repo, app, slack)
    slack.fail("chat.postMessage", "internal_error", status=500, raw=PAGE_500)
    slack.fail("chat.postMessage", "is_archived")  # the channel was archived meanwhile
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1
    clock.set(NINE + timedelta(seconds=12))
    assert (await sched.drain()).failed == 1
    post = await the_checkin(repo)
    assert (post.state, post.tries) == (OutboxState.MISSED, 2) and posts_tried(slack) == 2
    assert messages(slack, CHANNEL) == []
    text = await show(app)
    assert "didn't go out: the channel is archived" in text
    assert GRACE_CLOSED not in text
