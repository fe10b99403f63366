"""An outage is logged as one: a warning when it starts, a reminder a minute, a line when it
ends."""

import logging

from bot.outage import OutageLog


def test_an_outage_is_a_warning_a_reminder_a_minute_and_its_end(caplog):
    now = [0.0]
    outage = OutageLog(logging.getLogger("t"), every=60, clock=lambda: now[0])
    outage.ok()  # nothing was down: says nothing
    with caplog.at_level(logging.WARNING):
        for second in range(0, 150, 5):  # a failure every 5 s for 2.5 minutes
            now[0] = second
            outage.failed("/rejected", OSError("refused"))
        now[0] = 151
        outage.ok()
        outage.ok()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4, lines
    assert lines[0].startswith("Can't reach the database (/rejected failed: refused)")
    assert lines[1].startswith("Still can't reach the database: 13 failures in the last 60 s")
    assert lines[2].startswith("Still can't reach the database: 25 failures in the last 120 s")
    assert lines[3] == "The database is back after 151 s (30 failures meanwhile)."
