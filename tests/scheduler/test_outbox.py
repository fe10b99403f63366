"""The outbox under faults, on a real SQLite file and a fake clock: retries with backoff (and
``Retry-After``) until the grace window closes, refusals recorded at once, uncertain tries
checked instead of repeated, leases that lapse when a process dies (after its claim, during a
send, after a send it never recorded), two processes on one file, and what /checkin show says.

A "dead" process is simulated at the database: rows claimed (or marked sending) by an owner
that never comes back, exactly what a ``SIGKILL`` leaves; ``tests/test_outbox_kill.py`` does it
to real processes."""

import asyncio
import sqlite3
from datetime import timedelta

from bot.app import App
from bot.ids import MemberRef, Platform
from bot.models import NewCommitment, OutboxState, PostKind
from bot.outbox import LEASE
from bot.ports import Delivery, PostingLimits
from bot.scheduler import Scheduler
from bot.schedules import KINDS, latest_occurrence
from storage import migrate
from storage.rows import ts
from tests.helpers import FakeClock, caller
from tests.scheduler.helpers import RecordingPoster, community, make_scheduler, schedule, utc

SET_AT = utc(2026, 11, 20, 12)
NINE = utc(2026, 11, 26, 8)  # Thu 26 Nov 2026, 09:00 in Berlin


async def show(app) -> str:
    return (await app.run_text("checkin", "show", caller(admin=True))).plain_text()


async def state(repo, name="test", kind=PostKind.CHECKIN):
    posts = {p.kind: p for p in await repo.last_posts(community(name))}
    return posts.get(kind)


