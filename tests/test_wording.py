"""Counts read right for one: "1 ask, 1 promise", "1 no", never "1 asks"."""

from tests.helpers import run


def text(reply) -> str:
    return reply.plain_text()


async def test_text_counts_read_right_for_one(app):
    await run(app, "/accepted one")
    await run(app, "/who-next one promise")
    assert "1 ask and 1 promise." in text(await run(app, "/export"))
    assert "Goal set: 1 no." in text(await run(app, "/goal 1"))
    empty = text(await run(app, "/leaderboard by:rejections"))  # a yes is not a no
    assert "No no's logged this week yet" in empty and "one no puts you there" not in empty
