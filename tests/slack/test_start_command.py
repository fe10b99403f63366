"""The start command itself (``python -m bot``), in HTTP mode, pointed at the loopback fake:
signed requests are answered, unsigned ones refused."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.slack.helpers import SECRET, post_event, post_signed, reply_json, section_texts, slash

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for_line(stream: asyncio.StreamReader, needle: str, seen: list[str]) -> None:
    while True:
        line = (await stream.readline()).decode()
        if not line:
            raise AssertionError("whosnext exited:\n" + "".join(seen))
        seen.append(line)
        if needle in line:
            return


@contextlib.asynccontextmanager
async def running(fake, tmp_path, **settings: str) -> AsyncIterator[int]:
    """A real ``whosnext run`` in HTTP mode against the fake, with ``settings`` in its
    environment: its port once it listens, and a graceful stop after."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(SLACK_MODE="http", SLACK_SIGNING_SECRET=SECRET,
               SLACK_HTTP_PORT=str(port), SLACK_API_URL=fake.api_url, LOG_LEVEL="INFO",
               DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", PYTHONUNBUFFERED="1", **settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    seen: list[str] = []
    assert proc.stderr is not None
    try:
        await asyncio.wait_for(wait_for_line(proc.stderr, "listening for requests", seen), 20)
    except BaseException:
        proc.kill()
        await proc.wait()
        raise
    drain = asyncio.ensure_future(proc.stderr.read())
    try:
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 20)
        await drain


@pytest.fixture
async def whosnext(fake, tmp_path):
    async with running(fake, tmp_path, SLACK_BOT_TOKEN="xoxb-1-test") as port:
        yield port


class Target:
    def __init__(self, port: int):
        self.http_port = port


async def test_whosnext_answers_signed_requests_and_refuses_unsigned(whosnext, fake, http, ids):
    bot = Target(whosnext)
    rejected = await reply_json(await post_signed(http, bot, slash(fake, ids, "rejected",
                                                                   "asked for a raise fear:7")))
    assert rejected["response_type"] == "in_channel" and "1 ask so far" in section_texts(rejected)
    promise = await reply_json(await post_signed(http, bot, slash(fake, ids, "who-next",
                                                                  "ask Sam for an intro when:tomorrow")))
    assert "ask Sam for an intro" in section_texts(promise)
    board = await reply_json(await post_signed(http, bot, slash(fake, ids, "leaderboard")))
    assert "@ana · 1" in section_texts(board)
    stats = await reply_json(await post_signed(http, bot, slash(fake, ids, "stats")))
    assert "Asks*\n1" in section_texts(stats)

    url = f"http://127.0.0.1:{whosnext}/slack/events"
    async with http.post(url, data=slash(fake, ids, "rejected", "unsigned")) as response:
        assert response.status == 401
    again = await reply_json(await post_signed(http, bot, slash(fake, ids, "stats")))
    assert "Asks*\n1" in section_texts(again)


async def test_a_real_process_lets_a_workspace_install_it_and_answers_there(fake, tmp_path, http,
                                                                            ids):
    ws = fake.add_workspace("T0OAUTH", "Oauth Team", channels=("C0OAUTH",))
    async with running(fake, tmp_path, SLACK_CLIENT_ID=fake.client_id,
                       SLACK_CLIENT_SECRET=fake.client_secret) as port:
        base = f"http://127.0.0.1:{port}"
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(f"{base}/slack/install") as page:
                found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]*)"',
                                  await page.text())
            assert found is not None
            query = fake.approve(html.unescape(found.group(1)), ws.team_id)
            async with browser.get(f"{base}/slack/oauth_redirect", params=query) as page:
                assert page.status == 200
                assert "Oauth Team" in await page.text()
        async with http.get(f"{base}/readyz") as ready:
            assert ready.status == 200
        form = slash(fake, ids, "checkin", "set time:09:00", user="U0ADMIN", channel="C0OAUTH")
        form["team_id"] = ws.team_id
        answer = await reply_json(await post_signed(http, Target(port), form))
        assert "Check-ins are on!" in section_texts(answer)
        [roles] = fake.calls_to("users.info")  # asked with that workspace's own token
        assert roles.token == ws.token
        gone = await post_event(http, Target(port), fake.uninstall(ws.team_id))
        assert gone.status == 200
