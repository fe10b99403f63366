"""Discord interactions: our adapter against a bare discord.py client that answers fixed text,
driven by the same load generator through the same loopback Discord in the same run.

    python benchmarks/discord_interactions.py [--in-flight 32,128] [--seconds 5] [--rate 100]
                                              [--rate-seconds 5] [--runs 3]
                                              [--sides bare,bare-tree,ours]
                                              [--profile FILE] [--server-log FILE]

- Discord is ``tests/fakes/discord.py`` in this process (REST and gateway on 127.0.0.1), in
  its load mode (``keep_calls=False``: no call kept) with every check of Discord's rules on:
  a callback Discord would refuse (or a late one) fails the run.
- The sides. ``bare``: a ``discord.Client`` whose ``on_interaction`` answers every interaction
  with ``interaction.response.send_message("Noted.")``: discord.py's own work and nothing
  else. ``bare-tree``: the same client with a ``CommandTree`` holding one hand-written
  ``/rejected`` (discord.py parses the options) that answers the same text: what any slash
  command bot on discord.py pays. ``ours``: ``DiscordAdapter`` as ``whosnext`` builds it (the
  real core with its charts, a real SQLite file migrated in a temporary folder, INFO
  logging, the whole catalogue synced), answering each ``/rejected`` with its rendered reply.
- Each side is a subprocess of its own (``--serve SIDE``, one at a time), so that it has a
  core to itself on a 2-core machine (the fake and the load have the other) and its peak
  memory is its own: the side's peak resident set (``VmHWM`` of ``/proc/self/status``; a
  child's ``ru_maxrss`` would start from its parent's) when it stops ("ready": the same just
  before the first interaction). Also its CPU time (user + system,
  every thread: the storage's too) per interaction, first to last: a figure the noise of a
  shared machine moves less than throughput (its ratio is printed as "interactions per CPU
  second"); its time in the garbage collector (``gc.callbacks``; ours sets start-up's heap
  aside and sizes the young generation once started, as ``whosnext`` does,
  ``bot.heap.settle``; ``--settle-bare`` makes the bare sides do the same, to compare); and
  this process's CPU (the fake's and the load's), to show how near the fake is to limiting a side.
- The load: ``/rejected ask:"asked for a raise"`` interactions built to Discord's shape by the
  fake (each its own id, made now: Discord's 3 s clock runs from it), spread over 50
  members, pushed as INTERACTION_CREATE on the side's gateway session. Latency is from the
  push to the fake answering the interaction's callback (the first response; a deferral
  counts, and is counted). After 300 warm-up interactions (``--warm-up``): *saturation*, for each
  ``--in-flight``, that many interactions outstanding for ``--seconds`` (closed loop), then a
  *fixed rate* of ``--rate`` a second for ``--rate-seconds`` (open loop, latency from each
  interaction's slot, so a side that falls behind is charged for the wait).
- Checks: every first response answered (200/204), none refused; bare and bare-tree answer
  with their text, ours with its reply (an embed); after each run of ours the SQLite file
  holds every answered ``/rejected`` exactly once.
- ``--runs`` rounds, the sides in the same order within each; printed: each figure's
  min / median / max over the rounds, and the ratios ours / bare from the same round.
  ``ours-canned`` (not run unless asked for): our adapter with a stand-in core that answers
  every ``/rejected`` with one reply the real core made, free: the adapter's own share.
  ``--profile FILE`` also runs ours (or ``--profile-side``) once more under ``cProfile``
  (saturation only; the loop's thread) and prints its top functions; the stats are kept in
  FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import slack_http  # noqa: E402
from benchmarks._report import GcTime, budget, spread  # noqa: E402
from benchmarks._scratch import Scratch  # noqa: E402
from benchmarks.log_throughput import storage_floor  # noqa: E402
from benchmarks.slack_http import Load, stored_once  # noqa: E402
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, Call, FakeDiscord  # noqa: E402

MEMBERS = 50
FIRST_MEMBER = 1500000000000000001
WARMUP = 300
ASK = "asked for a raise"
BARE_TEXT = "Noted."
SIDES = ("bare", "bare-tree", "ours", "ours-canned")
GOAL = 0.8  # ours / bare at saturation
ANSWER_WITHIN = 10.0  # seconds; a first response later than this fails the run


# -- the sides (each in a subprocess of its own: --serve SIDE) --------------------------------

def _usage() -> dict[str, float]:
    """This process's peak memory (KiB) and CPU seconds (user and system) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"maxrss_kib": _peak_rss_kib(usage), "cpu": usage.ru_utime + usage.ru_stime}


