"""What every benchmark prints its figures with."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def spread(values: Sequence[float], fmt: str = ".2f") -> str:
    """min / median / max of several runs."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values),
                                                max(values)))
