"""/stats with its card: drawing the card, beside what a member waits for.

In one run, on a real repository (a temporary SQLite file) and the core with matplotlib's
charts:

- finding the font fallback chain (``bot.chart.Fonts.installed``), done once per process;
- baseline: drawing one busy member's stats card with matplotlib (``bot.chart.stats_card``,
  every part of the card drawn), the median of ``--repeat`` draws;
- /stats the first time (its card drawn), /stats again with nothing changed (the card kept),
  and /stats right after a new /rejected (what the card shows changed: drawn again).

It prints each time, the ratio of a repeated /stats to one draw, and whether the card goal is
met: a card within 50 ms, or drawn once and reused until the member's data changes. Peak memory
is this process's maximum resident set size (``resource.getrusage``).

    python benchmarks/stats_card.py [--repeat 15] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._report import spread  # noqa: E402
from bot import chart  # noqa: E402
from bot.app import App  # noqa: E402
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform  # noqa: E402
from bot.invocation import Caller, Invocation  # noqa: E402
from bot.reply import Image  # noqa: E402
from storage.connect import open_repository  # noqa: E402

COMMUNITY = CommunityRef(Platform.SLACK, "TCARD")
ME = Caller(MemberRef(Platform.SLACK, "UANA"), "ana", COMMUNITY, ChannelRef(Platform.SLACK, "C1"))
GOAL_MS = 50.0


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 11, 26, 12, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def card_args() -> tuple[str, dict[str, int], list[date], list[int], list[tuple[str, str]],
                         tuple[int, int, str], list[str]]:
    """A busy member's card: every part of it drawn (tiles, goal bar, notes, twelve weeks)."""
    weeks = [date(2026, 9, 7) + timedelta(weeks=i) for i in range(12)]
    return ("ana", {"rejected": 80, "accepted": 20, "pending": 20}, weeks,
            [3, 4, 1, 0, 5, 6, 2, 3, 4, 5, 1, 2],
            [("daily streak · best 9", "4 days"), ("weekly streak", "3 weeks"),
             ("cheers received", "27")],
            (42, 100, "Goal: 42 of 100 no's by 30 Jun 2027 · counting from 1 Sep"),
            ["Reached: 100 asks · 50 no's · first yes", "130 more to the 250-ask milestone.",
             "Top areas: work 70 · family 30 · money 20"])


async def median_ms(fn: Callable[[], Awaitable[object]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


async def one_run(repeat: int) -> dict[str, float]:
    args = card_args()
    start = time.perf_counter()
    fonts = chart.Fonts.installed()  # once per process, on the first picture
    out = {"fonts": (time.perf_counter() - start) * 1e3}
    chart.stats_card(*args, fonts=fonts)  # fonts and caches warmed, as in a running bot

    async def draw() -> None:
        chart.stats_card(*args, fonts=fonts)

    out["draw"] = await median_ms(draw, repeat)
    with tempfile.TemporaryDirectory() as folder:
        repo = await open_repository(f"sqlite:///{folder}/card.db")
        clock = Clock()
        try:
            app = App(repo, clock, max_logs_per_hour=10**6, charts=chart.MatplotlibCharts())

            async def run(command: str, options: dict[str, object]) -> None:
                reply = await app.dispatch(Invocation(command, ME, options))
                assert not reply.error, reply.plain_text()
                if command == "stats":
                    assert any(isinstance(b, Image) for b in reply.blocks)

            for i in range(120):  # twelve weeks of asks
                clock.at -= timedelta(hours=16)
                await run("rejected" if i % 3 else "accepted", {"ask": f"ask {i}"})
            clock.at = datetime(2026, 11, 26, 12, tzinfo=UTC)
            firsts: list[float] = []
            changed: list[float] = []
            for i in range(repeat):
                await run("rejected", {"ask": f"one more {i}"})
                start = time.perf_counter()
                await run("stats", {})
                (firsts if i == 0 else changed).append(time.perf_counter() - start)
            out["first"] = firsts[0] * 1e3
            out["changed"] = statistics.median(changed) * 1e3
            out["again"] = await median_ms(lambda: run("stats", {}), repeat)
        finally:
            await repo.close()
    return out


async def main_async(args: argparse.Namespace) -> None:
    runs = [await one_run(args.repeat) for _ in range(args.runs)]
    print(f"stats card (median of {args.repeat} per run, {args.runs} runs: min / median / max)")
    print(f"  finding the font chain (once):      {spread([r['fonts'] for r in runs])} ms")
    print(f"  baseline, one matplotlib draw:      {spread([r['draw'] for r in runs])} ms")
    print(f"  /stats, first (card drawn):         {spread([r['first'] for r in runs])} ms")
    print(f"  /stats after a new ask (redrawn):   {spread([r['changed'] for r in runs])} ms")
    print(f"  /stats again, nothing changed:      {spread([r['again'] for r in runs])} ms "
          f"(x{statistics.median(r['again'] / r['draw'] for r in runs):.2f} of a draw)")
    draw = statistics.median(r["draw"] for r in runs)
    again = statistics.median(r["again"] for r in runs)
    met = draw <= GOAL_MS or again <= GOAL_MS
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"goal: a card within {GOAL_MS:g} ms, or drawn once and reused until the member's "
          f"data changes: {'met' if met else 'not met'} (a draw {draw:.1f} ms, a kept card "
          f"{again:.2f} ms); peak memory {peak:.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    try:
        asyncio.run(main_async(parser.parse_args(argv)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
