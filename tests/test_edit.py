"""/edit: the list of latest entries and its paging, the Edit button's filled-in form, direct
edits and their bad input (nothing changes), every count kept equal to a recount from the
attempts (both backends), milestones celebrated once whatever edits and undos did, the change
reaching the entry's public posts through the outbox (and private text never), /export and
/forget-me, and the terminal."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.console import Console, ConsolePoster
from bot.handlers.edit import NOT_FOUND, PER_PAGE
from bot.ids import Platform
from bot.invocation import ActionInvocation
from bot.models import OutboxState, Outcome, Period, PostKind, RankBy, Totals
from bot.outbox import EDIT_UNDONE
from bot.reply import Action, Visibility
from bot.scheduler import Scheduler
from tests.helpers import COMMUNITY, caller, press, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc
from tests.scheduler.test_news import followup_buttons, in_dm
from tests.test_console import whosnext
from tests.test_member_aggregates import kept, recount

ANA = caller("ana").member


async def logged(app, line: str, who: str = "ana") -> int:
    """Log an ask; its attempt id (off its Cheer button)."""
    reply = await run(app, line, who)
    assert not reply.error, reply.plain_text()
    (cheer,) = reply.buttons()
    assert cheer.action.name == "cheer"
    return int(cheer.action.value)


async def edit_rows(repo) -> list[tuple[str, str, str, str | None]]:
    rows = await repo._read(lambda tx: tx.execute(
        "SELECT subject, target, state, reason FROM outbox WHERE kind = ? ORDER BY id",
        (PostKind.EDIT.value,)).fetchall())
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def attempt(repo, attempt_id: int):
    return await repo.entry(COMMUNITY, ANA, attempt_id)


def ok(reply) -> str:
    assert not reply.error, reply.plain_text()
    assert reply.visibility is Visibility.PRIVATE
    return reply.plain_text()


# -- the terminal -------------------------------------------------------------------------------

def test_terminal_transcript(tmp_path):
    script = "\n".join([
        "/edit",
        '/rejected asked for a raise who:"my boss" fear:7',
        "/accepted asked for feedback area:work",
        "/pending asked the bank",
        "/edit",
        "/edit outcome:yes",
        '/edit entry:2 lesson:"ask earlier" area:money',
        "/edit entry:2 clear:lesson,area",
        "/edit entry:3 private:true",
        "/edit entry:abc outcome:no",
        "/edit entry:0 outcome:no",
        "/edit clear:ask",
        "/edit who:bob clear:who",
        "/edit outcome:maybe",
        "/edit outcome:yes",
        "/edit entry:9 outcome:no",
        "/edit entry:2",
        "/stats",
        "/help edit",
        "",
    ])
    done = whosnext(["console", "--db", str(tmp_path / "t.db"), "--user", "ana"], script,
                    tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "(only ana sees this) Nothing to edit yet." in out
    assert "(only ana sees this) == Your latest entries ==" in out
    today = datetime.now(UTC).date()  # the console runs on the real clock, in UTC
    day = f"{today:%a} {today.day} {today:%b}"
    assert f"Waiting · {day}: asked the bank (entry 1)\n  [4 Edit]" in out
    assert f"Yes · {day}: asked for feedback (entry 2, work)\n  [5 Edit]" in out
    assert f"No · {day}: asked for a raise (entry 3, who: my boss, fear 7/10)\n  [6 Edit]" in out
    assert "Updated: asked the bank\n  outcome: pending → yes\n  3 asks · 1 no · 2 yeses" in out
    assert "I'm updating its post in the channel to match." in out
    assert "lesson: - → ask earlier · area: work → money" in out
    assert "lesson: ask earlier → cleared · area: money → cleared" in out
    assert "Updated: asked for a raise\n  now private\n  I'm changing its post in the channel to hide" in out
    assert out.count("Say which entry by its place: 1 is your latest") == 2  # abc and 0
    assert "An entry keeps its ask and its outcome" in out
    assert "You gave who a value and cleared it too: pick one." in out
    assert "outcome can be no, yes, pending, not “maybe”." in out
    assert "That's how it reads already, so nothing changed." in out
    assert "You have no entry 9 here" in out  # entry:9 of 3
    assert f"Yes · {day}: asked for feedback (entry 2, edited)" in out
    assert "Say what to change, like /edit entry:2 outcome:yes" in out
    # The counts after it all: 3 asks, the raise still a no, two yeses, none waiting.
    assert "Asks: 3 | No's: 1 | Yeses: 2 | Waiting: 0" in out
    assert "Fields to empty: who, lesson, area or fear" in out  # /help edit
    assert "entry: Which entry: 1 is your latest, 2 the one before" in out

    # The terminal's scheduler takes the changed posts out (at its next drain: the next run's
    # start at the latest): the bank's outcome, and the raise now private. Once each.
    again = whosnext(["console", "--db", str(tmp_path / "t.db"), "--user", "ana"], "",
                     tmp_path)
    assert again.returncode == 0, again.stderr
    both = out + again.stdout
    header = "--- a post in #general was edited; it now reads ---\n"
    assert both.count(header) == 2, both
    posts = [part.split("\n\n")[0] for part in both.split(header)[1:]]
    assert sorted(p.split("\n")[0] for p in posts) == ["@ana got a no on a private ask.",
                                                      "@ana got a yes: asked the bank"]
    assert all("\n  (edited)\n" in p for p in posts)
    assert all("raise" not in p for p in posts)


async def test_the_terminal_shows_the_edited_post_after_the_drain(app, repo, clock):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out)
    sched = Scheduler(repo, app, {Platform.CONSOLE: ConsolePoster(console)}, clock,
                      communities=[console.community])
    await console.handle_line("/rejected asked for a raise")
    await console.handle_line("sam> !1")  # a cheer
    await console.handle_line('/edit ask:"asked for a 10% raise"')
    assert "was edited" not in out.getvalue()  # not yet: through the outbox
    clock.advance(seconds=5)
    await sched.run_due(clock.now())
    await sched.drain()
    text = out.getvalue()
    header = "--- a post in #general was edited; it now reads ---\n"
    assert text.count(header) == 1
    shown = text.split(header, 1)[1]
    assert shown.startswith("@ana got a no: asked for a 10% raise\n  (edited)\n")
    assert "Cheer · 1]" in shown.split("\n\n")[0]
    # Made private: shown again with no text.
    await console.handle_line("/edit private:true")
    await sched.drain()
    again = out.getvalue().split(header)[-1].split("\n\n")[0]
    assert again.startswith("@ana got a no on a private ask.")
    assert "raise" not in again


# -- the list and the Edit button ---------------------------------------------------------------

async def test_the_list_pages_and_each_edit_button_opens_the_filled_in_form(app, clock):
    empty = await run(app, "/edit")
    assert "Nothing to edit yet" in ok(empty)
    ids = []
    for n in range(6):
        ids.append(await logged(app, f"/rejected ask number {n}"))
        clock.advance(minutes=1)
    first = await run(app, "/edit")
    text = ok(first)
    assert "Your entries (1–4 of 6)" in text
    assert [b.label for b in first.buttons()] == ["Edit"] * PER_PAGE + ["Older ›"]
    # Newest first, each button naming its entry.
    assert [b.action for b in first.buttons()[:PER_PAGE]] == \
        [Action("edit", str(i)) for i in reversed(ids[2:])]
    assert text.index("ask number 5 (entry 1)") < text.index("ask number 4 (entry 2)") < \
        text.index("ask number 2 (entry 4)")
    assert "ask number 1" not in text

    older = await press(app, first.buttons()[-1].action)
    assert older.replace_original and "Your entries (5–6 of 6)" in ok(older)
    assert [b.label for b in older.buttons()] == ["Edit", "Edit", "‹ Newer"]
    assert "ask number 1 (entry 5)" in older.plain_text()
    assert "ask number 0 (entry 6)" in older.plain_text()
    newer = await press(app, older.buttons()[-1].action)
    assert "Your entries (1–4 of 6)" in ok(newer) and newer.replace_original
    # A page past the end (entries undone since): the last page there is.
    past = await press(app, Action("edits", "7"))
    assert "Your entries (5–6 of 6)" in ok(past)
    bad = await press(app, Action("edits", "-1"))
    assert bad.error and "doesn't look right" in bad.plain_text()


async def test_the_form_shows_the_entry_as_it_is(app):
    no = await logged(app, '/rejected asked for a raise who:"my boss" fear:7 area:work '
                           'lesson:"ask earlier"')
    waiting = await logged(app, "/pending asked the bank private:true")
    form = await press(app, Action("edit", str(no)))
    assert form.form == "edit" and form.private and not form.error
    assert dict(form.form_values) == {"ask": "asked for a raise", "outcome": "no",
                                      "who": "my boss", "lesson": "ask earlier",
                                      "area": "work", "fear": "7", "private": "false"}
    ((option, fixed),) = form.form_fixed  # the entry, and its version as the form shows it
    assert option == "entry" and fixed.startswith(f"#{no}@") and len(fixed) <= 30
    assert f"/edit entry:#{no}" in form.plain_text()  # where there are no forms
    other = await press(app, Action("edit", str(waiting)))
    assert dict(other.form_values) == {"ask": "asked the bank", "outcome": "pending",
                                       "private": "true"}  # nothing empty is sent
    # What the form sends back changes that entry (the fixed entry "#id", not a place).
    done = await run(app, f"/edit entry:#{no} outcome:yes clear:who,fear")
    assert "outcome: no → yes" in ok(done) and "who: my boss → cleared" in done.plain_text()
    after = await press(app, Action("edit", str(no)))
    assert dict(after.form_values) == {"ask": "asked for a raise", "outcome": "yes",
                                       "lesson": "ask earlier", "area": "work",
                                       "private": "false"}
    # The /asks list offers an Edit button on a pending ask.
    asks = await run(app, "/asks")
    assert Action("edit", str(waiting)) in [b.action for b in asks.buttons()]


async def test_a_form_sent_after_its_entry_changed_puts_nothing_back(app, repo):
    """Opened on a pending ask, then the ask is resolved from /asks, then the form is sent
    with who changed (and the old outcome in its field): refused, the yes kept."""
    waiting = await logged(app, "/pending asked the bank for a loan")
    form = await press(app, Action("edit", str(waiting)))
    ((_, fixed),) = form.form_fixed
    await press(app, Action("resolve", f"a{waiting}:a"))
    sent = await run(app, f'/edit entry:{fixed} ask:"asked the bank for a loan" '
                          'outcome:pending who:"the bank"')
    assert sent.error and "changed since the form opened" in sent.plain_text()
    now = await attempt(repo, waiting)
    assert now.outcome == "accepted" and now.who is None
    assert await repo.totals(COMMUNITY, ANA) == Totals(1, 0, 1, 0)
    fresh = dict((await press(app, Action("edit", str(waiting)))).form_fixed)["entry"]
    assert fresh != fixed
    again = await run(app, f'/edit entry:{fresh} outcome:yes who:"the bank"')
    assert "who: - → the bank" in ok(again)  # opened again: fine
    assert (await run(app, f"/edit entry:{fixed[:-1]}x outcome:no")).error  # a forged one


async def test_someone_elses_or_a_forged_entry_is_refused_kindly(app, repo):
    mine = await logged(app, "/rejected asked for a raise")
    theirs = await logged(app, "/rejected sam's secret private:true", "sam")
    for value in (str(theirs), "999999", "0"):
        reply = await press(app, Action("edit", value))
        assert reply.error and reply.form is None and NOT_FOUND in reply.plain_text()
        assert "secret" not in reply.plain_text()
    for value in ("abc", "-1", "1" * 13, ""):
        reply = await press(app, Action("edit", value))
        assert reply.error and reply.form is None
        assert "doesn't look right" in reply.plain_text()
    # Typed: #id of someone else's is no entry of hers; and changes nothing of theirs.
    typed = await run(app, f"/edit entry:#{theirs} outcome:yes")
    assert typed.error and NOT_FOUND in typed.plain_text()
    shown = await run(app, f"/edit entry:#{theirs}")
    assert shown.error and "secret" not in shown.plain_text()
    assert (await repo.entry(COMMUNITY, caller("sam").member, theirs)).outcome == "rejected"
    assert (await attempt(repo, mine)).outcome == "rejected"
    assert await edit_rows(repo) == []


# -- direct edits and bad input -----------------------------------------------------------------

async def test_direct_edits_change_the_entry_and_say_what_changed(app, repo, clock):
    raise_id = await logged(app, '/rejected asked for a raise who:"my boss" fear:7')
    clock.advance(minutes=1)
    bank = await logged(app, "/pending asked the bank area:money")
    clock.advance(minutes=1)
    reply = await run(app, '/edit entry:2 ask:"asked for a 10% raise" lesson:"ask earlier"')
    text = ok(reply)
    assert "Updated: asked for a 10% raise" in text
    assert "new wording · lesson: - → ask earlier" in text
    a = await attempt(repo, raise_id)
    assert (a.ask, a.lesson, a.who, a.fear) == ("asked for a 10% raise", "ask earlier",
                                                "my boss", 7)
    assert a.edited_at == clock.now()
    assert (await attempt(repo, bank)).edited_at is None  # the latest was not touched
    cleared = await run(app, "/edit entry:2 clear:who,fear area:social")
    assert "who: my boss → cleared" in ok(cleared) and "fear: 7 → cleared" in cleared.plain_text()
    a = await attempt(repo, raise_id)
    assert (a.who, a.fear, a.area) == (None, None, "social")
    # The latest by default; a #id names one whatever its place.
    assert "outcome: pending → no" in ok(await run(app, "/edit outcome:no"))
    assert "fear: - → 3" in ok(await run(app, f"/edit entry:#{bank} fear:3"))
    # Naming one with nothing to change shows it and says how.
    shown = await run(app, "/edit entry:2")
    assert "No · Thu 26 Nov: asked for a 10% raise (entry 2, social, edited)" in ok(shown)
    assert [b.action for b in shown.buttons()] == [Action("edit", str(raise_id))]
    # Public again after private: said so.
    await run(app, "/edit private:true")
    back = await run(app, "/edit clear:private")  # a form's unticked box
    assert "now shown to the group" in ok(back)
    assert not (await attempt(repo, bank)).private


@pytest.mark.parametrize("line, words", [
    ("/edit entry:abc outcome:yes", "Say which entry by its place"),
    ("/edit entry:0 outcome:yes", "Say which entry by its place"),
    ("/edit entry:-1 outcome:yes", "Say which entry by its place"),
    ("/edit entry:#x outcome:yes", "Say which entry by its place"),
    ("/edit entry:100001 outcome:yes", "Say which entry by its place"),
    ("/edit clear:ask", "An entry keeps its ask and its outcome"),
    ("/edit clear:outcome", "An entry keeps its ask and its outcome"),
    ("/edit clear:mood", "I can't clear “mood”"),
    ("/edit who:bob clear:who", "You gave who a value and cleared it too"),
    ("/edit fear:3 clear:lesson,fear", "You gave fear a value and cleared it too"),
    ("/edit outcome:maybe", "not “maybe”"),
    ("/edit fear:11", "fear"),
    ("/edit area:space", "area"),
    ("/edit mood:sunny", "no option `mood`"),
    ("/edit entry:5 outcome:yes", "You have no entry 5 here"),
    ("/edit entry:#999999 outcome:yes", NOT_FOUND),
    ("/edit entry:5", "You have no entry 5 here"),
    # Words right after a value of words: the rest of it, or new wording? Never a silent guess.
    ("/edit lesson:be bolder next time", 'Is “bolder next time” part of `lesson`? A value of '
     'several words goes in quotes, like lesson:"be bolder next time"'),
    ("/edit who:Sam the boss outcome:yes", "Is “the boss” part of `who`?"),
])
async def test_bad_input_is_explained_and_changes_nothing(app, repo, line, words):
    first = await logged(app, '/rejected asked for a raise who:"my boss" fear:7 area:work')
    before = await attempt(repo, first)
    totals = await repo.totals(COMMUNITY, ANA)
    reply = await run(app, line)
    assert reply.error and reply.private and words in reply.plain_text(), reply.plain_text()
    assert await attempt(repo, first) == before
    assert await repo.totals(COMMUNITY, ANA) == totals
    assert await edit_rows(repo) == []


async def test_new_wording_goes_anywhere_but_right_after_a_value_of_words(app, repo):
    first = await logged(app, "/rejected asked for a raise who:boss")
    assert "new wording" in ok(await run(app, "/edit entry:1 asked for a bonus"))
    assert "new wording" in ok(await run(app, "/edit outcome:yes asked for a bigger bonus"))
    assert "lesson" in ok(await run(app, '/edit lesson:"be bolder next time"'))
    row = await attempt(repo, first)
    assert (row.ask, row.lesson, row.outcome) == (
        "asked for a bigger bonus", "be bolder next time", Outcome.ACCEPTED)


async def test_an_unchanged_edit_changes_nothing(app, repo):
    first = await logged(app, '/rejected asked for a raise who:"my boss"')
    before = await attempt(repo, first)
    for line in ("/edit outcome:no", '/edit who:"my boss" ask:"asked for a raise"',
                 "/edit clear:lesson,area", "/edit private:false"):
        assert "nothing changed" in ok(await run(app, line)), line
    assert await attempt(repo, first) == before  # not even marked edited
    assert await edit_rows(repo) == []


# -- every count in step ------------------------------------------------------------------------

async def board_recount(repo, by: RankBy, period: Period, day: date) -> dict[str, int]:
    """A leaderboard counted again from the attempts: each member's asks (or no's) on the
    community's days in the week or month of ``day``, or ever."""
    def unit(tx):
        rows = tx.execute("SELECT member_id, outcome, local_day FROM attempts WHERE "
                          "community_id = ?", (COMMUNITY.key,)).fetchall()
        counts: Counter[str] = Counter()
        for member, outcome, local in rows:
            d = date.fromisoformat(local)
            if period == Period.WEEK and d - timedelta(days=d.weekday()) != \
                    day - timedelta(days=day.weekday()):
                continue
            if period == Period.MONTH and (d.year, d.month) != (day.year, day.month):
                continue
            if by == RankBy.REJECTIONS and outcome != "rejected":
                continue
            counts[member.partition(":")[2]] += 1
        return dict(counts)
    return await repo._read(unit)


