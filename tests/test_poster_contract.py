"""One contract for every ``Poster`` (``bot.ports``): what the scheduler may count on, whichever
platform it posts to.

Each Poster runs against what it really talks to: ``SlackPoster`` (the Slack adapter's) against
the loopback fake Slack, ``DiscordPoster`` through a running Discord adapter against the fake
Discord, ``ConsolePoster`` on a console writing to a ``StringIO``. The fakes refuse what Slack and
Discord refuse, and a refusal nobody announced fails the test. Each platform brings a small
reader of what its channel, or a member's DM, shows (the fakes' channel model; the terminal's
text), so the tests below are written once:

- ``post()`` of a check-in is a SENT ``Delivery`` and the channel shows it once;
- ``dm()`` reaches the member, and only them;
- a post naming many members stays within the platform's limits;
- member text in a reply shows as typed and is never live (no mention, no masked link);
- a channel that is gone, or a member who can't be reached, FAILED (with why) without raising, and the
  next post goes out;
- ``limits`` is a ``PostingLimits``;
- images and attachments arrive, in a channel and in a DM.

What only one platform does (Slack's rate-limit wait and its log lines, Discord's buttons that
name their server in a DM, a stopped adapter) stays in ``tests/slack`` and ``tests/discord``.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.console import Console, ConsolePoster
from adapters.discord.client import DiscordAdapter
from adapters.slack.app import SlackAdapter
from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import DeliveryStatus, Poster, PostingLimits
from bot.reply import (
    Action,
    Attachment,
    Button,
    Buttons,
    Context,
    Fields,
    Heading,
    Image,
    Mention,
    Reply,
    Strong,
    Text,
    Visibility,
)
from tests.discord import helpers as discord_helpers
from tests.discord.helpers import FileKeepingDiscord
from tests.fakes.discord import CHANNEL_ID, EPHEMERAL, GUILD_ID, message_texts
from tests.fakes.slack import FakeSlack, Seen
from tests.slack import helpers as slack_helpers

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
CSV = b"when,ask\n2026-11-25,asked for a raise\n"


@dataclass(frozen=True)
class Shown:
    """One message as a member reads it: its ``text`` (as typed: escapes resolved), the
    mentions and links that are ``live`` in it (as the platform would act on them), and the
    names of the ``files`` that came with it."""

    text: str
    live: frozenset[str] = frozenset()
    files: tuple[str, ...] = ()


class Harness:
    """A Poster, the community and channel it posts to, its members, and a reader of what
    they see. ``gone`` and ``unreachable`` name the failures the platform can have."""

    platform: str
    poster: Poster
    community: CommunityRef
    channel: str
    gone_channel: str
    names = ("ana", "ben")

    def member(self, name: str) -> MemberRef:
        raise NotImplementedError

    def mention_form(self, name: str) -> str:
        """How a ``Mention`` of ``name`` shows."""
        return f"@{name}"

    def channel_view(self, channel: str | None = None) -> list[Shown]:
        raise NotImplementedError

    def dm_view(self, name: str) -> list[Shown]:
        raise NotImplementedError

    def received(self) -> list[bytes]:
        """The bytes of every file that arrived anywhere, sorted."""
        raise NotImplementedError

    def make_gone(self, failure: str) -> None:
        raise NotImplementedError

    def make_unreachable(self, failure: str) -> None:
        raise NotImplementedError


# ------------------------------------------------------------------------------- Slack


_SLACK_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def _slack_unescape(text: str) -> str:
    return re.sub(r"&(lt|gt|amp);", lambda m: _SLACK_ENTITIES[m.group()], text)


def _slack_parsed(seen: Seen) -> list[str]:
    """The texts Slack parses for control sequences: mrkdwn objects and the fallback."""
    out: list[str] = [seen.fallback] if seen.fallback else []

    def add(obj: Any) -> None:
        if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
            out.append(str(obj.get("text", "")))

    for block in seen.blocks:
        add(block.get("text"))
        for item in block.get("fields") or []:
            add(item)
        if block.get("type") == "context":
            for item in block.get("elements") or []:
                add(item)
    return out


class SlackHarness(Harness):
    platform = "slack"
    channel = slack_helpers.CHANNEL
    gone_channel = "C0GONE"
    community = slack_helpers.COMMUNITY
    ids = {"ana": slack_helpers.ANA, "ben": slack_helpers.BEN}

    def __init__(self, fake: FakeSlack, adapter: SlackAdapter):
        self.fake = fake
        self.poster = adapter.poster

    def member(self, name: str) -> MemberRef:
        return slack_helpers.member(self.ids.get(name, "U0" + name.upper()))

    def _read(self, channel: str, user: str | None = None) -> list[Shown]:
        seen = self.fake.seen_by(user, channel) if user else self.fake.channel_view(channel)
        out: list[Shown] = []
        for item in seen:
            if item.kind == "file":  # a file shows under the message it came with
                name = item.text.split("\n")[-1]
                if out:
                    out[-1] = Shown(out[-1].text, out[-1].live, (*out[-1].files, name))
                else:
                    out.append(Shown("", frozenset(), (name,)))
                continue
            live = frozenset(token for text in _slack_parsed(item)
                             for token in re.findall(r"<[^<>]*>", text))
            out.append(Shown(_slack_unescape(item.text), live))
        return out

    def channel_view(self, channel: str | None = None) -> list[Shown]:
        return self._read(channel or self.channel)

    def dm_view(self, name: str) -> list[Shown]:
        user = self.ids[name]
        return self._read("D" + user.lstrip("UW"), user)

    def received(self) -> list[bytes]:
        return sorted(self.fake.uploads.values())

    def make_gone(self, failure: str) -> None:
        self.fake.fail("chat.postMessage", failure)

    def make_unreachable(self, failure: str) -> None:
        method, error = failure.split(":")
        self.fake.fail(method, error)


# ----------------------------------------------------------------------------- Discord


# What Discord acts on in a message: @everyone/@here (no zero-width space after the @),
# mention chips, and masked links whose brackets are not escaped.
_DISCORD_LIVE = re.compile(r"(?<!\\)@(?:everyone|here)|(?<!\\)<(?:@[!&]?|#)\d+>"
                           r"|(?<!\\)\[[^\]\n]*(?<!\\)\]\((?:https?://)?[^)\s]*\)")


class DiscordHarness(Harness):
    platform = "discord"
    channel = str(CHANNEL_ID)
    gone_channel = str(CHANNEL_ID + 99)
    community = CommunityRef(Platform.DISCORD, str(GUILD_ID))
    ids = {"ana": discord_helpers.ANA, "ben": discord_helpers.BEN}

    def __init__(self, fake: FileKeepingDiscord, adapter: DiscordAdapter):
        self.fake = fake
        self.ids = dict(self.ids)
        self.poster = adapter.poster

    def member(self, name: str) -> MemberRef:
        if name not in self.ids:  # every other member gets an id of their own
            self.ids[name] = 1600000000000000000 + len(self.ids)
        return MemberRef(Platform.DISCORD, str(self.ids[name]))

    def mention_form(self, name: str) -> str:
        return f"<@{self.member(name).id}>"

    def _read(self, channel: str) -> list[Shown]:
        out = []
        for message in self.fake.messages.values():
            if message["channel_id"] != channel or message["flags"] & EPHEMERAL:
                continue  # an ephemeral message is no one's to read but its interaction's
            raw = "\n".join(message_texts(message))
            live = set(_DISCORD_LIVE.findall(raw))
            # Mentions notify only as allowed_mentions allow; the post that made the message
            # says what it allowed.
            for call in self.fake.find("POST", rf"/channels/{channel}/messages"):
                allowed = (call.json or {}).get("allowed_mentions")
                if allowed != {"parse": []}:
                    live.add(f"allowed_mentions={allowed}")
            files = tuple(a["filename"] for a in message.get("attachments") or [])
            out.append(Shown(discord_helpers.shown(raw), frozenset(live), files))
        return out

    def channel_view(self, channel: str | None = None) -> list[Shown]:
        return self._read(channel or self.channel)

    def dm_view(self, name: str) -> list[Shown]:
        channel = self.fake.dm_channels.get(str(self.ids[name]))
        return self._read(channel) if channel else []

    def received(self) -> list[bytes]:
        return sorted(data for _, _, data in self.fake.file_data)

    def make_gone(self, failure: str) -> None:
        status, code, message = {"404": (404, 10003, "Unknown Channel"),
                                 "403": (403, 50001, "Missing Access")}[failure]
        self.fake.fail_next("POST", rf"/channels/{self.gone_channel}/messages", status,
                            code=code, message=message)

    def make_unreachable(self, failure: str) -> None:
        if failure == "dm-channel-refused":
            self.fake.fail_next("POST", "/users/@me/channels", 403, code=50007,
                                message="Cannot send messages to this user")
        else:  # "dm-closed": the DM channel opens, the message is refused
            self.fake.fail_next("POST", r"/channels/\d+/messages", 403, code=50007,
                                message="Cannot send messages to this user")


# ----------------------------------------------------------------------------- console


_HEADER = re.compile(r"^(?:\(only (?P<only>\S+) sees this\) )?"
                     r"(?:--- scheduled post in #(?P<channel>\S+) ---|\(DM to (?P<dm>\S+)\))$")
_SAVED = re.compile(r"\[(?:image: .*, )?(?:file )?saved to (?P<path>[^\]]+)\]")


class ConsoleHarness(Harness):
    platform = "console"
    channel = "general"
    gone_channel = "gone"

    def __init__(self, console: Console):
        self.console = console
        self.out = console.out
        self.community = console.community
        self.poster = ConsolePoster(console)

    def member(self, name: str) -> MemberRef:
        return MemberRef(Platform.CONSOLE, name)

    def _messages(self) -> list[tuple[dict[str, str | None], list[str]]]:
        """The printed posts and DMs, each with its header's parts and its lines."""
        out: list[tuple[dict[str, str | None], list[str]]] = []
        assert isinstance(self.out, io.StringIO)
        for line in self.out.getvalue().split("\n"):
            header = _HEADER.match(line)
            if header:
                out.append((header.groupdict(), []))
            elif out:
                out[-1][1].append(line)
        return out

    def _shown(self, lines: list[str]) -> Shown:
        text = "\n".join(lines).strip("\n")
        files = tuple(Path(m.group("path")).name for m in _SAVED.finditer(text))
        return Shown(text, frozenset(), files)  # a terminal acts on nothing it prints

    def channel_view(self, channel: str | None = None) -> list[Shown]:
        wanted = channel or self.channel
        return [self._shown(lines) for header, lines in self._messages()
                if header["channel"] == wanted and header["only"] is None]

    def dm_view(self, name: str) -> list[Shown]:
        return [self._shown(lines) for header, lines in self._messages()
                if header["dm"] == name and header["only"] in (None, name)]

    def received(self) -> list[bytes]:
        return sorted(path.read_bytes() for path in self.console.files_dir.iterdir())


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(params=["slack", "discord", "console"])
async def harness(request: pytest.FixtureRequest, app, repo, tmp_path) -> AsyncIterator[Harness]:
    if request.param == "slack":
        slack = FakeSlack(team_id=slack_helpers.TEAM)
        await slack.start()
        adapter = SlackAdapter(app, slack_helpers.settings_for(slack, "http"),
                               sleep=slack_helpers.Recorder())
        try:
            yield SlackHarness(slack, adapter)
        finally:
            await slack.stop()
        slack.check_refusals()
    elif request.param == "discord":
        discord = FileKeepingDiscord()
        await discord.start()
        bot = DiscordAdapter(app, discord_helpers.settings_for(discord), repo, ready_timeout=10,
                             guild_ready_timeout=0.05)
        try:
            await bot.start()
            yield DiscordHarness(discord, bot)
        finally:
            await bot.stop()
            await discord.close()
        refused = discord.unexpected_refusals()
        assert not refused, "Discord refused: " + "; ".join(
            f"{c.method} {c.path} → {c.status} {c.problems}" for c in refused)
    else:
        yield ConsoleHarness(Console(app, "ana", community="test", out=io.StringIO(),
                                     files_dir=tmp_path / "files"))


