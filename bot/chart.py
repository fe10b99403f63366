"""The bot's pictures, drawn with matplotlib: the weekly recap's chart (attempts per day by
outcome) and a member's stats card, as PNG bytes. ``MatplotlibCharts`` is the core's ``Charts``;
this is the one module that imports matplotlib, and only the composition root imports it.

Matplotlib is used through its object API on the Agg canvas (no pyplot, no global figure
state), so charts can be drawn on worker threads while the event loop keeps running.

A stats card is drawn with a fixed layout (measuring every label to lay it out would double
its cost) and kept: ``MatplotlibCharts`` draws a card once and hands out the same bytes until
what it shows changes (the member's name, counts, or weeks), ``CARDS_KEPT`` cards at most.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import date
from io import BytesIO

from bot.models import Outcome

# Outcome, legend label, colour: stacked bottom to top.
SERIES = (
    (Outcome.REJECTED, "No", "#e07a5f"),
    (Outcome.ACCEPTED, "Yes", "#3d9970"),
    (Outcome.PENDING, "Waiting", "#f2cc8f"),
)


def week_chart(days: Sequence[date], counts: Mapping[str, Sequence[int]], title: str) -> bytes:
    """A stacked bar chart, one bar per day; ``counts[outcome][i]`` belongs to ``days[i]``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 3.6), dpi=100)
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
    ax.set_title(title)
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
    fig.tight_layout()
    buf = BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def stats_card(title: str, totals: Mapping[str, int], weeks: Sequence[date],
               per_week: Sequence[int]) -> bytes:
    """A member's card: totals by outcome beside their asks per week, as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": (2, 3)})
    labels = [label for _, label, _ in SERIES]
    values = [totals.get(outcome, 0) for outcome, _, _ in SERIES]
    bars = left.barh(labels[::-1], values[::-1], color=[c for *_, c in SERIES][::-1])
    left.bar_label(bars, padding=3, fontsize=9)
    left.set_xlim(0, max(max(values, default=0), 1) * 1.3)
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_title("All time", fontsize=10)
    x = list(range(len(weeks)))
    right.bar(x, per_week, color="#81b29a", width=0.7)
    right.set_xticks(x, [f"{w.day} {w.strftime('%b')}" if i % 2 == 0 else "" for i, w in enumerate(weeks)],
                     fontsize=8)
    right.set_ylim(0, max(max(per_week, default=0), 3) * 1.25)
    right.yaxis.get_major_locator().set_params(integer=True)
    right.axhline(3, color="#999999", linewidth=0.8, linestyle="--")  # the weekly-streak bar
    right.set_title("Asks per week (dashed: 3, a week that counts)", fontsize=10)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title, fontsize=12)
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.12, top=0.8, wspace=0.25)
    buf = BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


CARDS_KEPT = 512  # about 30 KB each


class MatplotlibCharts:
    """``bot.ports.Charts`` on matplotlib; stats cards drawn once per content."""

    def __init__(self) -> None:
        self._cards: OrderedDict[tuple[object, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()  # cards are drawn on worker threads
        # A name in a script the installed fonts lack (李雷, さくら) draws as boxes, and
        # matplotlib warns once per glyph: noise in the log that no operator can act on.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font",
                                category=UserWarning)

    def week_chart(self, days: Sequence[date], counts: Mapping[str, Sequence[int]],
                   title: str) -> bytes:
        return week_chart(days, counts, title)

    def stats_card(self, title: str, totals: Mapping[str, int], weeks: Sequence[date],
                   per_week: Sequence[int]) -> bytes:
        key = (title, tuple(sorted(totals.items())), tuple(weeks), tuple(per_week))
        with self._lock:
            kept = self._cards.get(key)
            if kept is not None:
                self._cards.move_to_end(key)
                return kept
        png = stats_card(title, totals, weeks, per_week)  # two threads may both draw: same bytes
        with self._lock:
            self._cards[key] = png
            while len(self._cards) > CARDS_KEPT:
                self._cards.popitem(last=False)
        return png
