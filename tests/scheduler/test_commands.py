"""/checkin (admins only), /timezone and /reminders: what they change, and precise errors."""

import pytest

from bot.commands import get_command
from tests.helpers import COMMUNITY, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, utc


async def checkin(app, text, admin=True, who="ana"):
    return await app.run_text("checkin", text, caller(who, admin=admin))


def test_the_commands_are_available_and_checkin_is_admin_only():
    for name in ("checkin", "timezone", "reminders"):
        assert get_command(name).available
    assert get_command("checkin").admin_only
    assert not get_command("timezone").admin_only and not get_command("reminders").admin_only


async def test_set_show_off(app, repo, clock):
    clock.set(utc(2026, 11, 26, 12))  # Thursday
    reply = await checkin(app, "set time:09:00 days:weekdays zone:Europe/Berlin recap:friday")
    text = reply.plain_text()
    assert not reply.error and not reply.private, text
    assert "Weekdays at 09:00 (Europe/Berlin) in this channel. Weekly recap on Fridays." in text
    assert "Next check-in: Fri 27 Nov, 09:00 (Europe/Berlin)" in text
    saved = await repo.get_schedule(COMMUNITY)
    assert (saved.time, saved.days, saved.timezone, saved.channel_id, saved.recap_day) == (
        "09:00", "mon,tue,wed,thu,fri", "Europe/Berlin", "general", "friday")

    shown = await checkin(app, "show")
    assert shown.private and "Next check-in: Fri 27 Nov, 09:00" in shown.plain_text()
    assert "Next recap: Fri 27 Nov, 09:00" in shown.plain_text()

    # Changing one thing keeps the rest.
    await checkin(app, "set time:7:30 channel:#asks recap:off")
    saved = await repo.get_schedule(COMMUNITY)
    assert (saved.time, saved.days, saved.channel_id, saved.recap_day) == (
        "07:30", "mon,tue,wed,thu,fri", "asks", None)

    off = await checkin(app, "off")
    assert "Check-ins are off" in off.plain_text()
    assert not (await repo.get_schedule(COMMUNITY)).enabled
    assert "already off" in (await checkin(app, "off")).plain_text()
    assert "Check-ins are off" in (await checkin(app, "show")).plain_text()


async def test_a_non_admin_is_refused_and_nothing_changes(app, repo, clock):
    await checkin(app, "set time:09:00 zone:UTC")
    before = await repo.get_schedule(COMMUNITY)
    for text in ("set time:10:00 zone:Europe/Berlin", "off", "show"):
        reply = await checkin(app, text, admin=False, who="sam")
        assert reply.error and reply.private
        assert "/checkin is for admins" in reply.plain_text()
    assert await repo.get_schedule(COMMUNITY) == before


@pytest.mark.parametrize("text, message", [
    ("set time:25:00", "`time`: 25:00 isn't a time of day: hours go from 00 to 23"),
    ("set time:09:75", "minutes go from 00 to 59"),
    ("set time:9am", "`time` takes a 24-hour time. Did you mean `time:09:00`?"),
    ("set time:6:30pm", "Did you mean `time:18:30`?"),
    ("set time:9", "Did you mean `time:09:00`?"),
    ("set time:24:00", "For midnight, use 00:00"),
    ("set time:soon", "`time` takes a 24-hour time like 09:00 or 18:30, not “soon”."),
    ("set days:funday", "`days`: I don't know the day “funday”. Did you mean sunday?"),
    ("set days:mon,wed,fro", "I don't know the day “fro”. Did you mean fri?"),
    ("set days:mo", "I don't know the day “mo”"),
    ("set zone:Europe/Berln", "“Europe/Berln” isn't a time zone I know. Did you mean Europe/Berlin?"),
    ("set zone:Mars/Olympus", "isn't a time zone I know."),
    ("set zone:Berlin", "Did you mean Europe/Berlin?"),
    ("off time:09:00", "`time` only goes with /checkin set"),
    ("set recap:funday", "`recap` can be monday"),
    ("launch", "`action` can be set, off, show, preview"),
    # A platform's channel markup is its adapter's to translate; what reaches the core untranslated
    # is refused, not stored as a channel.
    ("set channel:<#C0ASKS|asks>", "`channel`: “<#C0ASKS|asks>” isn't a channel I can post to."),
    ("set channel:<#1300000000000000001>", "isn't a channel I can post to. Name one, like channel:#asks."),
])
async def test_bad_input_is_a_precise_error_and_changes_nothing(app, repo, text, message):
    reply = await checkin(app, text)
    assert reply.error and reply.private
    assert message in reply.plain_text(), reply.plain_text()
    assert await repo.get_schedule(COMMUNITY) is None