def checkin(h: Harness) -> Reply:
    return Reply((
        Heading("Daily check-in"),
        Text.of("Yesterday ", Mention(h.member("ana"), "ana"), " made 3 asks. Who's next?"),
        Buttons((Button("Cheer", Action("cheer", "7")),)),
    ))


# ------------------------------------------------------------------------------- tests


async def test_a_checkin_is_posted_and_the_channel_shows_it_once(harness: Harness):
    assert (await harness.poster.post(harness.community, harness.channel, checkin(harness))).ok
    [shown] = harness.channel_view()
    assert "Daily check-in" in shown.text
    assert f"Yesterday {harness.mention_form('ana')} made 3 asks. Who's next?" in shown.text
    assert "Cheer" in shown.text  # the button is there to press
    assert harness.dm_view("ana") == []  # a post is not a DM


async def test_a_dm_reaches_the_member_and_no_one_else(harness: Harness):
    reply = Reply((Heading("How did your ask go?"), Text.of(Strong("ask Lee for an intro")),
                   Buttons((Button("Rejected", Action("resolve", "c1:r")),))))
    assert (await harness.poster.dm(harness.community, harness.member("ana"), reply)).ok
    [shown] = harness.dm_view("ana")
    assert "How did your ask go?" in shown.text and "ask Lee for an intro" in shown.text
    assert "Rejected" in shown.text
    assert harness.dm_view("ben") == []
    assert harness.channel_view() == []


