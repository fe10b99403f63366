"""The core against a real SQLite file: logging, celebrations, commitments, /asks, /undo,
/leaderboard, /stats, /help, cheers and retried requests."""

from datetime import UTC, datetime

import pytest

from bot import prompts
from bot.app import App
from bot.commands import available_commands
from bot.ids import ChannelRef, MemberRef
from bot.invocation import Caller
from bot.reply import Action, Buttons, Mention
from tests.helpers import COMMUNITY, caller, press, run


def text(reply) -> str:
    return reply.plain_text()


async def test_rejection_is_celebrated_with_count_prompt_and_cheer(app):
    reply = await run(app, '/rejected asked for a raise who:"my boss" fear:7')
    assert not reply.error and not reply.private
    assert "asked for a raise" in text(reply)
    assert "1 ask so far" in text(reply) and "1 no" in text(reply)
    assert "Reflect: " in text(reply)
    assert [b.label for b in reply.buttons()] == ["Cheer"]
    assert reply.mentions() == {caller().member}


async def test_running_counts_and_asks_per_yes(app):
    for i in range(3):
        await run(app, f"/rejected ask {i}")
    reply = await run(app, "/accepted ask 4")
    assert "4 asks so far" in text(reply) and "3 no's" in text(reply)
    assert "asks per yes: 4" in text(reply)
    assert prompts.FIRST_YES in text(reply)


async def test_the_40th_rejection_is_a_milestone(app):
    for i in range(39):
        reply = await run(app, f"/rejected ask number {i + 1}")
        assert "Milestone" not in text(reply) or i + 1 in prompts.ATTEMPT_MILESTONES
    reply = await run(app, "/rejected the fortieth")
    assert "40 asks so far" in text(reply)
    assert "Milestone!" in text(reply) and "40 no's!" in text(reply)


async def test_reflection_prompts_never_repeat_back_to_back(app):
    seen = []
    for i in range(40):
        reply = await run(app, f"/rejected ask {i}")
        line = next(ln for ln in text(reply).splitlines() if ln.startswith("Reflect: "))
        seen.append(line)
    assert all(a != b for a, b in zip(seen, seen[1:], strict=False))
    assert len(set(seen)) == len(prompts.REFLECTIONS)  # the whole list gets used
    # undo then log again: still not the same prompt as the one just before
    await run(app, "/undo")
    again = await run(app, "/rejected redo")
    assert next(ln for ln in text(again).splitlines() if ln.startswith("Reflect: ")) != seen[-1]


async def test_private_text_is_not_shown(app):
    reply = await run(app, "/rejected a very secret ask private:true")
    assert "secret" not in text(reply)
    assert "private ask" in text(reply)
    assert (await app.deps.repo.totals(COMMUNITY, caller().member)).rejected == 1


async def test_a_retried_request_counts_once(app):
    first = await run(app, "/rejected asked twice", request_id="req-1")
    second = await run(app, "/rejected asked twice", request_id="req-1")
    assert "1 ask so far" in text(first) and "1 ask so far" in text(second)
    assert (await app.deps.repo.totals(COMMUNITY, caller().member)).attempts == 1
    await run(app, "/who-next call Jo", request_id="req-2")
    await run(app, "/who-next call Jo", request_id="req-2")
    commitments, _ = await app.deps.repo.open_items(COMMUNITY, caller().member)
    assert len(commitments) == 1


async def test_who_next_is_due_at_the_end_of_the_day_in_the_members_zone(app, clock, repo):
    clock.set(datetime(2026, 11, 26, 22, 30, tzinfo=UTC))  # a Thursday
    reply = await run(app, "/who-next ask Lee for an intro when:friday")
    assert "Due tomorrow" in text(reply)
    commitments, _ = await repo.open_items(COMMUNITY, caller().member)
    assert commitments[0].due_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    # Someone in Tokyo, where it is already Friday: "today" is Friday there.
    tokyo = App(repo, clock, default_timezone="Asia/Tokyo")
    await run(tokyo, "/who-next ask today", who="kenji")
    mine, _ = await repo.open_items(COMMUNITY, caller("kenji").member)
    assert mine[0].due_at == datetime(2026, 11, 27, 14, 59, 59, tzinfo=UTC)


