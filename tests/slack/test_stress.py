"""A crowded, hostile workspace through the real Slack adapter (HTTP mode) and the strict fake.

150 members each log asks of exactly 500 characters (as the core counts them) stuffed with what
Slack sends when a member types a mention, a broadcast, a group, a channel or a link
(``<!here>``, ``<@U…|name>``, ``<!subteam^S…|@team>``, ``<#C…|general>``, ``<https://…|click>``),
what it sends when they type those characters literally (``&lt;!channel&gt;``), markdown, ``&``,
``<``, ``>``, emoji and non-Latin text, different for every member. Then every command of the
catalogue runs with valid options, buttons are pressed, some asks are ``private:true``, and the
scheduler posts the daily check-in and the weekly recap through the adapter's Poster (fake
clock). Checked at the end:

- Slack refused nothing (the ``fake`` fixture checks again at teardown);
- nothing the bot sent (Web API bodies, response_url POSTs, acks) holds a live mention or link
  (``<!``, ``<@``, ``<#``, ``<http``...), nor any raw ``<`` or ``>``, and every ``&`` in mrkdwn
  is an entity: people are named as plain ``@name``;
- a private ask's text is never in the channel (nor the echo of its typed command), nor in what
  any other member sees anywhere; its owner does see it (/asks, /undo, /export);
- the check-in and the recap name many members, fit Slack's limits, and the check-in still ends
  with its invitation.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.slack.render import MAX_FALLBACK, MAX_FIELD, MAX_SECTION, escape, render
from adapters.slack.translate import options_from_text
from bot import prompts
from bot.commands import CATALOGUE, clean_text, get_command
from bot.ids import MemberRef, Platform
from bot.reply import Context, Fields, Heading, Mention, Reply, Strong, Text
from bot.scheduler import Scheduler
from tests.fakes.slack import FakeSlack, Seen
from tests.slack.helpers import (
    CHANNEL,
    COMMUNITY,
    as_posted,
    block_actions,
    buttons,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    slash,
)

ADMIN = "U0ADMIN"
MEMBERS = 150
ASK_LENGTH = 500
# Slack user names are lowercase letters, digits, dots, dashes and underscores; a few are words
# Slack would broadcast to if the bot ever wrote them as a control sequence.
NAME_BASES = ("ana", "ben", "chloe", "dmitri", "eun-ji", "farah", "gao.wei", "hana_k", "here",
              "channel", "everyone", "ivo")
SCRIPTS = ("Привет, мир", "こんにちは世界", "مرحبا بالعالم", "שלום עולם", "你好，世界", "Γειά σου Κόσμε",
           "नमस्ते दुनिया", "안녕하세요 세계", "Xin chào thế giới", "สวัสดีชาวโลก", "Բարեւ աշխարհ",
           "Sawubona Mhlaba", "Ṫḧïṡ ïṡ ẅëïṙḋ", "ⒽⒺⓁⓁⓄ", "𝓯𝓪𝓷𝓬𝔂 𝓽𝓮𝔁𝓽")
EMOJI = ("🎉", "🔥", "👩‍💻", "🇩🇪", "💪🏽", ":tada:", ":white_check_mark:", "🙃", "❤️", "🧑‍🤝‍🧑")
# A live mention, broadcast or link in Slack mrkdwn: <!…>, <@…>, <#…>, <scheme:…>.
LIVE = re.compile(r"<[!@#]|<[A-Za-z][A-Za-z0-9+.-]*:")
BARE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")

SUNDAY = datetime(2026, 11, 29, tzinfo=UTC)  # the last day of the recap's week (23-29 Nov)
CHECKIN_AT = datetime(2026, 11, 30, 8, tzinfo=UTC)  # Monday 09:00 Berlin: check-in and recap


def uid(i: int) -> str:
    return f"U0M{i:03d}"


def uname(i: int) -> str:
    return f"{NAME_BASES[i % len(NAME_BASES)]}{i:03d}"


def marker(i: int) -> str:
    """Begins member ``i``'s private ask: found nowhere but where its owner reads."""
    return f"SECRET{i:03d}Q"


