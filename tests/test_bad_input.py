"""Bad input never crashes the bot and never writes anything unexpected."""

import asyncio
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.commands import available_commands
from bot.reply import Mention, Reply
from storage.connect import open_repository
from tests.helpers import COMMUNITY, FakeClock, caller

COMMANDS = [c.name for c in available_commands()]
TABLES = ("members", "attempts", "commitments", "cheers")
NASTY = ["", " ", '"', "who:", "fear:", 'who:"', "fear:11", "fear:-3", "fear:1e9", "area:",
         "private:maybe", "x" * 600, "\u202eevil\u202c", "\x00\x1b[2J", "@everyone", "@here",
         "<!channel>", "<@123>", "<@&456>", "<#C1>", "[link](http://evil)", "when:never",
         "period:year", "by:cheers", "member:<@U1>", "ask:", "who:a who:b", "\u200b", "𝕏" * 10,
         "ask:\"\"", "\n\n", "'single", "“curly", "»", "sql'); DROP TABLE attempts;--"]


def counts(loop, repo) -> dict[str, int]:
    return loop.run_until_complete(repo._read(lambda tx: {
        t: tx.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}))


def stored_texts(loop, repo) -> list[str]:
    rows = loop.run_until_complete(repo._read(lambda tx: tx.execute(
        "SELECT ask, who, lesson FROM attempts UNION ALL "
        "SELECT ask, NULL, NULL FROM commitments").fetchall()))
    return [v for row in rows for v in row if v is not None]


@pytest.fixture
def harness(database):
    """The real core on this test's database (both backends), on a loop of its own so that
    hypothesis can drive it from a plain function."""
    loop = asyncio.new_event_loop()
    repo = loop.run_until_complete(open_repository(database, db_clock=False))
    app = App(repo, FakeClock())
    yield loop, app, repo
    loop.run_until_complete(repo.close())
    loop.close()


def check(loop, app, repo, command: str, text: str) -> Reply:
    before = counts(loop, repo)
    reply = loop.run_until_complete(app.run_text(command, text, caller()))
    assert isinstance(reply, Reply)
    after = counts(loop, repo)
    if reply.error:
        assert after == before, (command, text, reply.plain_text())
    else:
        added = {t: after[t] - before[t] for t in TABLES}
        low = -1 if command.lower() == "undo" else 0
        assert all(low <= n <= 1 for n in added.values()), added
        if command.lower() not in ("rejected", "accepted", "pending", "who-next", "undo"):
            assert after["attempts"] == before["attempts"]
            assert after["commitments"] == before["commitments"]
    # The core pings nobody but the caller, whatever was typed.
    assert reply.mentions() <= {caller().member} or command == "leaderboard"
    for value in stored_texts(loop, repo):
        assert value == value.strip() and value
        assert not any(unicodedata.category(ch) == "Cc" for ch in value)
        assert not any(ch in value for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
        assert len(value) <= 500
    return reply


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("text", NASTY)
def test_nasty_inputs(harness, command, text):
    check(*harness, command, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS + ["bogus", "", "rejected!", "Rejected"]),
       text=st.text(max_size=700) | st.lists(
           st.sampled_from(NASTY + ["asked", "fear:7", "who:\"x y\"", "area:work", "private:true",
                                    "when:friday", "period:all", "by:rejections"]),
           max_size=6).map(" ".join))
def test_random_text_never_crashes_or_stores_junk(harness, command, text):
    check(*harness, command, text)


async def test_mentions_in_text_stay_plain_text(app):
    reply = await app.run_text("rejected", "told @everyone <!channel> and <@U123> about it",
                               caller())
    assert reply.mentions() == {caller().member}
    spans = [s for b in reply.blocks for s in getattr(b, "spans", ())]
    assert [s for s in spans if isinstance(s, Mention)] == [Mention(caller().member, "ana")]
    assert (await app.deps.repo.totals(COMMUNITY, caller().member)).rejected == 1
