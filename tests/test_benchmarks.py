"""The benchmark scripts still run (tiny sizes; the figures themselves are not checked here), on
SQLite and, with ``--database``, on PostgreSQL, leaving no scratch database behind."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests import postgres

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
# The scripts with scratch databases (benchmarks/_scratch.py): gone after the run.
SCRATCH = {"log_throughput.py", "leaderboard_scale.py", "history_scale.py", "memory_soak.py"}


def bench(tmp_path, script, *args, timeout=120):
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                         text=True, cwd=tmp_path, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.parametrize("script, args, expect", [
    ("log_throughput.py", ["--commands", "40", "--rounds", "1"], "committed: True"),
    ("leaderboard_scale.py", ["--sizes", "500,1000", "--repeat", "1"], "data grew x2"),
    ("checkin_fanout.py", ["--communities", "30", "--active", "10", "--no-wait"], "vs base"),
    ("history_scale.py", ["--attempts", "2000", "--repeat", "1", "--runs", "1"], "ratio"),
    ("stats_card.py", ["--repeat", "2", "--runs", "1"], "kept card"),
    ("discord_interactions.py", ["--runs", "1", "--warm-up", "20", "--in-flight", "4",
                                 "--seconds", "0.3", "--rate", "50", "--rate-seconds", "0.3"],
     "every /rejected stored once: True"),
    ("startup.py", ["--repeat", "1", "--runs", "1"], "difference"),
    ("memory_soak.py", ["--commands", "200", "--members", "20"], "resident memory"),
    ("slack_http.py", ["--runs", "1", "--clients", "4", "--seconds", "0.3", "--rate", "50",
                       "--rate-seconds", "0.3"], "every /rejected stored once: True"),
])
def test_benchmark_runs(tmp_path, script, args, expect):
    stdout = bench(tmp_path, script, *args)
    assert expect in stdout
    if script != "checkin_fanout.py":
        assert "goal:" in stdout
    if script in ("slack_http.py", "discord_interactions.py"):  # the goal's budget, and the floor
        assert re.search(r"leaves ours \d+ / .* storage alone .* takes \d+ / \d+ / \d+", stdout)
    if script in SCRATCH:
        folder = re.search(r"SQLite, scratch files in (.+)", stdout)
        assert folder and not Path(folder[1]).exists()  # its scratch files removed


def scratch_databases(stdout: str) -> list[str]:
    """The scratch databases of the run that printed ``stdout`` still on the server."""
    prefix = re.search(r"scratch databases (whosnext_bench_\d+_)<n>", stdout)
    assert prefix, stdout

    async def names():
        conn = await asyncpg.connect(postgres.SERVER, timeout=3)
        try:
            return [r[0] for r in await conn.fetch(
                "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", prefix[1])]
        finally:
            await conn.close()
    return postgres.run(names())


@pytest.mark.parametrize("script, args, expect", [
    ("log_throughput.py", ["--commands", "40", "--rounds", "1"],
     [r"asyncpg, recorded statements\),   1 concurrent: +\d+ commands/s",
      r"PostgresRepository, 100 concurrent: +\d+ commands/s +ratio +\d+\.\d\d",
      "each command stored exactly once, every acknowledged command committed: True",
      "goal: ratio >= 0.5 at 100 concurrent"]),
    ("leaderboard_scale.py", ["--sizes", "500,1000", "--repeat", "1"],
     [r"1,000 attempts .*full scan .*week .*of a scan\) \| all time .*of a scan\)",
      "data grew x2", "goal: /leaderboard below one full scan at 1,000 attempts"]),
])
def test_benchmark_runs_on_postgresql(tmp_path, script, args, expect):
    postgres.server_or_skip()
    stdout = bench(tmp_path, script, *args, "--database", postgres.SERVER)
    for pattern in expect:
        assert re.search(pattern, stdout), (pattern, stdout)
    assert scratch_databases(stdout) == []


def test_an_interrupted_benchmark_drops_its_scratch_databases(tmp_path):
    """Ctrl-C in the middle of a PostgreSQL run (just after the recording, as the first
    measured run's database is being made or used): nothing is left on the server."""
    postgres.server_or_skip()
    proc = subprocess.Popen(
        [sys.executable, "-u", str(BENCH / "log_throughput.py"), "--commands", "300",
         "--database", postgres.SERVER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        header = proc.stdout.readline()
        recorded = proc.stdout.readline()
        assert recorded.startswith("recorded "), (header, recorded, proc.stderr.read())
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted; scratch databases removed" in err
    assert scratch_databases(header + recorded + rest) == []