async def test_who_next_when_forms(app, clock, repo):
    clock.set(datetime(2026, 11, 26, 12, 0, tzinfo=UTC))  # Thursday
    # a weekday means the next one, today if it is that day; "next thursday" is a week away
    cases = {"today": (11, 26), "tomorrow": (11, 27), "mon": (11, 30), "thursday": (11, 26),
             "next thursday": (12, 3),
             "in 2 days": (11, 28), "2026-12-24": (12, 24)}
    for when, day in cases.items():
        reply = await run(app, f'/who-next x when:"{when}"')
        assert not reply.error, (when, text(reply))
        commitments, _ = await repo.open_items(COMMUNITY, caller().member)
        newest = max(commitments, key=lambda c: c.id)
        assert (newest.due_at.month, newest.due_at.day) == day, when
    for bad, words in {"someday": "couldn't read", "2020-01-01": "already past",
                       "in 999 days": "at most a year"}.items():
        reply = await run(app, f'/who-next x when:"{bad}"')
        assert reply.error and words in text(reply)


async def test_asks_lists_open_items_with_resolve_buttons(app):
    empty = await run(app, "/asks")
    assert empty.private and "Nothing open" in text(empty)
    await run(app, "/who-next ask Lee")
    await run(app, "/pending asked the bank")
    reply = await run(app, "/asks")
    assert reply.private
    labels = [b.label for b in reply.buttons()]
    assert labels == ["Rejected", "Accepted", "Still waiting", "Didn't ask",
                      "Rejected", "Accepted", "Still waiting", "Edit"]


async def test_resolving_a_promise_logs_the_attempt_once(app, repo):
    await run(app, "/who-next ask Lee")
    accepted = (await run(app, "/asks")).buttons()[1].action
    reply = await press(app, accepted)
    assert not reply.error and "got a yes" in text(reply)
    assert (await repo.totals(COMMUNITY, caller().member)).accepted == 1
    again = await press(app, accepted)  # a double press
    assert again.error and "Already sorted" in text(again)
    assert (await repo.totals(COMMUNITY, caller().member)).attempts == 1


async def test_only_the_owner_resolves(app, repo):
    await run(app, "/pending asked the bank")
    rejected = (await run(app, "/asks")).buttons()[0].action
    reply = await press(app, rejected, who="sam")
    assert reply.error and "Only the person who made that ask" in text(reply)
    assert (await repo.totals(COMMUNITY, caller().member)).pending == 1
    done = await press(app, rejected)
    assert not done.error and not done.private  # heard back: the group hears it
    assert (await repo.totals(COMMUNITY, caller().member)).rejected == 1


async def test_skipping_and_still_waiting(app, repo):
    await run(app, "/who-next ask Lee")
    await run(app, "/who-next ask Kim")
    buttons = (await run(app, "/asks")).buttons()
    assert not (await press(app, buttons[3].action)).error  # didn't ask
    assert not (await press(app, buttons[6].action)).error  # still waiting: now pending
    commitments, pending = await repo.open_items(COMMUNITY, caller().member)
    assert commitments == [] and [p.ask for p in pending] == ["ask Kim"]
    assert (await repo.totals(COMMUNITY, caller().member)).attempts == 1


