"""A promise kept from its follow-up DM: the group hears it in the channel the promise was made
in, through the outbox (once, even when drained again), and not when it was undone first."""

from dataclasses import replace

from bot.ids import ChannelRef, Platform
from bot.invocation import ActionInvocation
from bot.models import OutboxState, PostKind
from bot.outbox import UNDONE
from tests.helpers import COMMUNITY, caller, press, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


def in_dm(who: str):
    """``who`` pressing a button in their DM with the bot."""
    return replace(caller(who), channel=ChannelRef(Platform.CONSOLE, f"dm-{who}"))


async def followup_buttons(app, repo, clock, poster):
    clock.set(utc(2026, 11, 26, 10))
    assert not (await run(app, "/who-next call the landlord when:today")).error  # in #general
    sched = make_scheduler(repo, app, poster, clock)
    assert (await sched.run_followups(utc(2026, 11, 27, 0, 0, 30))).followups == 1
    clock.set(utc(2026, 11, 27, 8))
    return sched, {b.label: b.action for b in poster.dms[0][2].buttons()}


async def test_a_promise_kept_from_its_dm_is_told_in_its_channel_once(app, repo, clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    rejected = buttons["Rejected"]
    reply = await app.handle_action(ActionInvocation(rejected.name, rejected.value, in_dm("ana")))
    assert not reply.error and reply.private and reply.replace_original
    assert "Logged as a no: call the landlord" in reply.plain_text()
    assert "telling the group in the channel you made it in" in reply.plain_text()
    assert poster.posts == []  # not yet: it goes out through the outbox
    await sched.drain()
    (community, channel, news), = poster.posts
    assert (community, channel) == (COMMUNITY, "general")
    assert "@ana kept a promise and got a no: call the landlord" in news.plain_text()
    assert [b.label for b in news.buttons()] == ["Cheer"]
    assert news.mentions() == {caller("ana").member}
    await sched.drain()
    clock.set(utc(2026, 11, 27, 9))
    await sched.drain()
    assert len(poster.posts) == 1  # exactly once
    again = await app.handle_action(ActionInvocation(rejected.name, rejected.value, in_dm("ana")))
    assert again.error and "Already sorted" in again.plain_text()
    await sched.drain()
    assert len(poster.posts) == 1


async def test_kept_in_its_own_channel_it_is_celebrated_there_with_no_news(app, repo, clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    reply = await press(app, buttons["Accepted"])  # pressed in #general, where it was made
    assert not reply.private and "@ana got a yes: call the landlord" in reply.plain_text()
    await sched.drain()
    assert poster.posts == []


async def test_news_of_an_ask_undone_before_it_went_out_is_dropped(app, repo, clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    accepted = buttons["Accepted"]
    await app.handle_action(ActionInvocation(accepted.name, accepted.value, in_dm("ana")))
    undone = await run(app, "/undo")
    assert "Removed your last" in undone.plain_text() and "call the landlord" in undone.plain_text()
    # On SQLite the next attempt takes the deleted id again: someone else's private ask must
    # not go out as that news.
    await run(app, "/rejected my secret thing private:true", who="sam")
    await sched.drain()
    assert poster.posts == []
    assert await news_rows(repo) == []  # the undo took the unsent news with it


async def test_news_whose_attempt_vanished_under_it_is_recorded_missed(app, repo, clock):
    poster = RecordingPoster()
    sched, buttons = await followup_buttons(app, repo, clock, poster)
    accepted = buttons["Accepted"]
    await app.handle_action(ActionInvocation(accepted.name, accepted.value, in_dm("ana")))
    await repo._write(lambda tx: tx.execute("DELETE FROM attempts"))  # by a way not ours
    await sched.drain()
    assert poster.posts == []
    assert await news_rows(repo) == [(OutboxState.MISSED.value, UNDONE)]


async def news_rows(repo) -> list[tuple[str, str]]:
    rows = await repo._read(lambda tx: tx.execute(
        "SELECT state, reason FROM outbox WHERE kind = ?", (PostKind.NEWS.value,)).fetchall())
    return [(r[0], r[1]) for r in rows]


async def test_a_pending_ask_resolved_from_asks_is_told_to_the_group(app):
    await run(app, '/pending asked the gallery for a show')
    await run(app, '/pending a quiet one private:true')
    asks = await run(app, "/asks")
    first, second = [b.action for b in asks.buttons() if b.label == "Rejected"]
    heard = await press(app, first)
    assert not heard.private and not heard.error
    assert "@ana heard back and got a no: asked the gallery for a show" in heard.plain_text()
    assert "Milestone! First ask" not in heard.plain_text()  # counted as an ask already
    assert [b.label for b in heard.buttons()] == ["Cheer"]
    private = await press(app, second)
    assert private.private and "Marked as a no: a quiet one" in private.plain_text()