def _peak_rss_kib(usage: resource.struct_rusage) -> float:
    """The peak resident set of this process's own memory: ``VmHWM``. (On Linux a
    subprocess's ``ru_maxrss`` starts from its parent's at the fork, here the load generator's,
    which grows with the run; ``VmHWM`` is reset by the exec.) ``ru_maxrss`` elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(usage.ru_maxrss)


def _intents() -> Any:
    import discord

    intents = discord.Intents.none()
    intents.guilds = True
    return intents


async def serve_bare(token: str, tree: bool) -> Callable[[], Awaitable[None]]:
    import discord
    from discord import app_commands

    client = discord.Client(intents=_intents(), guild_ready_timeout=0.05)
    if tree:
        commands = app_commands.CommandTree(client)

        @commands.command(name="rejected", description="Log an ask that got a no.")
        async def rejected(interaction: discord.Interaction, ask: str) -> None:
            await interaction.response.send_message(BARE_TEXT)
    else:
        @client.event
        async def on_interaction(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(BARE_TEXT)

    await client.login(token)
    if tree:
        await commands.sync()
    runner = asyncio.create_task(client.connect(reconnect=False))
    await client.wait_until_ready()

    async def stop() -> None:
        await client.close()
        runner.cancel()
    return stop


class CannedCore:
    """For ``ours-canned``: the core as the adapter sees it, answering every command with one
    reply the real core made, at no cost: what is left is the adapter's own."""

    def __init__(self, app: Any, reply: Any):
        self.deps = app.deps
        self.reply = reply

    async def dispatch(self, inv: Any) -> Any:
        return self.reply


async def serve_ours(token: str, api_url: str, gateway_url: str, database: str,
                     canned: bool = False) -> Callable[[], Awaitable[None]]:
    from adapters.discord.client import DiscordAdapter
    from adapters.discord.settings import DiscordSettings
    from bot import heap
    from bot.app import App
    from bot.chart import MatplotlibCharts
    from bot.ports import SystemClock
    from storage.connect import open_repository

    repo = await open_repository(database)
    # As the composition root builds it, but a fair-play limit no benchmark reaches.
    app = App(repo, SystemClock(), default_timezone="UTC", max_logs_per_hour=10**9,
              charts=MatplotlibCharts())
    settings = DiscordSettings(_env_file=None, discord_token=token, discord_api_url=api_url,
                               discord_gateway_url=gateway_url)
    core: Any = app
    if canned:
        from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
        from bot.invocation import Caller, Invocation

        who = Caller(MemberRef(Platform.DISCORD, str(FIRST_MEMBER)), "m0",
                     CommunityRef(Platform.DISCORD, str(GUILD_ID)),
                     ChannelRef(Platform.DISCORD, str(CHANNEL_ID)))
        core = CannedCore(app, await app.dispatch(Invocation("rejected", who, {"ask": ASK})))
    adapter = DiscordAdapter(core, settings, repo)
    await adapter.start()
    heap.settle()  # as ``whosnext`` does once it is up

    async def stop() -> None:
        await adapter.stop()
        await repo.close()
    return stop


