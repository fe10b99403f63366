"""/healthz, /readyz and /metrics (``adapters.health``, ``bot.metrics``):

- real ``whosnext`` processes against the loopback fake Slack: HEALTH_PORT in Slack's HTTP
  mode (the same routes on the Slack port, unsigned, while /slack/events still demands a
  signature), a signed command counted in /metrics with its latency; in Socket Mode on
  PostgreSQL behind a relay that is cut: /readyz says 503 and names the database, then 200
  once it is back; the terminal serves them only when HEALTH_PORT is set, and otherwise loads
  neither aiohttp nor prometheus_client;
- start-up errors: a bad HEALTH_PORT, a port in use, HEALTH_PORT equal to SLACK_HTTP_PORT:
  exit code 2 and one line naming the variable, no traceback;
- the endpoints in process on a real database: which check failed, in plain words; a check
  that hangs or raises is a failed check, never a 500; one log line per change, not per probe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.health import Health, database_check
from bot.config import ConfigError
from tests.fakes.slack import FakeSlack
from tests.multiprocess_helpers import free_port, http_env, until_listening
from tests.outbox_kill_helpers import POLL, Bot, bots
from tests.postgres import Proxy, create_database, drop_database, run, server_or_skip
from tests.slack.helpers import CHANNEL, TEAM, Ids, post_signed, reply_json, slash

ROOT = Path(__file__).resolve().parents[1]
START = 30.0  # seconds a bot may take to start
LOCAL = {"HEALTH_HOST": "127.0.0.1"}


async def get(http: aiohttp.ClientSession, port: int, path: str,
              method: str = "GET") -> tuple[int, Any]:
    """Status and body (JSON when it is JSON) of one unsigned request."""
    async with http.request(method, f"http://127.0.0.1:{port}{path}") as response:
        text = await response.text()
        if response.content_type == "application/json" and text:
            return response.status, json.loads(text)
        return response.status, text


async def until_status(http: aiohttp.ClientSession, port: int, path: str, status: int,
                       bot: Bot, timeout: float = START) -> Any:
    """The body of ``path`` once it answers ``status``; fails if the bot exits first or it
    takes longer than ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: Any = None
    while True:
        try:
            code, seen = await get(http, port, path)
        except aiohttp.ClientError as err:  # the failure below says why, with the bot's log
            code, seen = None, err
        if code == status:
            return seen
        if not bot.running:
            raise AssertionError(f"the bot exited ({bot.proc.returncode}); its log:\n{bot.tail()}")
        if loop.time() > deadline:
            raise AssertionError(f"{path} still answers {code} {seen!r}, not {status}; the "
                                 f"bot's log:\n{bot.tail()}")
        await asyncio.sleep(POLL)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A scrape parsed as Prometheus parses it: (name, labels) -> value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(text: str, name: str, **labels: str) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


# ---------------------------------------------------------------------- real processes


@pytest.fixture
async def fake():
    slack = FakeSlack(team_id=TEAM, bot_channels={CHANNEL})
    await slack.start()
    yield slack
    await slack.stop()


async def test_in_slack_http_mode_both_ports_serve_health_and_metrics(fake, tmp_path):
    slack_port, health_port = free_port(), free_port()
    async with bots(fake, tmp_path / "bot.db", tmp_path) as start, \
            aiohttp.ClientSession() as http:
        bot = await start("http", **http_env(slack_port), HEALTH_PORT=str(health_port), **LOCAL)
        await until_listening(bot, slack_port, START)  # the health server listens before it
        for port in (health_port, slack_port):
            assert await get(http, port, "/healthz") == (200, {"status": "alive"})
            assert (await get(http, port, "/healthz", "HEAD"))[0] == 200
            assert await get(http, port, "/readyz") == (200, {
                "status": "ready", "checks": {"database": "ok", "slack": "ok"}})
        # Slack's own path still demands a signature; the health routes never needed one.
        form = slash(fake, Ids(), "rejected", "asked the chef for the recipe")
        async with http.post(f"http://127.0.0.1:{slack_port}/slack/events", data=form) as unsigned:
            assert unsigned.status == 401 and await unsigned.text() == "no signature\n"
        assert (await get(http, slack_port, "/slack/events"))[0] == 405
        assert (await get(http, health_port, "/slack/events", "POST"))[0] == 404

        acked = await reply_json(await post_signed(http, SimpleNamespace(http_port=slack_port),
                                                   form))
        assert "asked the chef for the recipe" in json.dumps(acked)
        for port in (health_port, slack_port):
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                assert response.content_type == "text/plain"
                text = await response.text()
            assert sample(text, "whosnext_commands_total", command="rejected", outcome="ok") == 1
            assert sample(text, "whosnext_command_seconds_count", command="rejected") == 1
            assert sample(text, "whosnext_command_seconds_bucket", command="rejected",
                          le="+Inf") == 1
            assert sample(text, "whosnext_outbox_oldest_due_seconds") == 0
        assert await bot.stop() == 0


