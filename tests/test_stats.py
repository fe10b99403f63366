"""/stats beyond the totals: cheers given and received, and the stats card picture."""

import struct
from datetime import UTC, datetime

from bot.reply import Image
from tests.helpers import press, run


def text(reply) -> str:
    return reply.plain_text()


async def test_stats_show_cheers_given_and_received(app):
    cheer = (await run(app, "/rejected asked")).buttons()[0].action
    await press(app, cheer, who="sam")
    await press(app, cheer, who="kim")
    await press(app, cheer, who="kim")  # taken back
    assert "Cheers: 1 received · 0 given" in text(await run(app, "/stats"))
    assert "Cheers: 0 received · 1 given" in text(await run(app, "/stats", who="sam"))


async def test_stats_card_is_a_png(app, clock):
    assert not any(isinstance(b, Image) for b in (await run(app, "/stats")).blocks)  # nothing yet
    clock.set(datetime(2026, 11, 10, 9, tzinfo=UTC))
    await run(app, "/rejected two weeks ago")
    clock.set(datetime(2026, 11, 26, 9, tzinfo=UTC))
    await run(app, "/accepted this week")
    images = [b for b in (await run(app, "/stats")).blocks if isinstance(b, Image)]
    assert len(images) == 1 and images[0].filename.endswith(".png")
    png = images[0].data
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 450)


async def test_the_card_is_drawn_off_the_loop_once_per_content(repo, clock, monkeypatch):
    import threading

    from bot import chart
    from bot.app import App

    drawn: list[str] = []
    draw = chart.stats_card

    def counted(*args):
        drawn.append(threading.current_thread().name)
        return draw(*args)

    monkeypatch.setattr(chart, "stats_card", counted)
    app = App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000,
              charts=chart.MatplotlibCharts())
    clock.set(datetime(2026, 11, 26, 9, tzinfo=UTC))
    await run(app, "/rejected asked for a raise")

    def card(reply) -> bytes:
        [image] = [b for b in reply.blocks if isinstance(b, Image)]
        return image.data

    first = card(await run(app, "/stats"))
    again = card(await run(app, "/stats"))
    assert first == again and len(drawn) == 1  # the same card, drawn once
    assert threading.main_thread().name not in drawn  # on a worker thread, not the loop's
    await run(app, "/accepted asked for a day off")  # what the card shows changed
    changed = card(await run(app, "/stats"))
    assert changed != first and len(drawn) == 2
    # Another member's card is theirs: drawn for them.
    await run(app, "/rejected asked too", who="sam")
    assert card(await run(app, "/stats", who="sam")) not in (first, changed) and len(drawn) == 3


def test_each_members_card_is_a_file_of_its_own():
    from bot.handlers.board import card_filename

    assert card_filename("Ana") == "whosnext-stats-ana.png"
    assert card_filename("sam") == "whosnext-stats-sam.png"
    assert card_filename("Mary Jo O'Neil") == "whosnext-stats-mary-jo-o-neil.png"
    assert card_filename("李雷") != card_filename("さくら")  # nothing to spell: a checksum each
    assert card_filename("李雷").startswith("whosnext-stats-")
    assert card_filename("../../etc/passwd") == "whosnext-stats-etc-passwd.png"