async def test_forged_buttons_are_refused(app, repo):
    await run(app, "/pending asked for a raise")
    forged = {Action("resolve", ""): "That button doesn't look right any more.",
              Action("resolve", "x1:r"): "That button doesn't look right any more.",
              Action("resolve", "c1:z"): "That button doesn't look right any more.",
              Action("resolve", "c:r"): "That button doesn't look right any more.",
              Action("resolve", "a9999:r"): "I can't find that ask any more",
              Action("nope", "1"): "That button doesn't do anything any more.",
              Action("cheer", "abc"): "That button doesn't look right any more."}
    for action, words in forged.items():
        reply = await press(app, action)
        # A friendly refusal to the presser alone, not a crash, and nothing changed.
        assert reply.error and reply.private and words in text(reply), (action, text(reply))
    _, pending = await repo.open_items(COMMUNITY, caller().member)
    assert [p.ask for p in pending] == ["asked for a raise"]
    totals = await repo.totals(COMMUNITY, caller().member)
    assert (totals.attempts, totals.rejected, totals.accepted) == (1, 0, 0)


async def test_undo_removes_only_your_latest_entry(app, repo):
    assert "nothing of yours" in text(await run(app, "/undo"))
    await run(app, "/rejected first")
    await run(app, "/rejected second")
    await run(app, "/rejected theirs", who="sam")
    reply = await run(app, "/undo")
    assert "second" in text(reply)
    assert (await repo.totals(COMMUNITY, caller().member)).rejected == 1
    assert (await repo.totals(COMMUNITY, caller("sam").member)).rejected == 1


async def test_undo_of_a_kept_promise_reopens_it(app, repo):
    await run(app, "/who-next ask Lee")
    await press(app, (await run(app, "/asks")).buttons()[0].action)
    await run(app, "/undo")
    commitments, _ = await repo.open_items(COMMUNITY, caller().member)
    assert [c.ask for c in commitments] == ["ask Lee"]


async def test_leaderboard_ranks_ties_and_the_callers_rank(app, clock):
    counts = {"ana": 3, "bo": 3, "cy": 2}
    counts.update({f"m{i:02}": 1 for i in range(10)})
    for name, n in counts.items():
        for i in range(n):
            await run(app, f"/rejected ask {i}", who=name)
    await run(app, "/accepted yes", who="cy")
    board = await run(app, "/leaderboard")
    lines = text(board).splitlines()
    assert lines[1] == "1. @ana · 3" and lines[2] == "1. @bo · 3" and lines[3] == "1. @cy · 3"
    assert lines[4].startswith("4. @m00 · 1")
    by_no = await run(app, "/leaderboard by:rejections", who="m09")
    assert "3. @cy · 2" in text(by_no)
    assert "You: #4 of 13 with 1" in text(by_no)  # m09 is not in the top 10 but sees their rank
    mentions = {m.member.id for b in board.blocks for m in getattr(b, "spans", ())
                if isinstance(m, Mention)}
    assert {"ana", "bo", "cy"} <= mentions


async def test_leaderboard_periods(app, clock):
    clock.set(datetime(2026, 10, 15, 12, tzinfo=UTC))
    await run(app, "/rejected october", who="old")
    clock.set(datetime(2026, 11, 2, 12, tzinfo=UTC))  # Monday of an earlier week in November
    await run(app, "/rejected early november", who="mid")
    clock.set(datetime(2026, 11, 26, 12, tzinfo=UTC))
    await run(app, "/rejected this week", who="new")
    assert "@old" not in text(await run(app, "/leaderboard period:month"))
    assert "@mid" in text(await run(app, "/leaderboard period:month"))
    week = text(await run(app, "/leaderboard", who="new"))
    assert "@new" in week and "@mid" not in week
    assert "@old" in text(await run(app, "/leaderboard period:all"))
    empty = await run(app, "/leaderboard", who="nobody")
    assert "not on this board yet: one ask puts you there" in text(empty)


async def test_stats_totals_ratio_and_milestones(app):
    for i in range(9):
        await run(app, f"/rejected {i}")
    await run(app, "/accepted yes")
    await run(app, "/pending waiting")
    reply = await run(app, "/stats")
    body = text(reply)
    assert "Asks: 11\nNo's: 9\nYeses: 1\nWaiting: 1\nAsks per yes: 11" in body
    assert "asks 1, 10" in body and "no's 1" in body and "first yes" in body
    assert "14 more to the 25-ask milestone" in body


