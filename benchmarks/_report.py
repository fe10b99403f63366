"""What every benchmark prints its figures with."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Sequence
from typing import Any


def spread(values: Sequence[float], fmt: str = ".2f") -> str:
    """min / median / max of several runs."""
    return " / ".join(format(v, fmt) for v in (min(values), statistics.median(values),
                                                max(values)))


class GcTime:
    """Time spent in the garbage collector from now until ``stop()`` (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)


def budget(bare: str, bare_cpu: Sequence[float], ours_cpu: Sequence[float],
           floor: Sequence[float], goal: float) -> str:
    """What a throughput goal of ``goal`` x the bare side at saturation leaves a request (both
    servers are CPU-bound there: ours may take 1/goal times the bare side's CPU a request),
    beside what /rejected's storage alone costs (``log_throughput.storage_floor``). Every
    figure is µs of CPU a request over each side's whole run, min / median / max."""
    allowed = [cpu * (1 / goal - 1) for cpu in bare_cpu]
    extra = [o - b for o, b in zip(ours_cpu, bare_cpu, strict=True)]
    return (f"CPU a request over the run, µs: {goal}x {bare} at saturation leaves ours "
            f"{spread(allowed, '.0f')} "
            f"on top of {bare}'s {spread(bare_cpu, '.0f')}; ours takes {spread(extra, '.0f')} "
            f"on top; /rejected's storage alone (the repository's unit for it, in batches straight "
            f"on sqlite3, nothing around it) takes {spread(floor, '.0f')}")