def hostile_fragments(i: int) -> list[str]:
    """Member ``i``'s hostile words, as Slack sends a typed line: control sequences for what
    Slack recognised, and the member's own ``&``, ``<``, ``>`` escaped."""
    other, third = (i * 7 + 3) % MEMBERS, (i * 11 + 5) % MEMBERS
    frags = [
        "@everyone", "@here", "@channel", "<!channel>", "<!here>", "<!everyone>", "<!here|here>",
        f"<@{uid(other)}>", f"<@{uid(third)}|{uname(third)}>", "<@U0ADMIN|admin>", "<@W0ENTERPRISE1>",
        "<!subteam^S123|@team>", "<!subteam^S0ABC>", "<#C0GENERAL|general>", "<#C0RANDOM>",
        "<https://evil.example|click>", "<https://evil.example/p?a=1&amp;b=2>",
        "<mailto:boss@evil.example|mail me>", "<tel:+15550100|call>",
        "&lt;!channel&gt;", "&lt;@U0ADMIN&gt;", "&lt;#C0GENERAL&gt;", "&lt;https://evil.example|x&gt;",
        "&lt;!here|@here&gt;", "&amp;lt;!everyone&amp;gt;",
        "*bold*", "_it_", "~st~", "`code`", "```pre```", "&gt; quote", "&gt;&gt;&gt; deep",
        "&amp;", "&amp;amp;", "&lt;", "&gt;", "a &lt; b &amp;&amp; c &gt; d", "R&amp;D",
        SCRIPTS[i % len(SCRIPTS)], SCRIPTS[(i * 5 + 1) % len(SCRIPTS)],
        EMOJI[i % len(EMOJI)], EMOJI[(i * 3 + 2) % len(EMOJI)],
        "\u202eevil\u202c", "zero\u200bwidth", "e\u0301te\u0301",
    ]
    start = (i * 13) % len(frags)
    return frags[start:] + frags[:start]


LOG_SPEC = get_command("rejected")
assert LOG_SPEC is not None


def ask_length(typed: str) -> int:
    """The length the core checks: Slack's text translated, then cleaned."""
    options = options_from_text(LOG_SPEC, typed)
    assert set(options) == {"ask"}, options  # nothing in it reads as an option
    return len(clean_text(str(options["ask"])))


def typed_ask(i: int, n: int, head: str | None = None) -> str:
    """Member ``i``'s ``n``-th ask as Slack sends it: exactly ASK_LENGTH characters once
    translated and cleaned, the longest the core takes."""
    parts = [head or f"ask{i:03d}n{n}"]
    frags = hostile_fragments(i + n)
    for frag in itertools.cycle(frags):
        if ask_length(" ".join([*parts, frag])) > ASK_LENGTH:
            break
        parts.append(frag)
    text = " ".join(parts)
    filler = itertools.cycle(SCRIPTS[(i + n) % len(SCRIPTS)].replace(" ", "") + "x")
    while (missing := ASK_LENGTH - ask_length(text)) > 0:
        text += ("" if missing == 1 else " ") + "".join(next(filler) for _ in range(max(1, missing - 1)))
    assert ask_length(text) == ASK_LENGTH, (i, n, ask_length(text))
    return text


def extras(i: int, *, lesson: bool = True) -> str:
    """Hostile values for the other options of a log (/pending takes no lesson)."""
    text = (f' fear:{i % 11} area:{("work", "money", "creative", "social", "learning", "other")[i % 6]}'
            f' who:"<@{uid((i + 1) % MEMBERS)}|{uname((i + 1) % MEMBERS)}> &amp; <!here>"')
    if lesson:
        text += (f' lesson:"<!channel> &lt;b&gt; *try* <https://evil.example|again> '
                 f'{SCRIPTS[i % len(SCRIPTS)]}"')
    return text


# ---------------------------------------------------------------------------- the workspace


