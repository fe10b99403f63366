"""/dare: the draw rule, "I'll do it", the community's own dares (admins), today's dare in the
check-in, and the terminal."""

import asyncio
from datetime import date, timedelta

import pytest

from bot import dares
from bot.commands import AREAS, DARE_LEVELS, get_command
from bot.dares import DECK, Dare, community_deck, draw, fold, matching, of_the_day
from bot.handlers.dare import MOST_DARES, dare_of_the_day
from bot.models import CommunityDare
from bot.reply import Action, Buttons
from tests.helpers import COMMUNITY, caller, press, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


def text(reply) -> str:
    return reply.plain_text()


def button(reply) -> Action:
    [buttons] = [b for b in reply.blocks if isinstance(b, Buttons)]
    [only] = buttons.buttons
    assert only.label == "I'll do it"
    return only.action


def dare_text(reply) -> str:
    line = text(reply).splitlines()[0]
    assert line.startswith("Your dare: "), line
    return line.removeprefix("Your dare: ")


async def admin(app, line: str, who: str = "ana"):
    command, _, rest = line.lstrip("/").partition(" ")
    return await app.run_text(command, rest, caller(who, admin=True))


async def open_promises(repo, who: str = "ana"):
    commitments, _pending = await repo.open_items(COMMUNITY, caller(who).member)
    return commitments


# -- the deck and the draw rule ------------------------------------------------------------------

def test_the_deck_is_ours_and_well_formed():
    assert len(DECK) >= 40
    assert all(d.area in AREAS and d.level in DARE_LEVELS and d.idea for d in DECK)
    assert len({fold(d.text) for d in DECK}) == len(DECK)  # no two alike
    assert {d.area for d in DECK} == set(AREAS)
    assert all(len(d.text) <= 300 for d in DECK)  # each fits a promise


def test_draw_never_gives_the_last_one_and_filters():
    work_hard = matching(DECK, "work", "hard")
    assert work_hard and all(d.area == "work" and d.level == "hard" for d in work_hard)
    assert all(d.level == "easy" for d in matching(DECK, level="easy"))
    assert matching(DECK) == list(DECK)
    for seed in range(50):
        last = work_hard[0].text
        picked = draw(work_hard, seed, last)
        assert picked is not None and picked.text != last
    only = [work_hard[0]]
    assert draw(only, 3, only[0].text) is None  # the only one was the last: none
    assert draw(only, 3, None) == only[0]
    assert draw([], 1) is None  # a filter that matches nothing


def test_of_the_day_is_fixed_for_a_day_and_moves_on():
    day = date(2026, 12, 2)
    assert of_the_day(DECK, day) == of_the_day(DECK, day)
    run_of_days = [of_the_day(DECK, day + timedelta(days=i)) for i in range(len(DECK))]
    assert len(set(run_of_days)) == len(DECK)  # every dare comes round before any twice
    own = (CommunityDare(1, "Ask the café to stock your zine.", "creative", "easy"),)
    deck = community_deck(own)
    assert deck[-1] == Dare(own[0].text, "creative", "easy", dares.OWN_IDEA)
    days = [dare_of_the_day(day + timedelta(days=i), own) for i in range(len(deck))]
    assert any(d.text == own[0].text for d in days)  # the community's own come round too


def test_slack_asks_who_is_an_admin_only_for_the_admin_actions():
    spec = get_command("dare")
    assert spec is not None and not spec.admin_only
    for words in ("add text:x", "list", "REMOVE number:2", "action:add text:x",
                  'text:"x" action:list'):
        assert spec.asks_admin(words), words
    for words in ("", "area:work level:hard", 'text:"add"', "additional"):
        assert not spec.asks_admin(words), words
    assert get_command("checkin").asks_admin("")  # an admin-only command always does
    assert not get_command("rejected").asks_admin("add")


def test_fold_compares_dares_as_people_would():
    assert fold("  Ask FOR a  raise! ") == fold("ask for a raise") == "ask for a raise"
    assert fold("Ask for a raise?") != fold("Ask for a rise")


async def test_dare_is_private_never_twice_in_a_row_and_remembered(app, repo):
    seen = []
    for _ in range(30):
        reply = await run(app, "/dare")
        assert not reply.error and reply.private
        seen.append(dare_text(reply))
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False))
    assert len(set(seen)) > 5  # it isn't stuck on two
    last = await repo.last_dare(COMMUNITY, caller().member)
    assert last is not None and last.text == seen[-1] and last.seq == 30
    assert await repo.last_dare(COMMUNITY, caller("sam").member) is None