@pytest.fixture
def pg_database():
    """A fresh, empty PostgreSQL database, dropped afterwards; skipped without a server."""
    server_or_skip()
    url = run(create_database("whosnext_health"))
    yield url
    run(drop_database(url))


async def test_readyz_names_the_database_while_postgresql_is_away(fake, pg_database, tmp_path):
    proxy = Proxy()
    await proxy.start()
    health_port = free_port()
    try:
        async with bots(fake, proxy.url(pg_database), tmp_path) as start, \
                aiohttp.ClientSession() as http:
            bot = await start("socket", HEALTH_PORT=str(health_port), **LOCAL)
            await until_listening(bot, health_port, START)
            ready = await until_status(http, health_port, "/readyz", 200, bot)  # Socket Mode up
            assert ready["checks"] == {"database": "ok", "slack": "ok"}

            await proxy.cut()
            away = await until_status(http, health_port, "/readyz", 503, bot)
            assert away == {"status": "not ready", "failed": ["database"],
                            "checks": {"database": "can't reach the database", "slack": "ok"}}
            assert await get(http, health_port, "/healthz") == (200, {"status": "alive"})

            await proxy.restore()
            back = await until_status(http, health_port, "/readyz", 200, bot)
            assert back["checks"]["database"] == "ok"
            assert await bot.stop() == 0
        assert "Not ready: database: can't reach the database" in bot.log.read_text()
    finally:
        await proxy.cut()


def whosnext(args: list[str], cwd: Path, env: dict[str, str], stdin: str = ""
             ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "HEALTH_"))}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=full, timeout=60, check=False)


def one_clear_line(out: subprocess.CompletedProcess[str], *parts: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    [line] = [line for line in out.stderr.splitlines() if line.startswith("whosnext:")]
    for part in parts:
        assert part in line, line
    return line


@pytest.mark.parametrize("value", ["0", "65536", "health", "-1", "8080.0"])
def test_a_bad_health_port_stops_the_start_naming_it(tmp_path, value):
    out = whosnext(["run"], tmp_path, {"HEALTH_PORT": value})
    one_clear_line(out, "HEALTH_PORT", f"“{value}” is not a port")


def test_a_health_port_in_use_is_a_clear_error(tmp_path):
    with contextlib.closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = whosnext(["console", "--db", str(tmp_path / "bot.db")], tmp_path,
                       {"HEALTH_PORT": str(port), **LOCAL}, stdin="/rejected asked\n")
    one_clear_line(out, "HEALTH_PORT", f"can't listen on 127.0.0.1:{port}", "free port")


def test_the_health_port_cannot_be_the_slack_port(tmp_path):
    out = whosnext(["run"], tmp_path, {
        "SLACK_BOT_TOKEN": "xoxb-1-test", "SLACK_MODE": "http", "SLACK_HTTP_PORT": "3100",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef", "HEALTH_PORT": "3100",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"})
    one_clear_line(out, "HEALTH_PORT and SLACK_HTTP_PORT are both 3100")
    assert not (tmp_path / "bot.db").exists()  # refused before anything was opened


def test_the_terminal_loads_no_health_server_unless_asked(tmp_path):
    """Start-up cost: a plain `whosnext console` never imports aiohttp or prometheus_client."""
    code = ("import sys\nfrom bot import cli\n"
            f"assert cli.main(['console', '--db', {str(tmp_path / 'bot.db')!r}]) == 0\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('aiohttp', 'prometheus_client', 'adapters.health'))\n"
            "assert not loaded, loaded\n"
            "assert 'adapters.health' not in sys.modules and 'bot.metrics' not in sys.modules\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "HEALTH_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-c", code], input="/rejected asked a stranger\n",
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "1 asks so far" in done.stdout or "asked a stranger" in done.stdout


async def test_the_terminal_serves_health_and_metrics_when_asked(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "HEALTH_"))}
    env.update(HEALTH_PORT=str(port), PYTHONPATH=str(ROOT), **LOCAL)
    log = tmp_path / "console.log"
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "console", "--db", str(tmp_path / "bot.db"),
            cwd=tmp_path, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL, stderr=err)
    bot = Bot("console", proc, log)
    try:
        await until_listening(bot, port, START)
        async with aiohttp.ClientSession() as http:
            # The terminal is no platform to connect: the database is all there is to check.
            assert await get(http, port, "/readyz") == (200, {"status": "ready",
                                                              "checks": {"database": "ok"}})
            assert proc.stdin is not None
            proc.stdin.write(b"/rejected asked the bus driver for a song\n")
            await proc.stdin.drain()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + START
            while True:
                _, text = await get(http, port, "/metrics")
                if sample(text, "whosnext_commands_total", command="rejected", outcome="ok"):
                    break
                assert loop.time() < deadline and bot.running, bot.tail()
                await asyncio.sleep(POLL)
        proc.stdin.close()  # end of input: the session ends
        assert await asyncio.wait_for(proc.wait(), START) == 0, bot.tail()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# ---------------------------------------------------------------------- in process