@dataclass
class Workspace:
    http: Any
    adapter: Any
    fake: FakeSlack
    ids: Any
    acks: list[dict[str, Any]] = field(default_factory=list)
    celebrations: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    ts: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    async def run(self, user: str, name: str, command: str, text: str = "") -> dict[str, Any]:
        form = slash(self.fake, self.ids, command, text, user=user, name=name)
        ack = await reply_json(await post_signed(self.http, self.adapter, form))
        await self.adapter.idle()
        self.acks.append(ack)
        return ack

    async def member(self, i: int, command: str, text: str = "") -> dict[str, Any]:
        return await self.run(uid(i), uname(i), command, text)

    async def log(self, i: int, command: str, text: str) -> dict[str, Any]:
        ack = await self.member(i, command, text)
        if "private:true" in text:
            assert ack == {}, ack  # acked empty: Slack would echo the typed line beside an answer
        else:
            assert ack["response_type"] == "in_channel", ack
            self.celebrations.append((i, ack))
        return ack

    async def press(self, i: int, action_id: str, *, message: dict[str, Any] | None = None,
                    ephemeral: bool = False) -> list[dict[str, Any]]:
        payload = block_actions(self.fake, self.ids, action_id, user=uid(i), name=uname(i),
                                ephemeral=ephemeral, message=message)
        response = await post_interaction(self.http, self.adapter, payload)
        assert response.status == 200
        body = await response.text()
        assert body == "", body
        await self.adapter.idle()
        return self.fake.responses_to(payload["trigger_id"])

    def posted(self, ack: dict[str, Any]) -> dict[str, Any]:
        """An ack as Slack shows it once posted, with a ts of its own."""
        return as_posted(ack, ts=f"1700000000.{next(self.ts):06d}")


def label_of(payload: dict[str, Any], label: str) -> list[str]:
    return [b["action_id"] for b in buttons(payload) if b["text"]["text"] == label]


# ---------------------------------------------------------------------------- what was sent


def decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def strings(node: Any, kind: str = "other") -> Iterator[tuple[str, str]]:
    """Every string in a sent body, with what Slack reads it as: ``mrkdwn`` (a mrkdwn text
    object, or a message's ``text`` fallback, which Slack parses the same way), ``plain`` or
    ``other``."""
    node = decoded(node)
    if isinstance(node, dict):
        inner = {"mrkdwn": "mrkdwn", "plain_text": "plain"}.get(node.get("type"), None)
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield (inner or ("mrkdwn" if kind == "message" else "other")), value
            elif key == "initial_value" and node.get("type") == "plain_text_input":
                yield "input", value  # what a form's text field starts with: never parsed
            else:
                yield from strings(value, "message" if key in ("blocks", "message") else "other")
    elif isinstance(node, list):
        for item in node:
            yield from strings(item, kind)
    elif isinstance(node, str):
        yield kind, node


def everything_sent(ws: Workspace) -> list[tuple[str, Any]]:
    """(where, message body) for all the bot sent Slack."""
    fake = ws.fake
    out: list[tuple[str, Any]] = [(f"api:{c.method}", c.args) for c in fake.calls]
    out += [(f"response_url:{r.key}", r.payload) for r in fake.responses]
    out += [("ack", a) for a in ws.acks]
    return out


def text_problems(where: str, body: Any) -> list[str]:
    problems = []
    for kind, text in strings(body, "message"):  # a message body: its ``text`` is mrkdwn
        if kind == "input":
            continue  # a member's own words in their own form's field, shown as typed
        if LIVE.search(text):
            problems.append(f"{where}: a live mention or link in {kind} {text[:200]!r}")
        elif kind in ("mrkdwn", "plain") and ("<" in text or ">" in text):
            problems.append(f"{where}: an unescaped < or > in {kind} {text[:200]!r}")
        if kind == "mrkdwn" and BARE_AMPERSAND.search(text):
            problems.append(f"{where}: an unescaped & in mrkdwn {text[:200]!r}")
    return problems


# ---------------------------------------------------------------------------- the test


