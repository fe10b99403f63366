"""Slack HTTP mode: our adapter against a bare slack-bolt app that only acks, driven by the same
load generator in the same run.

    python benchmarks/slack_http.py [--clients 32,128] [--seconds 5] [--rate 100]
                                    [--rate-seconds 5] [--runs 3] [--sides bolt,bolt-pbr,ours]
                                    [--profile FILE] [--server-log FILE]

- The sides. ``bolt``: slack-bolt's ``AsyncApp`` as its docs show it, its own ``web_app()``
  served by aiohttp, one slash-command listener that only calls ``ack()`` (bolt's defaults,
  so its listener runner polls for the ack every 10 ms). ``bolt-pbr``: the same app with
  bolt's public ``process_before_response=True`` (bolt awaits the listener; no polling): the
  floor under any bolt app. ``ours``: ``SlackAdapter`` in HTTP mode as ``whosnext`` runs it
  (the request guard, the real core on a real SQLite file migrated in a temporary folder,
  Prometheus metrics and the health routes on the same port, INFO logging), answering each
  ``/rejected`` with its rendered reply in the ack.
- Each side is a subprocess of its own (``--serve SIDE``, started one at a time, never two at
  once), so that it has a core to itself on a 2-core machine (the load generator has the
  other) and its peak memory is its own. Peak memory is the server process's
  ``VmHWM`` (/proc/self/status) when it stops (imports included; "ready" is
  the same figure just before the first request). And its CPU time (``ru_utime + ru_stime``,
  every thread: the storage's worker thread too) from "ready" to the stop, over the requests
  it answered: a figure the noise of a shared machine moves less than throughput; and the
  part of it spent in the garbage collector (``gc.callbacks``; ours settles its heap once up,
  as ``whosnext`` does: ``bot.heap.settle``).
- The Slack Web API both sides call (bolt's ``auth.test`` on the first request; ours at start
  too) is a stub in this process on 127.0.0.1 that answers ``{"ok": true, ...}``, and any
  response_url is served by it as well (a reply slower than the ack budget would go there;
  the count is printed: it should be 0). Nothing leaves 127.0.0.1.
- The load: signed ``/rejected <text>`` slash commands as Slack sends them (form-encoded,
  ``X-Slack-Signature`` v0 HMAC-SHA256 of ``v0:{timestamp}:{body}``), each with its own
  ``trigger_id`` (so each is a new attempt for the core), spread over 50 members, over one
  aiohttp session with keep-alive. After 300 warm-up requests: *saturation*, for each of
  ``--clients``, that many requests in flight for ``--seconds`` (closed loop; latency from
  send to the end of the answer), then a *fixed rate* of ``--rate`` requests a second for
  ``--rate-seconds`` (open loop: each request is due at its slot, and its latency counts from
  that slot, so a server that falls behind is charged for the wait). Two saturation points
  because bare bolt's figure depends on it: with 32 in flight its 10 ms ack polling bounds
  it (about 32 / 11 ms); with 128 the CPU does.
- Checks: every answer is a 200; ours must carry the reply (an ``in_channel`` message), and
  after each run the SQLite file must hold every answered ``/rejected`` exactly once.
- ``--runs`` rounds, the sides in the same order within each; printed: each figure's
  min / median / max over the rounds, and the ratios ours / bolt from the same round.
  ``--profile FILE`` also runs ours once more under ``cProfile`` (saturation only) and
  prints its top functions; the stats are kept in FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import itertools
import json
import logging
import os
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from benchmarks._report import GcTime, budget, spread  # noqa: E402
from benchmarks._scratch import Scratch  # noqa: E402
from benchmarks.log_throughput import storage_floor  # noqa: E402
from storage.connect import sqlite_path  # noqa: E402

SECRET = "8f742231b10e8888abcd99e0f1a2b3c4"
TOKEN = "xoxb-1-bench"
TEAM = "T0BENCH"
CHANNEL = "C0BENCH"
MEMBERS = 50
WARMUP = 300
EVENTS = "/slack/events"
SIDES = ("bolt", "bolt-pbr", "ours")
GOAL = 0.8  # ours / bolt at saturation
TEXT = 'asked for a raise who:"my boss" area:work fear:7 lesson:"ask earlier"'


# -- the Slack stub (Web API and response_url), in the load generator's process ---------------

class SlackStub:
    """``{"ok": true}`` to every Web API method (``auth.test`` with the ids bolt reads), and
    a 200 to every response_url POST, counted."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.responses = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        web_app = web.Application()
        web_app.router.add_post("/api/{method}", self._api)
        web_app.router.add_post("/respond/{key}", self._respond)
        self._runner = web.AppRunner(web_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/respond/{key}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls[method] = self.calls.get(method, 0) + 1
        await request.read()
        body: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            body.update(url="https://bench.slack.com/", team="bench", user="whosnext",
                        team_id=TEAM, user_id="U0BOT", bot_id="B0BOT", is_enterprise_install=False)
        elif method == "chat.postMessage":
            body.update(channel=CHANNEL, ts=f"{time.time():.6f}")
        return web.json_response(body)

    async def _respond(self, request: web.Request) -> web.Response:
        await request.read()
        self.responses += 1
        return web.Response(text="ok")


# -- the servers (each in a subprocess of its own: --serve SIDE) ------------------------------

def _usage() -> dict[str, float]:
    """This process's peak memory (KiB) and CPU seconds (user and system) so far. The peak is
    ``VmHWM``: on Linux a subprocess's ``ru_maxrss`` starts from its parent's at the fork (the
    load generator's), ``VmHWM`` from the exec."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = float(usage.ru_maxrss)
    try:
        with open("/proc/self/status") as status:
            peak = next(float(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        pass
    return {"maxrss_kib": peak, "cpu": usage.ru_utime + usage.ru_stime}


async def serve_bolt(api_url: str, pbr: bool) -> web.AppRunner:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET,
                   process_before_response=pbr)

    @app.command("/rejected")
    async def rejected(ack: Any) -> None:
        await ack()

    runner = web.AppRunner(app.web_app(path=EVENTS), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def serve_ours(api_url: str, database: str) -> tuple[int, Callable[[], Awaitable[None]]]:
    from adapters.health import Health, database_check
    from adapters.slack.app import SlackAdapter
    from adapters.slack.config import SlackSettings
    from bot import heap
    from bot.app import App
    from bot.chart import MatplotlibCharts
    from bot.metrics import PrometheusMetrics
    from bot.ports import SystemClock
    from storage.connect import open_repository

    repo = await open_repository(database)
    clock = SystemClock()
    metrics = PrometheusMetrics(repo, clock, ["slack"])
    health = Health({"database": database_check(repo.ping)}, metrics=metrics.exposition,
                    content_type=metrics.content_type)
    # As the composition root builds it, but a fair-play limit no benchmark reaches.
    app = App(repo, clock, default_timezone="UTC", max_logs_per_hour=10**9,
              charts=MatplotlibCharts(), metrics=metrics)
    settings = SlackSettings(_env_file=None, slack_bot_token=TOKEN, slack_signing_secret=SECRET,
                             slack_mode="http", slack_api_url=api_url)
    adapter = SlackAdapter(app, settings, http_host="127.0.0.1", http_port=0,
                           routes=health.routes)
    await adapter.start()
    heap.settle()  # as ``whosnext`` does once it is up

    async def stop() -> None:
        await adapter.stop()
        await repo.close()
    return adapter.http_port, stop


async def serve(side: str, api_url: str, database: str | None, profile: str | None) -> None:
    """Serve until a line arrives on stdin; then print this process's peak memory and the CPU
    time it spent serving."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profiler = cProfile.Profile() if profile else None
    if side == "ours":
        assert database is not None
        port, stop = await serve_ours(api_url, database)
    else:
        runner = await serve_bolt(api_url, pbr=side == "bolt-pbr")
        port, stop = int(runner.addresses[0][1]), runner.cleanup
    gc_time = GcTime()
    ready = _usage()
    print(json.dumps({"port": port}), flush=True)
    loop = asyncio.get_running_loop()
    if profiler is not None:
        profiler.enable()
    await loop.run_in_executor(None, sys.stdin.readline)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(profile))
    served = _usage()
    gc_time.stop()
    await stop()
    print(json.dumps({"gc_seconds": gc_time.seconds, "gc_collections": gc_time.collections,
                      "maxrss_ready_kib": ready["maxrss_kib"],
                      "maxrss_kib": _usage()["maxrss_kib"],
                      "cpu_seconds": served["cpu"] - ready["cpu"]}), flush=True)


