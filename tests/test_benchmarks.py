"""The benchmark scripts still run (tiny sizes; the figures themselves are not checked here)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script, args, expect", [
    ("log_throughput.py", ["--commands", "40", "--rounds", "1"], "committed: True"),
    ("leaderboard_scale.py", ["--sizes", "500,1000", "--repeat", "1"], "data grew x2"),
    ("checkin_fanout.py", ["--communities", "30", "--active", "10", "--no-wait"], "vs base"),
])
def test_benchmark_runs(tmp_path, script, args, expect):
    out = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert expect in out.stdout
