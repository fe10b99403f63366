"""The weekly recap: a valid PNG chart and sensible totals."""

import struct
from datetime import date
from io import BytesIO

from bot.checkin_posts import weekly_recap
from bot.reply import Image
from tests.helpers import COMMUNITY, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc

MONDAY = date(2026, 11, 30)


async def log(app, clock, when, line, who):
    clock.set(when)
    reply = await run(app, line, who)
    assert not reply.error, reply.plain_text()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


async def seed(app, clock):
    # The week before: Mon 16 - Sun 22 Nov: 4 asks.
    for i in range(4):
        await log(app, clock, utc(2026, 11, 17 + i, 10), f"/rejected earlier ask {i}", "ana")
    # The recap's week: Mon 23 - Sun 29 Nov (Europe/Berlin): 6 asks.
    await log(app, clock, utc(2026, 11, 23, 9), "/rejected asked for a raise fear:6", "ana")
    await log(app, clock, utc(2026, 11, 24, 9), "/accepted asked for a discount", "ana")
    await log(app, clock, utc(2026, 11, 25, 9), "/rejected very scary private thing fear:10 "
              "private:true", "ana")
    await log(app, clock, utc(2026, 11, 25, 10), "/rejected pitched the big client fear:8", "sam")
    await log(app, clock, utc(2026, 11, 27, 10), "/pending asked for a referral fear:3", "sam")
    await log(app, clock, utc(2026, 11, 29, 22, 30), "/accepted asked a friend", "lee")  # 23:30 Sun
    await log(app, clock, utc(2026, 11, 29, 23, 30), "/rejected Monday already", "lee")  # 00:30 Mon


async def test_recap_has_sensible_totals_and_a_valid_png(app, repo, clock):
    await repo.save_schedule(schedule(recap="monday"), utc(2026, 11, 1))
    await seed(app, clock)
    reply = await weekly_recap(repo, await repo.get_schedule(COMMUNITY), MONDAY, app.deps.charts)
    text = reply.plain_text()
    print(text)
    assert "Weekly recap · 23–29 Nov" in text
    assert "This week: 6 asks: 3 no's, 2 yeses, 1 still waiting." in text
    assert "2 more than last week (4)" in text
    # lee's yes at 23:30 Sunday (Berlin) is in the week; the no at 00:30 Monday is not.
    assert "Leaderboard\n1. @ana · 3\n2. @sam · 2\n3. @lee · 1\n" in text
    assert "Bravest ask: @sam · pitched the big client (fear 8/10)" in text
    assert "very scary" not in text and "Monday already" not in text
    images = [b for b in reply.blocks if isinstance(b, Image)]
    assert len(images) == 1
    png = images[0].data
    assert png_size(png) == (700, 380)
    from matplotlib.image import imread

    pixels = imread(BytesIO(png), format="png")
    assert pixels.shape[:2] == (380, 700)
    assert images[0].filename == "whosnext-week-2026-11-23.png"
    assert "Mon 1, Tue 1, Wed 2, Thu 0, Fri 1, Sat 0, Sun 1" in images[0].alt


async def test_leaderboard_ties_share_a_rank(app, repo, clock):
    await repo.save_schedule(schedule(), utc(2026, 11, 1))
    await seed(app, clock)
    await log(app, clock, utc(2026, 11, 28, 10), "/rejected one more", "sam")
    reply = await weekly_recap(repo, await repo.get_schedule(COMMUNITY), MONDAY, app.deps.charts)
    assert "1. @ana · 3\n1. @sam · 3\n3. @lee · 1" in reply.plain_text()


async def test_without_a_chart_renderer_the_recap_and_stats_carry_no_picture(app, repo, clock):
    """The composition root wires the renderer in; a core built without one still answers."""
    from bot.app import App

    await repo.save_schedule(schedule(), utc(2026, 11, 1))
    await seed(app, clock)
    bare = App(repo, clock)
    reply = await weekly_recap(repo, await repo.get_schedule(COMMUNITY), MONDAY, bare.deps.charts)
    assert "This week: 6 asks" in reply.plain_text()
    assert not [b for b in reply.blocks if isinstance(b, Image)]
    stats = await run(bare, "/stats")
    assert "Asks" in stats.plain_text() and not [b for b in stats.blocks if isinstance(b, Image)]
    with_card = await run(app, "/stats")
    assert [b for b in with_card.blocks if isinstance(b, Image)]


async def test_a_quiet_week_gets_no_chart_and_no_scolding(app, repo, clock):
    await repo.save_schedule(schedule(), utc(2026, 11, 1))
    await log(app, clock, utc(2026, 11, 18, 10), "/rejected an older ask", "ana")
    reply = await weekly_recap(repo, await repo.get_schedule(COMMUNITY), MONDAY, app.deps.charts)
    text = reply.plain_text()
    assert not [b for b in reply.blocks if isinstance(b, Image)]
    assert "quiet week" in text and "fresh start" in text
    assert not reply.mentions()


async def test_monday_brings_the_check_in_then_the_recap(app, repo, clock):
    await repo.save_schedule(schedule(recap="monday"), utc(2026, 11, 1))
    await seed(app, clock)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    report = await sched.run_due(utc(2026, 11, 30, 8))  # Monday 09:00 Berlin
    assert report.posted == 2
    first, second = poster.texts()
    assert first.startswith("Check-in · Monday 30 Nov") and second.startswith("Weekly recap")
    assert (await sched.run_due(utc(2026, 11, 30, 8, 5))).posted == 0


async def test_cron_jobs_bring_the_check_in_then_the_recap(app, repo, clock):
    await repo.save_schedule(schedule(recap="monday"), utc(2026, 11, 1))
    await repo.save_schedule(schedule("weekdays", days="mon,tue,wed,thu,fri", recap="sunday"),
                             utc(2026, 11, 1))
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.start(catch_up=False, paused=True)
    try:
        clock.set(utc(2026, 11, 30, 8))  # Monday 09:00 Berlin: both jobs of "test" fire
        assert (await sched.fire("console:test", "recap")).posted == 0  # left to the check-in
        assert (await sched.fire("console:test", "checkin")).posted == 2
        assert [t.split(" ·")[0] for t in poster.texts()] == ["Check-in", "Weekly recap"]
        clock.set(utc(2026, 11, 29, 8))  # Sunday: no check-in for "weekdays", its recap alone
        assert (await sched.fire("console:weekdays", "recap")).posted == 1
        assert poster.posts[-1][0].id == "weekdays"
    finally:
        await sched.stop()
