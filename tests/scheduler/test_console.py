"""The terminal shows check-ins, recaps (chart saved to a file) and follow-up DMs."""

import io

from adapters.console import Console, ConsolePoster
from bot.ids import Platform
from bot.ports import PostingLimits
from bot.scheduler import Scheduler
from tests.scheduler.helpers import utc


def test_the_console_poster_declares_its_limits(app, repo, clock):
    poster = ConsolePoster(Console(app, "ana", "test", out=io.StringIO()))
    assert poster.limits == PostingLimits(concurrency=4, per_second=None)
    sched = Scheduler(repo, app, {Platform.CONSOLE: poster}, clock)
    assert sched.limits == {Platform.CONSOLE: poster.limits}


async def test_the_terminal_shows_a_check_in_a_recap_and_a_dm(app, repo, clock, tmp_path):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out, files_dir=tmp_path / "charts")
    other = Console(app, "zed", "elsewhere", out=io.StringIO())
    sched = Scheduler(repo, app, {Platform.CONSOLE: ConsolePoster(console)}, clock,
                      communities=[console.community])
    clock.set(utc(2026, 11, 22, 12))  # Sunday
    await console.handle_line("/checkin set time:09:00 days:daily zone:Europe/Berlin")
    await console.handle_line("sam> /checkin off")  # not an admin: refused
    await other.handle_line("/checkin set time:09:00 zone:Europe/Berlin")  # another community
    clock.set(utc(2026, 11, 27, 10))
    await console.handle_line("/rejected asked for a raise fear:7")
    await console.handle_line("sam> /who-next ask Lee for an intro when:today")
    await console.handle_line("lee> /accepted asked for a table")

    await sched.run_due(utc(2026, 11, 28, 8))  # Saturday 09:00 Berlin, and sam's promise is due
    clock.set(utc(2026, 11, 30, 8))
    await sched.run_due(utc(2026, 11, 30, 8))  # Monday: check-in and recap
    text = out.getvalue()
    print(text)
    assert "(only sam sees this) /checkin is for admins" in text
    assert "--- scheduled post in #general ---\n== Check-in · Saturday 28 Nov ==" in text
    assert "Since yesterday's check-in: 2 asks: 1 no, 1 yes." in text
    assert "• @ana got a no: asked for a raise" in text
    assert "(DM to sam)\n== How did your ask go? ==" in text
    assert "Promise: ask Lee for an intro (was due Fri 27 Nov)" in text
    assert "== Weekly recap · 23–29 Nov ==" in text  # the console passes no community name
    charts = list((tmp_path / "charts").glob("*.png"))
    assert [c.name for c in charts] == ["whosnext-week-2026-11-23.png"]
    assert f"saved to {charts[0]}" in text
    assert "elsewhere" not in text and text.count("scheduled post") == 3

    # The DM's buttons work from the terminal: sam presses "Rejected".
    number = next(n for n, a in console.buttons.items() if a.name == "resolve" and a.value.endswith(":r"))
    await console.handle_line(f"sam> !{number}")
    assert "@sam got a no: ask Lee for an intro" in out.getvalue()


async def test_whosnext_console_posts_a_missed_check_in_late_at_start_up(tmp_path):
    """The real CLI wiring: a check-in 30 minutes ago (the bot was down) is posted when the
    console starts, once; a second start posts nothing. Real clock, no waiting."""
    from datetime import UTC, datetime, timedelta

    from storage.sqlite import SqliteRepository
    from tests.scheduler.helpers import schedule
    from tests.test_console import whosnext

    db = tmp_path / "team.db"
    now = datetime.now(UTC)
    repo = await SqliteRepository.open(db)
    due = (now - timedelta(minutes=30)).strftime("%H:%M")
    await repo.save_schedule(schedule("local", time=due, zone="UTC"), now - timedelta(days=3))
    await repo.close()
    first = whosnext(["console", "--db", str(db), "--user", "ana"], "", tmp_path)
    assert first.returncode == 0, first.stderr
    assert "--- scheduled post in #general ---" in first.stdout
    assert "Posted a little late" in first.stdout
    again = whosnext(["console", "--db", str(db), "--user", "ana"], "", tmp_path)
    assert "scheduled post" not in again.stdout