async def serve(args: argparse.Namespace) -> None:
    """Serve until a line arrives on stdin; then print this process's peak memory and the CPU
    time it spent serving."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    profiler = cProfile.Profile() if args.profile else None
    if args.serve.startswith("ours"):
        stop = await serve_ours(args.token, args.api_url, args.gateway_url, args.database,
                                canned=args.serve == "ours-canned")
    else:
        from adapters.discord import routing

        # The bare client reaches the fake the way ours does (discord.py's two addresses).
        held = routing.install(routing.Endpoints(args.api_url, args.gateway_url))
        stop_client = await serve_bare(args.token, tree=args.serve == "bare-tree")

        async def stop() -> None:
            await stop_client()
            held.restore()
    if args.settle_bare and not args.serve.startswith("ours"):  # ours settled once it was up
        from bot import heap

        heap.settle()
    gc_time = GcTime()
    ready = _usage()
    print(json.dumps({"ready": True}), flush=True)
    loop = asyncio.get_running_loop()
    if profiler is not None:
        profiler.enable()
    await loop.run_in_executor(None, sys.stdin.readline)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    served = _usage()
    gc_time.stop()
    await stop()
    print(json.dumps({"gc_seconds": gc_time.seconds, "gc_collections": gc_time.collections,
                      "maxrss_ready_kib": ready["maxrss_kib"],
                      "maxrss_kib": _usage()["maxrss_kib"],
                      "cpu_seconds": served["cpu"] - ready["cpu"]}), flush=True)


# -- the load -----------------------------------------------------------------------------

def catalogue_payloads() -> list[dict[str, Any]]:
    """The catalogue's commands as our adapter syncs them, for the sides that don't sync."""
    import discord
    from discord import app_commands

    from adapters.discord import slash

    async def run(interaction: Any, spec: Any, values: Any) -> None:
        raise AssertionError("not run")

    async def zones(interaction: Any, current: str) -> list[Any]:
        raise AssertionError("not run")

    tree = app_commands.CommandTree(discord.Client(intents=_intents()))
    return [c.to_dict(tree) for c in slash.build_commands(run, zones)]


class Driver(slack_http.Driver):
    """Pushes ``/rejected`` interactions and hears each first response from the fake. (The
    load's shapes, ``saturate``, ``fixed_rate`` and ``warm_up``, are the Slack benchmark's,
    around this ``one``.)"""

    def __init__(self, fake: FakeDiscord, side: str):
        self.fake = fake
        self.side = side
        self.pending: dict[str, asyncio.Future[Call]] = {}
        self.n = 0
        self.answered = 0
        self.deferred = 0
        fake.on_answered = self._answered

    def _answered(self, call: Call) -> None:
        if call.method != "POST" or not call.path.endswith("/callback"):
            return
        future = self.pending.pop(call.path.split("/", 3)[2], None)
        if future is not None and not future.done():
            future.set_result(call)

    def _check(self, call: Call, load: Load) -> bool:
        if call.status not in (200, 204) or call.error:
            load.failures.append(f"{call.path}: {call.status} {call.problems}")
            return False
        kind, data = call.json.get("type"), call.json.get("data") or {}
        if kind == 5:
            self.deferred += 1
            return True
        if kind != 4:
            load.failures.append(f"a first response of type {kind}")
            return False
        if self.side.startswith("ours") and not data.get("embeds"):
            load.failures.append(f"ours answered without its reply: {data}")
            return False
        if not self.side.startswith("ours") and data.get("content") != BARE_TEXT:
            load.failures.append(f"{self.side} answered {data}")
            return False
        return True

    async def one(self, load: Load, since: float | None = None) -> None:
        i = self.n
        self.n += 1
        payload = self.fake.command("rejected", {"ask": ASK}, user_id=FIRST_MEMBER + i % MEMBERS,
                                    user_name=f"m{i % MEMBERS}")
        future = asyncio.get_running_loop().create_future()
        self.pending[payload["id"]] = future
        start = time.perf_counter() if since is None else since
        await self.fake.push(payload)
        try:
            call = await asyncio.wait_for(future, ANSWER_WITHIN)
        except TimeoutError:
            self.pending.pop(payload["id"], None)
            load.failures.append(f"no first response within {ANSWER_WITHIN:g} s")
            return
        took = time.perf_counter() - start
        if self._check(call, load):
            self.answered += 1
            load.latencies.append(took)


@dataclass
class Result:
    saturation: dict[int, Load]
    rate: Load
    maxrss_ready_kib: float
    maxrss_kib: float
    answered: int
    cpu_seconds: float
    load_cpu_seconds: float
    gc_seconds: float
    gc_collections: int
    deferred: int

    @property
    def cpu_per_interaction(self) -> float:
        """The side's CPU time (user + system, all its threads) per interaction, in µs."""
        return 1e6 * self.cpu_seconds / self.answered

    @property
    def load_cpu_per_interaction(self) -> float:
        """This process's (the fake's and the load's), in µs."""
        return 1e6 * self.load_cpu_seconds / self.answered


