"""Start-up: ``whosnext console`` answering a piped ``/help``, beside a bare Python.

In one run, alternating so that the machine's load falls on both alike:

- baseline: ``python -c "import asyncio, sqlite3"`` (the interpreter and the two modules the
  terminal can't do without);
- ours: ``echo /help | whosnext console --user ana --db <temp file>`` until it exits, its
  answer checked.

Each is run ``--repeat`` times per run (the database file already created, as on every start
but the first); the script prints the medians, the difference (goal: ours within 0.12 s of the
baseline) and the largest peak memory of any child (maximum resident set size,
``resource.getrusage(RUSAGE_CHILDREN)``: ours, the bare one being far smaller). Figures are
min / median / max over ``--runs`` runs.

    python benchmarks/startup.py [--repeat 9] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import spread  # noqa: E402

GOAL = 0.12  # seconds over the bare interpreter


def timed(args: list[str], stdin: str, env: dict[str, str], cwd: str) -> tuple[float, str]:
    """Wall time and standard output of one run of ``args``."""
    start = time.perf_counter()
    out = subprocess.run(args, input=stdin, capture_output=True, env=env, cwd=cwd, text=True,
                         timeout=60, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise AssertionError(f"{args} exited {out.returncode}: {out.stderr}")
    return elapsed, out.stdout


def one_run(repeat: int) -> dict[str, float]:
    python = sys.executable
    whosnext = [python, "-m", "bot"]
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "LOG_", "DATABASE_", "HEALTH_"))}
    env["PYTHONPATH"] = str(ROOT)
    bare, ours = [], []
    with tempfile.TemporaryDirectory() as cwd:
        db = str(Path(cwd) / "startup.db")
        console = [*whosnext, "console", "--user", "ana", "--db", db]
        timed(console, "/help\n", env, cwd)  # the database made once, as after a first start
        for _ in range(repeat):
            bare.append(timed([python, "-c", "import asyncio, sqlite3"], "", env, cwd)[0])
            elapsed, out = timed(console, "/help\n", env, cwd)
            if "/rejected" not in out:
                raise AssertionError(f"/help wasn't answered: {out!r}")
            ours.append(elapsed)
    return {"bare": statistics.median(bare), "ours": statistics.median(ours)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    runs = [one_run(args.repeat) for _ in range(args.runs)]
    over = [r["ours"] - r["bare"] for r in runs]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"start-up (median of {args.repeat} per run, {args.runs} runs: min / median / max)")
    bare, ours = (spread([r[side] for r in runs], ".3f") for side in ("bare", "ours"))
    print(f"  bare python -c 'import asyncio, sqlite3': {bare} s")
    print(f"  whosnext console answering /help:        {ours} s")
    print(f"  difference:                               {spread(over, '.3f')} s")
    median = statistics.median(over)
    print(f"goal: within {GOAL} s of the bare interpreter: "
          f"{'met' if median <= GOAL else 'not met'} ({median:.3f} s over); "
          f"peak memory of a child {peak:.0f} MiB")


if __name__ == "__main__":
    main()