async def test_a_private_reply_posted_to_a_channel_is_shown_to_everyone(harness: Harness):
    """A scheduled post has no one to be private to: the whole channel sees it."""
    reply = Reply((Text.of("Just for the channel"),), Visibility.PRIVATE)
    assert (await harness.poster.post(harness.community, harness.channel, reply)).ok
    [shown] = harness.channel_view()
    assert "Just for the channel" in shown.text


async def test_a_post_naming_many_members_stays_within_the_limits(harness: Harness):
    """150 members with long names, 30 fields, 80 lines: more than a Slack message (3000 per
    section, 50 blocks) or a Discord embed (4096, 6000 in all, 25 fields) can hold. The fakes
    refuse anything over the limits, so the post must fit itself."""
    names = [f"member-{i:03d}-{'x' * 24}" for i in range(150)]
    logged: list[Any] = ["Logged by "]
    for i, name in enumerate(names):
        logged += [Mention(harness.member(name), name), f" ({i % 4 + 1})", ", "]
    blocks: list[Any] = [Heading("Check-in · Thursday 26 Nov"), Text.of(*logged[:-1], ".")]
    blocks.append(Fields(tuple((name, f"{i} asks, {'y' * 60}") for i, name in enumerate(names[:30]))))
    blocks += [Text.of("• ", Mention(harness.member(name), name), " got a no: ",
                       Strong("asked for " + "a very big thing " * 10)) for name in names[:80]]
    blocks += [Context.of("Who's next?"), Buttons((Button("Cheer", Action("cheer", "7")),))]
    reply = Reply(tuple(blocks))

    assert (await harness.poster.post(harness.community, harness.channel, reply)).ok
    [shown] = harness.channel_view()
    assert "Check-in · Thursday 26 Nov" in shown.text
    # A line too long is shortened, not dropped: it still starts with the first member named.
    assert f"Logged by {harness.mention_form(names[0])}" in shown.text
    assert "Cheer" in shown.text