async def board_kept(repo, by: RankBy, period: Period, day: date) -> dict[str, int]:
    board = await repo.leaderboard(COMMUNITY, None if period == Period.ALL else day, by, ANA,
                                   limit=50, period=period)
    rows = {r.member.id: r.count for r in board.top if r.count}
    assert board.members == len(rows)
    return rows


async def assert_in_step(repo, days: list[date]) -> None:
    for who in ("ana", "sam"):
        member = caller(who).member
        assert await kept(repo, member) == await recount(repo, member), who
        counted = (await recount(repo, member))["totals"]
        assert await repo.totals(COMMUNITY, member) == counted
        # /asks lists the pending ones (no promises here): as many as are pending.
        page = await repo.open_page(COMMUNITY, member, 50, 0)
        assert page.total == len(page.pending) == counted.pending, who
    for by in (RankBy.REJECTIONS, RankBy.ATTEMPTS):
        for period in (Period.WEEK, Period.MONTH, Period.ALL):
            for day in days:
                assert await board_kept(repo, by, period, day) == \
                    await board_recount(repo, by, period, day), (by, period, day)


async def test_every_count_stays_equal_to_a_recount(app, repo, clock):
    days = [date(2026, 11, 20), date(2026, 11, 26), date(2026, 12, 1)]
    clock.set(utc(2026, 11, 20, 9))  # the week and the month before
    old = await logged(app, "/rejected an old one area:work")
    await logged(app, "/rejected sam's old one", "sam")
    clock.set(utc(2026, 11, 26, 9))
    raise_id = await logged(app, "/rejected asked for a raise area:work")
    await logged(app, "/pending asked the bank area:money")
    await logged(app, "/accepted asked for feedback")
    await logged(app, "/rejected sam's no", "sam")
    await assert_in_step(repo, days)

    clock.set(utc(2026, 12, 1, 9))  # edited in another week and month: counted on its own day
    for line in ("/edit entry:3 outcome:yes",  # the raise: no → yes
                 "/edit entry:3 outcome:pending",  # yes → pending
                 "/edit entry:3 outcome:no area:money",  # pending → no, and its area
                 "/edit entry:2 outcome:no",  # the bank: pending → no
                 "/edit entry:1 outcome:pending clear:area",  # feedback: yes → pending
                 f"/edit entry:#{old} outcome:yes area:social",
                 "/edit entry:2 area:creative"):
        assert not (await run(app, line)).error, line
        await assert_in_step(repo, days)
    assert (await attempt(repo, raise_id)).area == "money"
    assert await repo.totals(COMMUNITY, ANA) == Totals(4, 2, 1, 1)
    profile = await repo.profile(COMMUNITY, ANA)
    assert sorted(profile.areas) == [("creative", 1), ("money", 1), ("social", 1)]

    await logged(app, "/rejected a december one")
    await run(app, "/edit outcome:yes")
    await assert_in_step(repo, days)
    await run(app, "/undo")  # the edited december one
    await run(app, "/undo")  # the feedback, pending now
    await assert_in_step(repo, days)
    assert await repo.totals(COMMUNITY, ANA) == Totals(3, 2, 1, 0)
    # Sam's counts were never touched by hers.
    assert await repo.totals(COMMUNITY, caller("sam").member) == Totals(2, 2, 0, 0)
    # The board as the command shows it agrees.
    text = (await run(app, "/leaderboard by:rejections period:all")).plain_text()
    assert "@ana · 2" in text and "@sam · 2" in text