async def test_stats_of_another_member(app):
    await run(app, "/rejected secret plan private:true", who="sam")
    reply = await run(app, "/stats member:@sam")
    assert "sam's asking so far" in text(reply) and "No's: 1" in text(reply)
    assert "secret" not in text(reply)
    missing = await run(app, "/stats member:@ghost")
    assert missing.error and "don't know" in text(missing)


@pytest.mark.parametrize("typed", ["ÜNAL", "ünal", "Ünal", "@ÜNAL"])
async def test_another_member_is_found_by_name_in_any_case_beyond_ascii(app, typed):
    """Slack and Discord ids are opaque: the name is what a member types, in any case, and
    SQLite's lower() (or PostgreSQL's on a "C" column) folds ASCII letters alone."""
    unal = Caller(MemberRef(COMMUNITY.platform, "U0UNAL"), "Ünal", COMMUNITY,
                  ChannelRef(COMMUNITY.platform, "general"))
    await app.run_text("rejected", "asked for a discount", unal)
    reply = await run(app, f"/stats member:{typed}")
    assert not reply.error and "Ünal's asking so far" in text(reply), text(reply)


async def test_cheers(app):
    logged = await run(app, "/rejected asked for a raise")
    cheer = logged.buttons()[0].action
    assert "your own ask" in text(await press(app, cheer))
    assert "1 cheer so far" in text(await press(app, cheer, who="sam"))
    second = await press(app, cheer, who="kim")
    assert "2 cheers so far" in text(second) and second.private
    assert [b.label for b in second.relabel] == ["Cheer · 2"]
    back = await press(app, cheer, who="sam")
    assert "taken back" in text(back)
    assert [b.label for b in back.relabel] == ["Cheer · 1"] and back.relabel[0].action == cheer


async def test_help_lists_only_what_works(app):
    reply = await run(app, "/help")
    assert reply.private
    listed = {line.split()[0].split(":")[0].lstrip("/") for line in text(reply).splitlines()
              if line.startswith("/")}
    assert listed == {c.name for c in available_commands()}


async def test_unknown_commands_suggest(app):
    reply = await run(app, "/rejectd asked")
    assert reply.error and "Did you mean /rejected?" in text(reply)


async def test_one_community_never_sees_another(app, repo):
    from bot.ids import CommunityRef, Platform

    other = CommunityRef(Platform.SLACK, "T999")
    await run(app, "/rejected here")
    await app.run_text("rejected", "there", caller("ana", community=other))
    assert (await repo.totals(COMMUNITY, caller().member)).attempts == 1
    board = await app.run_text("leaderboard", "", caller("zed", community=other))
    assert "@ana · 1" in text(board)


async def test_a_failing_command_in_a_batch_rolls_back_alone(repo, clock):
    """Group commit: concurrent commands share a commit, but each is its own unit."""
    import asyncio

    app = App(repo, clock)

    async def broken(_conn):
        raise RuntimeError("boom")

    def explode(_c):
        raise RuntimeError("boom")

    results = await asyncio.gather(
        run(app, "/rejected one"), repo._write(explode), run(app, "/rejected two"),
        return_exceptions=True)
    assert isinstance(results[1], RuntimeError)
    assert (await repo.totals(COMMUNITY, caller().member)).rejected == 2


async def test_the_buttons_block_is_last(app):
    reply = await run(app, "/accepted yes")
    assert isinstance(reply.blocks[-1], Buttons)