@pytest.fixture
async def serve():
    """``serve(health)`` starts it on a free loopback port and returns the port."""
    started: list[Health] = []

    async def start(health: Health) -> int:
        await health.start("127.0.0.1", 0)
        started.append(health)
        assert health.port
        return health.port

    yield start
    for health in started:
        await health.stop()


async def test_readyz_says_which_check_failed_in_plain_words(repo, serve):
    async def slack() -> str | None:
        return "not connected to Slack"

    async def discord() -> str | None:
        return None

    port = await serve(Health({"database": database_check(repo.ping), "slack": slack,
                               "discord": discord}))
    async with aiohttp.ClientSession() as http:
        assert await get(http, port, "/readyz") == (503, {
            "status": "not ready", "failed": ["slack"],
            "checks": {"database": "ok", "slack": "not connected to Slack", "discord": "ok"}})
        assert await get(http, port, "/healthz") == (200, {"status": "alive"})
        assert (await get(http, port, "/metrics"))[0] == 404  # no metrics given: no route


async def test_a_closed_database_a_hanging_or_raising_check_fail_readiness_not_the_server(
        repo, serve):
    async def hangs() -> str | None:
        await asyncio.Event().wait()
        return None

    async def raises() -> str | None:
        raise ValueError("a bug in a check")

    await repo.close()
    port = await serve(Health({"database": database_check(repo.ping), "broken": raises}))
    # timeout=0: a check not done at once has timed out (no waiting in the test).
    stuck = await serve(Health({"stuck": hangs}, timeout=0))
    async with aiohttp.ClientSession() as http:
        assert await get(http, port, "/readyz") == (503, {
            "status": "not ready", "failed": ["database", "broken"],
            "checks": {"database": "the database isn't open",
                       "broken": "the check failed (ValueError)"}})
        assert await get(http, stuck, "/readyz") == (503, {
            "status": "not ready", "failed": ["stuck"],
            "checks": {"stuck": "no answer within 0 s"}})


async def test_the_database_check_reads_the_database(repo):
    check = database_check(repo.ping)
    assert await check() is None
    await repo.close()
    assert await check() == "the database isn't open"


async def test_a_stopping_bot_is_not_ready(repo, serve):
    stopping = asyncio.Event()
    port = await serve(Health({"database": database_check(repo.ping)}, stopping=stopping))
    async with aiohttp.ClientSession() as http:
        assert (await get(http, port, "/readyz"))[0] == 200
        stopping.set()
        assert await get(http, port, "/readyz") == (503, {
            "status": "stopping", "failed": [], "checks": {"database": "ok"}})
        assert (await get(http, port, "/healthz"))[0] == 200  # still alive while it stops


async def test_readiness_logs_each_change_once_not_each_probe(caplog, serve):
    answer: list[str | None] = ["not connected to Discord"]

    async def discord() -> str | None:
        return answer[0]

    caplog.set_level(logging.INFO, logger="adapters.health")
    port = await serve(Health({"discord": discord}))
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            assert (await get(http, port, "/readyz"))[0] == 503
        answer[0] = None
        for _ in range(3):
            assert (await get(http, port, "/readyz"))[0] == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "adapters.health"]
    assert [line for line in lines if not line.startswith("Health: ")] == [
        "Not ready: discord: not connected to Discord", "Ready again: discord is fine"]


async def test_a_port_in_use_is_a_config_error_naming_health_port(serve):
    port = await serve(Health({}))
    with pytest.raises(ConfigError) as err:
        await Health({}).start("127.0.0.1", port)
    assert str(err.value).startswith(f"HEALTH_PORT: can't listen on 127.0.0.1:{port}")
