"""The pictures: the stats card and the recap chart are PNGs of a fixed size, with something
drawn on them, whatever the name; no font warning is ever emitted."""

from __future__ import annotations

import logging
import struct
import warnings
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from PIL import Image as PILImage
from PIL import ImageStat

from bot import chart
from bot.app import App
from bot.chart import Fonts, MatplotlibCharts, chain_families
from bot.reply import Image
from tests.helpers import press, run

CARD_SIZE, RECAP_SIZE = (800, 450), (700, 380)
ODD_NAMES = ("Ana 🚀", "李雷", "Zoë", "محمد", "👍👍", "👨‍💻", "Cash $$ Money", "$x^2$",
             "Mary\nJo\tO'Neil", "Bartholomew Fitzgerald-Montgomery of Lower Wallop")
WEEKS = [date(2026, 9, 7) + timedelta(weeks=i) for i in range(12)]


@contextmanager
def no_font_warnings(caplog):
    """Any warning is an error, and matplotlib logs nothing at warning level or above."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            yield
    assert [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")] == []


def size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def assert_drawn(png: bytes, expected: tuple[int, int]) -> PILImage.Image:
    """The PNG has the size expected and is no blank: many colours, and contrast."""
    assert size(png) == expected
    picture = PILImage.open(BytesIO(png)).convert("RGB")
    assert picture.size == expected
    colours = picture.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) >= 50
    assert min(ImageStat.Stat(picture).stddev) > 15
    return picture


class Recording(MatplotlibCharts):
    """The real charts, remembering what each card was asked to show."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: list[dict[str, object]] = []

    def stats_card(self, name, totals, weeks, per_week, facts=(), goal=None, notes=()):
        self.cards.append({"name": name, "totals": dict(totals), "weeks": list(weeks),
                           "per_week": list(per_week), "facts": list(facts), "goal": goal,
                           "notes": list(notes)})
        return super().stats_card(name, totals, weeks, per_week, facts, goal, notes)


@pytest.fixture
def charts() -> Recording:
    return Recording()


@pytest.fixture
def card_app(repo, clock, charts) -> App:
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000, charts=charts)


def card_of(reply) -> bytes:
    [image] = [b for b in reply.blocks if isinstance(b, Image)]
    return image.data


async def test_a_new_members_card_is_full_and_encouraging(card_app, charts, clock, caplog):
    clock.set(datetime(2026, 11, 26, 9, tzinfo=UTC))  # a Thursday
    await run(card_app, "/rejected asked for a discount")
    with no_font_warnings(caplog):
        png = card_of(await run(card_app, "/stats"))
    picture = assert_drawn(png, CARD_SIZE)
    assert picture.getpixel((400, 4)) == (0xe0, 0x7a, 0x5f)  # the card's top band
    [card] = charts.cards
    assert card["name"] == "ana"
    assert card["totals"] == {"rejected": 1, "accepted": 0, "pending": 0}
    # Six weeks, not twelve mostly empty ones; the last is this week, with its ask.
    assert card["weeks"] == [date(2026, 11, 23) - timedelta(weeks=n) for n in range(5, -1, -1)]
    assert card["per_week"] == [0, 0, 0, 0, 0, 1]
    assert card["facts"] == [("daily streak", "1 day"), ("this week", "1 of 3 asks"),
                             ("cheers received", "0")]
    assert card["goal"] is None
    assert card["notes"] == ["Reached: first ask · first no", "9 more to the 10-ask milestone.",
                             "No goal yet? Try /goal 100, the classic 100 no's challenge."]


