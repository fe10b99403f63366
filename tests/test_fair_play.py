"""Fair play: the hourly limit on entries, per member."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.app import App
from tests.helpers import COMMUNITY, caller, run


def text(reply) -> str:
    return reply.plain_text()


async def test_hourly_limit(repo, clock):
    app = App(repo, clock, max_logs_per_hour=5)
    for i in range(4):
        await run(app, f"/rejected {i}")
        clock.advance(minutes=1)
    await run(app, "/who-next one more promise")
    limited = await run(app, "/rejected too many")
    assert limited.error and "5 entries in the last hour" in text(limited)
    assert (await run(app, "/who-next another")).error
    assert (await repo.totals(COMMUNITY, caller().member)).attempts == 4
    assert not (await run(app, "/rejected someone else", who="sam")).error  # per member
    clock.advance(minutes=57)  # the first entry is now over an hour old
    assert not (await run(app, "/rejected back again")).error


async def test_the_hourly_limit_says_when_logging_opens_again(repo, clock):
    app = App(repo, clock, max_logs_per_hour=3)
    await run(app, "/timezone Asia/Kolkata")  # the time is said in the member's zone
    start = clock.now()
    for i in range(3):
        await run(app, f"/rejected {i}")
        clock.advance(minutes=10)
    limited = await run(app, "/rejected too many")  # 30 minutes after the first
    opens = (start + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"You can log again at {opens:%H:%M} (in 30 minutes)." in text(limited)
    clock.advance(minutes=29, seconds=30)
    assert "(in 1 minute)." in text(await run(app, "/who-next a promise"))
    clock.advance(seconds=31)
    assert not (await run(app, "/rejected right on time")).error  # when it said