@pytest.mark.parametrize("text, days", [
    ("daily", "mon,tue,wed,thu,fri,sat,sun"),
    ("weekdays", "mon,tue,wed,thu,fri"),
    ("weekends", "sat,sun"),
    ("fri,mon,wed", "mon,wed,fri"),
    ('"Monday Wednesday"', "mon,wed"),
    ("tue-thu", "tue,wed,thu"),
])
async def test_day_lists(app, repo, text, days):
    assert not (await checkin(app, f"set days:{text}")).error
    assert (await repo.get_schedule(COMMUNITY)).days == days


async def test_timezone(app, repo, clock):
    clock.set(utc(2026, 11, 26, 12))
    reply = await run(app, "/timezone america/new_york")
    assert not reply.error and reply.private
    assert "America/New_York" in reply.plain_text() and "07:00" in reply.plain_text()
    assert (await repo.member(COMMUNITY, caller().member)).timezone == "America/New_York"
    typo = await run(app, "/timezone America/New_Yrok")
    assert typo.error and "Did you mean America/New_York?" in typo.plain_text()
    assert (await repo.member(COMMUNITY, caller().member)).timezone == "America/New_York"
    # A new schedule without a zone takes the admin's own.
    await checkin(app, "set time:08:00")
    assert (await repo.get_schedule(COMMUNITY)).timezone == "America/New_York"


@pytest.mark.parametrize("line", ["/timezone localtime", "/timezone Factory",
                                  "/timezone posixrules", "/checkin set zone:localtime"])
async def test_zone_database_names_that_are_no_place_are_refused(app, repo, line):
    """``localtime`` would be whatever zone the server runs in; ``Factory`` a placeholder."""
    command, _, rest = line[1:].partition(" ")
    reply = await app.run_text(command, rest, caller(admin=True))
    assert reply.error and "time zone" in reply.plain_text().lower()
    member = await repo.member(COMMUNITY, caller().member)
    assert member is None or member.timezone is None
    assert await repo.get_schedule(COMMUNITY) is None


async def test_checkin_changes_rebuild_the_running_jobs(app, repo, clock):
    sched = make_scheduler(repo, app, RecordingPoster(), clock)
    await sched.start(catch_up=False, paused=True)
    try:
        assert sched.job_for(COMMUNITY, "checkin") is None
        await checkin(app, "set time:09:00 zone:Asia/Tokyo recap:off")
        job = sched.job_for(COMMUNITY, "checkin")
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert sched.job_for(COMMUNITY, "recap") is None
        await checkin(app, "set time:10:15 recap:sunday")
        assert "minute='15'" in str(sched.job_for(COMMUNITY, "checkin").trigger)
        assert sched.job_for(COMMUNITY, "recap") is not None
        await checkin(app, "off")
        assert sched.job_for(COMMUNITY, "checkin") is None
        assert sched.job_for(COMMUNITY, "recap") is None
    finally:
        await sched.stop()


async def test_preview_posts_nothing(app, repo, clock):
    await checkin(app, "set time:09:00")
    reply = await checkin(app, "preview")
    assert reply.private and "Nothing is posted." in reply.plain_text()
    assert "Check-in ·" in reply.plain_text()


@pytest.mark.parametrize("typed, stored", [
    ("#asks", "asks"), ("asks", "asks"), ("C0ASKS", "C0ASKS"),  # an id as an adapter hands it
    ("1300000000000000001", "1300000000000000001"),
])
async def test_a_channel_is_an_id_or_a_name(app, repo, typed, stored):
    assert not (await checkin(app, f"set channel:{typed}")).error
    assert (await repo.get_schedule(COMMUNITY)).channel_id == stored


def test_parse_channel_knows_no_platform_markup():
    from bot.commands import OptionError
    from bot.schedules import parse_channel

    assert parse_channel("  #asks ") == "asks"
    for markup in ("<#C0ASKS|asks>", "<#C0ASKS>", "<#123>", "asks>"):
        with pytest.raises(OptionError, match="`where`"):
            parse_channel(markup, "where")
