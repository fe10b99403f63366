"""An outage logged as an outage: one warning when the database stops answering, a reminder
a minute while it stays away, one line when it's back — never a traceback per command, which
at a few commands a second would bury everything else in the log."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class OutageLog:
    def __init__(self, log: logging.Logger, every: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = log
        self._every = every
        self._clock = clock
        self._since: float | None = None  # when the outage began
        self._last = 0.0  # when it was last logged
        self._failures = 0

    def failed(self, what: str, err: BaseException) -> None:
        now = self._clock()
        self._failures += 1
        if self._since is None:
            self._since = self._last = now
            self._log.warning("Can't reach the database (%s failed: %s). Answering \"try again "
                              "in a minute\" until it's back.", what, err)
        elif now - self._last >= self._every:
            self._last = now
            self._log.warning("Still can't reach the database: %d failures in the last %.0f s "
                              "(latest: %s).", self._failures, now - self._since, err)

    def ok(self) -> None:
        if self._since is None:
            return
        self._log.warning("The database is back after %.0f s (%d failures meanwhile).",
                          self._clock() - self._since, self._failures)
        self._since = None
        self._failures = 0