async def test_a_5xx_is_retried_and_goes_out_once(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    poster = RecordingPoster(fail={"test": [Delivery.retry("the platform had a hiccup (HTTP 500)")]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    report = await sched.run_due(NINE)
    assert (report.posted, report.retrying) == (0, 1)
    item = await state(repo)
    assert item.state == OutboxState.DUE and item.tries == 1
    assert timedelta(seconds=10) <= item.next_try_at - NINE <= timedelta(seconds=12)  # backoff
    assert "is on its way: the platform had a hiccup (HTTP 500). I'll try again at 09:00" in await show(app)
    clock.advance(seconds=5)
    assert (await sched.drain()).posted == 0  # not yet: the backoff holds
    clock.advance(seconds=10)
    assert (await sched.drain()).posted == 1
    clock.advance(minutes=5)
    assert (await sched.drain()).posted == 0 and (await sched.run_due()).taken == 1
    assert len(poster.posts) == 1
    assert "Last check-in (Thu 26 Nov) went out at Thu 26 Nov, 09:00." in await show(app)


async def test_retry_after_is_honoured_through_five_429s(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    poster = RecordingPoster(fail={"test": [Delivery.retry("rate limited", retry_after=42)] * 5})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    await sched.run_due(NINE)
    for _ in range(4):
        clock.advance(seconds=41)
        assert (await sched.drain()).posted == 0  # a second early: still waiting
        clock.advance(seconds=1)
        assert (await sched.drain()).retrying == 1  # the next 429
    clock.advance(seconds=42)
    assert (await sched.drain()).posted == 1
    assert len(poster.tries) == 6 and len(poster.posts) == 1


async def test_a_fault_that_never_clears_is_missed_with_its_reason(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    down = Delivery.retry("the platform is down (HTTP 503)")
    poster = RecordingPoster(fail={"test": [down] * 1000})
    sched = make_scheduler(repo, app, poster, clock, grace_minutes=30)
    clock.set(NINE)
    await sched.run_due(NINE)
    failed = 0
    for _ in range(40):  # a drain a minute, past the window
        clock.advance(minutes=1)
        failed += (await sched.drain()).failed
    assert failed == 1 and not poster.posts
    assert 5 <= len(poster.tries) <= 12  # backed off: 10 s, 20 s, 40 s … at most 5 min apart
    item = await state(repo)
    assert item.state == OutboxState.MISSED
    text = await show(app)
    assert ("The check-in of Thu 26 Nov didn't go out: the platform is down (HTTP 503). "
            "I kept trying until the grace window closed.") in text


async def test_a_refusal_retrying_cant_fix_is_recorded_at_once(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    gone = Delivery.failed("the channel is archived: pick another with /checkin set")
    poster = RecordingPoster(fail={"test": gone})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    report = await sched.run_due(NINE)
    assert (report.failed, report.retrying, report.failures) == (1, 0, ["console:test"])
    clock.advance(minutes=30)
    assert (await sched.drain()).failed == 0 and len(poster.tries) == 1
    assert "didn't go out: the channel is archived: pick another with /checkin set." in await show(app)


async def test_an_uncertain_try_is_checked_not_repeated(app, repo, clock):
    """A timeout after the platform took the post: the retry carries ``sent_since`` and the
    Poster finds the first instead of posting a second."""
    await repo.save_schedule(schedule(recap=None), SET_AT)
    poster = RecordingPoster(fail={"test": [Delivery.uncertain("no answer within 30 s")]},
                             landed={"test"})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1
    assert len(poster.posts) == 1  # it did land
    clock.advance(minutes=1)
    assert (await sched.drain()).posted == 1
    (_, key1, since1), (_, key2, since2) = poster.tries
    assert key1 == key2 and since1 is None and since2 == NINE
    assert len(poster.posts) == 1


async def test_an_uncertain_try_that_never_landed_goes_out_once(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    poster = RecordingPoster(fail={"test": [Delivery.uncertain("connection dropped")]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    await sched.run_due(NINE)
    clock.advance(minutes=1)
    assert (await sched.drain()).posted == 1 and len(poster.posts) == 1


async def dead_process_claims(repo, owner="dead:1", sending=False, at=NINE):
    """What a SIGKILL leaves: rows claimed (and maybe marked sending) by a process that never
    records anything again."""
    def unit(tx):
        tx.execute("UPDATE outbox SET state = ?, owner = ?, lease_until = ?, try_at = ?, "
                   "tries = tries + ? WHERE state = 'due'",
                   ("sending" if sending else "claimed", owner, ts(at + LEASE), ts(at),
                    int(sending)))
        return [r[0] for r in tx.execute("SELECT id FROM outbox WHERE owner = ? ORDER BY id",
                                         (owner,))]
    return await repo._write(unit)


async def queued(sched, now):
    """Put the occurrences due at ``now`` in the outbox, sending nothing yet."""
    return await sched.queue([o for s in await sched.repo.list_schedules() for k in KINDS
                              if (o := latest_occurrence(s, k, now))], now)


async def due_on_a_shared_database(repo, clock, communities):
    """A database with ``communities`` check-ins queued at 09:00, and a scheduler on it."""
    for i in range(communities):
        await repo.save_schedule(schedule(f"c{i}", recap=None), SET_AT)
    poster = RecordingPoster()
    sched = make_scheduler(repo, App(repo, clock), poster, clock)
    clock.set(NINE)
    await queued(sched, NINE)
    return poster, sched


async def test_a_process_that_dies_after_its_claim_leaves_the_post_to_the_next(repo, clock):
    poster, sched = await due_on_a_shared_database(repo, clock, 5)
    await dead_process_claims(repo)
    assert (await sched.run_due(NINE)).posted == 0  # leased to the dead one
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert (await sched.drain()).posted == 0
    clock.advance(seconds=2)
    assert (await sched.drain()).posted == 5
    # Claimed but never started: no doubt, so no check before posting.
    assert all(since is None for _, _, since in poster.tries)
    assert sorted(c.id for c, _, _ in poster.posts) == [f"c{i}" for i in range(5)]
    await repo.close()


async def test_a_process_that_dies_mid_send_leaves_no_double_post(repo, clock):
    """Killed during the send (it never landed) or after it (it landed, never recorded): the
    next process sees a lapsed *sending* lease, so it checks before posting. Either way, once."""
    poster, sched = await due_on_a_shared_database(repo, clock, 6)
    ids = await dead_process_claims(repo, sending=True)
    # Three of the six reached the platform before the kill (they have their keys there).
    poster.keys.update(f"whosnext-{i}" for i in ids[:3])
    clock.advance(seconds=LEASE.total_seconds() + 1)
    report = await sched.drain()
    assert report.posted == 6
    assert all(since == NINE for _, _, since in poster.tries)  # each try checked first
    assert len(poster.posts) == 3  # the other three were found, not posted again
    clock.advance(minutes=10)
    assert (await sched.drain()).posted == 0
    await repo.close()


async def test_two_processes_one_killed_mid_posting_every_post_once(reopen):
    """Process A claims a minute's posts and dies mid-way (its task killed, nothing released);
    process B, on the same database, takes over what A left once A's leases lapse."""
    clock = FakeClock(NINE)
    repo_a, repo_b = await reopen(), await reopen()
    for i in range(30):
        await repo_a.save_schedule(schedule(f"c{i:02d}", recap=None), SET_AT)
    platform = RecordingPoster(limits=PostingLimits(4))  # what the channels show, for both
    started = asyncio.Event()

    class Dies(RecordingPoster):
        async def post(self, community, channel_id, reply, **kw):
            if len(platform.posts) >= 10:
                started.set()
                await asyncio.Event().wait()  # the kill lands here
            return await platform.post(community, channel_id, reply, **kw)

    a = Scheduler(repo_a, App(repo_a, clock), {Platform.CONSOLE: Dies(limits=PostingLimits(4))},
                  clock, owner="A")
    b = Scheduler(repo_b, App(repo_b, clock), {Platform.CONSOLE: platform}, clock, owner="B")
    run_a = asyncio.create_task(a.run_due(NINE))
    await asyncio.wait_for(started.wait(), 10)
    both = await b.run_due(NINE)  # B starts too: A holds everything
    assert both.posted == 0 and both.taken == 30
    run_a.cancel()  # SIGKILL: no release, no more writes from A
    await asyncio.gather(run_a, return_exceptions=True)
    by_a = len(platform.posts)
    assert by_a >= 10
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert (await b.drain()).posted == 0  # A's leases still hold
    clock.advance(seconds=2)
    report = await b.drain()
    assert sorted(c.id for c, _, _ in platform.posts) == [f"c{i:02d}" for i in range(30)]
    assert report.posted == 30 - by_a
    await repo_a.close()
    await repo_b.close()


async def test_a_clean_stop_hands_back_what_it_had_not_started(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    sched = make_scheduler(repo, app, RecordingPoster(), clock)
    await sched.start(catch_up=False, paused=True)
    clock.set(NINE)
    await queued(sched, NINE)
    claimed, _ = await repo.claim_posts(sched.outbox.owner, NINE, LEASE, 10)
    assert [p.state for p in claimed] == [OutboxState.CLAIMED]
    await sched.stop()
    item = await state(repo)
    assert item.state == OutboxState.DUE  # due again at once, not after the lease
    other = make_scheduler(repo, app, RecordingPoster(), clock)
    assert (await other.drain()).posted == 1


async def test_missed_while_offline_is_recorded_and_shown(app, repo, clock):
    await repo.save_schedule(schedule(recap=None), SET_AT)
    sched = make_scheduler(repo, app, RecordingPoster(), clock, grace_minutes=60)
    clock.set(utc(2026, 11, 26, 11))  # back at 12:00 Berlin: three hours late
    assert (await sched.run_due()).skipped == 1
    assert "didn't go out: the bot was offline until after the grace window." in await show(app)


async def test_a_follow_up_dm_is_retried_and_sent_once(app, repo, clock):
    due = utc(2026, 11, 26, 10)
    member = MemberRef(Platform.CONSOLE, "ana")
    made, _ = await repo.add_commitment(NewCommitment(community(), member, "ana", "ask for a raise",
                                                      due, utc(2026, 11, 25, 10)))
    poster = RecordingPoster(fail={"ana": [Delivery.retry("DMs are busy")]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(due)
    report = await sched.run_followups()
    assert (report.followups, report.retrying) == (0, 1)
    clock.advance(minutes=1)
    assert (await sched.run_followups()).followups == 1
    clock.advance(minutes=10)
    assert (await sched.run_followups()).followups == 0
    assert len(poster.dms) == 1 and "ask for a raise" in poster.dms[0][2].plain_text()


async def test_a_follow_up_for_a_promise_closed_meanwhile_is_dropped_quietly(app, repo, clock):
    due = utc(2026, 11, 26, 10)
    member = MemberRef(Platform.CONSOLE, "ana")
    made, _ = await repo.add_commitment(NewCommitment(community(), member, "ana", "ask for a raise",
                                                      due, utc(2026, 11, 25, 10)))
    poster = RecordingPoster(fail={"ana": [Delivery.retry("DMs are busy")]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(due)
    await sched.run_followups()
    await app.run_text("rejected", "ask for a raise", caller())  # unrelated: still open
    await repo.resolve_commitment(community(), member, made.id, "skipped", due)
    clock.advance(minutes=1)
    report = await sched.run_followups()
    assert report.followups == 0 and report.quiet_followups == 1 and not poster.dms


def test_0006_keeps_what_the_claims_said(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    known = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: known[:5])
    migrate.apply(conn)
    rows = [("console:a", "checkin", "2026-11-25", "posted"), ("console:a", "recap", "2026-11-23",
                                                              "failed"),
            ("console:b", "checkin", "2026-11-25", "skipped"),
            ("console:c", "checkin", "2026-11-25", "claimed")]
    conn.executemany("INSERT INTO claims (community_id, kind, local_date, status, claimed_at) "
                     "VALUES (?, ?, ?, ?, '2026-11-25T08:00:00.000000Z')", rows)
    monkeypatch.setattr(migrate, "migrations", lambda: known)
    migrate.apply(conn)
    got = conn.execute("SELECT community_id, kind, subject, state, reason FROM outbox "
                       "ORDER BY community_id, kind").fetchall()
    assert [g[:4] for g in got] == [("console:a", "checkin", "2026-11-25", "sent"),
                                    ("console:a", "recap", "2026-11-23", "missed"),
                                    ("console:b", "checkin", "2026-11-25", "missed"),
                                    ("console:c", "checkin", "2026-11-25", "missed")]
    assert got[3][4] == "the bot stopped while posting it, so it may have gone out"
    assert "claims" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()


async def test_every_try_is_recorded_however_the_posts_finish(app, repo, clock):
    """Posts finishing out of order, around the moments results are written: each one still
    ends recorded as sent after its one try (none left 'sending' to be tried again)."""
    for i in range(50):
        await repo.save_schedule(schedule(f"c{i:02d}", recap=None), SET_AT)

    class Uneven(RecordingPoster):
        async def post(self, community, channel_id, reply, **kw):
            for _ in range(int(community.id[1:]) % 7 * 3):
                await asyncio.sleep(0)
            return await super().post(community, channel_id, reply, **kw)

    poster = Uneven(limits=PostingLimits(4))
    sched = make_scheduler(repo, app, poster, clock, concurrency=4)
    clock.set(NINE)
    assert (await sched.run_due(NINE)).posted == 50
    for i in range(50):
        item = await state(repo, f"c{i:02d}")
        assert (item.state, item.tries) == (OutboxState.SENT, 1), item


async def until(condition, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def sending_rows(repo) -> int:
    return await repo._read(lambda tx: tx.execute(
        "SELECT COUNT(*) FROM outbox WHERE state = 'sending'").fetchone()[0])


async def test_only_posts_holding_a_slot_are_marked_sending(repo, clock):
    """A post waiting for one of the platform's slots is still only claimed: a crash then
    leaves it plainly due, not 'may have gone out'."""
    for i in range(8):
        await repo.save_schedule(schedule(f"c{i}", recap=None), SET_AT)
    release = asyncio.Event()
    poster = RecordingPoster(hold=release, limits=PostingLimits(2))
    sched = make_scheduler(repo, App(repo, clock), poster, clock, concurrency=2)
    clock.set(NINE)
    run = asyncio.create_task(sched.run_due(NINE))
    await until(lambda: poster.in_flight == 2)
    await asyncio.sleep(0.05)  # the group commit lands
    assert poster.in_flight == 2 and await sending_rows(repo) == 2
    release.set()
    assert (await run).posted == 8
    await repo.close()


async def test_a_nonsense_retry_after_is_clamped_not_fatal(app, repo, clock):
    await repo.save_schedule(schedule(), SET_AT)  # a Monday-recap community: check-in only today
    poster = RecordingPoster(fail={"test": [Delivery.retry("slow down", retry_after=float("inf")),
                                            Delivery.retry("slow down", retry_after=-5)]})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    assert (await sched.run_due(NINE)).retrying == 1  # inf: ignored, the backoff decides
    clock.advance(seconds=15)
    assert (await sched.drain()).retrying == 1  # negative: at least a second
    clock.advance(seconds=1)
    assert (await sched.drain()).posted == 1 and len(poster.posts) == 1


async def test_a_follow_up_goes_out_even_with_no_grace_window(app, repo, clock):
    due = utc(2026, 11, 26, 10)
    member = MemberRef(Platform.CONSOLE, "ana")
    await repo.add_commitment(NewCommitment(community(), member, "ana", "ask for a raise", due,
                                            utc(2026, 11, 25, 10)))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock, grace_minutes=0)
    clock.set(due + timedelta(seconds=30))
    assert (await sched.run_followups()).followups == 1 and len(poster.dms) == 1


async def test_stopping_starts_nothing_new(app, repo, clock):
    for i in range(6):
        await repo.save_schedule(schedule(f"c{i}", recap=None), SET_AT)
    release = asyncio.Event()
    poster = RecordingPoster(hold=release, limits=PostingLimits(2))
    sched = make_scheduler(repo, app, poster, clock, concurrency=2)
    await sched.start(catch_up=False, paused=True)
    clock.set(NINE)
    run = asyncio.create_task(sched.run_due(NINE))
    await until(lambda: poster.in_flight == 2)
    stopping = asyncio.create_task(sched.stop(timeout=5))
    await asyncio.sleep(0)
    release.set()
    await stopping
    await run
    assert len(poster.tries) == 2  # the two under way finished; the four waiting never started
    states = [(await state(repo, f"c{i}")).state for i in range(6)]
    assert states.count(OutboxState.SENT) == 2 and states.count(OutboxState.DUE) == 4


async def test_a_try_is_cut_before_its_lease_could_lapse(app, repo, clock):
    """With a lease shorter than the post timeout, a hanging try stops while the lease still
    holds (then counts as uncertain), so no other process can take the post over mid-try."""
    await repo.save_schedule(schedule(recap=None), SET_AT)

    class Hangs(RecordingPoster):
        async def post(self, community, channel_id, reply, **kw):
            await asyncio.Event().wait()

    sched = Scheduler(repo, app, {Platform.CONSOLE: Hangs()}, clock, post_timeout=45,
                      lease=timedelta(seconds=6))
    clock.set(NINE)
    report = await sched.run_due(NINE)  # cut after max(1, 6 - 5) s of real time
    assert report.retrying == 1
    item = await state(repo)
    assert item.state == OutboxState.DUE and item.sent_since == NINE
    assert "didn't answer within 1 s" in item.reason


async def test_the_running_bot_catches_up_in_the_background(app, repo, clock):
    """Start-up doesn't wait for the missed posts (commands are served meanwhile); a stop in
    the middle leaves the unstarted ones due for the next start."""
    for i in range(6):
        await repo.save_schedule(schedule(f"c{i}", recap=None), SET_AT)
    release = asyncio.Event()
    poster = RecordingPoster(hold=release, limits=PostingLimits(2))
    sched = make_scheduler(repo, app, poster, clock, concurrency=2)
    clock.set(NINE + timedelta(minutes=30))  # back half an hour late
    assert await sched.start(paused=True, wait=False) is None
    await until(lambda: poster.in_flight == 2)
    stopping = asyncio.create_task(sched.stop(timeout=5))
    await asyncio.sleep(0)
    release.set()
    await stopping
    states = [(await state(repo, f"c{i}")).state for i in range(6)]
    assert states.count(OutboxState.SENT) == 2 and states.count(OutboxState.DUE) == 4
    again = make_scheduler(repo, app, RecordingPoster(), clock)
    assert (await again.start(paused=True)).posted == 4
    await again.stop()
