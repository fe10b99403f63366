"""Scheduled posts survive SIGKILL: real ``whosnext`` processes (Socket Mode, the real Slack
adapter and Poster, a real SQLite file) against the loopback fake Slack, killed in the middle of
posting 200 check-ins. Every check-in shows exactly once in its channel: the rows the dead
process held are taken over once their lease lapses (``OUTBOX_LEASE_SECONDS=5``), and those it
was *sending* (already in the channel, with no answer recorded) are found in the channel's
history by their metadata key instead of being posted again.

``tests/scheduler/test_outbox.py`` simulates the dead process at the database; here it is a
real one. The helpers are in ``tests/outbox_kill_helpers.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.fakes.slack import FakeSlack
from tests.outbox_kill_helpers import (
    Bot,
    GatedSlack,
    Posts,
    all_sent,
    bot_posts,
    bots,
    channel,
    edited_once_each,
    held,
    once_each,
    outbox,
    seed,
    seed_edits,
    slack_for,
    states,
    tries_allowed,
    until,
)

COUNT = 200
SLOW = 0.1  # seconds Slack takes to answer each chat.postMessage (the post shows at once)
KILL_AT = 50  # posts in the channels when the process is killed
START = 30.0  # seconds a bot may take to start and post its first ones
FINISH = 60.0  # seconds for the rest after the kill (a lease lapses in 5, the outbox drains every 5)


async def test_200_check_ins_killed_mid_posting_and_restarted_all_posted_once(tmp_path):
    db = tmp_path / "bot.db"
    await seed(db, COUNT, datetime.now(UTC))
    fake = slack_for(COUNT, FakeSlack)
    await fake.start()
    # Each post shows in the channel at once, and its answer comes SLOW later: killed, the bot
    # leaves posts that reached Slack without ever hearing so.
    fake.delay("chat.postMessage", SLOW, after=True)
    posts = Posts(fake)
    everywhere = {channel(n) for n in range(COUNT)}
    try:
        async with bots(fake, db, tmp_path) as start:
            first = await start("first")
            await until_posts(posts, KILL_AT, fake, first)
            await first.kill()
            at_kill = outbox(db)
            shown = sum(1 for n in range(COUNT) if bot_posts(fake, channel(n)))
            left = held(at_kill).get(first.pid, [])
            assert KILL_AT <= shown < COUNT, f"killed after {shown} posts: not mid-posting"
            assert left, f"the killed process held no posts: {states(at_kill)}"
            in_flight = [r for r in left if r["state"] == "sending"]
            assert in_flight, "no post was being sent when the process died"
            allowed = tries_allowed(at_kill)

            again = await start("restarted")  # at once, on the same file
            await until(f"all {COUNT} channels posted", lambda: posts.channels >= everywhere,
                        FINISH, fake=fake, alive=[again])
            rows = await until("every outbox row finished", lambda: all_sent(db, COUNT, allowed),
                               FINISH, alive=[again])
            assert states(rows) == {"sent": COUNT}, [dict(r) for r in rows if r["state"] != "sent"]
            problems = once_each(fake, rows, COUNT)
            assert not problems, (f"{len(problems)} of {COUNT} channels wrong (killed with "
                                  f"{len(in_flight)} posts in flight), e.g.:\n  "
                                  + "\n  ".join(problems[:10]))
            # The posts in flight when it died were looked for, not posted blindly.
            assert len(fake.calls_to("conversations.history")) >= len(in_flight)
            assert await again.stop() == 0, again.tail()
    finally:
        await fake.stop()
    fake.check_refusals()


async def test_two_processes_one_killed_mid_posting_every_post_once(tmp_path):
    db = tmp_path / "bot.db"
    await seed(db, COUNT, datetime.now(UTC))
    fake = slack_for(COUNT, GatedSlack)
    await fake.start()
    fake.delay("chat.postMessage", SLOW, after=True)
    posts = Posts(fake)
    everywhere = {channel(n) for n in range(COUNT)}
    try:
        async with bots(fake, db, tmp_path) as start:
            # Both Socket Mode connections to the one fake; held at their first call so that
            # both catch-ups race for the same 200 check-ins.
            fake.hold()
            pair = [await start("one"), await start("two")]
            await until("both bots started", lambda: fake.arrived >= 2, START, alive=pair)
            fake.release()
            await until_posts(posts, KILL_AT, fake, *pair)
            busiest = held(outbox(db))
            victim = max(pair, key=lambda b: len(busiest.get(b.pid, [])))
            survivor = next(b for b in pair if b is not victim)
            await victim.kill()
            at_kill = outbox(db)
            left = held(at_kill).get(victim.pid, [])
            assert left, f"the killed process held no posts: {states(at_kill)}"
            in_flight = [r for r in left if r["state"] == "sending"]
            allowed = tries_allowed(at_kill)
            assert survivor.running, survivor.tail()

            await until(f"all {COUNT} channels posted", lambda: posts.channels >= everywhere,
                        FINISH, fake=fake, alive=[survivor])
            rows = await until("every outbox row finished", lambda: all_sent(db, COUNT, allowed),
                               FINISH, alive=[survivor])
            assert states(rows) == {"sent": COUNT}, [dict(r) for r in rows if r["state"] != "sent"]
            problems = once_each(fake, rows, COUNT)
            assert not problems, (f"{len(problems)} of {COUNT} channels wrong ({len(left)} posts "
                                  f"left leased by the killed process, {len(in_flight)} of them "
                                  "in flight), e.g.:\n  " + "\n  ".join(problems[:10]))
            assert len(fake.calls_to("conversations.history")) >= len(in_flight)
            assert await survivor.stop() == 0, survivor.tail()
    finally:
        await fake.stop()
    fake.check_refusals()


async def test_200_edits_killed_mid_editing_every_post_changed_in_place(tmp_path):
    """/edit's changes to posts (``PostKind.EDIT``) survive SIGKILL too: an update changes a
    message to the same thing however often it is made, so the edits the dead process held
    are made again once their leases lapse, and every post ends up changed, in place."""
    db = tmp_path / "bot.db"
    fake = slack_for(COUNT, FakeSlack)
    await fake.start()
    try:
        await seed_edits(db, COUNT, fake, datetime.now(UTC))
        seeded = len(fake.calls_to("chat.postMessage"))
        assert seeded == COUNT
        fake.delay("chat.update", SLOW, after=True)
        updated = lambda: len(fake.calls_to("chat.update"))  # noqa: E731
        async with bots(fake, db, tmp_path) as start:
            first = await start("first")
            await until(f"{KILL_AT} posts edited", lambda: updated() >= KILL_AT, START,
                        fake=fake, alive=[first])
            await first.kill()
            at_kill = outbox(db)
            changed = sum(1 for n in range(COUNT)
                          if "(edited)" in "".join(p.text for p in bot_posts(fake, channel(n))))
            assert KILL_AT <= changed < COUNT, f"killed after {changed} edits: not mid-editing"
            left = held(at_kill).get(first.pid, [])
            assert left, f"the killed process held no edits: {states(at_kill)}"
            assert [r for r in left if r["state"] == "sending"], "no edit was being made"
            allowed = tries_allowed(at_kill)

            again = await start("restarted")
            rows = await until("every outbox row finished", lambda: all_sent(db, COUNT, allowed),
                               FINISH, alive=[again])
            assert states(rows) == {"sent": COUNT}, [dict(r) for r in rows if r["state"] != "sent"]
            problems = edited_once_each(fake, rows, COUNT)
            assert not problems, (f"{len(problems)} of {COUNT} channels wrong, e.g.:\n  "
                                  + "\n  ".join(problems[:10]))
            assert len(fake.calls_to("chat.postMessage")) == seeded  # changed, never posted
            assert updated() >= COUNT
            assert await again.stop() == 0, again.tail()
    finally:
        await fake.stop()
    fake.check_refusals()


async def until_posts(posts: Posts, count: int, fake: FakeSlack, *alive: Bot) -> int:
    return await until(f"{count} check-ins posted", lambda: posts.count >= count, START,
                       fake=fake, alive=alive)
