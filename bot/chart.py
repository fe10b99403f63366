"""The bot's pictures, drawn with matplotlib: the weekly recap's chart (attempts per day by
outcome) and a member's stats card, as PNG bytes. ``MatplotlibCharts`` is the core's ``Charts``;
this is the one module that imports matplotlib, and only the composition root imports it.

Matplotlib is used through its object API on the Agg canvas (no pyplot, no global figure
state), so charts can be drawn on worker threads while the event loop keeps running.

Any name can be drawn: text from members (names, a community's name) is drawn with a chain of
fonts (``Fonts``: DejaVu Sans, then any wide-coverage font installed, such as Noto Sans CJK or
Symbola), and a character no font of the chain has (an emoji, often) is left out rather than
drawn as a box: matplotlib never warns about a missing glyph. A name with nothing left is
drawn as a neutral word.

A stats card is drawn with a fixed layout (measuring every label to lay it out would double
its cost) and kept: ``MatplotlibCharts`` draws a card once and hands out the same bytes until
what it shows changes (any of its inputs), ``CARDS_KEPT`` cards at most.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import TYPE_CHECKING, Any

from bot.models import Outcome
from bot.stats import WEEKLY_TARGET  # the dashed line: a week that keeps the weekly streak

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Outcome, legend label, colour: stacked bottom to top.
SERIES = (
    (Outcome.REJECTED, "No", "#e07a5f"),
    (Outcome.ACCEPTED, "Yes", "#3d9970"),
    (Outcome.PENDING, "Waiting", "#f2cc8f"),
)

# The fonts tried in turn for each character, when installed: DejaVu Sans (matplotlib's own)
# first, then wide-coverage ones. Bitmap-only colour emoji fonts (Noto Color Emoji) can't be
# scaled by matplotlib and are skipped when found; an outline emoji font (Noto Emoji, Symbola)
# draws emoji in one colour.
FONT_CHAIN = (
    "DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC",
    "Noto Sans CJK KR", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari",
    "Noto Sans Bengali", "Noto Sans Tamil", "Noto Sans Thai", "Noto Sans Symbols",
    "Noto Sans Symbols 2", "Noto Emoji", "Noto Color Emoji", "Symbola", "Droid Sans Fallback",
    "WenQuanYi Zen Hei", "Arial Unicode MS", "Unifont",
)
WEIGHTS = ("normal", "bold")  # the card and the chart draw members' text in these
NO_NAME = "A brave asker"  # a name with nothing drawable left


def chain_families(installed: Collection[str]) -> list[str]:
    """The families of ``FONT_CHAIN`` among ``installed``, in chain order, then any other
    installed Noto Sans family (one per script): the fallback chain, before checking that each
    can be drawn."""
    chain = [name for name in FONT_CHAIN if name in installed]
    extra = sorted(name for name in installed
                   if name.startswith("Noto Sans ") and name not in chain
                   and not name.endswith(("Mono", "Display", "UI")))
    return chain + extra


@dataclass(frozen=True)
class Fonts:
    """A fallback chain of font families and the characters it can draw, in every weight used."""

    families: tuple[str, ...]
    covered: frozenset[int]

    @classmethod
    def of(cls, families: Iterable[str]) -> Fonts:
        """The chain of ``families`` (installed ones), each used only if matplotlib can scale it;
        a character counts as covered when one family has it in every weight."""
        from matplotlib import font_manager
        from matplotlib.ft2font import FT2Font

        usable: list[str] = []
        covered: set[int] = set()
        for family in families:
            try:
                charmaps = []
                for weight in WEIGHTS:
                    path = font_manager.findfont(
                        font_manager.FontProperties(family=family, weight=weight),
                        fallback_to_default=False)
                    font = FT2Font(path)
                    if not font.scalable:  # bitmaps only (a colour emoji font): can't be sized
                        raise ValueError(path)
                    charmaps.append(set(font.get_charmap()))
            except (ValueError, RuntimeError, OSError):  # not installed, or not usable
                continue
            usable.append(family)
            covered.update(set.intersection(*charmaps))
        return cls(tuple(usable), frozenset(covered))

    @classmethod
    def installed(cls) -> Fonts:
        """The chain from the fonts installed on this machine (tens of milliseconds: build it
        once)."""
        from matplotlib import font_manager

        return cls.of(chain_families({f.name for f in font_manager.fontManager.ttflist}))

    def clean(self, text: str, fallback: str = "") -> str:
        """``text`` on one line with only what the chain can draw: a character no font has is
        left out, with the marks and joiners that belong to it. ``fallback`` when nothing
        visible is left."""
        kept: list[str] = []
        dropped = False
        for ch in " ".join(text.split()):
            category = unicodedata.category(ch)
            if dropped and (category[0] == "M" or ch == "\u200d"):
                continue  # a skin tone, a variation selector or a joiner of a dropped emoji
            dropped = ch != " " and (ord(ch) not in self.covered
                                     or category in ("Cc", "Co", "Cs", "Cn"))
            if not dropped:
                kept.append(ch)
        cleaned = " ".join("".join(kept).split()).strip(" ·")
        visible = any(unicodedata.category(ch)[0] in "LNPS" for ch in cleaned)
        return cleaned if visible else fallback

    def fit(self, text: str, width: int, fallback: str = "") -> str:
        """``text`` cleaned (``fallback`` if nothing is left) and cut short with an ellipsis
        past ``width`` half-width characters (an ideograph counts two): the card's layout is
        fixed, so a long text must not run into its neighbour."""
        cleaned = self.clean(text, fallback)
        used = 0
        for i, ch in enumerate(cleaned):
            used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
            if used > width:
                return cleaned[:i].rstrip() + "…"
        return cleaned

    def text(self, **kwargs: Any) -> dict[str, Any]:
        """Keyword arguments for a matplotlib text drawn with this chain, never as mathtext."""
        return {"fontfamily": list(self.families), "parse_math": False, **kwargs}


def _png(fig: Figure) -> bytes:
    buf = BytesIO()
    fig.savefig(buf, format="png", facecolor=fig.get_facecolor())
    return buf.getvalue()


def week_chart(days: Sequence[date], counts: Mapping[str, Sequence[int]], title: str,
               subtitle: str = "", fonts: Fonts | None = None) -> bytes:
    """A stacked bar chart, one bar per day; ``counts[outcome][i]`` belongs to ``days[i]``;
    ``subtitle`` (the dates and the community's name) under the title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fonts = fonts or Fonts.installed()
    fig = Figure(figsize=(7, 3.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(days)))
    bottom = [0] * len(days)
    for outcome, label, colour in SERIES:
        values = list(counts.get(outcome, [0] * len(days)))
        ax.bar(x, values, bottom=bottom, color=colour, label=label, width=0.65)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(x, [f"{d.strftime('%a')}\n{d.day} {d.strftime('%b')}" for d in days])
    ax.set_ylabel("asks")
    fig.suptitle(fonts.clean(title), **fonts.text(fontsize=13, weight="bold", y=0.97))
    if sub := fonts.clean(subtitle):
        fig.text(0.5, 0.87, sub, **fonts.text(fontsize=10, color="#555555", ha="center"))
    top = max(bottom, default=0)
    ax.set_ylim(0, max(top, 1) * 1.35)
    locator = ax.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # the default one (AutoLocator) is
        locator.set_params(integer=True)
    for xi, total in zip(x, bottom, strict=True):
        if total:
            ax.annotate(str(total), (xi, total), ha="center", va="bottom", fontsize=9,
                        xytext=(0, 2), textcoords="offset points")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", frameon=False, ncols=3)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return _png(fig)


INK, MUTED, PAPER, TILE, EDGE = "#3d405b", "#6b6f80", "#fbf7f0", "#ffffff", "#e8e1d5"
WEEK_BAR, THIS_WEEK = "#9cc5b0", "#3d9970"
# The four numbers on a card: label, outcome (None: all asks), colour.
NUMBERS = (("asks", None, INK), ("no's", Outcome.REJECTED, "#d0603f"),
           ("yeses", Outcome.ACCEPTED, "#2e8b61"), ("waiting", Outcome.PENDING, "#c08a2e"))


def _bar(fig: Figure, x: float, y: float, w: float, h: float, colour: str,
         edge: str = "none") -> None:
    """A rounded box on the figure, in figure coordinates."""
    from matplotlib.patches import FancyBboxPatch

    fig.patches.append(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.012",
                                      transform=fig.transFigure, facecolor=colour,
                                      edgecolor=edge, linewidth=1))