async def test_a_pending_ask_edited_to_an_outcome_and_back_leaves_and_rejoins_asks(app, repo,
                                                                                   clock):
    bank = await logged(app, "/pending asked the bank")
    await run(app, "/edit outcome:yes")
    assert "Nothing open right now" in (await run(app, "/asks")).plain_text()
    resolved = await repo._read(lambda tx: tx.execute(
        "SELECT resolved_at FROM attempts WHERE id = ?", (bank,)).fetchone()[0])
    assert resolved is not None
    clock.advance(minutes=1)
    assert "outcome: yes → pending" in ok(await run(app, "/edit outcome:pending"))
    asks = await run(app, "/asks")
    assert "Waiting to hear: asked the bank" in asks.plain_text()
    assert await repo._read(lambda tx: tx.execute(
        "SELECT resolved_at FROM attempts WHERE id = ?", (bank,)).fetchone()[0]) is None
    # Heard back from /asks after all: counted once.
    rejected = next(b for b in asks.buttons() if b.label == "Rejected")
    await press(app, rejected.action)
    assert await repo.totals(COMMUNITY, ANA) == Totals(1, 1, 0, 0)


async def test_an_edit_to_a_no_can_reach_the_goal(app, repo):
    await run(app, "/goal 2")
    await logged(app, "/rejected one")
    await logged(app, "/accepted two")
    reply = await run(app, "/edit outcome:no")
    assert "Goal reached: 2 no's!" in ok(reply)
    goal = await repo._read(lambda tx: tx.execute(
        "SELECT reached_at FROM goals WHERE member_id = ?", (ANA.key,)).fetchone()[0])
    assert goal is not None
    again = await run(app, "/edit outcome:yes")
    assert "Goal" not in ok(again)
    assert "1 of 2 no's" in ok(await run(app, "/goal"))  # below its target: open again
    assert "Goal reached: 2 no's!" in ok(await run(app, "/edit outcome:no"))  # reached again