async def test_a_crowded_hostile_workspace_through_slack(http_adapter, fake, http, ids, repo, app,
                                                         clock):
    ws = Workspace(http, http_adapter, fake, ids)
    everyone = range(MEMBERS)
    private_owners = [i for i in everyone if i % 5 == 0 and i < 145]
    promisers = range(20)
    list_owners = range(5)  # members whose /asks overflows

    # -- the week: two public asks each, a private one for every fifth member --------------
    for i in everyone:
        clock.set(SUNDAY - timedelta(days=6 - i % 6, hours=-9, minutes=-(i % 50)))
        outcome = ("rejected", "accepted", "pending")[i % 3]
        await ws.log(i, outcome, typed_ask(i, 1) + extras(i, lesson=outcome != "pending"))
    for i in everyone:
        clock.set(SUNDAY + timedelta(hours=9, minutes=i % 60))
        await ws.log(i, "rejected" if i % 4 else "accepted", typed_ask(i, 2) + f" fear:{(i * 3) % 11}")
    for i in private_owners:
        clock.set(SUNDAY + timedelta(hours=11, minutes=i % 60))
        outcome = "pending" if i in list_owners else ("rejected", "accepted")[i % 2]
        await ws.log(i, outcome, typed_ask(i, 3, head=marker(i)) + " fear:10 private:true")
    # Full lists for /asks: pending asks and promises, half due today, half tomorrow.
    clock.set(SUNDAY + timedelta(hours=13))
    for i in promisers:
        zone = await ws.member(i, "timezone", "Europe/Berlin")
        assert zone["response_type"] == "ephemeral" and "Europe/Berlin" in section_texts(zone)
    for i in list_owners:
        for n in range(4, 8):
            await ws.log(i, "pending", typed_ask(i, n) + extras(i + n, lesson=False))
    for i in promisers:
        for n, when in ((8, "tomorrow"), (9, "today")):
            ack = await ws.member(i, "who-next", typed_ask(i, n) + f" when:{when}")
            assert ack["response_type"] == "in_channel" and "is going to ask" in section_texts(ack)

    # -- every command of the catalogue, by several members, with valid options ----------------
    clock.set(SUNDAY + timedelta(hours=18))
    ran: set[str] = set()

    async def cmd(i: int | None, command: str, text: str = "") -> dict[str, Any]:
        ran.add(command)
        if i is None:
            return await ws.run(ADMIN, "admin", command, text)
        return await ws.member(i, command, text)

    # /checkin: refused for a member, set, shown and previewed by the workspace's admin.
    refused = await cmd(7, "checkin", "show")
    assert refused["response_type"] == "ephemeral" and "for admins" in section_texts(refused)
    on = await cmd(None, "checkin", "set time:09:00 days:daily zone:Europe/Berlin "
                                    "channel:<#C0GENERAL|general> recap:monday")
    assert on["response_type"] == "in_channel" and "Check-ins are on!" in section_texts(on)
    shown = await cmd(None, "checkin", "show")
    assert shown["response_type"] == "ephemeral" and "this channel" in section_texts(shown)
    preview = await cmd(None, "checkin", "preview")
    assert preview["response_type"] == "ephemeral" and "Preview" in section_texts(preview)

    for i in (0, 3, 42, 149):
        helped = await cmd(i, "help")
        assert helped["response_type"] == "ephemeral"
        assert all(f"/{spec.name}" in section_texts(helped) for spec in CATALOGUE if spec.available)
    for period in ("week", "month", "all"):
        for by in ("attempts", "rejections"):
            board = await cmd((len(ran) * 17) % MEMBERS, "leaderboard", f"period:{period} by:{by}")
            assert board["response_type"] == "in_channel"
            assert section_texts(board).count(" · ") >= 10, board  # ten members named
    for i, text in ((8, ""), (9, f"<@{uid(30)}|{uname(30)}>"), (10, f"member:<@{uid(0)}|{uname(0)}>"),
                    (11, f"@{uname(42)}")):
        stats = await cmd(i, "stats", text)
        assert stats["response_type"] == "in_channel", stats
        assert "asking so far" in section_texts(stats)
    for i, text in ((12, "100 by:2027-06-30"), (13, ""), (14, "5"), (14, "off")):
        await cmd(i, "goal", text)
    for i, zone in ((15, "Asia/Tokyo"), (16, "America/New_York")):
        await cmd(i, "timezone", zone)
    for i, state in ((17, "off"), (18, "off"), (18, "on")):
        assert "Reminders" in section_texts(await cmd(i, "reminders", state))
    # A command that needs input, sent bare, opens its form (views.open; nothing posted).
    assert await cmd(19, "rejected") == {}
    assert len(fake.calls_to("views.open")) == 1

    # /undo: member 25's last entry is their private ask; only they read it back.
    undone = await cmd(25, "undo")
    assert undone["response_type"] == "ephemeral" and marker(25) in section_texts(undone)
    await cmd(21, "undo")  # a public one

    # /asks: many open items, five listed, then the buttons.
    for i in list_owners:
        listed = await cmd(i, "asks")
        assert listed["response_type"] == "ephemeral"
        assert "Your open asks" in section_texts(listed) and " of " in section_texts(listed)
        assert "More ›" in [b["text"]["text"] for b in buttons(listed)], listed
    owner = 0
    listed = await cmd(owner, "asks")  # promises first, then pending asks
    waiting = label_of(listed, "Still waiting")
    skip = label_of(listed, "Didn't ask")
    kept = label_of(listed, "Accepted")
    [answer] = await ws.press(owner, skip[0], ephemeral=True)
    assert answer.get("replace_original") is True
    [answer] = await ws.press(owner, kept[1], ephemeral=True)  # a kept promise: celebrated
    assert answer["response_type"] == "in_channel" and "got a yes" in section_texts(answer)
    [answer] = await ws.press(owner, waiting[-1], ephemeral=True)
    assert answer["response_type"] == "ephemeral"
    # The private pending ask is in its owner's list (or comes up as others are sorted out)...
    for _ in range(3):
        listed = await cmd(owner, "asks")
        if marker(owner) in section_texts(listed):
            break
        [answer] = await ws.press(owner, label_of(listed, "Rejected")[0], ephemeral=True)
    assert marker(owner) in section_texts(listed), listed
    # ...and resolving it tells the owner alone.
    secret_row = next(b for b in listed["blocks"] if marker(owner) in json.dumps(b))
    index = listed["blocks"].index(secret_row)
    [secret_no] = [e["action_id"] for e in listed["blocks"][index + 1]["elements"]
                   if e["text"]["text"] == "Rejected"]
    # Another member replaying its button is turned away, without the text.
    [answer] = await ws.press(1, secret_no, ephemeral=True)
    assert answer["response_type"] == "ephemeral" and "Only the person" in answer["text"]
    [answer] = await ws.press(owner, secret_no, ephemeral=True)
    assert answer["replace_original"] is True and marker(owner) in section_texts(answer)

    # Cheers: other members cheer public celebrations, and a private ask's posted one.
    for n, (i, ack) in enumerate(ws.celebrations[:12]):
        cheerer = (i + 1 + n) % MEMBERS
        [answer] = await ws.press(cheerer, label_of(ack, "Cheer")[0], message=ws.posted(ack))
        assert "cheer" in answer["text"]
    first_post = fake.calls_to("chat.postMessage")[0]  # the first private ask's celebration
    private_post = next(s for s in fake.channel_view(CHANNEL)
                        if s.author == fake.bot_user_id and s.fallback == first_post.args["text"])
    message = as_posted({"text": private_post.fallback, "blocks": list(private_post.blocks)},
                        ts=private_post.ts)
    [answer] = await ws.press(1, label_of(message, "Cheer")[0], message=message)
    assert "1 cheer" in answer["text"]

    # /export: the owner's own data, private asks included, as a file in their DM.
    uploads_before = set(fake.uploads)
    exported = await cmd(5, "export")
    assert exported["response_type"] == "ephemeral"
    [csv_id] = set(fake.uploads) - uploads_before
    rows = list(csv.DictReader(io.StringIO(fake.uploads[csv_id].decode("utf-8"))))
    assert any(r["ask"].startswith(marker(5)) and r["private"] == "yes" for r in rows)
    assert all(len(r["ask"]) == ASK_LENGTH for r in rows if r["type"] == "attempt")
    assert (await cmd(6, "export"))["response_type"] == "ephemeral"

    # The newer commands answer privately in a crowd too, pinging no one.
    for text_of in (await cmd(7, "pause", 'until:in 3 days reason:"<!channel> a break"'),
                    await cmd(8, "dare", "area:social"), await cmd(9, "season", "history"),
                    await cmd(10, "remind", "time:18:00 days:weekdays")):
        assert text_of["response_type"] == "ephemeral" and "<!" not in text_of["text"], text_of

    # /edit: a fresh ask, the private list, its Edit button opening the form filled in, a
    # typed change in hostile words; another made private. The outbox takes both to their
    # celebrations (chat.update), and the private one's words leave the channel.
    clock.set(SUNDAY + timedelta(hours=19))
    edited_before = len(fake.calls_to("chat.update"))
    await ws.log(41, "rejected", typed_ask(41, 11))
    listed = await cmd(41, "edit")
    assert listed["response_type"] == "ephemeral" and "ask041n11" in section_texts(listed)
    assert await ws.press(41, label_of(listed, "Edit")[0], ephemeral=True) == []  # the form
    [opened] = fake.calls_to("views.open")[1:]
    fields = {b["block_id"]: b["element"] for b in opened.args["view"]["blocks"]}
    attempts, _, _ = await repo.export_rows(COMMUNITY, MemberRef(Platform.SLACK, uid(41)))
    latest = max(attempts, key=lambda a: a.id)
    assert fields["ask"]["initial_value"] == latest.ask  # as stored: plain text, never parsed
    assert fields["outcome"]["initial_option"]["value"] == "no"
    changed = await cmd(41, "edit", typed_ask(41, 12) + " outcome:yes")
    assert changed["response_type"] == "ephemeral" and "Updated" in section_texts(changed)
    assert "<!" not in changed["text"], changed
    await ws.log(43, "accepted", typed_ask(43, 11))
    hidden = await cmd(43, "edit", "private:true")
    assert hidden["response_type"] == "ephemeral" and "to hide the text" in section_texts(hidden)
    refused = await cmd(44, "edit", "entry:abc")
    assert refused["response_type"] == "ephemeral" and "Say which entry" in refused["text"]
    report = await Scheduler(repo, app, {Platform.SLACK: http_adapter.poster}, clock).drain()
    assert (report.posted, report.failed) == (2, 0), report
    assert len(fake.calls_to("chat.update")) == edited_before + 2
    # (What the bot posted: Slack's echo of a typed command line is the member's, not the bot's
    # to change.)
    public = "\n".join(s.text + json.dumps(s.blocks, ensure_ascii=False) + (s.fallback or "")
                       for s in fake.channel_view(CHANNEL) if s.kind == "message")
    assert "ask041n12" in public and "ask041n11" not in public
    assert "ask043n11" not in public

    # /forget-me, confirmed by its button, for a member with nothing private.
    forget = await cmd(149, "forget-me")
    [answer] = await ws.press(149, label_of(forget, "Yes, forget me")[0], ephemeral=True)
    assert answer["replace_original"] is True and "gone" in section_texts(answer)

    # The day's last ask is a private one: the check-in's highlights must skip it.
    clock.set(SUNDAY + timedelta(hours=20))
    await ws.log(35, "rejected", typed_ask(35, 10, head=marker(35)) + " private:true")

    assert ran | {"rejected", "accepted", "pending", "who-next", "timezone"} >= {
        spec.name for spec in CATALOGUE}, "a command of the catalogue was never run"

    # -- Monday 09:00 Berlin: the check-in and the recap, through the adapter's Poster --------
    clock.set(CHECKIN_AT - timedelta(minutes=30))
    preview = await cmd(None, "checkin", "preview")  # Monday: the recap is previewed too
    assert "Weekly recap" in section_texts(preview)
    posts_before = len(fake.calls_to("chat.postMessage"))
    sched = Scheduler(repo, app, {Platform.SLACK: http_adapter.poster}, clock)  # Slack: no pacing
    clock.set(CHECKIN_AT)
    report = await sched.run_due(CHECKIN_AT)
    await http_adapter.idle()
    assert (report.posted, report.failed) == (2, 0), report
    channel_posts = [c for c in fake.calls_to("chat.postMessage")[posts_before:]
                     if c.args["channel"] == CHANNEL]
    # Promises due yesterday got their follow-up DMs.
    dms = [c for c in fake.calls_to("chat.postMessage")[posts_before:] if c.args["channel"] != CHANNEL]
    assert dms and all(c.args["channel"].startswith("D0M") for c in dms)

    # -- the checks ----------------------------------------------------------------------------
    assert fake.pop_refusals() == []
    views = Views.of(fake)
    check_nothing_live(ws, views)
    check_private(ws, views, private_owners)
    checkin, recap = channel_posts
    check_checkin(checkin.blocks(), checkin.args["text"])
    check_recap(recap.blocks())
    assert [c.args["filename"] for c in fake.calls_to("files.getUploadURLExternal")][-1] == \
        "whosnext-week-2026-11-23.png"
    assert fake.calls_to("files.completeUploadExternal")[-1].args["channel_id"] == CHANNEL


