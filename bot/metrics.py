"""The core's ``Metrics`` on prometheus_client (the one core module that imports it), in a
``CollectorRegistry`` of its own: nothing goes to the library's global default registry, so
two of these (two tests, two bots in one process) never share a number.

What ``/metrics`` shows (``exposition``):

- ``whosnext_commands_total{command, outcome}``: commands answered, by name (``unknown`` for a
  name not in the catalogue, ``button:<name>`` for a button press) and ``CommandOutcome``
  (``ok``, ``refused``, ``unavailable``, ``error``);
- ``whosnext_command_seconds{command}``: how long the core took to answer, a histogram;
- ``whosnext_posts_total{platform, kind, outcome}``: scheduled posts (``checkin``, ``recap``,
  ``followup``) by ``PostOutcome``: each try ``sent`` or ``retried``, each post given up
  ``missed``;
- ``whosnext_outbox_oldest_due_seconds``: how long ago the oldest post still to go out fell
  due, read from the database at each scrape (0 when nothing is waiting; left out of the
  scrape when the database can't say within ``timeout`` seconds: /readyz says why).

Imported only when metrics are served (``HEALTH_PORT``, or Slack in HTTP mode): the plain
terminal bot never loads prometheus_client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from bot.ports import Clock, CommandOutcome, PostOutcome, Repository

log = logging.getLogger(__name__)

# A command normally takes milliseconds; Slack wants its ack within 3 s, Discord its first
# response within 3 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)


class _OldestDue(Collector):
    """The backlog gauge, as the last ``exposition`` read it (None: left out)."""

    def __init__(self) -> None:
        self.seconds: float | None = None

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def collect(self) -> Iterable[Metric]:
        if self.seconds is None:
            return []
        family = self._family()
        family.add_metric([], self.seconds)
        return [family]

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily("whosnext_outbox_oldest_due_seconds",
                                 "Seconds since the oldest scheduled post still to go out "
                                 "fell due (0: none waiting)")


class PrometheusMetrics:
    """``bot.ports.Metrics`` counted in prometheus_client; ``exposition`` is the text a
    Prometheus scrape reads. ``platforms``: whose outbox backlog the gauge shows (those this
    process serves; None: all)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, repo: Repository, clock: Clock,
                 platforms: Collection[str] | None = None, timeout: float = 2.0):
        self.repo = repo
        self.clock = clock
        self.platforms = None if platforms is None else sorted(platforms)
        self.timeout = timeout
        self.registry = CollectorRegistry()
        self._commands = Counter("whosnext_commands", "Commands and button presses answered, "
                                 "by name and outcome", ["command", "outcome"],
                                 registry=self.registry)
        self._seconds = Histogram("whosnext_command_seconds", "Seconds the core took to answer "
                                  "a command or button press", ["command"], buckets=BUCKETS,
                                  registry=self.registry)
        self._posts = Counter("whosnext_posts", "Scheduled posts: tries sent or retried, posts "
                              "missed", ["platform", "kind", "outcome"], registry=self.registry)
        self._oldest = _OldestDue()
        self.registry.register(self._oldest)

    def command(self, name: str, outcome: CommandOutcome, seconds: float) -> None:
        self._commands.labels(name, str(outcome)).inc()
        self._seconds.labels(name).observe(seconds)

    def post(self, platform: str, kind: str, outcome: PostOutcome) -> None:
        self._posts.labels(platform, kind, str(outcome)).inc()

    async def exposition(self) -> bytes:
        """Every metric in Prometheus's text format, the backlog read fresh."""
        self._oldest.seconds = await self._backlog()
        return generate_latest(self.registry)

    async def _backlog(self) -> float | None:
        now = self.clock.now()
        try:
            oldest = await asyncio.wait_for(self.repo.outbox_oldest_due(now, self.platforms),
                                            timeout=self.timeout)
        except Exception as err:  # out of reach, or slow: /readyz reports the database
            log.debug("Metrics: couldn't read the outbox backlog: %r", err)
            return None
        return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