async def test_area_and_level_narrow_the_draw(app):
    for _ in range(6):
        reply = await run(app, "/dare area:money level:hard")
        assert not reply.error
        picked = dare_text(reply)
        assert any(d.text == picked and d.area == "money" and d.level == "hard" for d in DECK)
        assert "money, hard" in text(reply)
    reply = await run(app, "/dare level:easy")
    assert any(d.text == dare_text(reply) and d.level == "easy" for d in DECK)


async def test_a_filter_with_nothing_fresh_is_a_friendly_no(app, repo):
    [only] = matching(DECK, "social", "hard")
    first = await run(app, "/dare area:social level:hard")
    assert dare_text(first) == only.text
    again = await run(app, "/dare area:social level:hard")
    assert again.error and "only hard social dare is the one you had last time" in text(again)
    assert "Try another area or level" in text(again)
    last = await repo.last_dare(COMMUNITY, caller().member)
    assert last is not None and last.seq == 1  # nothing changed


@pytest.mark.parametrize("line, words", [
    ("/dare area:space", "`area` can be"), ("/dare level:brutal", "`level` can be"),
    ("/dare text:hello", "`text` doesn't go with a dare"),
    ("/dare number:2", "`number` doesn't go with a dare"),
    ("/dare colour:red", "no option `colour`"), ("/dare area:", "has no value"),
    ("/dare work", "`action` can be add, list, remove"),
])
async def test_bad_draws_change_nothing(app, repo, line, words):
    reply = await run(app, line)
    assert reply.error and words in text(reply), text(reply)
    assert await repo.last_dare(COMMUNITY, caller().member) is None


# -- "I'll do it" ---------------------------------------------------------------------------------

async def test_ill_do_it_makes_one_promise_due_today(app, repo, clock):
    reply = await run(app, "/dare")
    picked, action = dare_text(reply), button(reply)
    made = await press(app, action)
    assert not made.error and not made.private  # a promise is public, as /who-next's
    assert f"@ana is going to ask: {picked}" in text(made) and "Due today." in text(made)
    [promise] = await open_promises(repo)
    assert promise.ask == picked and promise.channel_id == "general" and promise.zone == "UTC"
    assert promise.due_at.date() == clock.now().date()
    again = await press(app, action)  # a double press
    assert again.error and "Already promised, and waiting for you" in text(again)
    assert len(await open_promises(repo)) == 1


async def test_two_presses_at_once_make_one_promise(app, repo):
    action = button(await run(app, "/dare"))
    replies = await asyncio.gather(press(app, action), press(app, action))
    assert sum("is going to ask" in text(r) for r in replies) == 1
    assert len(await open_promises(repo)) == 1


async def test_a_press_for_an_earlier_dare_or_a_forged_one_is_refused(app, repo):
    first = button(await run(app, "/dare"))
    await run(app, "/dare")
    stale = await press(app, first)
    assert stale.error and "isn't your latest" in text(stale)
    forged = await press(app, Action("dare", "x1"))
    assert forged.error and "doesn't look right" in text(forged)
    other = await press(app, first, who="sam")  # sam has no dare
    assert other.error
    assert await open_promises(repo) == [] and await open_promises(repo, "sam") == []


async def test_ill_do_it_respects_the_hourly_limit(repo, clock):
    from bot.app import App

    app = App(repo, clock, max_logs_per_hour=2)
    await run(app, "/rejected one")
    await run(app, "/rejected two")
    action = button(await run(app, "/dare"))
    limited = await press(app, action)
    assert limited.error and "hour" in text(limited)
    assert await open_promises(repo) == []
    clock.advance(hours=1, minutes=1)
    assert not (await press(app, action)).error  # the same dare, once the hour is up
    assert len(await open_promises(repo)) == 1


async def test_due_today_in_the_members_zone(app, repo, clock):
    clock.set(utc(2026, 12, 2, 23, 30))  # 23:30 UTC is already Thursday in Berlin
    await run(app, "/timezone Europe/Berlin")
    made = await press(app, button(await run(app, "/dare")))
    assert "Due today." in text(made)
    [promise] = await open_promises(repo)
    assert promise.zone == "Europe/Berlin"
    assert promise.due_at == utc(2026, 12, 3, 22, 59, 59)  # the end of Thursday in Berlin


# -- the community's own dares --------------------------------------------------------------------