# -- milestones ---------------------------------------------------------------------------------

async def test_a_milestone_is_celebrated_once_whatever_edits_did(app):
    first = await run(app, "/rejected asked for a raise")
    assert "Your first no!" in first.plain_text()
    assert "First ask logged!" in first.plain_text()
    to_yes = await run(app, "/edit outcome:yes")
    assert "Your first yes!" in ok(to_yes)  # the first yes, by an edit
    assert "0 no's · 1 yes" in to_yes.plain_text()
    assert "First ask logged" not in to_yes.plain_text()  # an edit is no new ask
    second = await run(app, "/rejected asked again")
    assert "Your first no!" not in second.plain_text() and "Milestone" not in second.plain_text()
    # Back and forth: the first yes is not celebrated again.
    assert "Milestone" not in ok(await run(app, "/edit entry:2 outcome:no"))
    assert "Milestone" not in ok(await run(app, "/edit entry:2 outcome:yes"))
    assert "Milestone" not in (await run(app, "/accepted a real yes")).plain_text()


async def test_an_undo_and_a_new_log_celebrate_nothing_again(app):
    first = await run(app, "/rejected oops", "kai")
    assert "First ask logged!" in first.plain_text() and "Your first no!" in first.plain_text()
    assert "Removed your last" in (await run(app, "/undo", "kai")).plain_text()
    again = await run(app, "/rejected the real one", "kai")
    assert "1 ask so far · 1 no" in again.plain_text()
    assert "Milestone" not in again.plain_text()
    yes = await run(app, "/accepted a yes", "kai")
    assert "Your first yes!" in yes.plain_text()
    await run(app, "/undo", "kai")
    assert "Milestone" not in (await run(app, "/accepted another yes", "kai")).plain_text()


