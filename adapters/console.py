"""The terminal adapter: try the bot with no chat platform at all.

Reads lines from standard input (interactive or piped):

    /rejected asked for a raise fear:6      runs as the console's own member
    sam> /accepted asked for a discount     runs as member "sam" of the same community
    !3                                      presses button 3 (sam> !3 presses it as sam)

The member who runs the console (``--user``) is the community's admin; the others are not.
Names are case-insensitive: ``Sam>`` and ``sam>`` are one member, shown as first typed.

On a real terminal, lines are read with prompt_toolkit: line editing, Up and Down through
this session's lines, and scheduled posts printed above the prompt with the half-typed line
redrawn under them. Piped input is read line by line, without importing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.app import App, meant_line
from bot.ids import ChannelRef, CommunityRef, MemberRef, Platform
from bot.invocation import ActionInvocation, Caller
from bot.ports import Delivery, PostingLimits
from bot.reply import (
    Action,
    Buttons,
    Context,
    Fields,
    Heading,
    Image,
    Reply,
    Text,
    Visibility,
    spans_text,
)

_AS_MEMBER = re.compile(r"^\s*([^\s>/!][^\s>]{0,31})>\s*(.*)$")
# A `code` span in the core's texts (option names, examples): the terminal shows the words.
_CODE = re.compile(r"`([^`\n]+)`")
CHANNEL = "general"
HELP = ("Type a command like /rejected asked for a raise, or /help. "
        "Start a line with NAME> to act as someone else; !N presses button N.")


class Console:
    def __init__(self, app: App, user: str, community: str = "local",
                 out: TextIO | None = None, files_dir: Path = Path("whosnext-files")):
        self.app = app
        self.user = user
        self.community = CommunityRef(Platform.CONSOLE, community)
        self.out = out or sys.stdout
        self.files_dir = files_dir
        self.buttons: dict[int, Action] = {}
        # Each member's display name: the first spelling seen (``--user``'s for its member).
        self.names: dict[str, str] = {user.lower(): user}
        # While a prompt reads a line (``run_prompt``): prints a reply above it instead of out.
        self.above_prompt: Callable[[str], None] | None = None

    def save(self, filename: str, data: bytes) -> Path:
        """Files (CSV exports, charts) land in ``files_dir``; the terminal shows the path."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(data)
        return path

    def caller(self, name: str) -> Caller:
        member = name.lower()
        return Caller(MemberRef(Platform.CONSOLE, member), self.names.setdefault(member, name),
                      self.community, ChannelRef(Platform.CONSOLE, CHANNEL),
                      is_admin=(member == self.user.lower()))

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line or line.startswith("#"):
            return
        name = self.user
        m = _AS_MEMBER.match(line)
        if m:
            name, line = m.group(1), m.group(2).strip()
        if line.startswith("!"):
            await self._press(name, line[1:].strip())
        elif line.startswith("/"):
            command, _, text = line[1:].partition(" ")
            reply = await self.app.run_text(command, text, self.caller(name))
            self.show(reply, name)
        else:
            command, _, text = line.partition(" ")
            meant = meant_line(command, text)
            self._print(f"Did you mean {meant}? Commands start with a slash." if meant else HELP)

    async def _press(self, name: str, number: str) -> None:
        action = self.buttons.get(int(number)) if number.isdecimal() else None
        if action is None:
            self._print(f"There's no button {number or '(none given)'}. "
                        "Buttons show up like [3 Cheer]; type !3 to press one.")
            return
        reply = await self.app.handle_action(ActionInvocation(action.name, action.value,
                                                              self.caller(name)))
        self.show(reply, name)

    def show(self, reply: Reply, name: str, header: str | None = None) -> None:
        name = self.names.get(name.lower(), name)
        lines: list[str] = [header] if header else []
        for block in reply.blocks:
            if isinstance(block, Heading):
                lines.append(f"== {plain(block.text)} ==")
            elif isinstance(block, Text):
                lines.append(plain(spans_text(block.spans)))
            elif isinstance(block, Context):
                lines.append(f"  {plain(spans_text(block.spans))}")
            elif isinstance(block, Fields):
                pairs = [f"{plain(k)}: {plain(v)}" for k, v in block.pairs]
                lines += ["  " + " | ".join(pairs[i:i + 5]) for i in range(0, len(pairs), 5)]
            elif isinstance(block, Image):
                lines.append(f"  [image: {block.alt}, saved to {self.save(block.filename, block.data)}]")
            elif isinstance(block, Buttons):
                labels = []
                for button in block.buttons:
                    number = len(self.buttons) + 1
                    self.buttons[number] = button.action
                    labels.append(f"[{number} {button.label}]")
                lines.append("  " + " ".join(labels) + "  (type !N to press)")
        for button in reply.relabel:  # the console can't edit what it printed: say it instead
            for number, action in self.buttons.items():
                if action == button.action:
                    lines.append(f"  (button {number} now reads [{number} {button.label}])")
        for attachment in reply.attachments:
            lines.append(f"  [file saved to {self.save(attachment.filename, attachment.data)}]")
        if reply.private:
            lines = [f"(only {name} sees this) {lines[0]}" if lines else f"(only {name} sees this)",
                     *lines[1:]]
        self._print("\n".join(lines))

    def _print(self, text: str) -> None:
        if self.above_prompt is not None:
            self.above_prompt(f"{text}\n")
            return
        print(text, file=self.out, flush=True)
        print(file=self.out, flush=True)