HOSTILE = ("@everyone <!channel> <!here> <@U0BEN> <@1500000000000000002> "
           "<@&1600000000000000001> <#1300000000000000002>")
MASKED = "[Free Nitro](https://evil.example/x)"
SLACK_LINK = "<https://evil.example/y|your bonus>"


async def test_member_text_shows_as_typed_and_is_never_live(harness: Harness):
    reply = Reply((
        Heading("Daily check-in"),
        Text.of("Yesterday ", Mention(harness.member("ana"), "ana"), " asked: ", HOSTILE),
        Text.of(Strong(MASKED), " and ", SLACK_LINK),
        Fields((("Who", "[claim](https://evil.example/z) @here"),)),
    ))
    assert (await harness.poster.post(harness.community, harness.channel, reply)).ok
    [shown] = harness.channel_view()
    for typed in (HOSTILE, MASKED, SLACK_LINK, "[claim](https://evil.example/z) @here"):
        assert typed in shown.text, typed
    assert f"Yesterday {harness.mention_form('ana')} asked: " in shown.text
    # Live is at most the member the bot itself named (Discord shows a chip that notifies no one).
    intended = {harness.mention_form("ana")} if harness.platform == "discord" else set()
    assert shown.live == intended


GONE = [("slack", "channel_not_found"), ("slack", "not_in_channel"), ("slack", "is_archived"),
        ("discord", "404"), ("discord", "403")]