async def test_a_count_milestone_passed_by_an_edit_is_celebrated_once(app):
    for n in range(9):
        await logged(app, f"/rejected no number {n}")
    tenth = await run(app, "/accepted number ten")
    assert "10 asks!" in tenth.plain_text()
    assert "10 no's" not in tenth.plain_text()
    to_no = await run(app, "/edit outcome:no")  # the tenth no, by an edit
    assert "10 no's collected." in ok(to_no) and "10 asks!" not in to_no.plain_text()
    await run(app, "/edit outcome:yes")
    assert "Milestone" not in ok(await run(app, "/edit outcome:no"))
    await run(app, "/edit outcome:yes")
    assert "Milestone" not in (await run(app, "/rejected a new tenth no")).plain_text()
    assert "Asks: 11\nNo's: 10\nYeses: 1\nWaiting: 0" in (await run(app, "/stats")).plain_text()


# -- the entry's posts, through the outbox ------------------------------------------------------

def everything_shown(reply) -> str:
    """All a post shows: each block's text, its buttons' labels, and the plain rendering."""
    parts = [reply.plain_text()]
    for block in reply.blocks:
        parts += [str(getattr(s, "text", s)) for s in getattr(block, "spans", ())]
    parts += [b.label for b in reply.buttons()]
    return "\n".join(parts)


