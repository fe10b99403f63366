"""Nothing acknowledged is lost: a bot process killed with SIGKILL in the middle of a stream of
concurrent, group-committed /rejected commands keeps every one it had answered."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Logs asks 8 at a time through the real core and repository; prints each one's text once its
# command has been answered (that is, acknowledged to the member), and never stops on its own.
WRITER = textwrap.dedent("""
    import asyncio, itertools, sys
    from bot.app import App
    from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
    from bot.invocation import Caller
    from storage.sqlite import SqliteRepository

    async def main():
        repo = await SqliteRepository.open(sys.argv[1])
        app = App(repo, max_logs_per_hour=10_000_000)
        community = CommunityRef(Platform.CONSOLE, "durable")
        counter = itertools.count()

        async def worker(w):
            who = Caller(MemberRef(Platform.CONSOLE, f"m{w}"), f"m{w}", community,
                         ChannelRef(Platform.CONSOLE, "general"))
            while True:
                ask = f"ask-{next(counter)}"
                reply = await app.run_text("rejected", ask, who)
                assert not reply.error, reply.plain_text()
                sys.stdout.write(ask + "\\n")
                sys.stdout.flush()

        await asyncio.gather(*(worker(w) for w in range(8)))

    asyncio.run(main())
""")


async def test_every_answered_command_survives_sigkill(tmp_path):
    db = tmp_path / "bot.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, str(db), cwd=ROOT, env={"PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    answered: list[str] = []
    try:
        while len(answered) < 300:
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            assert line, (await proc.stderr.read()).decode() if proc.stderr else "writer exited"
            answered.append(line.decode().strip())
        proc.send_signal(signal.SIGKILL)  # mid-stream: batches are being written right now
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    answered += [line for line in rest.decode().splitlines() if line.strip()]
    with sqlite3.connect(db) as conn:  # reopened as after a crash: WAL recovery
        stored = {row[0] for row in conn.execute("SELECT ask FROM attempts")}
    missing = [ask for ask in answered if ask not in stored]
    assert not missing, f"{len(missing)} answered asks lost, e.g. {missing[:5]}"
    assert len(stored) >= len(answered)  # some may have committed without being answered yet