async def test_a_busy_members_card_shows_goal_streaks_cheers_and_milestones(
        card_app, charts, clock, caplog):
    clock.set(datetime(2026, 9, 1, 9, tzinfo=UTC))
    await run(card_app, "/goal 40 by:2027-03-31")
    for i in range(60):  # one ask a day for sixty days: two in three a no
        outcome = "rejected" if i % 3 else "accepted"
        reply = await run(card_app, f"/{outcome} ask number {i} area:work")
        if i % 20 == 0:
            [cheer] = [b for b in reply.buttons() if "cheer" in b.action.name]
            await press(card_app, cheer.action, who="kim")
        clock.advance(days=1)
    with no_font_warnings(caplog):
        png = card_of(await run(card_app, "/stats"))
    assert_drawn(png, CARD_SIZE)
    card = charts.cards[-1]
    assert card["totals"] == {"rejected": 40, "accepted": 20, "pending": 0}
    # Nine weeks: from the first ask's (Tuesday 1 Sep) to this one's (Saturday 31 Oct).
    assert card["weeks"] == [date(2026, 8, 31) + timedelta(weeks=n) for n in range(9)]
    assert card["per_week"] == [6, 7, 7, 7, 7, 7, 7, 7, 5]
    assert card["facts"] == [("daily streak", "60 days"), ("weekly streak", "9 weeks"),
                             ("cheers received", "3")]
    assert card["goal"] == (40, 40, "Goal reached: 40 no's by 31 Mar 2027! · counting from Tue 1 Sep")
    assert card["notes"] == ["Reached: 50 asks · 40 no's · first yes",
                             "40 more to the 100-ask milestone.", "Top areas: work 60"]


async def test_a_goal_under_way_has_its_progress_and_the_day_it_counts_from(
        card_app, charts, clock):
    clock.set(datetime(2026, 11, 19, 9, tzinfo=UTC))
    await run(card_app, "/rejected the day before the goal")
    clock.set(datetime(2026, 11, 20, 9, tzinfo=UTC))
    await run(card_app, "/goal 10")
    clock.advance(hours=1)
    await run(card_app, "/rejected after the goal")
    await run(card_app, "/stats")
    assert charts.cards[-1]["goal"] == (1, 10, "Goal: 1 of 10 no's · counting from Fri 20 Nov")


async def test_the_card_is_kept_until_any_of_what_it_shows_changes(monkeypatch):
    drawn: list[tuple[object, ...]] = []
    draw = chart.stats_card

    def counted(*args):
        drawn.append(args)
        return draw(*args)

    monkeypatch.setattr(chart, "stats_card", counted)
    charts = MatplotlibCharts()
    base = ("Ana", {"rejected": 2}, WEEKS[-6:], [0, 0, 0, 0, 1, 1])
    facts, goal, notes = [("daily streak", "2 days")], (1, 10, "Goal: 1 of 10"), ["Reached"]
    first = charts.stats_card(*base, facts, goal, notes)
    assert charts.stats_card(*base, list(facts), goal, list(notes)) == first and len(drawn) == 1
    for changed in ((*base, [("daily streak", "3 days")], goal, notes),
                    (*base, facts, (2, 10, "Goal: 2 of 10"), notes),
                    (*base, facts, goal, ["Reached", "Next"]),
                    (*base, facts, None, notes)):
        assert charts.stats_card(*changed) != first
    assert len(drawn) == 5


@pytest.mark.parametrize("name", ODD_NAMES)
def test_any_name_draws_a_card_without_a_font_warning(name, caplog):
    with no_font_warnings(caplog):
        png = chart.stats_card(name, {"rejected": 3, "accepted": 1}, WEEKS, [1] * 12,
                               [("daily streak", "2 days")], (3, 10, f"Goal: 3 of 10 · {name}"),
                               [f"Top areas: {name} 3"])
    assert_drawn(png, CARD_SIZE)


async def test_an_emoji_name_through_the_app(card_app, charts, caplog):
    await run(card_app, "/rejected asked", who="Ana 🚀")
    with no_font_warnings(caplog):
        assert_drawn(card_of(await run(card_app, "/stats", who="Ana 🚀")), CARD_SIZE)
    assert charts.cards[-1]["name"] == "Ana 🚀"  # the words are the member's: the chart cleans


def test_text_no_font_has_is_left_out_and_a_name_never_empty():
    fonts = Fonts.of(["DejaVu Sans"])
    assert fonts.families == ("DejaVu Sans",)
    assert fonts.clean("Ana 🚀") == "Ana"
    assert fonts.clean("Zoë") == "Zoë"
    assert fonts.clean("محمد") == "محمد"  # DejaVu Sans has Arabic (and matplotlib shapes it)
    assert fonts.clean("👍🏽 ok") == "ok"  # the skin tone goes with its emoji
    assert fonts.clean("A👨‍💻B") == "AB"  # and the joiner of a sequence
    assert fonts.clean("Mary\n\tJo ") == "Mary Jo"
    assert fonts.clean("1–7 Dec · 🚀🚀") == "1–7 Dec"  # no dangling separator
    assert fonts.clean("李雷") == ""  # no installed font has them here
    assert fonts.clean("👍👍", "you") == "you"
    assert fonts.fit("👍👍", 20, chart.NO_NAME) == chart.NO_NAME
    assert fonts.fit("Bartholomew Fitzgerald-Montgomery", 12) == "Bartholomew…"
    assert fonts.fit("Ann Lee", 12) == "Ann Lee"