async def run_side(side: str, args: argparse.Namespace, scratch: Scratch,
                   profile: str | None = None) -> Result:
    fake = FakeDiscord(keep_calls=False)
    await fake.start()
    fake.register_commands(catalogue_payloads())
    try:
        async with scratch.database() as database:
            command = [sys.executable, str(Path(__file__).resolve()), "--serve", side,
                       "--token", fake.token, "--api-url", fake.api_url,
                       "--gateway-url", fake.gateway_url, "--database", database]
            if profile:
                command += ["--profile", profile]
            if args.settle_bare:
                command += ["--settle-bare"]
            log_file = open(os.devnull if not args.server_log else args.server_log, "a")  # noqa: SIM115
            proc = await asyncio.create_subprocess_exec(
                *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file)
            assert proc.stdin is not None and proc.stdout is not None
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                if not line:
                    raise SystemExit(f"the {side} side didn't start (see its log: --server-log)")
                driver = Driver(fake, side)
                warm = await driver.warm_up(args.warm_up)
                cpu = _usage()["cpu"]
                saturation = {n: await driver.saturate(n, args.seconds) for n in args.in_flight}
                rate = (Load() if profile else
                        await driver.fixed_rate(args.rate, args.rate_seconds))
                load_cpu = _usage()["cpu"] - cpu
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
            failures += [f"refused: {c.method} {c.path} {c.status} {c.problems}"
                         for c in fake.refusals]
            if failures:
                raise SystemExit(f"{side}: {len(failures)} failures, e.g. {failures[0]}")
            if side == "ours":
                stored_once(database, driver.answered)
    finally:
        await fake.close()
    measured = driver.answered - len(warm.latencies)
    return Result(saturation, rate, memory["maxrss_ready_kib"], memory["maxrss_kib"],
                  driver.answered, memory["cpu_seconds"],
                  load_cpu * driver.answered / max(1, measured), memory["gc_seconds"],
                  memory["gc_collections"], driver.deferred)


# -- the report -------------------------------------------------------------------------------

