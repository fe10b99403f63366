"""What a member's commands read is kept in step with their attempts (migration 0010): totals by
outcome, their own days, their areas, the cheers they received. Filled from existing data by
the migration, kept right by every write after it, and equal to a recount from the attempts,
on both backends."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from bot.app import App
from bot.ids import MemberRef
from bot.models import Totals
from storage import migrate
from storage.connect import open_repository
from tests import postgres
from tests.helpers import COMMUNITY, press, run

ANA = MemberRef(COMMUNITY.platform, "ana")
KAI = MemberRef(COMMUNITY.platform, "kai")  # in Auckland, a community on UTC
ATTEMPTS = [  # outcome, area, created_at: ana's, under the schema before 0010
    ("rejected", "work", "2026-11-20T09:00:00.000000Z"),
    ("rejected", "work", "2026-11-20T10:00:00.000000Z"),
    ("accepted", "love", "2026-11-21T09:00:00.000000Z"),
    ("pending", None, "2026-11-23T09:00:00.000000Z"),
    ("pending", "work", "2026-11-23T23:30:00.000000Z"),
]


async def recount(repo, member: MemberRef) -> dict[str, object]:
    """Everything the aggregates hold for ``member``, counted again from the attempts."""
    def unit(tx):
        rows = tx.execute("SELECT outcome, area, member_day FROM attempts WHERE community_id = ? "
                          "AND member_id = ?", (COMMUNITY.key, member.key)).fetchall()
        outcomes = Counter(r[0] for r in rows)
        cheers = tx.execute("SELECT COUNT(*) FROM cheers JOIN attempts a ON a.id = "
                            "cheers.attempt_id WHERE a.member_id = ?", (member.key,)).fetchone()[0]
        return {"totals": Totals(len(rows), outcomes["rejected"], outcomes["accepted"],
                                 outcomes["pending"]),
                "days": sorted(Counter(date.fromisoformat(r[2]) for r in rows).items()),
                "areas": sorted(Counter(r[1] for r in rows if r[1]).items()),
                "received": cheers}
    return await repo._read(unit)


async def kept(repo, member: MemberRef) -> dict[str, object]:
    profile = await repo.profile(COMMUNITY, member)
    return {"totals": profile.totals, "days": list(profile.days),
            "areas": sorted(profile.areas), "received": profile.cheers_received}


@pytest.fixture
def old_database(backend, tmp_path):
    """An empty database without a schema yet (the run's PostgreSQL one is at the newest)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with postgres.scratch_database("aggregates") as url:
        yield url


async def test_the_migration_fills_them_and_every_write_keeps_them(old_database, monkeypatch,
                                                                    clock):
    database = old_database
    known = {b: migrate.migrations(b) for b in ("sqlite", "postgresql")}
    before = next(m.version for m in known["sqlite"] if m.name.startswith("0010")) - 1
    monkeypatch.setattr(migrate, "migrations",
                        lambda b="sqlite": [m for m in known[b] if m.version <= before])
    monkeypatch.setattr(migrate, "latest", lambda: before)
    old = await open_repository(database, db_clock=False)

    def fill(tx):
        for who in ("ana", "sam", "kai"):
            tx.execute("INSERT INTO members (community_id, member_id, display_name, created_at) "
                       "VALUES (?, ?, ?, ?)", (COMMUNITY.key, f"console:{who}", who,
                                               "2026-11-01T00:00:00.000000Z"))
        tx.execute("UPDATE members SET timezone = 'Pacific/Auckland' WHERE member_id = ?",
                   (KAI.key,))
        # 20:00 UTC on 1 Dec: the community's 1 Dec, already 2 Dec in Auckland
        tx.execute("INSERT INTO attempts (community_id, member_id, outcome, ask, created_at, "
                   "local_day) VALUES (?, ?, 'rejected', 'x', '2026-12-01T20:00:00.000000Z', "
                   "'2026-12-01')", (COMMUNITY.key, KAI.key))
        for outcome, area, at in ATTEMPTS:
            tx.execute("INSERT INTO attempts (community_id, member_id, outcome, ask, area, "
                       "created_at, local_day) VALUES (?, ?, ?, 'x', ?, ?, ?)",
                       (COMMUNITY.key, ANA.key, outcome, area, at, at[:10]))
        tx.execute("UPDATE members SET attempts_count = 5, rejections_count = 2 "
                   "WHERE member_id = ?", (ANA.key,))
        first = tx.execute("SELECT MIN(id) FROM attempts WHERE member_id = ?",
                           (ANA.key,)).fetchone()[0]
        tx.execute("INSERT INTO cheers (attempt_id, community_id, member_id, created_at) "
                   "VALUES (?, ?, 'console:sam', '2026-11-24T00:00:00.000000Z')",
                   (first, COMMUNITY.key))
    await old._write(fill)
    await old.close()
    monkeypatch.undo()

    repo = await open_repository(database, db_clock=False)  # migrates
    try:
        filled = await kept(repo, ANA)
        assert filled == await recount(repo, ANA)
        assert filled["totals"] == Totals(5, 2, 1, 2) and filled["received"] == 1
        assert filled["days"] == [(date(2026, 11, 20), 2), (date(2026, 11, 21), 1),
                                  (date(2026, 11, 23), 2)]
        assert filled["areas"] == [("love", 1), ("work", 3)]
        assert (await repo.open_page(COMMUNITY, ANA, 4, 0)).total == 2
        # A member with a zone of their own asked on their own days.
        assert [d for d, _ in (await repo.profile(COMMUNITY, KAI)).days] == [date(2026, 12, 2)]

        # Every write after it: logs in each outcome, a resolve, a cheer and its undoing, undo.
        app = App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000)
        clock.set(datetime(2026, 11, 25, 9, tzinfo=UTC))
        cheer = (await run(app, "/rejected asked again area:money")).buttons()[0].action
        await run(app, "/accepted asked and got it area:work")
        await run(app, "/pending asked, waiting")
        await press(app, cheer, who="sam")
        listed = await run(app, "/asks")
        rejected = next(b for b in listed.buttons() if b.label == "Rejected")
        await press(app, rejected.action)  # a pending ask became a no
        await run(app, "/undo")  # the pending one just logged
        await run(app, "/timezone America/New_York")  # days asked on stay those days
        await run(app, "/rejected from New York")
        assert await kept(repo, ANA) == await recount(repo, ANA)
        assert (await kept(repo, ANA))["totals"] == Totals(8, 5, 2, 1)
        # /forget-me leaves nothing of hers behind in them.
        confirm = (await run(app, "/forget-me")).buttons()[0].action
        await press(app, confirm)
        assert await repo.profile(COMMUNITY, ANA) is None
        left = await repo._read(lambda tx: [tx.execute(
            f"SELECT COUNT(*) FROM {t} WHERE member_id = ?", (ANA.key,)).fetchone()[0]
            for t in ("member_days", "member_areas")])
        assert left == [0, 0]
    finally:
        await repo.close()


async def test_a_day_asked_on_stays_that_day_when_the_member_moves(app, clock):
    """Streak days are the member's days when they asked: moving zone later doesn't move
    them (Tuesday 23:30 in Berlin stays Tuesday, though it was already Wednesday in Tokyo)."""
    await run(app, "/timezone Europe/Berlin")
    clock.set(datetime(2026, 11, 24, 22, 30, tzinfo=UTC))  # Tue 23:30 Berlin
    await run(app, "/rejected late on tuesday")
    await run(app, "/timezone Asia/Tokyo")
    clock.set(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))  # Wed 10:00 Tokyo
    reply = await run(app, "/rejected wednesday morning")
    assert "2 days in a row!" in reply.plain_text()
    profile = await app.deps.repo.profile(COMMUNITY, ANA)
    assert [d for d, _ in profile.days] == [date(2026, 11, 24), date(2026, 11, 25)]
