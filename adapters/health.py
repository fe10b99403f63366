"""Health and metrics over HTTP, for probes and Prometheus: ``/healthz``, ``/readyz`` and
``/metrics``, on a small aiohttp server of their own (``HEALTH_PORT``) and, in Slack's HTTP
mode, beside ``/slack/events`` on Slack's port too (the composition root hands ``routes`` to
the Slack adapter; these never pass the Slack signature guard, which only looks at its path).

- ``GET /healthz``: 200 ``{"status": "alive"}`` whenever the event loop answers (liveness: a
  process that can't answer this is stuck and should be restarted);
- ``GET /readyz``: 200 ``{"status": "ready", "checks": {...}}`` when every check passes: the
  database answers a real query within ``timeout`` seconds, and each platform this process
  runs is connected. Otherwise 503 ``{"status": "not ready", "checks": {...}, "failed":
  [...]}``, each failed check saying what's wrong in a few plain words (never where the
  database is: the Slack port faces the internet). While the bot stops, 503 ``"stopping"``;
- ``GET /metrics``: Prometheus's text format (``bot.metrics``).

The server binds ``HEALTH_HOST``, by default 0.0.0.0: a container's probes and a Prometheus
scraping the pod come from outside its loopback. Set HEALTH_HOST=127.0.0.1 to keep it on the
machine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from bot.config import ConfigError
from bot.errors import Unavailable

log = logging.getLogger(__name__)

# A check: None when all is well, otherwise what's wrong, in a few plain words.
Check = Callable[[], Awaitable[str | None]]
Exposition = Callable[[], Awaitable[bytes]]
TIMEOUT = 2.0  # seconds each readiness check may take: probes time out after a few
OK = "ok"


class Health:
    """The three endpoints. ``checks`` by name (``database``, ``slack``, ``discord``), run side
    by side on each /readyz, each cut off after ``timeout`` seconds; ``metrics`` renders
    /metrics (None: no /metrics route); ``stopping`` set once the bot is stopping."""

    def __init__(self, checks: Mapping[str, Check], *, metrics: Exposition | None = None,
                 content_type: str = "text/plain; version=0.0.4; charset=utf-8",
                 stopping: asyncio.Event | None = None, timeout: float = TIMEOUT):
        self.checks = dict(checks)
        self.metrics = metrics
        self.content_type = content_type
        self.stopping = stopping
        self.timeout = timeout
        self._failing: dict[str, str] = {}  # what the last /readyz found wrong, for the log
        self._runner: web.AppRunner | None = None

    @property
    def routes(self) -> list[web.RouteDef]:
        """The endpoints, for any aiohttp app (``web_app.router.add_routes``)."""
        routes = [web.get("/healthz", self.alive, allow_head=True),
                  web.get("/readyz", self.ready, allow_head=True)]
        if self.metrics is not None:
            routes.append(web.get("/metrics", self.scrape))
        return routes

    async def alive(self, request: web.Request) -> web.Response:
        """Answering at all is the point: nothing here waits on anything."""
        return web.json_response({"status": "alive"})

    async def ready(self, request: web.Request) -> web.Response:
        results = await self.run_checks()
        failed = [name for name, result in results.items() if result != OK]
        stopping = self.stopping is not None and self.stopping.is_set()
        if not failed and not stopping:
            return web.json_response({"status": "ready", "checks": results})
        status = "stopping" if stopping else "not ready"
        return web.json_response({"status": status, "checks": results, "failed": failed},
                                 status=503)

    async def run_checks(self) -> dict[str, str]:
        """Each check's result (``ok``, or what's wrong), all at once."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(name) for name in names))
        found = dict(zip(names, results, strict=True))
        self._log_changes(found)
        return found

    async def _run(self, name: str) -> str:
        try:
            problem = await asyncio.wait_for(self.checks[name](), timeout=self.timeout)
        except TimeoutError:
            return f"no answer within {self.timeout:g} s"
        except Exception as err:  # a check that fails is a failed check, never a 500
            log.debug("Readiness: the %s check raised", name, exc_info=err)
            return f"the check failed ({type(err).__name__})"
        return OK if problem is None else problem

    def _log_changes(self, found: dict[str, str]) -> None:
        """One line when a check starts failing (or fails differently), one when it passes
        again: probes every few seconds don't fill the log."""
        for name, result in found.items():
            before = self._failing.get(name)
            if result != OK and result != before:
                log.warning("Not ready: %s: %s", name, result)
                self._failing[name] = result
            elif result == OK and before is not None:
                log.info("Ready again: %s is fine", name)
                del self._failing[name]

    async def scrape(self, request: web.Request) -> web.Response:
        assert self.metrics is not None
        body = await self.metrics()
        return web.Response(body=body, headers={"Content-Type": self.content_type})

    # -- the server of its own ---------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Serve the endpoints on ``host``:``port``; a port that can't be had is a
        ``ConfigError`` naming HEALTH_PORT."""
        web_app = web.Application()
        web_app.router.add_routes(self.routes)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as err:
            await runner.cleanup()
            raise ConfigError(f"HEALTH_PORT: can't listen on {host}:{port} "
                              f"({err.strerror or err}). Is another process using it? Set "
                              "HEALTH_PORT to a free port (or HEALTH_HOST to another "
                              "address).") from None
        self._runner = runner
        log.info("Health: /healthz, /readyz%s on http://%s:%d", _and_metrics(self), host,
                 self.port or port)

    @property
    def port(self) -> int | None:
        """The port it listens on (None: not started)."""
        if self._runner is None or not self._runner.addresses:
            return None
        address: Any = self._runner.addresses[0]
        return int(address[1])

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()


def database_check(ping: Callable[[], Awaitable[None]]) -> Check:
    """The database check: ``ping`` (one real query) answers, or what's wrong, in words that
    name no host (the details go to the log)."""

    async def check() -> str | None:
        try:
            await ping()
        except Unavailable as err:
            log.debug("Readiness: the database is out of reach: %s", err)
            return "can't reach the database"
        except RuntimeError as err:  # closed: the bot is stopping
            log.debug("Readiness: the database isn't open: %s", err)
            return "the database isn't open"
        return None

    return check


def _and_metrics(health: Health) -> str:
    return " and /metrics" if health.metrics is not None else ""