async def test_a_member_without_a_zone_lives_in_the_communitys(app, clock, repo):
    """No /timezone of their own: the community's check-in zone, not the server default,
    decides when their day ends."""
    from zoneinfo import ZoneInfo

    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))  # Wed 23:30 UTC = Thu 00:30 Berlin
    admin = await app.run_text("checkin", "set time:09:00 zone:Europe/Berlin", caller(admin=True))
    assert not admin.error, text(admin)
    await run(app, "/who-next ask Lee when:tomorrow", who="bo")
    commitments, _ = await repo.open_items(COMMUNITY, caller("bo").member)
    assert commitments[0].due_at == datetime(2026, 11, 27, 23, 59, 59, tzinfo=ZoneInfo("Europe/Berlin"))
    # their own /timezone still wins
    await run(app, "/timezone America/New_York", who="cy")
    await run(app, "/who-next ask Kim when:today", who="cy")
    mine, _ = await repo.open_items(COMMUNITY, caller("cy").member)
    assert mine[0].due_at == datetime(2026, 11, 25, 23, 59, 59, tzinfo=ZoneInfo("America/New_York"))


async def test_the_catalogue_says_which_answers_are_public(app):
    """Adapters show a placeholder of the catalogue's visibility while a slow answer is made."""
    from bot.commands import CATALOGUE

    samples = {"rejected": "asked", "accepted": "asked", "pending": "asked", "who-next": "ask",
               "leaderboard": "", "stats": "", "asks": "", "undo": "", "help": "", "export": "",
               "forget-me": "", "reminders": "on", "timezone": "Europe/Berlin"}
    for spec in CATALOGUE:
        if spec.name in samples:
            reply = await run(app, f"/{spec.name} {samples[spec.name]}")
            assert not reply.error and reply.private is not spec.public, spec.name


async def test_a_retried_undo_or_cheer_changes_nothing_more(app, repo):
    from bot.invocation import ActionInvocation

    await run(app, "/rejected first")
    await run(app, "/rejected second")
    first = await run(app, "/undo", request_id="u1")
    again = await run(app, "/undo", request_id="u1")  # the platform retried the same request
    assert text(first) == text(again) and "second" in text(again)
    assert (await repo.totals(COMMUNITY, caller().member)).rejected == 1
    cheer = (await run(app, "/rejected third")).buttons()[0].action
    presses = [await app.handle_action(ActionInvocation(cheer.name, cheer.value, caller("sam"),
                                                        request_id="press-1")) for _ in range(2)]
    assert [text(p) for p in presses] == ["You cheered them on! (1 cheer so far)"] * 2
    other = await app.handle_action(ActionInvocation(cheer.name, cheer.value, caller("sam"),
                                                     request_id="press-2"))
    assert "taken back" in text(other)  # a new press is a new press


async def test_asks_pages_four_at_a_time_with_earlier_and_more(app, clock):
    await run(app, "/who-next call the landlord when:friday")
    for i in range(9):
        clock.advance(seconds=1)
        await run(app, f"/pending ask {i}")
    first = await run(app, "/asks")
    rows = [b for b in first.blocks if isinstance(b, Buttons)]
    assert len(rows) == 5  # four items and the page's buttons: Discord's five rows at most
    assert text(first).startswith("Your open asks (1–4 of 10)")
    assert "call the landlord" in text(first) and "ask 2" in text(first)
    assert "ask 3" not in text(first)
    [more] = rows[-1].buttons
    assert more.label == "More ›" and first.private

    second = await press(app, more.action)
    assert second.replace_original and second.private
    assert text(second).startswith("Your open asks (5–8 of 10)")
    assert "ask 3" in text(second) and "ask 6" in text(second) and "ask 7" not in text(second)
    earlier, more = [b for b in second.blocks if isinstance(b, Buttons)][-1].buttons
    assert (earlier.label, more.label) == ("‹ Earlier", "More ›")
    last = await press(app, more.action)
    assert text(last).startswith("Your open asks (9–10 of 10)") and "ask 8" in text(last)
    assert [b.label for b in [b for b in last.blocks if isinstance(b, Buttons)][-1].buttons] == \
        ["‹ Earlier"]
    assert "ask 0" in text(await press(app, earlier.action))  # back to the first page

    # Someone else pressing Sam's button sees their own list, never Sam's.
    stranger = await press(app, Action("asks", "1"), "kenji")
    assert "Nothing open right now" in text(stranger)
    # A page sorted out in the meantime shows the last page there is; a forged value is refused.
    for _ in range(6):
        await run(app, "/undo")
    assert text(await press(app, more.action)).startswith("Your open asks")
    forged = await press(app, Action("asks", "x1"))
    assert forged.error and "/asks" in text(forged)