async def test_an_edit_of_a_public_entry_changes_its_post_once(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    first = await logged(app, "/rejected asked for a raise")
    await press(app, Action("cheer", str(first)), who="sam")
    reply = await run(app, '/edit ask:"asked for a 10% raise"')
    assert "I'm updating its post in the channel to match." in ok(reply)
    (row,) = await edit_rows(repo)
    assert row[1:] == ("general", OutboxState.DUE.value, None)
    assert poster.edits == []  # not yet
    await sched.drain()
    (community, channel, marker, post), = poster.edits
    assert (community, channel, marker) == (COMMUNITY, "general", Action("cheer", str(first)))
    text = post.plain_text()
    assert "@ana got a no: asked for a 10% raise" in text and "(edited)" in text
    assert [b.label for b in post.buttons()] == ["Cheer · 1"]
    assert post.buttons()[0].action == Action("cheer", str(first))
    assert post.mentions() == {ANA} and not post.private
    assert (await edit_rows(repo))[0][2] == OutboxState.SENT.value
    assert poster.posts == []  # an edit, never a new post
    clock.advance(minutes=5)
    await sched.drain()
    assert len(poster.edits) == 1

    # The outcome changed: the post says so.
    await run(app, "/edit outcome:yes")
    await sched.drain()
    assert "@ana got a yes: asked for a 10% raise" in poster.edits[-1][3].plain_text()
    assert len(poster.edits) == 2
    (row,) = await edit_rows(repo)  # one row per post, armed again by each edit
    assert row[2:] == (OutboxState.SENT.value, None)


async def test_an_edit_during_its_posts_try_sends_it_once_more_as_it_is_now(app, repo, clock):
    """The try read the entry before the second edit: it may show the words now private, so
    the post goes again, and what the channel ends up with hides them."""
    class EditedMeanwhile(RecordingPoster):
        async def edit(self, community, channel_id, marker, reply, *, since=None):
            if not self.edits:  # the member makes it private while the first try is out
                clock.advance(seconds=1)
                assert "now private" in ok(await run(app, "/edit private:true"))
            return await super().edit(community, channel_id, marker, reply, since=since)

    poster = EditedMeanwhile()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, "/rejected asked my landlord about the rent")
    clock.advance(seconds=1)
    await run(app, "/edit outcome:yes")
    await sched.drain()
    (row,) = await edit_rows(repo)
    assert row[2] == OutboxState.DUE.value  # due again at once: the outbox's next run sends it
    await sched.drain()
    assert len(poster.edits) == 2
    assert "landlord" in poster.edits[0][3].plain_text()  # the view from before
    assert "landlord" not in everything_shown(poster.edits[-1][3])
    assert "on a private ask" in poster.edits[-1][3].plain_text()
    (row,) = await edit_rows(repo)
    assert row[2] == OutboxState.SENT.value