@pytest.mark.parametrize(("harness", "failure"), GONE, indirect=["harness"],
                         ids=[f"{p}-{f}" for p, f in GONE])
async def test_a_channel_that_is_gone_fails_with_a_reason_without_raising(harness: Harness, failure: str):
    harness.make_gone(failure)
    refused = await harness.poster.post(harness.community, harness.gone_channel, checkin(harness))
    assert refused.status is DeliveryStatus.FAILED and refused.reason  # retrying can't fix it
    assert harness.channel_view(harness.gone_channel) == []
    # The poster carries on: the next post goes out.
    assert (await harness.poster.post(harness.community, harness.channel, checkin(harness))).ok
    assert len(harness.channel_view()) == 1


UNREACHABLE = [("slack", "conversations.open:user_not_found"),
               ("slack", "chat.postMessage:cannot_dm_bot"),
               ("discord", "dm-channel-refused"), ("discord", "dm-closed")]


@pytest.mark.parametrize(("harness", "failure"), UNREACHABLE, indirect=["harness"],
                         ids=[f"{p}-{f.split(':')[-1]}" for p, f in UNREACHABLE])
async def test_a_member_who_cant_be_reached_fails_with_a_reason_without_raising(harness: Harness,
                                                                     failure: str):
    harness.make_unreachable(failure)
    refused = await harness.poster.dm(harness.community, harness.member("ana"), checkin(harness))
    assert refused.status is DeliveryStatus.FAILED and refused.reason
    assert harness.dm_view("ana") == []
    assert (await harness.poster.dm(harness.community, harness.member("ana"),
                                    checkin(harness))).ok
    assert len(harness.dm_view("ana")) == 1


async def test_limits_are_posting_limits(harness: Harness):
    limits = harness.poster.limits
    assert isinstance(limits, PostingLimits)
    assert limits.concurrency >= 1 and (limits.per_second is None or limits.per_second > 0)


@pytest.mark.parametrize("where", ["channel", "dm"])
async def test_images_and_attachments_arrive(harness: Harness, where: str):
    reply = Reply((Text.of("The week in asks"), Image(PNG, "week.png", "a chart of the week")),
                  attachments=(Attachment("asks.csv", CSV, "text/csv"),))
    if where == "channel":
        assert (await harness.poster.post(harness.community, harness.channel, reply)).ok
        [shown] = harness.channel_view()
    else:
        assert (await harness.poster.dm(harness.community, harness.member("ana"), reply)).ok
        [shown] = harness.dm_view("ana")
    assert "The week in asks" in shown.text
    assert sorted(shown.files) == ["asks.csv", "week.png"]
    assert harness.received() == sorted([PNG, CSV])