def check_checkin(blocks: list[dict[str, Any]], fallback: str) -> None:
    assert blocks[0]["text"]["text"] == "Check-in · Monday 30 Nov"
    assert len(blocks) <= 50
    texts = [section_texts({"blocks": [b]}) for b in blocks]
    assert all(len(t) <= 3000 for t in texts)
    [logged] = [t for t in texts if t.startswith("Logged by ")]
    assert len(re.findall(r"@[a-z._-]+\d{3} \(\d+\)", logged)) == 15, logged
    assert re.search(r"and 1\d\d more\.$", logged), logged
    assert sum(t.startswith("• @") for t in texts) >= 3  # highlights and milestones name members
    assert any("private asks, counted with thanks" in t for t in texts)
    assert any(t.startswith("*Promised for today:* @") for t in texts)
    assert any(t.startswith("*Promises still open:* @") for t in texts)
    # It ends with its invitation, whatever the size of what came before.
    assert blocks[-2]["type"] == "section"
    assert blocks[-2]["text"]["text"] in {escape(line) for line in prompts.CHECKIN_INVITES}
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"] == escape(prompts.CHECKIN_HOW_TO)
    # So does its text (the notification, what screen readers read): long lines are shortened,
    # the last ones are not cut off.
    lines = fallback.splitlines()
    assert len(fallback) <= 3000
    assert lines[0] == "Check-in · Monday 30 Nov"
    assert lines[-2:] == [blocks[-2]["text"]["text"], escape(prompts.CHECKIN_HOW_TO)], lines[-3:]
    assert any(line.startswith("Logged by @") for line in lines)


