"""Fair play: the hourly limit on entries, per member."""

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