async def test_help_for_one_command_explains_it(app):
    one = await run(app, "/help rejected")
    assert not one.error and one.private
    assert text(one).startswith("/rejected\nLog an ask that got a no.")
    assert "Usage: /rejected asked for a raise" in text(one)
    assert "ask: What you asked for (needed)" in text(one)
    assert "area: Which part of life (work, money, creative, social, learning, other)" in text(one)
    assert "For the community's admins." in text(await run(app, "/help /Checkin"))
    typo = await run(app, "/help rejectd")
    assert typo.error and "There's no command /rejectd. Did you mean /rejected?" in text(typo)
    assert "Try: /help rejected" in text(typo)
    assert "/stats [member]" in text(await run(app, "/help"))  # no command: every one


async def test_who_next_promises_no_check_in_with_reminders_off(app):
    await run(app, "/reminders off")
    for i in range(4):  # whichever cheer the promise's id picks
        reply = await run(app, f"/who-next ask Sam for an intro {i}")
        assert "I'll check in" not in text(reply)
        assert "Your reminders are off, so I won't check in" in text(reply)
    await run(app, "/reminders on")
    replies = [text(await run(app, f"/who-next ask Kim {i}")) for i in range(2)]
    assert any("I'll check in when it's due" in r for r in replies)


async def test_a_promise_keeps_its_day_when_the_member_changes_zone(app, clock):
    """A promise made for Friday stays Friday in the zone it was made in; /asks names that zone
    once it isn't the member's, and switching back reads as before."""
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # a Tuesday
    await run(app, "/timezone Europe/Lisbon")
    await run(app, "/who-next call the landlord when:friday")
    await run(app, "/who-next ask for feedback")  # due today
    assert "due Friday)" in text(await run(app, "/asks"))
    await run(app, "/timezone Pacific/Auckland")  # 13 hours ahead: already Tuesday night
    moved = text(await run(app, "/asks"))
    assert "call the landlord (due Friday, Europe/Lisbon time)" in moved
    assert "ask for feedback (due today, Europe/Lisbon time)" in moved
    await run(app, "/timezone Europe/Lisbon")
    back = text(await run(app, "/asks"))
    assert "call the landlord (due Friday)" in back and "ask for feedback (due today)" in back


async def test_timezone_and_reminders_with_nothing_given_say_what_is_set(app, clock):
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    unset = await run(app, "/timezone")
    assert not unset.error and unset.private
    assert "You haven't set a time zone, so I use the bot's default zone, UTC (it's 10:00" in text(unset)
    await app.run_text("checkin", "set time:09:00 zone:Europe/Berlin", caller("ana", admin=True))
    community = await run(app, "/timezone", who="sam")
    assert "so I use the community's check-in zone, Europe/Berlin (it's 11:00" in text(community)
    await run(app, "/timezone Asia/Tokyo")
    shown = await run(app, "/timezone")
    assert "Your time zone is Asia/Tokyo (it's 19:00 on Tue 24 Nov there)." in text(shown)
    assert "Your reminders are on" in text(await run(app, "/reminders"))
    await run(app, "/reminders off")
    off = await run(app, "/reminders")
    assert not off.error and "Your reminders are off" in text(off)
    assert "Turn them on with /reminders on." in text(off)
    info = await app.deps.repo.member(COMMUNITY, caller().member)
    assert info is not None and not info.reminders  # asking changed nothing


async def test_undo_ends_its_sentence_once(app):
    await run(app, "/who-next Ask someone for help.")
    removed = text(await run(app, "/undo"))
    assert removed == "Removed your last promise: Ask someone for help."
    await run(app, "/rejected asked for a raise")
    assert text(await run(app, "/undo")).endswith("asked for a raise.")
