"""The start command itself (``python -m bot``), in HTTP mode, pointed at the loopback fake:
signed requests are answered, unsigned ones refused."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests.slack.helpers import SECRET, post_signed, reply_json, section_texts, slash

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


@pytest.fixture
async def whosnext(fake, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-1-test", SLACK_MODE="http", SLACK_SIGNING_SECRET=SECRET,
               SLACK_HTTP_PORT=str(port), SLACK_API_URL=fake.api_url, LOG_LEVEL="INFO",
               DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", PYTHONUNBUFFERED="1")
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
    yield port
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.wait(), 20)
    await drain


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