# -- the load -----------------------------------------------------------------------------

def sign(body: bytes, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


class Requests:
    """Signed ``/rejected`` slash commands, each with a trigger_id of its own."""

    def __init__(self, stub: SlackStub, tag: str) -> None:
        self.stub = stub
        self.tag = tag
        self._n = itertools.count()

    def next(self) -> tuple[bytes, dict[str, str]]:
        i = next(self._n)
        trigger = f"{self.tag}.{i}"
        body = urlencode({
            "token": "legacy", "team_id": TEAM, "team_domain": "bench", "channel_id": CHANNEL,
            "channel_name": "general", "user_id": f"U0M{i % MEMBERS:03d}",
            "user_name": f"m{i % MEMBERS}", "command": "/rejected", "text": TEXT,
            "api_app_id": "A0BENCH", "is_enterprise_install": "false",
            "response_url": self.stub.response_url(trigger), "trigger_id": trigger,
        }).encode()
        ts = int(time.time())
        return body, {"Content-Type": "application/x-www-form-urlencoded",
                      "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts)}


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """The q-quantile latency, in ms."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class Driver:
    def __init__(self, session: ClientSession, url: str, requests: Requests, check_reply: bool):
        self.session = session
        self.url = url
        self.requests = requests
        self.check_reply = check_reply

    async def one(self, load: Load, since: float | None = None) -> None:
        body, headers = self.requests.next()
        start = time.perf_counter() if since is None else since
        async with self.session.post(self.url, data=body, headers=headers) as response:
            raw = await response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            load.failures.append(f"{response.status}: {raw[:200]!r}")
        elif self.check_reply and b'"in_channel"' not in raw:
            load.failures.append(f"no reply in the ack: {raw[:200]!r}")
        else:
            load.latencies.append(took)

    async def saturate(self, clients: int, seconds: float) -> Load:
        load = Load()
        start = time.perf_counter()
        end = start + seconds

        async def client() -> None:
            while time.perf_counter() < end:
                await self.one(load)

        await asyncio.gather(*(client() for _ in range(clients)))
        load.seconds = time.perf_counter() - start
        return load

    async def fixed_rate(self, rate: float, seconds: float) -> Load:
        load = Load()
        start = time.perf_counter()
        tasks = []
        for i in range(int(rate * seconds)):
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(self.one(load, since=due)))
        await asyncio.gather(*tasks)
        load.seconds = time.perf_counter() - start
        return load

    async def warm_up(self, n: int) -> Load:
        load = Load()
        for base in range(0, n, 10):
            await asyncio.gather(*(self.one(load) for _ in range(min(10, n - base))))
        return load


@dataclass
class Result:
    saturation: dict[int, Load]
    rate: Load
    maxrss_ready_kib: int
    maxrss_kib: int
    answered: int
    cpu_seconds: float
    gc_seconds: float
    gc_collections: int

    @property
    def cpu_per_request(self) -> float:
        """The server's CPU time (user + system, all its threads) per request, in µs."""
        return 1e6 * self.cpu_seconds / self.answered


async def run_side(side: str, stub: SlackStub, args: argparse.Namespace, scratch: Scratch,
                   tag: str, profile: str | None = None) -> Result:
    async with scratch.database() as database:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", side,
                   "--api-url", stub.api_url, "--database", database]
        if profile:
            command += ["--profile", profile]
        log_file = open(os.devnull if not args.server_log else args.server_log, "a")  # noqa: SIM115
        proc = await asyncio.create_subprocess_exec(
            *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                raise SystemExit(f"the {side} server didn't start (see its log: --server-log)")
            ready = json.loads(line)
            url = f"http://127.0.0.1:{ready['port']}{EVENTS}"
            async with ClientSession(connector=TCPConnector(limit=0)) as session:
                driver = Driver(session, url, Requests(stub, tag), check_reply=side == "ours")
                warm = await driver.warm_up(WARMUP)
                saturation = {clients: await driver.saturate(clients, args.seconds)
                              for clients in args.clients}
                rate = (Load() if profile else
                        await driver.fixed_rate(args.rate, args.rate_seconds))
            proc.stdin.write(b"stop\n")
            await proc.stdin.drain()
            memory = json.loads(await asyncio.wait_for(proc.stdout.readline(), 60))
            await proc.wait()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            log_file.close()
        loads = [warm, *saturation.values(), rate]
        failures = [failure for load in loads for failure in load.failures]
        if failures:
            raise SystemExit(f"{side}: {len(failures)} requests failed, e.g. {failures[0]}")
        answered = sum(len(load.latencies) for load in loads)
        if side == "ours":
            stored_once(database, answered)
    return Result(saturation, rate, memory["maxrss_ready_kib"], memory["maxrss_kib"], answered,
                  memory["cpu_seconds"], memory["gc_seconds"], memory["gc_collections"])


def stored_once(database: str, answered: int) -> None:
    with sqlite3.connect(sqlite_path(database)) as conn:
        rows, requests = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT request_id) FROM attempts").fetchone()
    if (rows, requests) != (answered, answered):
        raise SystemExit(f"ours: {answered} answered, but {rows} attempts stored "
                         f"({requests} distinct requests)")


# -- the report -------------------------------------------------------------------------------

def report(results: dict[str, list[Result]], args: argparse.Namespace,
           floor: Sequence[float]) -> None:
    print(f"{args.runs} runs; each figure min / median / max")
    for clients in args.clients:
        print(f"saturation, {clients} requests in flight for {args.seconds:g} s:")
        for side, rs in results.items():
            loads = [r.saturation[clients] for r in rs]
            print(f"  {side:<9} {spread([load.rate for load in loads], '6.0f')} req/s   "
                  f"p50 {spread([load.pct(0.5) for load in loads], '5.1f')} ms   "
                  f"p99 {spread([load.pct(0.99) for load in loads], '5.1f')} ms")
    print(f"fixed rate, {args.rate:g} req/s for {args.rate_seconds:g} s (latency from each "
          "request's slot):")
    for side, rs in results.items():
        print(f"  {side:<9} {spread([r.rate.rate for r in rs], '6.1f')} req/s   "
              f"p50 {spread([r.rate.pct(0.5) for r in rs], '5.1f')} ms   "
              f"p99 {spread([r.rate.pct(0.99) for r in rs], '5.1f')} ms")
    print("peak memory (VmHWM of the server process, MiB), ready -> after the load:")
    for side, rs in results.items():
        print(f"  {side:<9} {spread([r.maxrss_ready_kib / 1024 for r in rs], '5.1f')} -> "
              f"{spread([r.maxrss_kib / 1024 for r in rs], '5.1f')}")
    print("server CPU time per request (user + system, all threads, every request of the run), µs:")
    for side, rs in results.items():
        print(f"  {side:<9} {spread([r.cpu_per_request for r in rs], '5.0f')}")
    print("of it in the garbage collector, µs per request (collections in the run):")
    for side, rs in results.items():
        print(f"  {side:<9} {spread([1e6 * r.gc_seconds / r.answered for r in rs], '5.0f')} "
              f"({spread([r.gc_collections for r in rs], '.0f')})")
    ours = results["ours"]
    for base in (s for s in results if s != "ours"):
        pairs = list(zip(ours, results[base], strict=True))
        sat = "; ".join(f"{clients} in flight " + spread(
            [o.saturation[clients].rate / b.saturation[clients].rate for o, b in pairs], ".2f")
            for clients in args.clients)
        p50 = [o.rate.pct(0.5) / b.rate.pct(0.5) for o, b in pairs]
        print(f"ratio ours / {base} (same run): req/s at saturation, {sat}; "
              f"p50 at {args.rate:g} req/s {spread(p50, '.2f')}")
    print("every answer a 200 with the reply, every /rejected stored once: True")
    for clients in args.clients:
        sat = statistics.median(o.saturation[clients].rate / b.saturation[clients].rate
                                for o, b in zip(ours, results["bolt"], strict=True))
        print(f"goal: ours >= {GOAL} x bare bolt at saturation, {clients} in flight (median): "
              f"{'met' if sat >= GOAL else 'not met'} ({sat:.2f})")
    print(budget("bolt", [r.cpu_per_request for r in results["bolt"]],
                 [r.cpu_per_request for r in ours], floor, GOAL))


async def run(args: argparse.Namespace) -> None:
    stub = SlackStub()
    await stub.start()
    results: dict[str, list[Result]] = {side: [] for side in args.sides}
    try:
        with Scratch(None) as scratch:
            print(scratch.describe())
            floor: list[float] = []
            for n in range(args.runs):
                for side in args.sides:
                    results[side].append(await run_side(side, stub, args, scratch, f"r{n}{side}"))
                async with scratch.database() as database:
                    floor.append(storage_floor(database))
            report(results, args, floor)
            print(f"response_url posts (answers slower than the ack budget): {stub.responses}")
            if args.profile:
                await run_side("ours", stub, args, scratch, "profile", profile=args.profile)
                print(f"\nours under cProfile (saturation; stats in {args.profile}):")
                pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
    finally:
        await stub.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=lambda s: [int(c) for c in s.split(",")],
                        default=[32, 128], help="requests in flight at saturation (comma-separated)")
    parser.add_argument("--seconds", type=float, default=5.0, help="saturation, seconds a run")
    parser.add_argument("--rate", type=float, default=100.0, help="fixed rate, requests a second")
    parser.add_argument("--rate-seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sides", type=lambda s: s.split(","), default=list(SIDES),
                        help=f"comma-separated, of {', '.join(SIDES)} (bolt and ours needed)")
    parser.add_argument("--profile", help="also profile ours (cProfile) into this file")
    parser.add_argument("--server-log", help="append the servers' logs to this file")
    parser.add_argument("--serve", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.api_url, args.database, args.profile))
        return
    if not {"bolt", "ours"} <= set(args.sides) or not set(args.sides) <= set(SIDES):
        parser.error("--sides: bolt and ours, and optionally bolt-pbr")
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted; scratch databases removed", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