async def test_made_private_its_post_shows_no_text_at_all(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, "/rejected asked my landlord for a rent cut who:Jo lesson:later")
    reply = await run(app, "/edit private:true")
    assert "now private" in ok(reply) and "to hide the text" in reply.plain_text()
    await sched.drain()
    (_, _, _, post), = poster.edits
    shown = everything_shown(post)
    assert "@ana got a no on a private ask." in post.plain_text()
    for secret in ("landlord", "rent cut", "Jo", "later"):
        assert secret not in shown, secret
    # Private now: rewording it reaches no post, nor does anything else but the outcome.
    clock.advance(minutes=1)
    for line in ('/edit ask:"asked my landlord for a 20% rent cut"', "/edit who:Sam",
                 "/edit area:money fear:4"):
        assert "Its post" not in ok(await run(app, line)), line
    assert len(await edit_rows(repo)) == 1
    await sched.drain()
    assert len(poster.edits) == 1


async def test_a_private_entry_stays_private(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    first = await logged(app, "/rejected my secret ask private:true")
    reply = await run(app, '/edit ask:"my other secret ask" lesson:"keep quiet"')
    assert reply.visibility is Visibility.PRIVATE and "Its post" not in ok(reply)
    assert await edit_rows(repo) == []
    # Its outcome is on its post: that changes, and still no text.
    await run(app, "/edit outcome:yes")
    await sched.drain()
    (_, _, marker, post), = poster.edits
    assert marker == Action("cheer", str(first))
    assert "@ana got a yes on a private ask." in post.plain_text()
    assert "secret" not in everything_shown(post)
    # Every /edit reply, the list and the form are the member's alone.
    for r in (await run(app, "/edit"), await run(app, "/edit entry:1"),
              await press(app, Action("edit", str(first))),
              await run(app, "/edit entry:abc who:x")):
        assert r.visibility is Visibility.PRIVATE


async def test_what_changes_nothing_on_its_post_queues_nothing(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, '/rejected asked for a raise who:"my boss"')
    for line in ('/edit who:"the boss"', '/edit lesson:"ask earlier" fear:6 area:work',
                 "/edit clear:who", "/edit outcome:no", '/edit ask:"asked for a raise"'):
        reply = await run(app, line)
        assert "Its post" not in ok(reply), line
    assert await edit_rows(repo) == []
    await sched.drain()
    assert poster.edits == []


async def test_an_entry_logged_before_edits_existed_has_no_post_to_change(app, repo, clock):
    first = await logged(app, "/rejected asked for a raise")
    await repo._write(lambda tx: tx.execute(  # as migration 0017 left those before it
        "UPDATE attempts SET channel_id = NULL WHERE id = ?", (first,)))
    reply = await run(app, "/edit outcome:yes private:true")
    assert "outcome: no → yes · now private" in ok(reply)
    assert "I can't reach its post" in reply.plain_text()  # the member can delete it
    assert await edit_rows(repo) == []
    assert (await attempt(repo, first)).outcome == "accepted"


async def test_an_entry_undone_before_the_drain_is_missed_not_edited(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, "/rejected asked for a raise")
    await run(app, "/edit outcome:yes")
    clock.advance(seconds=1)
    assert "Removed your last" in (await run(app, "/undo")).plain_text()
    await sched.drain()
    assert poster.edits == [] and poster.posts == []
    assert await edit_rows(repo) == []  # the undo took its queued edit with it


async def test_an_edit_whose_entry_is_gone_is_missed_not_sent(app, repo, clock):
    """A queued edit left behind with no entry (an undo takes its own with it): given up on,
    with the reason, and nothing is changed anywhere."""
    from bot.models import NewPost
    from storage.edits import edit_subject

    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    now = clock.now()
    await repo.enqueue_posts([NewPost(COMMUNITY, PostKind.EDIT, edit_subject(999, "general"),
                                      "general", now, now + timedelta(hours=1))], now)
    await sched.drain()
    assert poster.edits == [] and poster.posts == []
    (row,) = await edit_rows(repo)
    assert row[2:] == (OutboxState.MISSED.value, EDIT_UNDONE)


async def test_an_undone_entrys_edit_never_shows_the_next_one_in_its_place(app, repo, clock):
    """On SQLite the next attempt takes an undone top id again: the edit queued for the undone
    one must not edit its post to show the new ask (someone else's, maybe private)."""
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, "/rejected asked for a raise")
    await run(app, "/edit outcome:yes")
    await run(app, "/undo")  # all at the same instant on the fake clock
    await logged(app, "/accepted sam's own news", "sam")
    await sched.drain()
    assert all("sam's own news" not in everything_shown(p) for *_, p in poster.edits)
    assert poster.edits == []
    assert await edit_rows(repo) == []