def test_a_second_font_in_the_chain_draws_what_the_first_lacks(caplog):
    """STIXGeneral (shipped with matplotlib) has circled letters that DejaVu Sans lacks: with it
    in the chain they are kept and drawn, with no warning; a family not installed is skipped."""
    name = "Ⓐna ⌣"
    assert Fonts.of(["DejaVu Sans"]).clean(name) == "na"
    fonts = Fonts.of(["DejaVu Sans", "No Such Font", "STIXGeneral"])
    assert fonts.families == ("DejaVu Sans", "STIXGeneral")
    assert fonts.clean(name) == name
    with no_font_warnings(caplog):
        with_chain = chart.stats_card(name, {"rejected": 1}, WEEKS[-6:], [0] * 5 + [1],
                                      fonts=fonts)
        without = chart.stats_card(name, {"rejected": 1}, WEEKS[-6:], [0] * 5 + [1],
                                   fonts=Fonts.of(["DejaVu Sans"]))
    assert with_chain != without


def test_the_chain_is_dejavu_then_the_wide_fonts_installed():
    installed = {"Comic Neue", "Symbola", "Noto Sans Georgian", "DejaVu Sans", "Noto Sans CJK JP",
                 "Noto Sans Mono", "Noto Color Emoji"}
    assert chain_families(installed) == ["DejaVu Sans", "Noto Sans CJK JP", "Noto Color Emoji",
                                         "Symbola", "Noto Sans Georgian"]
    # What this machine has: DejaVu Sans first, always (matplotlib ships it).
    assert Fonts.installed().families[0] == "DejaVu Sans"


RECAP_DAYS = [date(2026, 11, 23) + timedelta(days=i) for i in range(7)]
RECAP_COUNTS = {"rejected": [1, 2, 0, 3, 1, 0, 0], "accepted": [0, 1, 0, 1, 0, 0, 2],
                "pending": [1, 0, 0, 0, 0, 0, 0]}


@pytest.mark.parametrize("community", ["Ask Club", "Ask Club 🚀", "读书会", "🚀🚀"])
def test_the_recap_chart_carries_its_dates_and_community(community, caplog):
    charts = MatplotlibCharts()
    with no_font_warnings(caplog):
        titled = charts.week_chart(RECAP_DAYS, RECAP_COUNTS, "Asks per day, by outcome",
                                   subtitle=f"23–29 Nov · {community}")
        plain = charts.week_chart(RECAP_DAYS, RECAP_COUNTS, "Asks per day, by outcome")
    assert_drawn(titled, RECAP_SIZE)
    assert_drawn(plain, RECAP_SIZE)
    assert titled != plain  # the subtitle is drawn


def test_a_recap_chart_of_a_quiet_week_is_still_a_chart(caplog):
    with no_font_warnings(caplog):
        png = chart.week_chart(RECAP_DAYS, {}, "Asks per day, by outcome", "23–29 Nov · 👍")
    assert size(png) == RECAP_SIZE


def test_a_tile_never_reads_as_a_loss():
    """A streak that has ended shows its best; a weekly streak not yet begun, this week's way
    there; a best above the current one is named beside it."""
    from bot.handlers.board import card_facts

    days = {date(2026, 11, 2): 1, date(2026, 11, 3): 2, date(2026, 11, 4): 1}
    assert card_facts(days, date(2026, 11, 26), 0, 2) == [
        ("best daily streak", "3 days"), ("this week", "0 of 3 asks"), ("cheers received", "2")]
    days[date(2026, 11, 25)] = 3
    assert card_facts(days, date(2026, 11, 26), 3, 0) == [
        ("daily streak · best 3", "1 day"), ("weekly streak", "1 week"), ("cheers received", "0")]
