"""The terminal adapter on a real terminal: `whosnext console` under a pseudo-terminal, with
prompt_toolkit reading the lines (editing, history, Ctrl-D and Ctrl-C), and scheduled posts
printed above a half-typed line, in process on prompt_toolkit's pipe input."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from adapters.console import Console, ConsolePoster, run_prompt
from bot.reply import Heading, Reply, Text

ROOT = Path(__file__).resolve().parents[1]
WHOSNEXT = Path(sys.executable).parent / "whosnext"
UP, LEFT, BACKSPACE, CTRL_C, CTRL_D = "\x1b[A", "\x1b[D", "\x7f", "\x03", "\x04"
_FORWARD = re.compile(r"\x1b\[(\d*)C")  # the cursor moves right: blanks, as far as reading goes
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][0-9A-Za-z]|[=>78])|\x08")


def readable(raw: str) -> str:
    """What a terminal shows, roughly: escape sequences left out, a move right as blanks."""
    raw = _FORWARD.sub(lambda m: " " * int(m.group(1) or 1), raw)
    return _ESCAPES.sub("", raw).replace("\r", "")



@pytest.fixture
def backend() -> str:
    return "sqlite"  # the terminal is what's tested here


class Terminal:
    """`whosnext console` on the slave side of a pseudo-terminal (80 columns); the test types
    on the master side and reads everything the program wrote."""

    def __init__(self, tmp_path: Path, **environment: str):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL", "LOG_"))}
        # No terminal answers prompt_toolkit's cursor-position question here: don't ask it.
        env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", **environment)
        self.process = subprocess.Popen(
            [str(WHOSNEXT), "console", "--user", "ana", "--db", str(tmp_path / "tty.db")],
            stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, env=env,
            start_new_session=True)
        os.close(slave)
        self.master = master
        self.raw = b""
        self.mark = 0  # where the next wait starts looking

    def prompt(self) -> None:
        """Wait for the next ``> `` prompt (the first, after the greeting)."""
        if not self.mark:
            self.wait_for("Ctrl-D to leave.")
        self.wait_for("\n> ")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    @property
    def text(self) -> str:
        """What the terminal shows, escape sequences left out."""
        return readable(self.raw.decode(errors="replace"))

    def wait_for(self, expected: str, deadline: float = 30.0) -> str:
        """Read until ``expected`` shows after the previous wait's find (or the deadline: fail)."""
        end = time.monotonic() + deadline
        while expected not in self.text[self.mark:]:
            left = end - time.monotonic()
            assert left > 0, f"never saw {expected!r} in:\n{self.text}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the program ended: nothing more will come
                    chunk = b""
                assert chunk or expected in self.text[self.mark:], \
                    f"the program ended before {expected!r}:\n{self.text}"
                self.raw += chunk
        self.mark = self.text.index(expected, self.mark) + len(expected)
        return self.text

    def finish(self) -> int:
        """Its exit code, once it ended (having read what it wrote till then)."""
        try:
            self.wait_for("Bye! Go make an ask.")
            return self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.master)


needs_script = pytest.mark.skipif(not WHOSNEXT.exists(), reason="needs the installed whosnext")


@needs_script
def test_up_recalls_a_line_and_arrows_edit_it(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.prompt()
        term.type("/rejected asked for a raise\r")
        term.wait_for("1 ask so far")
        term.prompt()
        term.type(UP + "\r")  # the same line again, not "^[[A"
        term.wait_for("2 asks so far")
        term.prompt()
        # "fr tea": four to the left (before " tea"), rub out the "r", type "or".
        term.type("/accepted asked fr tea" + LEFT * 4 + BACKSPACE + "or\r")
        term.wait_for("@ana got a yes: asked for tea")
        term.prompt()
        term.type(CTRL_D)
        assert term.finish() == 0
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert "^[[A" not in term.raw.decode(errors="replace")
    assert term.text.count("@ana got a no: asked for a raise") == 2
    assert "Type a command like" not in term.text.split("Ctrl-D to leave.", 1)[1]


@needs_script
def test_a_refused_line_comes_back_with_up_and_ctrl_c_leaves(tmp_path):
    term = Terminal(tmp_path)
    try:
        term.prompt()
        term.type("/rejected asked for a raise fear:11\r")  # refused: fear goes to 10
        term.wait_for("fear goes from 0 to 10")
        term.prompt()
        term.type(UP + BACKSPACE + "0\r")  # fixed, not retyped: fear:10
        term.wait_for("1 ask so far")
        term.prompt()
        term.type(CTRL_C)
        assert term.finish() == 0
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert "`" not in term.text  # option names show plain


@needs_script
def test_sigterm_stops_it_while_a_line_is_half_typed_and_logs_print_above(tmp_path):
    term = Terminal(tmp_path, LOG_LEVEL="INFO")  # set on purpose: the terminal logs INFO too
    try:
        term.prompt()
        term.type("/rejected never sent")
        term.wait_for("never sent")
        term.process.send_signal(signal.SIGTERM)
        assert term.finish() == 0
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert "ask so far" not in term.text
    # The stop's log line went through the prompt: the half-typed line erased first (or, the
    # prompt done first, under it), never run on after the half-typed text.
    raw = term.raw.decode(errors="replace")
    codes, blanks = r"(?:\x1b\[[0-9;?]*[A-Za-z]|\r)*", r"(?:\x1b\[[0-9;?]*[A-Za-z]|\r|\n)*"
    assert re.search(rf"never sent{codes}(?:\x1b\[J|\n){blanks}"
                     r"\d{4}-\d\d-\d\d [\d:,]+ INFO whosnext: Got SIGTERM: stopping\.", raw), raw


async def test_a_post_prints_above_the_half_typed_line(app, clock):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.data_structures import Size
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.vt100 import Vt100_Output

    screen = io.StringIO()
    output = Vt100_Output(screen, lambda: Size(rows=40, columns=160), term="xterm",
                          enable_cpr=False)
    console = Console(app, "ana", "test")

    def shown() -> str:
        return readable(screen.getvalue())

    async def until(expected: str, after: str = "") -> None:
        """Until ``expected`` shows (after ``after``'s first showing)."""
        end = time.monotonic() + 30
        while expected not in shown().partition(after)[2] if after else expected not in shown():
            assert time.monotonic() < end, f"never saw {expected!r} in:\n{shown()}"
            await asyncio.sleep(0.01)

    with create_pipe_input() as keys, create_app_session(input=keys, output=output):
        running = asyncio.ensure_future(run_prompt(console))
        keys.send_text("/rejected asked for a ra")
        await until("/rejected asked for a ra")
        post = Reply((Heading("Check-in · Friday"), Text.of("Who's asking today?")))
        await ConsolePoster(console).post(console.community, "general", post)
        await until("/rejected asked for a ra", after="Who's asking today?")
        keys.send_text("ise\r")
        await until("1 ask so far")
        keys.send_text(CTRL_D)
        await asyncio.wait_for(running, 30)
    transcript = shown()
    half = transcript.index("/rejected asked for a ra")  # typed, as the prompt showed it
    header = transcript.index("--- scheduled post in #general ---")
    post_ends = transcript.index("Who's asking today?")
    redrawn = transcript.index("> /rejected asked for a ra", post_ends)
    assert half < header < transcript.index("== Check-in · Friday ==") < post_ends < redrawn
    assert transcript.index("@ana got a no: asked for a raise") > redrawn