async def test_a_retried_request_answers_as_the_first_did(app, repo, clock):
    """No milestone the first time, none on the retry; and the retry names the same entry
    even when another was logged in between."""
    await logged(app, "/rejected asked for a raise")
    await logged(app, "/rejected asked for a day off")
    one = await run(app, "/edit entry:2 fear:3", request_id="req-2")
    await logged(app, "/accepted asked for a discount")
    two = await run(app, "/edit entry:2 fear:3", request_id="req-2")
    assert "fear: - → 3" in one.plain_text() and "Milestone" not in one.plain_text()
    assert two.plain_text() == one.plain_text()


async def test_a_retried_request_edits_once(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    first = await logged(app, "/rejected asked for a raise")
    one = await run(app, "/edit outcome:yes", request_id="req-1")
    clock.advance(seconds=2)
    two = await run(app, "/edit outcome:yes", request_id="req-1")
    assert not one.error and not two.error
    assert "Updated: asked for a raise" in two.plain_text()
    # The retry's answer names the same change as the first.
    assert "outcome: no → yes" in one.plain_text() and "Your first yes!" in one.plain_text()
    assert two.plain_text() == one.plain_text()
    assert len(await edit_rows(repo)) == 1
    assert await repo.totals(COMMUNITY, ANA) == Totals(1, 0, 1, 0)
    assert (await attempt(repo, first)).edited_at == utc(2026, 11, 26, 12)
    await sched.drain()
    await sched.drain()
    assert len(poster.edits) == 1


async def test_an_ask_heard_back_in_another_channel_is_edited_there_too(app, repo, clock):
    """Logged in #general, resolved from /asks in #wins (its heard-back celebration posted
    there): made private, both posts hide it."""
    from dataclasses import replace as with_

    from bot.ids import ChannelRef

    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    waiting = await logged(app, "/pending asked my landlord about the rent")
    wins = with_(caller(), channel=ChannelRef(COMMUNITY.platform, "wins"))
    heard = await app.handle_action(ActionInvocation("resolve", f"a{waiting}:r", wins))
    assert "heard back and got a no" in heard.plain_text() and not heard.private
    assert "to hide the text" in ok(await run(app, "/edit private:true"))
    await sched.drain()
    assert sorted(channel for _, channel, _, _ in poster.edits) == ["general", "wins"]
    assert all("landlord" not in everything_shown(post) for *_, post in poster.edits)


async def test_a_kept_promise_is_edited_where_its_news_was_told(app, repo, clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    rejected = buttons["Rejected"]
    await app.handle_action(ActionInvocation(rejected.name, rejected.value, in_dm("ana")))
    await sched.drain()
    assert len(poster.posts) == 1  # the news, in #general
    await run(app, "/edit outcome:yes")
    await sched.drain()
    (_, channel, _, post), = poster.edits
    assert channel == "general"
    assert "got a yes: call the landlord" in post.plain_text()


async def test_a_kept_promise_made_private_before_its_news_went_out_shows_nothing(app, repo,
                                                                                  clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    rejected = buttons["Rejected"]
    await app.handle_action(ActionInvocation(rejected.name, rejected.value, in_dm("ana")))
    assert "now private" in ok(await run(app, "/edit private:true"))
    await sched.drain()
    (_, _, news), = poster.posts  # the group still hears of the kept promise, not its words
    assert news.plain_text().split("\n")[0] == "@ana kept a promise and got a no on a private ask."
    assert all("landlord" not in everything_shown(r) for *_, _, r in poster.posts)
    assert [r.plain_text().split("\n")[0] for *_, r in poster.edits] == [
        "@ana kept a promise and got a no on a private ask."]
    assert all("landlord" not in everything_shown(r) for *_, r in poster.edits)


# -- export and forget --------------------------------------------------------------------------

async def test_export_has_when_it_was_edited(app, clock):
    await logged(app, "/rejected first")
    await logged(app, "/rejected second")
    clock.advance(hours=2)
    await run(app, "/edit entry:2 outcome:yes")
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    assert [(r["ask"], r["outcome"]) for r in rows if r["type"] == "attempt"] == [
        ("first", "accepted"), ("second", "rejected")]
    assert datetime.fromisoformat(rows[0]["edited"]) == clock.now()
    assert rows[1]["edited"] == ""


async def test_forget_me_leaves_nothing_of_an_edited_entry(app, repo, clock):
    poster = RecordingPoster()
    sched = make_scheduler(repo, app, poster, clock)
    await logged(app, "/rejected asked my doctor something personal")
    await run(app, '/edit ask:"asked my doctor something very personal"')
    confirm = (await run(app, "/forget-me")).buttons()[0].action
    await press(app, confirm)
    left = await repo._read(lambda tx: tx.execute(
        "SELECT COUNT(*) FROM attempts WHERE member_id = ?", (ANA.key,)).fetchone()[0])
    assert left == 0
    await sched.drain()
    assert poster.edits == []  # the forgotten entry's post is never edited
    assert await edit_rows(repo) == []  # its queued edit went with her
    dump = await repo._read(lambda tx: [tuple(r) for r in tx.execute(
        "SELECT * FROM outbox").fetchall()])
    assert all("doctor" not in str(r) for r in dump)