def check_recap(blocks: list[dict[str, Any]]) -> None:
    assert blocks[0]["text"]["text"] == "Weekly recap · test · 23–29 Nov"  # the workspace domain
    assert len(blocks) <= 50
    text = section_texts({"blocks": blocks})
    [board] = [b["text"]["text"] for b in blocks if b.get("text", {}).get("text", "").startswith(
        "*Leaderboard*")]
    assert len(re.findall(r"^\d+\. @[a-z._-]+\d{3} · \d+$", board, re.M)) == 10, board
    assert "*Bravest ask:* @" in text and "(fear 10/10)" in text
    assert blocks[-1]["text"]["text"] in {escape(line) for line in prompts.CHECKIN_INVITES}


def check_nothing_live(ws: Workspace, views: Views) -> None:
    sent = everything_sent(ws)
    assert len(ws.acks) > 2 * MEMBERS  # the stress happened
    problems = [p for where, body in sent for p in text_problems(where, body)]
    assert not problems, "\n".join(problems[:20])
    for call in ws.fake.calls:
        assert call.args.get("parse") in (None, "none"), call.args
        assert call.args.get("link_names") in (None, False, "0", "false"), call.args
    # And what members read from the bot, in the channel model.
    bot = [s for s in views.everything() if s.author == ws.fake.bot_user_id]
    assert len(bot) > 2 * MEMBERS
    live = [s.text[:300] for s in bot if LIVE.search(s.text)]
    assert not live, live[:5]