def week_label(monday: date, current: bool) -> str:
    return "this\nweek" if current else f"{monday.day}\n{monday.strftime('%b')}"


def stats_card(name: str, totals: Mapping[str, int], weeks: Sequence[date],
               per_week: Sequence[int], facts: Sequence[tuple[str, str]] = (),
               goal: tuple[int, int, str] | None = None, notes: Sequence[str] = (),
               fonts: Fonts | None = None) -> bytes:
    """A member's card (800 x 450), as PNG bytes: ``name`` as the heading; their asks, no's,
    yeses and waiting; ``facts`` as (label, value) tiles, three at most; a progress bar for
    ``goal`` (progress, target, caption); ``notes`` lines, three at most; their asks per week
    beside it all (``weeks``: each week's Monday, the last one this week's)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    fonts = fonts or Fonts.installed()
    fig = Figure(figsize=(8, 4.5), dpi=100, facecolor=PAPER)
    FigureCanvasAgg(fig)
    fig.patches.append(Rectangle((0, 0.975), 1, 0.025, transform=fig.transFigure,
                                 facecolor=SERIES[0][2], edgecolor="none"))
    fig.text(0.04, 0.855, fonts.fit(name, 28, NO_NAME),
             **fonts.text(fontsize=21, weight="bold", color=INK))
    fig.text(0.965, 0.87, "Who's Next", fontsize=10, weight="bold", color=MUTED, ha="right")

    left, width, gap = 0.04, 0.5, 0.012
    asks = sum(totals.values())
    tile_w = (width - 3 * gap) / 4
    for i, (label, outcome, colour) in enumerate(NUMBERS):
        x = left + i * (tile_w + gap)
        _bar(fig, x, 0.60, tile_w, 0.19, TILE, EDGE)
        number = asks if outcome is None else totals.get(outcome, 0)
        fig.text(x + tile_w / 2, 0.675, f"{number:,}", fontsize=21, weight="bold", color=colour,
                 ha="center")
        fig.text(x + tile_w / 2, 0.625, label, fontsize=9, color=MUTED, ha="center")

    shown = facts[:3]
    fact_w = (width - (len(shown) - 1) * gap) / max(len(shown), 1)
    for i, (label, value) in enumerate(shown):
        x = left + i * (fact_w + gap)
        _bar(fig, x, 0.41, fact_w, 0.16, TILE, EDGE)
        fig.text(x + 0.015, 0.475, fonts.fit(value, 13),
                 **fonts.text(fontsize=13, weight="bold", color=INK))
        fig.text(x + 0.015, 0.43, fonts.fit(label, 24), **fonts.text(fontsize=8, color=MUTED))

    y = 0.33
    if goal is not None:
        progress, target, caption = goal
        fig.text(left, y, fonts.fit(caption, 72), **fonts.text(fontsize=9.5, color=INK))
        share = min(progress / target, 1) if target > 0 else 1
        for w, colour in ((width, EDGE), (width * share, SERIES[0][2])):
            if w > 0:
                _bar(fig, left, y - 0.065, w, 0.04, colour)
        y -= 0.14
    for note in notes[:3]:
        fig.text(left, y, fonts.fit(note, 72), **fonts.text(fontsize=9.5, color=INK))
        y -= 0.065

    # The weeks' bars straight on the figure: an Axes with its ticks would cost more than the
    # rest of the card.
    x0, y0, w, h = 0.62, 0.14, 0.345, 0.56
    slot, top = w / max(len(weeks), 1), max(max(per_week, default=0), WEEKLY_TARGET + 1) * 1.2
    last = len(weeks) - 1
    for i, (monday, n) in enumerate(zip(weeks, per_week, strict=True)):
        centre = x0 + (i + 0.5) * slot
        if n:
            fig.patches.append(Rectangle((centre - 0.35 * slot, y0), 0.7 * slot, h * n / top,
                                         transform=fig.transFigure, edgecolor="none",
                                         facecolor=THIS_WEEK if i == last else WEEK_BAR))
            fig.text(centre, y0 + h * n / top + 0.008, str(n), fontsize=8, color=INK,
                     ha="center")
        fig.text(centre, y0 - 0.015, week_label(monday, i == last), fontsize=7, color=MUTED,
                 ha="center", va="top", linespacing=1.1)
    fig.lines.append(Line2D((x0, x0 + w), (y0, y0), transform=fig.transFigure, color=EDGE,
                            linewidth=1))
    line_y = y0 + h * WEEKLY_TARGET / top
    fig.lines.append(Line2D((x0, x0 + w), (line_y, line_y), transform=fig.transFigure,
                            color="#999999", linewidth=0.8, linestyle="--"))
    fig.text(0.62, 0.775, "Asks per week", fontsize=11, weight="bold", color=INK)
    fig.text(0.62, 0.735, f"dashed: {WEEKLY_TARGET}, a week that keeps the streak", fontsize=8,
             color=MUTED)
    return _png(fig)


CARDS_KEPT = 512  # about 40 KB each


class MatplotlibCharts:
    """``bot.ports.Charts`` on matplotlib; stats cards drawn once per content."""

    def __init__(self) -> None:
        self._cards: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()  # cards are drawn on worker threads
        self._fonts: Fonts | None = None  # found on the first picture (matplotlib loads late)

    def fonts(self) -> Fonts:
        with self._lock:
            if self._fonts is None:
                self._fonts = Fonts.installed()
            return self._fonts

    def week_chart(self, days: Sequence[date], counts: Mapping[str, Sequence[int]],
                   title: str, subtitle: str = "") -> bytes:
        return week_chart(days, counts, title, subtitle, self.fonts())

    def stats_card(self, name: str, totals: Mapping[str, int], weeks: Sequence[date],
                   per_week: Sequence[int], facts: Sequence[tuple[str, str]] = (),
                   goal: tuple[int, int, str] | None = None, notes: Sequence[str] = ()) -> bytes:
        key = (name, tuple(sorted(totals.items())), tuple(weeks), tuple(per_week),
               tuple(facts), goal, tuple(notes))
        with self._lock:
            kept = self._cards.get(key)
            if kept is not None:
                self._cards.move_to_end(key)
                return kept
        # Two threads may both draw: the same bytes.
        png = stats_card(name, totals, weeks, per_week, facts, goal, notes, self.fonts())
        with self._lock:
            self._cards[key] = png
            while len(self._cards) > CARDS_KEPT:
                self._cards.popitem(last=False)
        return png
