"""Many processes on one PostgreSQL database, as the bot runs behind a balancer:

- three real ``whosnext`` processes in Slack HTTP mode, each on its own port, take 3,000 signed
  slash commands in turn; one is killed with SIGKILL mid-burst, and what it never answered is
  retried to the others the way Slack retries. Every acknowledged command is stored once, none
  twice, each answered at most once, and the counters agree with a recount;
- 300 communities due in the same minute, three processes, the busiest killed mid-posting:
  300 posts, none twice, the ones in flight looked up rather than posted again;
- in one process, several repositories (a pool each, as separate processes have) writing at
  once through the core: many members, one member from every "process", time-zone changes
  moving every attempt's day, a goal reached, retried requests. Totals, ranks, the week and
  month boards and the local days equal a recount from scratch.

The helpers are in ``tests/multiprocess_helpers.py`` and ``tests/outbox_kill_helpers.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from collections import Counter
from datetime import UTC, datetime

import aiohttp
import asyncpg
import pytest

from bot.app import App
from bot.ids import CommunityRef, Platform
from bot.reply import Buttons, Reply
from storage.postgres import PostgresRepository
from tests.fakes.slack import FakeSlack
from tests.helpers import FakeClock, caller
from tests.multiprocess_helpers import (
    Balancer,
    Command,
    answers,
    free_port,
    http_env,
    recount_problems,
    until_listening,
)
from tests.outbox_kill_helpers import (
    GatedSlack,
    Posts,
    all_sent,
    bot_posts,
    bots,
    channel,
    held,
    once_each,
    outbox,
    seed,
    slack_for,
    states,
    tries_allowed,
    until,
)
from tests.postgres import create_database, drop_database, run, server_or_skip
from tests.slack.helpers import section_texts

START = 30.0  # seconds a bot may take to start
FINISH = 60.0  # seconds for the rest after a kill (a lease lapses in 5, the outbox drains every 5)


@pytest.fixture
def database():
    """A fresh, empty PostgreSQL database (no schema yet), dropped afterwards. Without a server
    the test is skipped (the run says why in one line), or fails when one is required."""
    server_or_skip()
    url = run(create_database("whosnext_mp"))
    yield url
    run(drop_database(url))


# ---------------------------------------------------------------------- (a) HTTP mode, 3,000 commands

COMMANDS = 3000
IN_FLIGHT = 30
KILL_AT = 1000  # commands answered when one process is killed
DUPLICATE_EVERY = 50  # every 50th command is also sent at once to another process, as a retry
CHECK_EVERY = 10  # the fake checks the acks of every 10th command, and of every retry
TEAMS = {"T0MPA": "C0MPA", "T0MPB": "C0MPB"}  # two workspaces, a channel each
NAMES = ("ana", "ben", "cy", "dee", "eve")


def slash_command(fake: FakeSlack, n: int) -> Command:
    """The ``n``th ``/rejected``: its own text and trigger id, one of five members of one of two
    workspaces, registered with the fake so that its answers show in the channel."""
    team = sorted(TEAMS)[n % 2]
    name = NAMES[(n // 2) % len(NAMES)]
    user = f"U0{team[-1]}{name.upper()}"
    trigger = f"{7000000000 + n}.{n:05d}.mp{n:05d}"
    text = f"asked stranger {n:05d} for directions"
    fake.register_command(trigger, user=user, channel=TEAMS[team], command="rejected", text=text)
    form = {
        "token": "legacy", "team_id": team, "team_domain": team.lower(), "channel_id": TEAMS[team],
        "channel_name": "asks", "user_id": user, "user_name": name, "command": "/rejected",
        "text": text, "api_app_id": "A0APP", "is_enterprise_install": "false",
        "response_url": fake.response_url(trigger), "trigger_id": trigger,
    }
    return Command(n, form, checked=n % CHECK_EVERY == 0)


async def test_three_http_processes_3000_commands_one_killed_every_ack_stored_once(database, tmp_path):
    fake = FakeSlack(team_id="T0MPA")
    await fake.start()
    commands = [slash_command(fake, n) for n in range(COMMANDS)]
    ports = [free_port() for _ in range(3)]
    timeout = aiohttp.ClientTimeout(total=30)
    try:
        async with bots(fake, database, tmp_path) as start, \
                aiohttp.ClientSession(timeout=timeout) as http:
            # All three at once on the empty database: they migrate it between them.
            procs = [await start(f"http-{i}", **http_env(port)) for i, port in enumerate(ports)]
            await asyncio.gather(*(until_listening(p, port, START)
                                   for p, port in zip(procs, ports, strict=True)))
            victim, survivors = procs[1], [procs[0], procs[2]]
            balancer = Balancer(http, ports)
            done = 0
            killed = asyncio.Event()
            queue = iter(commands)

            async def worker() -> None:
                nonlocal done
                for command in queue:
                    live = balancer.live()
                    first = live[command.n % len(live)]
                    sends = [balancer.send(command, first)]
                    if command.n % DUPLICATE_EVERY == DUPLICATE_EVERY - 1:
                        # Slack retrying a slow ack: the same request, at once, to another process.
                        sends.append(balancer.deliver(command, balancer.after(first), 1,
                                                      "http_timeout"))
                    await asyncio.gather(*sends)
                    done += 1
                    if done >= KILL_AT and not killed.is_set():
                        killed.set()
                        await victim.kill()  # SIGKILL, with commands in flight to it

            await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
            assert killed.is_set()
            for bot in survivors:
                assert bot.running, bot.tail()

            lost = [c for c in commands if not c.acks]
            assert not lost, (f"{len(lost)} commands never acknowledged, e.g. "
                              f"{[(c.n, c.deliveries) for c in lost[:5]]}")
            to_victim = [d for c in commands for d in c.deliveries if d.port == ports[1]]
            failed = [d for d in to_victim if d.status != 200]
            assert failed, "the killed process had no command in flight: not mid-burst"
            assert all(d.status is None for d in failed), failed[:5]
            retried = [c for c in commands if any(d.retry for d in c.deliveries)]

            # Every ack a survivor gave with an empty body is answered through the response_url.
            def unanswered() -> list[int]:
                return [c.n for c in commands
                        if len(answers(fake, c)) < sum(d.port != ports[1] for d in c.acks)]
            await until("every answer that missed its ack sent to the response_url",
                        lambda: not unanswered(), FINISH, fake=fake, alive=survivors)
            for bot in survivors:
                assert await bot.stop() == 0, bot.tail()

        # Each delivery is answered at most once, every answer its own command's.
        twice = [(c.n, len(answers(fake, c)), len(c.acks)) for c in commands
                 if len(answers(fake, c)) > len(c.acks)]
        assert not twice, f"commands answered more often than acknowledged: {twice[:10]}"
        wrong = [c.n for c in commands for a in answers(fake, c)
                 if a.get("response_type") != "in_channel" or c.text not in section_texts(a)]
        assert not wrong, f"answers that aren't the command's celebration: {wrong[:10]}"

        conn = await asyncpg.connect(database)
        try:
            rows = await conn.fetch("SELECT community_id, member_id, ask, request_id FROM attempts")
            problems = await recount_problems(conn)
        finally:
            await conn.close()
    finally:
        await fake.stop()
    by_text = Counter(r["ask"] for r in rows)
    doubled = {t: n for t, n in by_text.items() if n > 1}
    assert not doubled, f"{len(doubled)} commands stored more than once, e.g. {list(doubled.items())[:5]}"
    missing = [c.n for c in commands if by_text[c.text] != 1]
    assert not missing, f"{len(missing)} acknowledged commands not stored, e.g. {missing[:10]}"
    assert len(rows) == COMMANDS
    stored = {r["ask"]: r for r in rows}
    for c in commands:  # each under its own request id, member and workspace
        row = stored[c.text]
        assert row["request_id"] == f"slack:{c.form['team_id']}/slack:cmd:{c.trigger}", dict(row)
        assert (row["community_id"], row["member_id"]) == (f"slack:{c.form['team_id']}",
                                                           f"slack:{c.form['user_id']}")
    assert not problems, f"{len(problems)} counters wrong, e.g.:\n  " + "\n  ".join(problems[:10])
    assert retried, "no command was retried"
    fake.check_refusals()


# ---------------------------------------------------------------------- (b) 300 check-ins, three processes

COUNT = 300
SLOW = 0.1  # seconds Slack takes to answer each chat.postMessage (the post shows at once)
POSTED_AT_KILL = 60


async def test_300_check_ins_three_processes_busiest_killed_every_post_once(database, tmp_path):
    await seed(database, COUNT, datetime.now(UTC))
    fake = slack_for(COUNT, GatedSlack)
    await fake.start()
    fake.delay("chat.postMessage", SLOW, after=True)
    posts = Posts(fake)
    everywhere = {channel(n) for n in range(COUNT)}
    try:
        async with bots(fake, database, tmp_path) as start:
            # Three Socket Mode connections to the one fake, held at their first call so that
            # their catch-ups race for the same 300 check-ins.
            fake.hold()
            trio = [await start(name) for name in ("one", "two", "three")]
            await until("all three bots started", lambda: fake.arrived >= 3, START, alive=trio)
            fake.release()
            await until(f"{POSTED_AT_KILL} check-ins posted", lambda: posts.count >= POSTED_AT_KILL,
                        START, fake=fake, alive=trio)
            busiest = held(outbox(database))
            victim = max(trio, key=lambda b: len(busiest.get(b.pid, [])))
            survivors = [b for b in trio if b is not victim]
            await victim.kill()
            calls_at_kill = len(fake.calls)
            at_kill = outbox(database)
            shown = sum(1 for n in range(COUNT) if bot_posts(fake, channel(n)))
            left = held(at_kill).get(victim.pid, [])
            assert shown < COUNT, f"killed after {shown} posts: not mid-posting"
            assert left, f"the killed process held no posts: {states(at_kill)}"
            in_flight = [r for r in left if r["state"] == "sending"]
            assert in_flight, "no post was being sent when the process died"
            allowed = tries_allowed(at_kill)
            for bot in survivors:
                assert bot.running, bot.tail()

            await until(f"all {COUNT} channels posted", lambda: posts.channels >= everywhere,
                        FINISH, fake=fake, alive=survivors)
            rows = await until("every outbox row finished",
                               lambda: all_sent(database, COUNT, allowed), FINISH, alive=survivors)
            assert states(rows) == {"sent": COUNT}, [dict(r) for r in rows if r["state"] != "sent"]
            problems = once_each(fake, rows, COUNT)
            assert not problems, (f"{len(problems)} of {COUNT} channels wrong ({len(left)} posts "
                                  f"left leased by the killed process, {len(in_flight)} of them "
                                  "in flight), e.g.:\n  " + "\n  ".join(problems[:10]))
            # Each post in flight at the kill was looked for in its channel, not posted blindly.
            looked = {c.args.get("channel") for c in fake.calls[calls_at_kill:]
                      if c.method == "conversations.history"}
            assert {r["target"] for r in in_flight} <= looked, (
                sorted({r["target"] for r in in_flight} - looked))
            for bot in survivors:
                assert await bot.stop() == 0, bot.tail()
    finally:
        await fake.stop()
    fake.check_refusals()


# ---------------------------------------------------------------------- (c) concurrent writers, in-process

RACE = CommunityRef(Platform.SLACK, "T0RACE")
POOLS = 3  # repositories on one database, a pool each: as three processes
MEMBERS = [f"m{i:02d}" for i in range(24)]
ANA_LOGS = 40  # one member logging from every "process" at once
GOAL, BEN_NOS = 15, 25
RETRIED = 15  # requests each delivered through every pool at once
ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Kiritimati")  # the last one stays
# Sunday 31 May 2026, 20:00 UTC: Monday 1 June in Kiritimati (UTC+14), Sunday 31 May 09:00 in
# Pago Pago (UTC-11). Each zone change moves every attempt to another day, week and month.
NOW = datetime(2026, 5, 31, 20, 0, tzinfo=UTC)
BOARD_LINE = re.compile(r"^(\d+)\. @(\S+) · (\d+)$", re.M)
YOU_LINE = re.compile(r"You: #(\d+) of (\d+)")


async def test_concurrent_writers_on_several_pools_agree_with_a_recount(database):
    clock = FakeClock(NOW)
    repos = [await PostgresRepository.open(database, db_clock=False, pool_size=4)
             for _ in range(POOLS)]
    apps = [App(r, clock, default_timezone="UTC", max_logs_per_hour=10_000) for r in repos]
    turn = itertools.count()

    async def run_as(name: str, line: str, request_id: str | None = None, *, app: App | None = None,
                     admin: bool = False) -> Reply:
        command, _, text = line.lstrip("/").partition(" ")
        where = app or apps[next(turn) % POOLS]
        return await where.run_text(command, text, caller(name, admin, RACE), request_id)

    try:
        set_goal = await run_as("ben", f"/goal {GOAL}")
        assert not set_goal.error, set_goal.plain_text()
        expected: Counter[tuple[str, str]] = Counter()  # (member, outcome): attempts
        work = []
        for i, name in enumerate(MEMBERS):  # 1 to 7 asks each, for ties and distinct ranks
            for k in range(i % 7 + 1):
                outcome = "rejected" if (i + k) % 3 else "accepted"
                expected[name, outcome] += 1
                work.append((name, f"/{outcome} {name} ask {k}", f"req-{name}-{k}"))
        for k in range(ANA_LOGS):
            expected["ana", "rejected"] += 1
            work.append(("ana", f"/rejected ana ask {k}", f"req-ana-{k}"))
        for k in range(BEN_NOS):
            expected["ben", "rejected"] += 1
            work.append(("ben", f"/rejected ben ask {k}", f"req-ben-{k}"))
        random.Random(7).shuffle(work)  # interleaved, the same way every run
        retried = [("dee", f"/rejected dee retried ask {k}", f"req-dee-{k}") for k in range(RETRIED)]
        expected["dee", "rejected"] += RETRIED

        logged = 0
        progress = asyncio.Condition()

        async def log(name: str, line: str, rid: str) -> Reply:
            nonlocal logged
            reply = await run_as(name, line, rid)
            async with progress:
                logged += 1
                progress.notify_all()
            return reply

        async def zone_changes() -> list[Reply]:
            """Each change starts once another quarter of the logs is in: among them."""
            out = []
            for i, zone in enumerate(ZONES, start=1):
                async with progress:
                    await progress.wait_for(lambda i=i: logged >= i * len(work) // (len(ZONES) + 1))
                out.append(await run_as("boss", f"/checkin set time:09:00 zone:{zone}", admin=True))
            return out

        replies, zone_replies, *retry_replies = await asyncio.gather(
            asyncio.gather(*(log(name, line, rid) for name, line, rid in work)),
            zone_changes(),
            *(run_as(name, line, rid, app=app) for name, line, rid in retried for app in apps))
        errors = [r.plain_text() for r in [*replies, *zone_replies, *retry_replies] if r.error]
        assert not errors, errors[:5]

        # Ben's goal was reached once, by exactly one of his concurrent rejections.
        reached = [r for r in replies if "Goal reached" in r.plain_text()]
        assert len(reached) == 1, [r.plain_text() for r in reached]
        # Ana's writes took turns across the pools: each reply saw a different total.
        ana = Counter(re.search(r"(\d+) asks? so far", r.plain_text()).group(1)  # type: ignore[union-attr]
                      for (name, _, _), r in zip(work, replies, strict=True) if name == "ana")
        assert sorted(ana, key=int) == [str(k) for k in range(1, ANA_LOGS + 1)], ana
        # Each delivery of a retried request answers with the one attempt stored (its Cheer).
        cheered = [{cheer_of(r) for r in retry_replies[k * POOLS:(k + 1) * POOLS]}
                   for k in range(RETRIED)]
        assert all(len(ids) == 1 for ids in cheered), cheered

        conn = await asyncpg.connect(database)
        try:
            stored = Counter((r["member_id"].removeprefix("slack:"), r["outcome"]) for r in
                             await conn.fetch("SELECT member_id, outcome FROM attempts"))
            assert stored == expected
            ids = Counter(r["request_id"] for r in await conn.fetch("SELECT request_id FROM attempts"))
            assert set(ids) == {f"{RACE.key}/{rid}" for _, _, rid in [*work, *retried]}
            assert set(ids.values()) == {1}
            assert await conn.fetchval("SELECT reached_at FROM goals WHERE member_id = 'slack:ben'")
            assert await conn.fetchval("SELECT timezone FROM schedules") == ZONES[-1]
            attempt_ids = {str(r[0]) for r in await conn.fetch(
                "SELECT id FROM attempts WHERE member_id = 'slack:dee'")}
            assert set().union(*cheered) == attempt_ids
            problems = await recount_problems(conn)
            assert not problems, f"{len(problems)} counters wrong:\n  " + "\n  ".join(problems[:10])
            days = {r[0] for r in await conn.fetch("SELECT DISTINCT local_day FROM attempts")}
            assert days == {"2026-06-01"}
            # The project's own recount from scratch leaves the boards as they are.
            periods = "SELECT * FROM member_periods ORDER BY period, member_id"
            before = [dict(r) for r in await conn.fetch(periods)]
            await repos[0].recount_periods(RACE)
            assert [dict(r) for r in await conn.fetch(periods)] == before
        finally:
            await conn.close()

        everyone = sorted({m for m, _ in expected})
        for name in everyone:
            totals = await repos[0].totals(RACE, caller(name, community=RACE).member)
            assert (totals.attempts, totals.rejected, totals.accepted) == (
                expected[name, "rejected"] + expected[name, "accepted"],
                expected[name, "rejected"], expected[name, "accepted"]), name
        # Every board, as every member sees it, ranks by the recount: ties share a rank.
        for by in ("attempts", "rejections"):
            counts = {m: sum(n for (who, o), n in expected.items() if who == m
                             and (by == "attempts" or o == "rejected")) for m in everyone}
            ranked = sorted((m for m in everyone if counts[m]), key=lambda m: (-counts[m], m))
            rank = {m: 1 + sum(1 for o in ranked if counts[o] > counts[m]) for m in ranked}
            top = [(str(rank[m]), m, str(counts[m])) for m in ranked[:10]]
            for period in ("week", "month", "all"):
                for name in everyone:
                    board = (await run_as(name, f"/leaderboard period:{period} by:{by}")).plain_text()
                    assert BOARD_LINE.findall(board) == top, (period, by, board)
                    if name in rank:
                        assert YOU_LINE.search(board).groups() == (  # type: ignore[union-attr]
                            str(rank[name]), str(len(ranked))), (period, by, name, board)
    finally:
        for repo in repos:
            await repo.close()


def cheer_of(reply: Reply) -> str:
    """The attempt a celebration's Cheer button is for."""
    return next(b.action.value for block in reply.blocks if isinstance(block, Buttons)
                for b in block.buttons if b.action.name == "cheer")
