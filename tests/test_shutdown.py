"""Stopping the real ``whosnext`` process with SIGTERM (systemctl stop, docker stop,
Kubernetes) or SIGINT (Ctrl-C): in every mode it stops taking work, finishes what's under way,
closes the platform connections and the database, and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
STOPS = [signal.SIGTERM, signal.SIGINT]


@dataclass
class Running:
    proc: asyncio.subprocess.Process
    stderr: list[str]
    db: Path

    async def wait_for(self, needle: str, timeout: float = 20.0) -> None:
        async def scan() -> None:
            assert self.proc.stderr is not None
            while not any(needle in line for line in self.stderr):
                line = (await self.proc.stderr.readline()).decode()
                if not line:
                    raise AssertionError("whosnext exited:\n" + "".join(self.stderr))
                self.stderr.append(line)
        await asyncio.wait_for(scan(), timeout)

    async def stop(self, sig: signal.Signals, timeout: float = 20.0) -> int:
        self.proc.send_signal(sig)
        assert self.proc.stderr is not None
        rest = await asyncio.wait_for(self.proc.stderr.read(), timeout)
        self.stderr.append(rest.decode())
        return await asyncio.wait_for(self.proc.wait(), timeout)


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", PYTHONUNBUFFERED="1",
               PYTHONPATH=str(ROOT), LOG_LEVEL="INFO", **extra)
    return env


async def start(tmp_path: Path, *args: str, env: dict[str, str],
                stdin: int | None = asyncio.subprocess.DEVNULL) -> Running:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env, stdin=stdin,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    return Running(proc, [], tmp_path / "bot.db")


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    yield fake
    await fake.close()


# What the libraries used to print at every start, none of which applies to this bot.
NOISE = ("PyNaCl is not installed", "davey is not installed", "`token` will be unused")


def assert_quiet(run: Running) -> None:
    log = "".join(run.stderr)
    assert not [n for n in NOISE if n in log], log


def assert_closed_cleanly(run: Running) -> None:
    # SQLite removes the -wal file when the last connection closes properly.
    assert run.db.exists() and not Path(f"{run.db}-wal").exists(), "".join(run.stderr)
    assert "Traceback" not in "".join(run.stderr), "".join(run.stderr)


@pytest.mark.parametrize("sig", STOPS, ids=lambda s: s.name)
async def test_discord_stops_cleanly(sig, tmp_path, discord_fake):
    run = await start(tmp_path, "run", env=clean_env(
        tmp_path, DISCORD_TOKEN=discord_fake.token, DISCORD_API_URL=discord_fake.api_url,
        DISCORD_GATEWAY_URL=discord_fake.gateway_url))
    try:
        await run.wait_for("Who's Next is running on Discord")
        payload = discord_fake.command("rejected", {"ask": "asked for a raise"},
                                       user_id=1500000000000000001, user_name="ana")
        await discord_fake.push(payload)
        await discord_fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
        assert discord_fake.connected == 1
        code = await run.stop(sig)
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()
    assert code == 0, "".join(run.stderr)
    assert "Stopped" in "".join(run.stderr)
    assert discord_fake.connected == 0  # the gateway connection was closed, not dropped
    assert_closed_cleanly(run)
    assert_quiet(run)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("sig", STOPS, ids=lambda s: s.name)
async def test_slack_http_stops_cleanly(sig, tmp_path):
    from tests.fakes.slack import FakeSlack

    fake = await FakeSlack().start()
    port = free_port()
    run = await start(tmp_path, "run", env=clean_env(
        tmp_path, SLACK_BOT_TOKEN="xoxb-1-test", SLACK_MODE="http",
        SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef", SLACK_HTTP_PORT=str(port),
        SLACK_API_URL=fake.api_url))
    try:
        await run.wait_for("Who's Next is running on Slack")
        code = await run.stop(sig)
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()
        await fake.stop()
    assert code == 0, "".join(run.stderr)
    assert "Stopped" in "".join(run.stderr)
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))
    assert_closed_cleanly(run)
    assert_quiet(run)  # SLACK_BOT_TOKEN is in the environment, as bolt reads it too


@pytest.mark.parametrize("sig", STOPS, ids=lambda s: s.name)
async def test_the_terminal_quits_on_the_first_signal(sig, tmp_path):
    """Ctrl-C once is enough, even while the console waits for a line that never comes."""
    run = await start(tmp_path, "console", "--user", "ana", env=clean_env(tmp_path),
                      stdin=asyncio.subprocess.PIPE)
    try:
        assert run.proc.stdin is not None and run.proc.stdout is not None
        run.proc.stdin.write(b"/rejected asked for a raise\n")
        await run.proc.stdin.drain()
        seen = b""
        while b"got a no" not in seen:
            chunk = await asyncio.wait_for(run.proc.stdout.read(4096), 20)
            assert chunk, "the console exited early"
            seen += chunk
        code = await run.stop(sig)  # stdin stays open: no end of input to fall back on
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()
    assert code == 0, "".join(run.stderr)
    assert "Bye" in "".join(run.stderr)
    assert_closed_cleanly(run)


class Stub:
    """An adapter that records how it was stopped (and can fail doing it)."""

    def __init__(self, log: list[str], name: str, fail: bool = False):
        self.log, self.name, self.fail = log, name, fail

    async def drain(self, timeout: float = 10.0) -> None:
        self.log.append(f"{self.name} drain {timeout:g}")
        if self.fail:
            raise RuntimeError("drain failed")

    async def stop(self, timeout: float = 10.0) -> None:
        self.log.append(f"{self.name} stop {timeout:g}")


class FailingScheduler:
    async def stop(self, timeout: float = 10.0) -> None:
        raise RuntimeError("the scheduler broke")


async def test_everything_stops_under_one_deadline_whatever_fails(repo, caplog):
    """Adapters and the scheduler drain side by side under one STOP_TIMEOUT (not one after
    another), a failure in one step doesn't skip the rest, and the database closes last."""
    from bot import cli

    log: list[str] = []
    adapters = [Stub(log, "slack", fail=True), Stub(log, "discord")]
    await cli._stop_all(FailingScheduler(), adapters, repo)  # type: ignore[arg-type]
    assert log == [f"slack drain {cli.STOP_TIMEOUT:g}", f"discord drain {cli.STOP_TIMEOUT:g}",
                   "discord stop 0", "slack stop 0"]
    assert "Stopping Stub failed" in caplog.text and "Stopping the scheduler failed" in caplog.text
    with pytest.raises(RuntimeError, match="closed"):
        await repo.get_value("anything")  # the database was closed