READERS = [uid(i) for i in range(MEMBERS)] + [ADMIN]


@dataclass
class Views:
    """What the channel model shows: the channel to each reader; each DM (the bot and one
    member) as it is."""

    channel: dict[str, list[Seen]]
    dms: dict[str, list[Seen]]

    @classmethod
    def of(cls, fake: FakeSlack) -> Views:
        dm_ids = {str(c.args.get("channel") or c.args.get("channel_id") or "") for c in fake.calls}
        dm_ids = {d for d in dm_ids if d.startswith("D")}
        return cls({reader: fake.seen_by(reader, CHANNEL) for reader in READERS},
                   {dm: fake.channel_view(dm) for dm in sorted(dm_ids)})

    def everything(self) -> list[Seen]:
        unique = {(s.channel, s.ts): s for seen in self.channel.values() for s in seen}
        unique.update({(s.channel, s.ts): s for seen in self.dms.values() for s in seen})
        return list(unique.values())


def shown(seen: list[Seen]) -> str:
    return "\n".join(s.text + json.dumps(s.blocks, ensure_ascii=False) for s in seen)


def check_private(ws: Workspace, views: Views, owners: list[int]) -> None:
    fake = ws.fake
    secrets = {uid(i): marker(i) for i in owners}
    # Not in the channel everyone reads (nor the echo of a typed command line), not in any post
    # or update, not in any in-channel answer.
    public = shown(fake.channel_view(CHANNEL))
    assert not [m for m in secrets.values() if m in public]
    for call in fake.calls_to("chat.postMessage") + fake.calls_to("chat.update"):
        assert not any(m in json.dumps(call.args, ensure_ascii=False) for m in secrets.values())
    answers = [a for a in ws.acks if a.get("response_type") == "in_channel"]
    answers += [r.payload for r in fake.responses if r.payload.get("response_type") == "in_channel"]
    assert not any(m in json.dumps(a, ensure_ascii=False) for a in answers for m in secrets.values())
    # What each member reads, in the channel and in a DM, holds no one else's private ask.
    seen_own = set()
    for reader, seen in views.channel.items():
        text = shown(seen)
        for owner, secret in secrets.items():
            if secret in text:
                assert owner == reader, f"{reader} can read {owner}'s private ask"
                seen_own.add(owner)
    for dm, seen in views.dms.items():
        text = shown(seen)
        assert not [o for o, m in secrets.items() if m in text and o != "U" + dm[1:]], dm
    # Its owner can: member 0 in /asks and the button's answer, member 25 in /undo.
    assert {uid(0), uid(25)} <= seen_own