def plain(text: str) -> str:
    """Terminal text of the core's: a `code` span shows as its words, with no backticks."""
    return _CODE.sub(r"\1", text) if "`" in text else text


class ConsolePoster:
    """The terminal's ``Poster`` for the scheduler: check-ins print to the console's output with
    a header naming the channel, DMs are marked "(DM to NAME)", charts land in the console's
    files folder, and buttons get numbers like any others (``NAME> !N`` presses one as NAME)."""

    # One terminal and no rate limit to keep to: a few at a time, no pacing.
    limits = PostingLimits(concurrency=4)

    def __init__(self, console: Console):
        self.console = console

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        # A scheduled post has no one to be private to: the whole channel sees it. Printing
        # can't half-happen, so an earlier try never leaves doubt (``sent_since`` never comes).
        self.console.show(replace(reply, visibility=Visibility.PUBLIC), self.console.user,
                          header=f"--- scheduled post in #{channel_id} ---")
        return Delivery.sent()

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        # What was printed stays printed: the post as it is now is shown again, marked.
        self.console.show(replace(reply, visibility=Visibility.PUBLIC), self.console.user,
                          header=f"--- a post in #{channel_id} was edited; it now reads ---")
        return Delivery.sent()

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        name = self.console.names.get(member.id, member.id)
        self.console.show(replace(reply, visibility=Visibility.PUBLIC), name,
                          header=f"(DM to {name})")
        return Delivery.sent()


def greeting(console: Console) -> str:
    return f"Who's Next in your terminal, as {console.user}. {HELP} Ctrl-D to leave."


async def run_console(console: Console, stdin: TextIO | None = None,
                      stop: asyncio.Event | None = None) -> None:
    """Run lines until end of input, or until ``stop`` is set (Ctrl-C, SIGTERM). A real
    terminal (standard input and output) gets ``run_prompt``; anything else is read line by
    line (an interactive one gets a greeting and a prompt). Lines are read on a daemon thread,
    so scheduled posts keep flowing while the console waits, and a stop never waits for Enter:
    the thread is left blocked in its read and ends with the process."""
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    if interactive and stdin is sys.stdin and sys.stdout.isatty():
        await run_prompt(console, stop)
        return
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="console-input", daemon=True).start()
    stopped = asyncio.ensure_future((stop or asyncio.Event()).wait())
    if interactive:
        console._print(greeting(console))
    try:
        while True:
            if interactive:
                print("> ", end="", flush=True)
            next_line = asyncio.ensure_future(lines.get())
            await asyncio.wait({next_line, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not next_line.done():
                next_line.cancel()
                if interactive:
                    print()
                return
            line = next_line.result()
            if not line:
                if interactive:
                    print()
                return
            await console.handle_line(line)
    finally:
        stopped.cancel()


async def run_prompt(console: Console, stop: asyncio.Event | None = None) -> None:
    """The console on a real terminal, through prompt_toolkit (imported only here): a ``> ``
    prompt with line editing and this session's history (Up recalls a line, a refused one
    too). Replies, scheduled posts and DMs print above the prompt, the half-typed line redrawn
    under them (anything else printed meanwhile too: ``patch_stdout``). Ctrl-D on an empty
    line leaves, Ctrl-C too, and so does ``stop`` (SIGTERM, or SIGINT from outside).

    It reads and writes prompt_toolkit's current app session (the terminal, unless a test made
    one with ``create_app_session``)."""
    from prompt_toolkit import PromptSession, print_formatted_text
    from prompt_toolkit.history import InMemoryHistory
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession(history=InMemoryHistory())
    stopped = asyncio.ensure_future((stop or asyncio.Event()).wait())
    console.above_prompt = lambda text: print_formatted_text(text)
    try:
        with patch_stdout():
            console._print(greeting(console))
            while True:
                # Ctrl-C is a key while the prompt reads (raw mode): it ends the prompt with
                # KeyboardInterrupt. The signal handlers and the loop's exception handler stay
                # the caller's (prompt_toolkit's own would wait for Enter after an error).
                asking = asyncio.ensure_future(session.prompt_async(
                    "> ", handle_sigint=False, set_exception_handler=False))
                await asyncio.wait({asking, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if not asking.done():
                    asking.cancel()
                    with contextlib.suppress(asyncio.CancelledError, EOFError, KeyboardInterrupt):
                        await asking  # prompt_toolkit puts the terminal back as it was
                    return
                try:
                    line = asking.result()
                except (EOFError, KeyboardInterrupt):
                    return
                await console.handle_line(line)
    finally:
        console.above_prompt = None
        stopped.cancel()