async def test_admins_add_list_and_remove_their_own(app, repo):
    added = await admin(app, '/dare add text:"Ask the café to stock your zine." area:creative '
                        'level:easy')
    assert not added.error and added.private
    assert "Dare 1 added: Ask the café to stock your zine. (creative, easy)" in text(added)
    plain = await admin(app, '/dare add text:"Ask a stranger which book changed them"')
    assert "Dare 2 added" in text(plain) and "(other, medium)" in text(plain)  # the defaults
    listed = await admin(app, "/dare list")
    assert "1. Ask the café to stock your zine. (creative, easy)" in text(listed)
    assert "2. Ask a stranger which book changed them (other, medium)" in text(listed)
    assert "2 of at most 200" in text(listed)
    removed = await admin(app, "/dare remove number:1")
    assert "Dare 1 removed: Ask the café to stock your zine." in text(removed)
    again = await admin(app, "/dare remove number:1")
    assert again.error and "no dare number 1" in text(again)
    third = await admin(app, '/dare add text:"Ask your landlord for a fresh coat of paint"')
    assert "Dare 3 added" in text(third)  # numbers stay as they were
    assert [d.number for d in await repo.community_dares(COMMUNITY)] == [2, 3]
    other = caller("bo", admin=True, community=COMMUNITY.__class__(COMMUNITY.platform, "else"))
    assert "No dares of your community's own" in text(
        await app.run_text("dare", "list", other))  # each community its own


async def test_community_dares_join_the_deck_and_the_button(app, repo):
    await admin(app, '/dare add text:"Ask the bakery for yesterday\'s bread" area:money '
                'level:hard')
    seen = {dare_text(r) for r in [await run(app, "/dare area:money level:hard")
                                   for _ in range(12)]}
    assert "Ask the bakery for yesterday's bread" in seen
    assert {d.text for d in matching(DECK, "money", "hard")} <= seen


async def test_only_admins_look_after_the_dares(app, repo):
    await admin(app, '/dare add text:"Ask the café to stock your zine."')
    for line in ('/dare add text:"Ask the mayor for a coffee"', "/dare list",
                 "/dare remove number:1"):
        reply = await run(app, line, who="sam")
        assert reply.error and "is for admins of this community" in text(reply)
    assert [d.number for d in await repo.community_dares(COMMUNITY)] == [1]


@pytest.mark.parametrize("line, words", [
    ("/dare add", "What's the dare?"),
    ("/dare add area:work", "What's the dare?"),
    ('/dare add text:"ask"', "a bit short"),
    ("/dare add text:" + "x" * 301, "the most is 300"),
    ('/dare add text:"Ask a stranger for a recommendation: a book, a café, a walk"',
     "in the deck already"),
    ('/dare add text:"Ask the café to stock your ZINE"', "has that dare already: number 1"),
    ('/dare add text:"Ask the mayor for a coffee" area:space', "`area` can be"),
    ('/dare add text:"Ask the mayor for a coffee" level:brutal', "`level` can be"),
    ('/dare add text:"Ask the mayor for a coffee" number:3', "`number` doesn't go with"),
    ("/dare list area:work", "`area` doesn't go with /dare list"),
    ("/dare list number:2", "1 page of dares; 2 is past the end"),
    ("/dare remove", "Which dare?"), ("/dare remove number:0", "goes from 1"),
    ("/dare remove number:two", "whole number"), ("/dare remove number:7", "no dare number 7"),
    ('/dare remove number:1 text:"x"', "`text` doesn't go with /dare remove"),
    ("/dare lsit", "Did you mean `list`?"),
])
async def test_bad_admin_input_changes_nothing(app, repo, line, words):
    await admin(app, '/dare add text:"Ask the café to stock your zine."')
    reply = await admin(app, line)
    assert reply.error and words in text(reply), text(reply)
    assert [d.text for d in await repo.community_dares(COMMUNITY)] == [
        "Ask the café to stock your zine."]


async def test_a_community_holds_at_most_200_and_the_list_pages(app, repo):
    for i in range(MOST_DARES):
        reply = await admin(app, f'/dare add text:"Ask neighbour number {i} for a hand"')
        assert not reply.error
    full = await admin(app, '/dare add text:"Ask one more neighbour for a hand"')
    assert full.error and "200 dares of its own" in text(full)
    assert len(await repo.community_dares(COMMUNITY)) == MOST_DARES
    first = await admin(app, "/dare list")
    assert "page 1 of 20" in text(first) and "Next page: /dare list number:2" in text(first)
    assert "10. Ask neighbour number 9 " in text(first) and "11." not in text(first)
    last = await admin(app, "/dare list number:20")
    assert "200. Ask neighbour number 199" in text(last) and "Next page" not in text(last)


# -- today's dare in the check-in -----------------------------------------------------------------

async def test_checkin_set_dare_on_and_off(app, repo):
    on = await admin(app, "/checkin set time:09:00 dare:on")
    assert not on.error and "Each carries today's dare." in text(on)
    assert (await repo.get_schedule(COMMUNITY)).dare
    kept = await admin(app, "/checkin set time:10:00")  # untouched: kept
    assert (await repo.get_schedule(COMMUNITY)).dare and "today's dare" in text(kept)
    await admin(app, "/checkin set dare:off")
    assert not (await repo.get_schedule(COMMUNITY)).dare
    bad = await admin(app, "/checkin set dare:maybe")
    assert bad.error and "`dare` can be on, off" in text(bad)
    assert not (await repo.get_schedule(COMMUNITY)).dare
    wrong = await admin(app, "/checkin show dare:on")
    assert wrong.error and "only goes with /checkin set" in text(wrong)