def report(results: dict[str, list[Result]], args: argparse.Namespace,
           floor: Sequence[float]) -> None:
    print(f"{args.runs} runs; each figure min / median / max")
    for n in args.in_flight:
        print(f"saturation, {n} interactions in flight for {args.seconds:g} s:")
        for side, rs in results.items():
            loads = [r.saturation[n] for r in rs]
            print(f"  {side:<11} {spread([load.rate for load in loads], '6.0f')} /s   "
                  f"p50 {spread([load.pct(0.5) for load in loads], '6.1f')} ms   "
                  f"p99 {spread([load.pct(0.99) for load in loads], '6.1f')} ms")
    print(f"fixed rate, {args.rate:g} interactions/s for {args.rate_seconds:g} s (latency from "
          "each interaction's slot):")
    for side, rs in results.items():
        print(f"  {side:<11} {spread([r.rate.rate for r in rs], '6.1f')} /s   "
              f"p50 {spread([r.rate.pct(0.5) for r in rs], '6.1f')} ms   "
              f"p99 {spread([r.rate.pct(0.99) for r in rs], '6.1f')} ms")
    print("peak memory (VmHWM of the side's process, MiB), ready -> after the load:")
    for side, rs in results.items():
        print(f"  {side:<11} {spread([r.maxrss_ready_kib / 1024 for r in rs], '5.1f')} -> "
              f"{spread([r.maxrss_kib / 1024 for r in rs], '5.1f')}")
    print("CPU time per interaction (user + system, all threads), µs: the side | the fake "
          "and the load:")
    for side, rs in results.items():
        print(f"  {side:<11} {spread([r.cpu_per_interaction for r in rs], '5.0f')} | "
              f"{spread([r.load_cpu_per_interaction for r in rs], '5.0f')}")
    print("garbage collection in the side, µs per interaction (collections in the run):")
    for side, rs in results.items():
        print(f"  {side:<11} {spread([1e6 * r.gc_seconds / r.answered for r in rs], '5.0f')} "
              f"({spread([r.gc_collections for r in rs], '.0f')})")
    deferred = sum(r.deferred for rs in results.values() for r in rs)
    bare = results["bare"]
    for side in (s for s in results if s != "bare"):
        pairs = list(zip(results[side], bare, strict=True))
        sat = "; ".join(f"{n} in flight " + spread(
            [o.saturation[n].rate / b.saturation[n].rate for o, b in pairs], ".2f")
            for n in args.in_flight)
        p50 = [o.rate.pct(0.5) / b.rate.pct(0.5) for o, b in pairs]
        cpu = [b.cpu_per_interaction / o.cpu_per_interaction for o, b in pairs]
        print(f"ratio {side} / bare (same run): throughput at saturation, {sat}; "
              f"p50 at {args.rate:g}/s x{spread(p50, '.2f')}; interactions per CPU second "
              f"{spread(cpu, '.2f')}")
    print(f"every first response accepted by the fake, none refused, every /rejected stored "
          f"once: True; deferred first responses: {deferred}")
    for n in args.in_flight:
        sat = statistics.median(o.saturation[n].rate / b.saturation[n].rate
                                for o, b in zip(results["ours"], bare, strict=True))
        print(f"goal: ours >= {GOAL} x bare discord.py at saturation, {n} in flight (median): "
              f"{'met' if sat >= GOAL else 'not met'} ({sat:.2f})")
    print(budget("bare", [r.cpu_per_interaction for r in bare],
                 [r.cpu_per_interaction for r in results["ours"]], floor, GOAL))


async def run(args: argparse.Namespace) -> None:
    results: dict[str, list[Result]] = {side: [] for side in args.sides}
    with Scratch(None) as scratch:
        print(scratch.describe())
        floor: list[float] = []
        for _ in range(args.runs):
            for side in args.sides:
                results[side].append(await run_side(side, args, scratch))
            async with scratch.database() as database:
                floor.append(storage_floor(database))
        report(results, args, floor)
        if args.profile:
            await run_side(args.profile_side, args, scratch, profile=args.profile)
            print(f"\n{args.profile_side} under cProfile (saturation; stats in {args.profile}):")
            pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--in-flight", type=lambda s: [int(c) for c in s.split(",")],
                        default=[32, 128], help="interactions outstanding at saturation "
                        "(comma-separated)")
    parser.add_argument("--seconds", type=float, default=5.0, help="saturation, seconds a run")
    parser.add_argument("--rate", type=float, default=100.0, help="fixed rate, interactions/s")
    parser.add_argument("--rate-seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm-up", type=int, default=WARMUP, help="interactions before measuring")
    parser.add_argument("--sides", type=lambda s: s.split(","), default=list(SIDES[:3]),
                        help=f"comma-separated, of {', '.join(SIDES)} (bare and ours needed)")
    parser.add_argument("--profile", help="also profile ours (cProfile) into this file")
    parser.add_argument("--profile-side", choices=SIDES, default="ours",
                        help="the side --profile profiles (default: ours)")
    parser.add_argument("--server-log", help="append the sides' logs to this file")
    parser.add_argument("--settle-bare", action="store_true", help="the bare sides settle "
                        "their heap once started too, as ours does (bot.heap.settle)")
    parser.add_argument("--serve", choices=SIDES, help=argparse.SUPPRESS)
    for hidden in ("--token", "--api-url", "--gateway-url", "--database"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args))
        return
    if not {"bare", "ours"} <= set(args.sides) or not set(args.sides) <= set(SIDES):
        parser.error("--sides: bare and ours, and optionally bare-tree and ours-canned")
    try:
        asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted; scratch databases removed", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
