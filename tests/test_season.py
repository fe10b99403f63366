"""Seasons: /season start, end, history and show, their refusals and bad input, the season's
leaderboard, and champions (ties shared, private asks never named)."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.handlers.season import chart_buckets
from bot.models import OutboxState, PostKind
from bot.reply import Mention, Strong, Text
from tests.helpers import COMMUNITY, caller, run


def text(reply) -> str:
    return reply.plain_text()


async def admin(app, line: str, who: str = "boss"):
    command, _, rest = line.lstrip("/").partition(" ")
    return await app.run_text(command, rest, caller(who, admin=True))


async def outbox_seasons(repo, clock):
    """The season posts queued in the outbox (claimed to look at them)."""
    claimed, _ = await repo.claim_posts("test", clock.now(), timedelta(seconds=60), 100)
    return [i for i in claimed if i.kind == PostKind.SEASON]


async def test_start_show_end_and_history(app, repo, clock):
    started = await admin(app, '/season start name:"Q1 push" end:2026-12-31')
    assert not started.error and not started.private
    assert "A new season is on: “Q1 push”, until Thu 31 Dec 2026 (36 days)" in text(started)
    await run(app, "/rejected asked for a raise fear:6", who="ana")
    await run(app, "/accepted asked for a table", who="ben")
    await run(app, "/rejected asked for a discount", who="ben")
    shown = await run(app, "/season")
    assert "Season: Q1 push" in text(shown)
    assert "36 days left, today included" in text(shown)
    assert "Leading so far: @ben (2), @ana (1)" in text(shown)
    clock.advance(days=2)
    ended = await admin(app, "/season end")
    assert not ended.error and "“Q1 push” is over: 3 asks, 26 Nov to Sat 28 Nov 2026" in text(ended)
    assert await repo.running_season(COMMUNITY) is None
    (post,) = await outbox_seasons(repo, clock)
    assert post.target == "general" and post.state == OutboxState.CLAIMED  # where it started
    history = text(await run(app, "/season history"))
    assert "Hall of fame" in history
    assert "“Q1 push” · 2026-11-26 to 2026-11-28 · 3 asks" in history
    assert "Most asks: @ben with 2 asks" in history
    assert "Most no's: @ana and @ben, 1 no each: a shared crown!" in history
    assert "Bravest ask: @ana · asked for a raise (fear 6/10)" in history
    # After it: /season says none runs and names the last one.
    after = await run(app, "/season")
    assert after.private and "No season is running" in text(after) and "Q1 push" in text(after)


async def test_a_second_start_is_refused_naming_the_running_one(app, repo):
    await admin(app, '/season start name:"Q1 push" end:2026-12-31')
    again = await admin(app, '/season start name:"Another" end:2026-12-20')
    assert again.error and "“Q1 push” is running until Thu 31 Dec 2026" in text(again)
    assert "/season end" in text(again)
    running = await repo.running_season(COMMUNITY)
    assert running.name == "Q1 push"
    assert [r.season.name for r in await repo.season_history(COMMUNITY)] == []


async def test_members_can_look_but_only_admins_start_and_end(app, repo):
    for line in ('/season start name:"Mine" end:2026-12-31', "/season end"):
        reply = await run(app, line)
        assert reply.error and "for admins" in text(reply)
    assert await repo.running_season(COMMUNITY) is None
    assert "No season has ended here yet" in text(await run(app, "/season history"))
    assert "No season is running right now" in text(await run(app, "/season"))


async def test_ending_with_none_running_changes_nothing(app, repo, clock):
    reply = await admin(app, "/season end")
    assert reply.private and not reply.error and "No season is running" in text(reply)
    assert await outbox_seasons(repo, clock) == []


@pytest.mark.parametrize("line, option, words", [
    ("/season start end:2026-12-31", "name", "Give the new season a name"),
    ('/season start name:"Q1"', "end", "When is the season's last day"),
    ('/season start name:"Q1" end:2026-11-25', "end", "already past"),
    ('/season start name:"Q1" end:2020-01-01', "end", "already past"),
    ('/season start name:"Q1" end:2027-11-28', "end", "a year at most"),
    ('/season start name:"Q1" end:tomorrow', "end", "takes a date"),
    ('/season start name:"Q1" end:2026-02-30', "end", "takes a date"),
    ('/season start name:"!!!" end:2026-12-31', "name", "needs a letter or a number"),
    ('/season start name:"' + "x" * 61 + '" end:2026-12-31', "name", "the most is 60"),
    ('/season start name:"" end:2026-12-31', "name", "has no value"),
    ('/season finish', "action", "can be start, end, history"),
    ('/season end name:"Q1"', "name", "only goes with /season start"),
    ('/season history end:2026-12-31', "end", "only goes with /season start"),
    ('/season start name:"Q1" end:2026-12-31 color:red', "color", "no option `color`"),
])
async def test_bad_input_is_refused_kindly_and_changes_nothing(app, repo, line, option, words):
    reply = await admin(app, line)
    assert reply.error and words in text(reply), text(reply)
    assert reply.error_option == option
    assert await repo.running_season(COMMUNITY) is None


async def test_a_season_may_end_today_and_its_name_stays_plain_text(app, repo):
    reply = await admin(app, '/season start name:"@everyone <!channel> <@123>" end:2026-11-26')
    assert not reply.error and "(1 day)" in text(reply)
    assert reply.mentions() == frozenset()  # the name is never a mention
    names = [s for b in reply.blocks if isinstance(b, Text) for s in b.spans
             if isinstance(s, Strong) and "everyone" in s.text]
    assert names == [Strong("“@everyone <!channel> <@123>”")]


async def test_the_season_leaderboard(app, repo, clock):
    none = await run(app, "/leaderboard period:season")
    assert none.private and "No season is running" in text(none)
    await run(app, "/rejected before the season", who="cy")  # not counted in it
    clock.advance(minutes=1)
    await admin(app, '/season start name:"Winter" end:2026-12-31')
    for who, line in [("ana", "/rejected a"), ("ana", "/accepted b"), ("ben", "/rejected c"),
                      ("ben", "/rejected d"), ("dee", "/pending e")]:
        await run(app, line, who=who)
    board = text(await run(app, "/leaderboard period:season"))
    assert "Leaderboard: asks, in “Winter”" in board
    assert "1. @ana · 2\n1. @ben · 2\n3. @dee · 1" in board and "cy" not in board
    assert "runs until Thu 31 Dec 2026" in board
    nos = text(await run(app, "/leaderboard period:season by:rejections", who="dee"))
    assert "1. @ben · 2\n2. @ana · 1" in nos
    assert "You're not on this board yet" in nos
    clock.advance(days=1)
    await admin(app, "/season end")
    final = text(await run(app, "/leaderboard period:season"))
    assert "Leaderboard: asks, in “Winter”, final" in final and "1. @ana · 2" in final
    assert "this is how “Winter” ended" in final
    clock.advance(minutes=1)
    await run(app, "/rejected after the season", who="cy")
    assert "cy" not in text(await run(app, "/leaderboard period:season"))
    # The other periods read as before.
    assert "Leaderboard: asks, this week" in text(await run(app, "/leaderboard"))


async def test_champions_never_name_a_private_ask(app, repo, clock):
    await admin(app, '/season start name:"Brave" end:2026-12-31')
    await run(app, "/rejected my secret ask fear:10 private:true", who="ana")
    await run(app, "/rejected a public ask fear:7", who="ben")
    await run(app, "/rejected another public one fear:7", who="cy")
    await run(app, "/rejected no fear given", who="dee")
    clock.advance(hours=1)
    ended = await admin(app, "/season end")
    result = await repo.season_result(COMMUNITY, (await repo.season_history(COMMUNITY))[0]
                                      .season.id, with_days=True)
    assert [b.attempt.ask for b in result.bravest] == ["a public ask", "another public one"]
    assert result.totals.attempts == 4 and result.members == 4
    # Everyone with one ask shares the crown; the first five are named, the rest counted.
    assert [r.name for r in result.most_asks] == ["ana", "ben", "cy", "dee"]
    history = text(await run(app, "/season history"))
    assert "secret" not in history and "secret" not in text(ended)
    assert "Bravest ask: @ben · a public ask (fear 7/10)" in history
    assert "Bravest ask: @cy · another public one (fear 7/10)" in history
    assert "Most asks: @ana, @ben, @cy and @dee, 1 ask each: a shared crown!" in history


async def test_only_private_fear_means_no_bravest_ask(app, repo, clock):
    await admin(app, '/season start name:"Quiet" end:2026-12-31')
    await run(app, "/rejected hush fear:9 private:true", who="ana")
    clock.advance(hours=1)
    await admin(app, "/season end")
    (result,) = await repo.season_history(COMMUNITY)
    assert result.bravest == () and [r.name for r in result.most_asks] == ["ana"]
    history = await run(app, "/season history")
    assert "Bravest" not in text(history) and "hush" not in text(history)
    assert history.mentions() == {caller("ana").member}
    assert any(isinstance(s, Mention) for b in history.blocks if isinstance(b, Text)
               for s in b.spans)


async def test_many_tied_champions_are_counted_after_five(app, repo, clock):
    await admin(app, '/season start name:"Crowd" end:2026-12-31')
    for who in ["a1", "a2", "a3", "a4", "a5", "a6", "a7"]:
        await run(app, "/accepted yes", who=who)
    clock.advance(hours=1)
    await admin(app, "/season end")
    history = text(await run(app, "/season history"))
    assert "Most asks: @a1, @a2, @a3, @a4, @a5 and 2 more, 1 ask each" in history
    assert "Most no's" not in history  # nobody got a no: no title


async def test_an_empty_season_ends_kindly(app, repo, clock):
    await admin(app, '/season start name:"Empty" end:2026-12-31')
    clock.advance(days=1)
    ended = await admin(app, "/season end")
    assert "0 asks" in text(ended)
    assert "No asks were logged in this one" in text(await run(app, "/season history"))


async def test_a_new_season_starts_after_the_last_ended(app, repo, clock):
    await admin(app, '/season start name:"One" end:2026-11-30')
    clock.advance(days=1)
    await admin(app, "/season end")
    clock.advance(days=1)
    assert not (await admin(app, '/season start name:"Two" end:2026-12-31')).error
    assert (await repo.running_season(COMMUNITY)).name == "Two"
    assert [r.season.name for r in await repo.season_history(COMMUNITY)] == ["One"]


async def test_help_explains_season(app):
    help_text = text(await run(app, "/help season"))
    assert "/season" in help_text and "start, end or history" in help_text
    assert "2027-03-31" in help_text


def test_chart_buckets_stay_few():
    d = datetime(2026, 1, 1).date
    assert chart_buckets(d(), d())[0] == 1
    step, starts = chart_buckets(datetime(2026, 1, 1).date(), datetime(2026, 1, 14).date())
    assert step == 1 and len(starts) == 14
    step, starts = chart_buckets(datetime(2026, 1, 1).date(), datetime(2026, 3, 31).date())
    assert step == 7 and len(starts) <= 14
    step, starts = chart_buckets(datetime(2026, 1, 1).date(), datetime(2027, 1, 1).date())
    assert step == 28 and len(starts) <= 14


def test_a_season_in_the_terminal(tmp_path):
    """`whosnext console` with piped input: start, log, the board, end, the hall of fame."""
    from tests.test_console import whosnext

    soon = (datetime.now() + timedelta(days=7)).date().isoformat()
    script = "\n".join([
        '/season start name:"Q1 push" end:2099-01-01',  # too far off: refused
        '/season start name:"Q1 push" end:' + soon,
        '/season start name:"Again" end:' + soon,
        "/rejected asked for a raise fear:7",
        "sam> /rejected asked for a discount",
        "sam> /accepted asked for a table",
        "sam> /season end",  # not an admin
        "/leaderboard period:season",
        "/season",
        "/season end",
        "/season history",
        "",
    ])
    out = whosnext(["console", "--db", str(tmp_path / "season.db"), "--user", "ana"], script,
                   tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "A season runs a year at most" in text
    assert "A new season is on: “Q1 push”" in text
    assert "(only ana sees this) The season “Q1 push” is running until" in text
    assert "(only sam sees this) Starting and ending seasons is for admins" in text
    assert "Leaderboard: asks, in “Q1 push”" in text and "1. @sam · 2\n2. @ana · 1" in text
    assert "Leading so far: @sam (2), @ana (1)" in text
    assert "“Q1 push” is over: 3 asks" in text
    assert "== Hall of fame ==" in text
    assert "Most asks: @sam with 2 asks" in text
    assert "Bravest ask: @ana · asked for a raise (fear 7/10)" in text


async def test_the_terminal_shows_the_season_post(app, repo, clock, tmp_path):
    import io

    from adapters.console import Console, ConsolePoster
    from bot.ids import Platform
    from bot.scheduler import Scheduler

    out = io.StringIO()
    console = Console(app, "ana", "test", out=out, files_dir=tmp_path / "charts")
    sched = Scheduler(repo, app, {Platform.CONSOLE: ConsolePoster(console)}, clock,
                      communities=[console.community])
    await console.handle_line('/season start name:"Sprint" end:2026-12-31')
    await console.handle_line("/rejected asked for a raise fear:7")
    await console.handle_line("sam> /rejected my secret fear:9 private:true")
    clock.advance(hours=2)
    await console.handle_line("/season end")
    await sched.drain()
    await sched.drain()
    text = out.getvalue()
    assert text.count("== Season over · Sprint ==") == 1
    assert "--- scheduled post in #general ---\n== Season over · Sprint ==" in text
    assert "Most no's: @ana and @sam, 1 no each: a shared crown!" in text
    assert "Bravest ask: @ana · asked for a raise (fear 7/10)" in text and "secret" not in text
    (chart,) = (tmp_path / "charts").glob("whosnext-season-*.png")
    assert f"saved to {chart}" in text


async def test_a_season_past_its_end_is_ended_before_the_next_starts(app, repo, clock):
    """No scheduler ran at its end (a bot down over midnight): /season says so, and the next
    /season start ends it first, at its own end, with its post queued."""
    await admin(app, '/season start name:"Short" end:2026-11-26')
    await run(app, "/rejected inside")
    clock.set(datetime(2026, 11, 27, 0, 30, tzinfo=UTC))
    await run(app, "/rejected outside")
    assert "its champions are on their way" in text(await run(app, "/season"))
    assert not (await admin(app, '/season start name:"Next" end:2026-12-31')).error
    (old,) = await repo.season_history(COMMUNITY)
    assert old.season.ended_at == datetime(2026, 11, 27, tzinfo=UTC)
    assert old.totals.attempts == 1
    assert [p.subject for p in await outbox_seasons(repo, clock)] == [str(old.season.id)]