# ---------------------------------------------------------------------------- cutting to size


def test_a_cut_never_splits_an_escaped_character():
    """Text too long for its block is cut, after escaping: never inside ``&amp;``, ``&lt;``,
    ``&gt;``, which would leave a bare ``&`` (Slack shows ``&am…``)."""
    for shift in range(5):
        nasty = "x" * shift + "&<>" * 1500
        message = render(Reply((Heading("Check-in"), Text.of("Ask: ", Strong(nasty)),
                                Context.of(nasty), Fields(((nasty, nasty),)))))
        section, context, fields = message.blocks[1:]
        cut = [section["text"]["text"], context["elements"][0]["text"], fields["fields"][0]["text"],
               message.text]
        assert all(len(t) <= limit for t, limit in zip(cut, (MAX_SECTION, MAX_SECTION, MAX_FIELD,
                                                         MAX_FALLBACK), strict=True))
        assert all(t.endswith("…") for t in cut)
        assert not [t[-8:] for t in cut if BARE_AMPERSAND.search(t)]


def test_a_long_text_fallback_keeps_its_last_lines():
    """The ``text`` of a message too long for it: the longest lines are shortened, every line
    keeps its start, and the last ones (an invitation, a hint) are still there."""
    ana = MemberRef(Platform.SLACK, "U0ANA")
    long_lines = [Text.of("• ", Mention(ana, "ana"), " got a no: ", Strong(f"{n} " + "ask " * 300))
                  for n in range(6)]
    message = render(Reply((Heading("Check-in"), *long_lines, Text.of("Who's next?"),
                            Context.of("Log an ask with /rejected."))))
    lines = message.text.splitlines()
    assert len(message.text) <= MAX_FALLBACK
    assert lines[0] == "Check-in" and lines[-2:] == ["Who's next?", "Log an ask with /rejected."]
    assert len(lines) == 9
    for n, line in enumerate(lines[1:-2]):
        assert line.startswith(f"• @ana got a no: {n} ask ask") and line.endswith("…"), line
    short = render(Reply((Text.of("one"), Text.of("two"))))
    assert short.text == "one\ntwo"