async def test_the_checkin_carries_todays_dare_the_same_for_everyone(app, repo, clock):
    clock.set(utc(2026, 12, 1, 12))
    await admin(app, '/dare add text:"Ask the café to stock your zine." area:creative')
    await admin(app, "/checkin set time:09:00 days:daily zone:UTC dare:on")
    await run(app, "/rejected asked for a raise")
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await sched.run_due(utc(2026, 12, 2, 9))
    own = await repo.community_dares(COMMUNITY)
    expected = dare_of_the_day(date(2026, 12, 2), own)
    [(_, channel, reply)] = poster.posts
    lines = text(reply).splitlines()
    assert channel == "general" and f"Today's dare: {expected.text}" in lines
    assert lines.index(f"Today's dare: {expected.text}") < len(lines) - 1  # before the how-to
    preview = await admin(app, "/checkin preview")  # tomorrow's: the next day's dare
    assert (f"Today's dare: {dare_of_the_day(date(2026, 12, 3), own).text}"
            in text(preview))
    await sched.run_due(utc(2026, 12, 3, 9))  # a quiet day carries one too
    assert (f"Today's dare: {dare_of_the_day(date(2026, 12, 3), own).text}"
            in text(poster.posts[-1][2]))


async def test_the_checkin_draws_the_communitys_own_on_its_day(app, repo, clock):
    clock.set(utc(2026, 12, 1, 12))
    await admin(app, '/dare add text:"Ask the café to stock your zine." area:creative')
    await admin(app, "/checkin set time:09:00 days:daily zone:UTC dare:on")
    own = await repo.community_dares(COMMUNITY)
    day = next(date(2026, 12, 2) + timedelta(days=i) for i in range(len(DECK) + 1)
               if dare_of_the_day(date(2026, 12, 2) + timedelta(days=i), own).text
               == own[0].text)
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(utc(day.year, day.month, day.day, 9))
    await sched.run_due(clock.now())
    assert "Today's dare: Ask the café to stock your zine." in text(poster.posts[-1][2])


async def test_without_dare_on_the_checkin_has_none(app, repo, clock):
    clock.set(utc(2026, 12, 1, 12))
    await admin(app, "/checkin set time:09:00 days:daily zone:UTC")
    poster = RecordingPoster()
    await make_scheduler(repo, app, poster, clock).run_due(utc(2026, 12, 2, 9))
    assert "Today's dare" not in text(poster.posts[0][2])


# -- the terminal ---------------------------------------------------------------------------------

async def test_dare_in_the_terminal(repo, clock):
    import io

    from adapters.console import Console
    from bot.app import App

    out = io.StringIO()
    console = Console(App(repo, clock), "ana", out=out)
    await console.handle_line('/dare add text:"Ask the café to stock your zine." area:creative')
    await console.handle_line("/dare area:creative level:easy")
    await console.handle_line("!1")
    await console.handle_line("!1")
    printed = out.getvalue()
    print(printed)
    assert "Dare 1 added" in printed and "Your dare: " in printed and "[1 I'll do it]" in printed
    assert "is going to ask:" in printed and "Due today." in printed
    assert "Already promised, and waiting for you" in printed
    commitments, _ = await repo.open_items(console.caller("ana").community,
                                           console.caller("ana").member)
    assert len(commitments) == 1


async def test_0013_carries_schedules_forward_with_no_dare(tmp_path, monkeypatch, clock):
    import sqlite3

    from bot.app import App
    from storage import migrate
    from storage.sqlite import SqliteRepository

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    known = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: known[:12])
    migrate.apply(conn)
    conn.execute("INSERT INTO schedules (community_id, channel_id, timezone, local_time, days, "
                 "recap_day, enabled, updated_at) VALUES (?, 'general', 'UTC', '09:00', "
                 "'mon', 'monday', 1, '2026-11-01T00:00:00.000000Z')", (COMMUNITY.key,))
    conn.close()
    monkeypatch.setattr(migrate, "migrations", lambda: known)
    repo = await SqliteRepository.open(path)
    try:
        schedule = await repo.get_schedule(COMMUNITY)
        assert schedule is not None and not schedule.dare and schedule.time == "09:00"
        app = App(repo, clock)
        assert not (await admin(app, "/checkin set dare:on")).error
        assert (await repo.get_schedule(COMMUNITY)).dare
        assert await repo.community_dares(COMMUNITY) == ()
    finally:
        await repo.close()
