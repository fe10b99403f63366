"""The weekly recap's chart: attempts per day by outcome, as PNG bytes.

Matplotlib is used through its object API on the Agg canvas (no pyplot, no global figure
state), so charts can be drawn on worker threads while the event loop keeps running.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from io import BytesIO

# Outcome, legend label, colour: stacked bottom to top.
SERIES = (
    ("rejected", "No", "#e07a5f"),
    ("accepted", "Yes", "#3d9970"),
    ("pending", "Waiting", "#f2cc8f"),
)


def week_chart(days: Sequence[date], counts: Mapping[str, Sequence[int]], title: str) -> bytes:
    """A stacked bar chart, one bar per day; ``counts[outcome][i]`` belongs to ``days[i]``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

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
    ax.yaxis.get_major_locator().set_params(integer=True)
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
