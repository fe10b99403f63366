"""/remind: setting, showing, changing and turning off a personal nudge, its bad input (nothing
changes), its next due moment in the member's zone (DST-safe), the nudge's button, /help, and
the terminal."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.console import Console, ConsolePoster
from bot.handlers.remind import next_remind
from bot.ids import Platform
from bot.models import Remind
from bot.reply import Action
from bot.scheduler import Scheduler
from tests.helpers import COMMUNITY, caller, press, run
from tests.scheduler.helpers import utc
from tests.test_console import whosnext


async def setting(repo, who: str = "ana") -> Remind | None:
    return await repo.get_remind(COMMUNITY, caller(who).member)


async def test_set_show_change_and_off(app, repo, clock):
    # The clock starts on Thursday 26 Nov 2026, 12:00 UTC; the default zone is UTC.
    none = await run(app, "/remind")
    assert none.private and not none.error and "no nudge set" in none.plain_text()
    reply = await run(app, "/remind time:18:00 days:weekdays")
    assert reply.private and not reply.error
    assert "at 18:00 (UTC) on weekdays" in reply.plain_text()
    assert await setting(repo) == Remind("18:00", "mon,tue,wed,thu,fri", utc(2026, 11, 26, 18))
    assert "at 18:00 (UTC) on weekdays" in (await run(app, "/remind")).plain_text()

    # Only the days: the time is kept; only the time: the days are kept.
    await run(app, "/remind days:mon,wed,fri")
    assert await setting(repo) == Remind("18:00", "mon,wed,fri", utc(2026, 11, 27, 18))
    await run(app, "/remind 9:30")
    assert await setting(repo) == Remind("09:30", "mon,wed,fri", utc(2026, 11, 27, 9, 30))
    assert "Monday, Wednesday and Friday" in (await run(app, "/remind")).plain_text()

    off = await run(app, "/remind off")
    assert not off.error and "Nudges off" in off.plain_text()
    assert await setting(repo) is None
    assert "no nudge set" in (await run(app, "/remind")).plain_text()


async def test_a_first_setting_with_no_days_is_every_day_in_the_members_zone(app, repo, clock):
    await run(app, "/timezone Asia/Tokyo")
    reply = await run(app, "/remind time:07:00")
    assert "at 07:00 (Asia/Tokyo) every day, whenever" in reply.plain_text()
    # 12:00 UTC is 21:00 in Tokyo: the next 07:00 there is tomorrow, 22:00 UTC today.
    assert (await setting(repo)).next_at == utc(2026, 11, 26, 22)


async def test_with_reminders_off_it_says_it_will_stay_quiet(app):
    await run(app, "/reminders off")
    assert "/reminders on" in (await run(app, "/remind 18:00")).plain_text()


async def test_shown_it_says_when_no_nudge_will_come(app, clock):
    """/remind on its own tells what is set, and why it is quiet for now: reminders off, or a
    break under way."""
    clock.set(utc(2026, 11, 26, 10))  # Thursday
    await run(app, "/remind time:18:00")
    assert "quiet" not in (await run(app, "/remind")).plain_text()
    await run(app, "/reminders off")
    assert "Your reminders are off" in (await run(app, "/remind")).plain_text()
    await run(app, "/reminders on")
    await run(app, "/pause until:saturday")
    shown = (await run(app, "/remind")).plain_text()
    assert "on a break until Sat 28 Nov: no nudges until it's over" in shown
    assert "on a break until Sat 28 Nov" in (await run(app, "/remind time:19:00")).plain_text()
    await run(app, "/pause off")
    assert "break" not in (await run(app, "/remind")).plain_text()


@pytest.mark.parametrize("line, words", [
    ("/remind off", "nothing to turn off"),
    ("/remind days:weekdays", "what time too"),
    ("/remind time:25:00", "isn't a time of day"),
    ("/remind time:6pm", "Did you mean `time:18:00`?"),
    ("/remind time:soon", "24-hour time like 09:00"),
    ("/remind time:18:00 days:funday", "I don't know the day “funday”"),
    ("/remind time:18:00 days:", "`days:` has no value"),
    ("/remind off days:weekdays", "takes no days"),
    ("/remind 18:00 mood:sunny", "no option `mood`"),
    ("/remind time:" + "1" * 21, "the most is 20"),
])
async def test_bad_input_is_explained_and_changes_nothing(app, repo, line, words):
    reply = await run(app, line)
    assert reply.error and reply.private and words in reply.plain_text(), reply.plain_text()
    assert await setting(repo) is None


async def test_bad_input_keeps_an_existing_setting(app, repo):
    await run(app, "/remind 18:00 days:weekends")
    before = await setting(repo)
    for line in ("/remind time:99:00", "/remind days:someday", "/remind off days:daily"):
        assert (await run(app, line)).error
    assert await setting(repo) == before


def test_next_remind_is_dst_safe():
    berlin = ZoneInfo("Europe/Berlin")
    # Saturday 28 Mar 2026, 18:00 Berlin (winter, +1); Sunday 29 Mar is summer (+2).
    first = next_remind("18:00", "mon,tue,wed,thu,fri,sat,sun", berlin, utc(2026, 3, 28, 12))
    assert first == utc(2026, 3, 28, 17)
    assert next_remind("18:00", "mon,tue,wed,thu,fri,sat,sun", berlin, first) == \
        utc(2026, 3, 29, 16)
    # A time the change skips (02:30 on 29 Mar) falls in the hour after it.
    skipped = next_remind("02:30", "sun", berlin, utc(2026, 3, 28, 12))
    assert skipped.astimezone(berlin).date().isoformat() == "2026-03-29"
    # Only the chosen days: Monday 30 Mar after a Friday.
    assert next_remind("09:00", "mon", berlin, datetime(2026, 3, 27, 12, tzinfo=UTC)) == \
        utc(2026, 3, 30, 7)


async def test_the_nudge_button_offers_the_log_form(app):
    reply = await press(app, Action("log", "rejected"))
    assert not reply.error and reply.private and reply.form == "rejected"
    assert "/rejected" in reply.plain_text()
    bad = await press(app, Action("log", "forged"))
    assert bad.error and bad.form is None


async def test_help_describes_it(app):
    text = (await run(app, "/help remind")).plain_text()
    assert "/remind" in text and "haven't logged an ask yet" in text
    assert "HH:MM" in text and "weekdays" in text


def test_terminal_transcript(tmp_path):
    script = "\n".join(["/remind", "/remind time:18:00 days:weekdays", "/remind",
                        "/remind time:7pm", "/remind off", "/remind off", "/help remind", ""])
    done = whosnext(["console", "--db", str(tmp_path / "t.db"), "--user", "ana"], script,
                    tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "no nudge set" in out
    assert "Nudge set! I'll nudge you at 18:00" in out and "on weekdays" in out
    assert "Did you mean time:19:00?" in out
    assert "Nudges off." in out and "nothing to turn off" in out
    assert "Your local time, 24-hour HH:MM" in out


async def test_the_terminal_shows_the_nudge_and_its_button_says_what_to_type(app, repo, clock):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out)
    sched = Scheduler(repo, app, {Platform.CONSOLE: ConsolePoster(console)}, clock,
                      communities=[console.community])
    await console.handle_line("/remind time:18:00 days:daily")
    await console.handle_line("/remind time:18:00 days:nope")
    await sched.run_due(utc(2026, 11, 26, 18, 0, 30))
    await sched.run_due(utc(2026, 11, 26, 18, 5))
    text = out.getvalue()
    assert "I don't know the day “nope”" in text
    assert text.count("(DM to ana)\nHi ana! Any ask in you today?") == 1
    (number,) = [n for n, a in console.buttons.items() if a == Action("log", "rejected")]
    await console.handle_line(f"!{number}")
    assert 'Log it with /rejected ask:"what you asked for"' in out.getvalue()


async def test_a_new_timezone_moves_the_nudge_with_it(app, repo, clock):
    """18:00 stays 18:00 where the member now is: the next nudge is due there."""
    await run(app, "/timezone Europe/Berlin")
    await run(app, "/remind time:18:00 days:daily")
    before = await repo.get_remind(COMMUNITY, caller().member)
    await run(app, "/timezone America/New_York")
    after = await repo.get_remind(COMMUNITY, caller().member)
    assert before is not None and after is not None and after.time == "18:00"
    local = after.next_at.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (18, 0) and after.next_at > clock.now()
