"""A crowd through the real Discord adapter and the strict fake: 150 members, every ask 500
characters of hostile text (mass pings, user/role/channel markup, every kind of Markdown, masked
and bare links, emoji, scripts from Cyrillic to Thai), every command of the catalogue run by
several of them, buttons pressed, then the daily check-in and the weekly recap posted at that
size through the adapter's Poster (fake clock).

What must hold, checked on the raw bodies the fake recorded (read the way Discord's Markdown
reads them, see ``read_as_discord``):
- Discord refused nothing;
- every message allows no mention at all, and no member text reaches Discord unescaped (no
  ``@everyone``/``@here``, no ``<@``/``<@&``/``<#`` markup, no masked link, no formatting, and
  the bot's own bold never left open);
- private asks are seen by no one but their member;
- the check-in and the recap name many members, keep to Discord's limits, and still end with
  their invitation.
Both tests play the same story (``play``, a few seconds): the first checks the first three,
the second the last.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.discord.translate import plain_mentions
from bot import prompts
from bot.commands import AREAS, CATALOGUE, clean_text
from bot.ids import CommunityRef, MemberRef, Platform
from bot.scheduler import Scheduler
from tests.discord.helpers import FileKeepingDiscord, buttons, shown
from tests.fakes import discord_rules as rules
from tests.fakes.discord import BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord

EPHEMERAL, LOADING = 64, 128
N = 150
BASE_ID = 1510000000000000000
ADMIN_ID = 1519999999999999999
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
BATCH = 10  # interactions in flight at once: each still has Discord's 3 seconds


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the crowd ------------------------------------------------------------------------------

SCRIPTS = (
    "Привет, мир — просьба о скидке", "مرحبا بالعالم، طلبت زيادة", "שלום עולם, ביקשתי הנחה",
    "你好世界，我请求加薪", "こんにちは世界、値引きをお願いした", "안녕하세요 세계, 할인을 요청했어요",
    "नमस्ते दुनिया, छूट माँगी", "สวัสดีชาวโลก ขอส่วนลด", "Γειά σου κόσμε, ζήτησα αύξηση",
    "Ça va? J'ai demandé une remise à l'œil", "Zażółć gęślą jaźń", "ሰላም ልዑል", "Բարեւ աշխարհ",
)
EMOJI = ("🔥🎉👀", "🙏🏽💪🏿", "👩‍💻🧑‍🚀", "🇩🇪🇯🇵", "✨️❤️‍🔥", "🫠🫡", "🤌🏻")
NAMES = ("Ана", "李雷", "José", "Ørjan", "Zoë", "محمد", "יעל", "さくら", "민준", "Παύλος",
         "अनु", "สมชาย", "**bold**", "__under__", "~~gone~~", "||hush||", "`tick`", "#1 fan")


@dataclass
class Member:
    index: int
    id: int
    name: str
    private: bool  # logs a private ask (whose text holds ``secret``)

    @property
    def secret(self) -> str:
        return f"SECRET{self.index:03d}X"

    @property
    def ref(self) -> MemberRef:
        return MemberRef(Platform.DISCORD, str(self.id))


def hostile(m: int, k: int, *, secret: str = "") -> str:
    """Member ``m``'s ``k``-th ask: exactly 500 characters, different for every member and ask,
    starting with a marker (after a Markdown line prefix for some) and full of hostile content."""
    other = BASE_ID + (m * 7 + k) % N
    prefix = ("# ", "> ", "-# ", "1. ", "- ", ">>> ", "### ", "")[(m + k) % 8]
    pieces = [
        f"@everyone @here <!channel> <!here> @everyone{m}",
        f"<@{other}> <@!{other}> <@&{1600000000000000000 + m}> <#{1300000000000000000 + m}>",
        f"**bold{m}** __under{m}__ ~~strike{m}~~ ||spoiler{m}|| *it{m}* _it{m}_ ***both{m}***",
        f"[masked{m}](https://evil.example/{m}) [x](<https://evil.example/a{m}>)",
        f"`code{m}` ``dbl{m}`` ```block{m}```",
        f"https://evil.example/p{m}?q=a_b*c~d|e http://x.example/@everyone",
        SCRIPTS[(m + k) % len(SCRIPTS)],
        EMOJI[(m * 3 + k) % len(EMOJI)] + f" <:wave:{1700000000000000000 + m}> <a:spin:17>",
        f"\\*esc{m}\\* \\\\ <t:1700000000:R> :smile: 12. ok. a+b=c #tag{m} -not-a-list",
        f"# heading{m} > quote{m} -# small{m}",
        # Links that hold Markdown: bold markers and a masked link, inside bare links.
        f"https://x.example/{m}/**[Free Nitro{m} https://a.example/{m}](https://evil.example/{m})x",
    ]
    start = (m * 3 + k) % len(pieces)
    order = pieces[start:] + pieces[:start]
    text = f"{prefix}ASK{m:03d}-{k} {secret} "
    i = 0
    while len(text) < 500:
        text += order[i % len(order)] + " "
        i += 1
    return text[:500]


def expected_text(raw: str) -> str:
    """What the core stores of a typed ask: markup as names, white space folded."""
    return clean_text(plain_mentions(raw, {}))


def crowd() -> list[Member]:
    out = []
    for i in range(N):
        name = f"{NAMES[i % len(NAMES)]}{i}"
        out.append(Member(i, BASE_ID + i, name, private=i % 10 == 3))
    return out


# -- the fake, and driving it ---------------------------------------------------------------

@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FileKeepingDiscord()
    await server.start()
    yield server
    await server.close()


@dataclass
class Job:
    name: str
    options: dict[str, Any] | None
    member: Member | None  # None: the admin
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Done:
    job: Job
    payload: dict
    message: dict  # the answer, as Discord stores it

    @property
    def private(self) -> bool:
        return bool(self.message["flags"] & EPHEMERAL)

    @property
    def text(self) -> str:
        """The answer as a member reads it (escapes shown as their characters)."""
        return shown("\n".join(texts_of(self.message)))


def texts_of(message: dict) -> list[str]:
    out = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        out += [embed.get("title") or "", embed.get("description") or ""]
        out += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
    return [t for t in out if t]


def answers_to(fake: FakeDiscord, payload: dict) -> list[dict]:
    return [m for m in fake.messages.values()
            if (m.get("interaction_metadata") or {}).get("id") == payload["id"]
            and not m["flags"] & LOADING]


async def settle(fake: FakeDiscord, payload: dict) -> dict:
    """The bot's answer to one interaction, once it is there (answered at once, or deferred
    and then edited or followed up)."""
    found = await fake.wait_until(lambda: answers_to(fake, payload), timeout=15)
    return found[-1]


async def run_all(fake: FakeDiscord, jobs: list[Job]) -> list[Done]:
    """Every job, ``BATCH`` at a time; each interaction is built just before it is pushed, so
    Discord's 3 seconds run from then."""
    done: list[Done] = []
    for start in range(0, len(jobs), BATCH):
        batch = jobs[start:start + BATCH]
        payloads = []
        for job in batch:
            who = job.member
            payload = fake.command(
                job.name, job.options, user_id=who.id if who else ADMIN_ID,
                user_name=who.name if who else "admin", admin=who is None, **job.extra)
            payloads.append(payload)
            await fake.push(payload)
        messages = await asyncio.gather(*(settle(fake, p) for p in payloads))
        done += [Done(j, p, m) for j, p, m in zip(batch, payloads, messages, strict=True)]
    return done


async def press(fake: FakeDiscord, member: Member, message: dict, custom_id: str) -> None:
    """Press a button and wait for everything the bot answers with."""
    payload = fake.press(message, custom_id, user_id=member.id, user_name=member.name)
    await fake.push(payload)
    [call] = await fake.wait_for("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
    data = call.json.get("data") or {}
    if call.json["type"] == 7 and (data.get("content") or data.get("embeds")):
        return  # the pressed message itself became the answer
    token = re.escape(payload["token"])
    if call.json["type"] == 6:  # deferred: an edit of the pressed message, or a followup
        await fake.wait_until(lambda: fake.find("PATCH", rf"/webhooks/{BOT_ID}/{token}/.*")
                              or fake.find("POST", rf"/webhooks/{BOT_ID}/{token}"))
    else:
        await fake.wait_until(lambda: answers_to(fake, payload))


# -- what the raw bodies may hold -----------------------------------------------------------

# Discord's own autolink: a bare link (which the bot leaves whole so it still works).
AUTOLINK = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
ESCAPED = re.compile(r"\\[^0-9A-Za-z\s]")
MENTION_CHIP = re.compile(r"<@(\d+)>")
STRONG = re.compile(r"\*\*((?:\\[\s\S]|[^\\])+?)\*\*(?!\*)")  # simple-markdown's bold


@dataclass
class Sent:
    """One message body the bot sent, with where it went."""

    call: Any
    body: dict

    @property
    def ephemeral(self) -> bool:
        return bool((self.body.get("flags") or 0) & EPHEMERAL)


def bodies(fake: FakeDiscord) -> list[Sent]:
    app = str(BOT_ID)
    out = []
    for call in fake.calls:
        if not isinstance(call.json, dict):
            continue
        if call.method == "POST" and re.fullmatch(r"/interactions/\d+/[^/]+/callback", call.path):
            if call.json.get("type") in (4, 5, 7) and call.json.get("data") is not None:
                out.append(Sent(call, call.json["data"]))
        elif (re.fullmatch(rf"/webhooks/{app}/[^/]+(/messages/[^/]+)?", call.path)
              or re.fullmatch(r"/channels/\d+/messages(/\d+)?", call.path)) \
                and call.method in ("POST", "PATCH"):
            out.append(Sent(call, call.json))
    return out


def markdown_texts(body: dict) -> list[str]:
    """The parts of a body Discord renders as Markdown with mentions and links."""
    out = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        out.append(embed.get("description") or "")
        for item in embed.get("fields") or []:
            out += [item.get("name") or "", item.get("value") or ""]
    return [t for t in out if t]


def read_as_discord(text: str) -> tuple[str, list[str]]:
    """``text`` read left to right the way Discord's Markdown (simple-markdown) does, for what
    matters here: a ``**`` opens bold up to the next unescaped ``**`` (found in the raw text,
    links or not, before what is inside is read), a bare link is taken whole, a backslash
    escape shows one character, a mention chip is a member. Bold, links, escapes and chips are
    set aside; returns what is left, read as Markdown, and the ids mentioned. A ``)``, ``]`` or
    ``.`` right after a link is set aside too: it ends no link (see ``AUTOLINK``) and can close
    nothing, every ``[`` and ``(`` being escaped."""
    out: list[str] = []
    mentioned: list[str] = []
    i = 0
    while i < len(text):
        if bold := STRONG.match(text, i):
            inner, ids = read_as_discord(bold.group(1))
            out.append(f" {inner} ")
            mentioned += ids
            i = bold.end()
        elif link := AUTOLINK.match(text, i):
            i = link.end()
            while i < len(text) and text[i] in ").]":
                i += 1
            out.append(" ")
        elif ESCAPED.match(text, i):
            i += 2
            out.append(" ")
        elif chip := MENTION_CHIP.match(text, i):
            mentioned.append(chip.group(1))
            i = chip.end()
            out.append(" ")
        else:
            out.append(text[i])
            i += 1
    return "".join(out), mentioned


def leftover_markup(text: str, members: set[str]) -> list[str]:
    """Markdown and markup in ``text`` that the bot's own structure doesn't explain. The bot
    writes only mention chips of members, ``**bold**``, ``*small print*`` and, in a private
    text, ``-# `` small-print lines; whatever else Markdown reads came from member text."""
    left, mentioned = read_as_discord(text)
    problems = [f"a mention of {ident}, who is no member" for ident in mentioned
                if ident not in members]
    rest = re.sub(r"(?m)^-# ", "", left)
    for char in "`_~|[]()<>#":
        if char in rest:
            at = rest.index(char)
            problems.append(f"an unescaped {char!r} in …{rest[max(0, at - 30):at + 30]}…")
    for line in rest.split("\n"):
        if re.match(r"\s*(?:[-+]\s|\d+\.\s|>)", line):
            problems.append(f"a line Discord reads as a list or quote: {line[:60]!r}")
    # The bot's bold and italics come in pairs: one left open (a cut, say) would run on into
    # whatever follows.
    if "**" in rest or rest.count("*") % 2:
        problems.append(f"bold or italics left open in …{text[-80:]!r}")
    return problems


# Member formatting as it would stand in a body had it not been escaped (not after a
# backslash): the asks hold these, each with its member's number.
MEMBER_FORMATTING = re.compile("|".join(rf"(?<!\\){mark}(?![0-9])" for mark in (
    r"\*\*bold\d+\*\*", r"__under\d+__", r"~~strike\d+~~", r"\|\|spoiler\d+\|\|", r"\*it\d+\*",
    r"_it\d+_", r"`code\d+`", r"\[masked\d+\]\(",
    r"# heading\d+", r"<#13\d{17}>", r"<@&16\d{17}>", r"<@!15\d{17}>", r"@everyone\d+",
    r"\\\*esc\d+\\\*")))


# -- the test --------------------------------------------------------------------------------

CHECKIN = {"action": "set", "time": "09:00", "days": "daily", "zone": "Europe/Berlin",
           "channel": CHANNEL_ID, "recap": "monday"}
ZONES = ("Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Europe/Berlin", "Pacific/Auckland",
         "America/Sao_Paulo")
WHENS = ("tomorrow", "today", "friday", "in 3 days", "2027-01-31")


@dataclass
class Played:
    members: list[Member]
    heavy: Member  # the one with many open items
    secretive: Member  # a private one who also ran /asks
    forgetter: Member  # gone by the check-in (/forget-me)
    checkin: Any  # the check-in's and the recap's calls
    recap: Any

    @property
    def ids(self) -> set[str]:
        return {str(m.id) for m in self.members}

    @property
    def private_ones(self) -> list[Member]:
        return [m for m in self.members if m.private]


async def play(bot, fake: FileKeepingDiscord, repo, app, clock) -> Played:
    """The whole story, up to Monday's check-in and recap, checking each answer on the way."""
    members = crowd()
    private_ones = [m for m in members if m.private]
    catalogue_seen: set[str] = set()

    def track(done: list[Done]) -> list[Done]:
        catalogue_seen.update(d.job.name for d in done)
        return done

    # Sunday 22 Nov: an admin turns on check-ins (09:00 Berlin, recap on Mondays).
    clock.set(utc(2026, 11, 22, 12))
    [setup] = track(await run_all(fake, [Job("checkin", CHECKIN, None)]))
    assert "Check-ins are on!" in setup.text, setup.text
    # Off and on again; a member may not.
    [off] = track(await run_all(fake, [Job("checkin", {"action": "off"}, None)]))
    [again] = track(await run_all(fake, [Job("checkin", CHECKIN, None)]))
    assert "Check-ins are off" in off.text and "Check-ins are on!" in again.text
    [refused] = track(await run_all(fake, [Job("checkin", {"action": "show"}, members[0])]))
    assert refused.private and "admins" in refused.text

    # Some members set their zone first (their promises fall due at their midnight).
    zoned = track(await run_all(fake, [Job("timezone", {"zone": ZONES[i % len(ZONES)]},
                                           members[i]) for i in range(0, N, 25)]))
    assert all(d.private and "Your time zone is now" in d.text for d in zoned)

    # During the week: one ask each (varied outcome, fear, area, who, lesson).
    clock.set(utc(2026, 11, 25, 10))
    outcomes = ("rejected", "accepted", "pending")
    week_jobs = []
    for m in members:
        options: dict[str, Any] = {"ask": hostile(m.index, 0), "area": AREAS[m.index % 6],
                                   "fear": m.index % 11, "who": hostile(m.index, 9)[:100]}
        outcome = outcomes[m.index % 3]
        if outcome != "pending":
            options["lesson"] = hostile(m.index, 8)
        week_jobs.append(Job(outcome, options, m))
    week = track(await run_all(fake, week_jobs))

    # Sunday 29 Nov (yesterday, for Monday's check-in): another ask each, the private ones.
    clock.set(utc(2026, 11, 29, 12))
    sunday_jobs = []
    for m in members:
        if m.private:
            sunday_jobs.append(Job("rejected", {"ask": hostile(m.index, 1, secret=m.secret),
                                                "fear": 10, "private": True}, m))
        else:
            fear = 10 if m.index % 17 == 0 else 3
            sunday_jobs.append(Job(outcomes[(m.index + 1) % 3],
                                   {"ask": hostile(m.index, 1), "fear": fear}, m))
    sunday = track(await run_all(fake, sunday_jobs))
    # The week's board, that Sunday: the crowd is on it.
    [board] = track(await run_all(fake, [Job("leaderboard", {"period": "week"}, members[30])]))
    assert len(set(MENTION_CHIP.findall(board.message["embeds"][0]["description"]))) >= 10

    # Every log is celebrated in public, with the member's text shown exactly as typed (but
    # never as Markdown or a ping), and never the text of a private one.
    for d in week + sunday:
        assert not d.private, d.text
        text = d.text
        if d.job.options.get("private"):
            assert "on a private ask" in text and d.job.member.secret not in str(d.message)
        else:
            assert f"**{expected_text(d.job.options['ask'])}**" in text, text

    # Promises: two thirds of the crowd, due on all sorts of days (and open promises pile up).
    promise_jobs = [Job("who-next", {"ask": hostile(m.index, 2), "when": WHENS[m.index % 5]}, m)
                    for m in members if m.index % 3 != 2]
    promises = track(await run_all(fake, promise_jobs))
    assert all(not d.private and "is going to ask" in d.text for d in promises)

    # One member piles up open items: /asks with many pending entries and promises.
    heavy, secretive = members[1], private_ones[0]
    pile = [Job("pending", {"ask": hostile(heavy.index, 10 + k)}, heavy) for k in range(12)]
    pile += [Job("who-next", {"ask": hostile(heavy.index, 30 + k), "when": "friday"}, heavy)
             for k in range(3)]
    pile.append(Job("pending", {"ask": hostile(secretive.index, 40, secret=secretive.secret),
                                "private": True}, secretive))
    for job in pile:  # one member's entries, in order
        track(await run_all(fake, [job]))

    # /undo: a throwaway ask logged, then taken back.
    undoers = members[40:45]
    throwaways = track(await run_all(fake, [
        Job("rejected", {"ask": f"THROWAWAY{m.index} " + hostile(m.index, 50)[:400]}, m)
        for m in undoers]))
    assert all(not d.private for d in throwaways)
    undone = track(await run_all(fake, [Job("undo", None, m) for m in undoers]))
    assert all(d.private and "Removed your last no" in d.text for d in undone)

    # Monday 30 Nov, 07:00 UTC (08:00 Berlin): the rest of the catalogue, by several members.
    clock.set(utc(2026, 11, 30, 7))
    several = members[5:11]
    jobs: list[Job] = [Job("asks", None, heavy), Job("asks", None, secretive)]
    jobs += [Job("asks", None, m) for m in several]
    jobs += [Job("leaderboard", {"period": p, "by": b}, members[(i * 13) % N])
             for i, (p, b) in enumerate((p, b) for p in ("week", "month", "all")
                                        for b in ("attempts", "rejections"))]
    jobs += [Job("leaderboard", None, members[77])]
    jobs += [Job("stats", None, m) for m in several[:3]]
    jobs += [Job("stats", {"member": target.id}, m, {"resolved_users": {target.id: target.name}})
             for m, target in zip(several, (members[12], members[13], secretive, heavy,
                                            members[16], members[0]), strict=True)]
    jobs += [Job("goal", {"target": "100", "by": "2027-06-30"}, m) for m in several[:3]]
    jobs += [Job("goal", {"target": "5"}, m) for m in several[3:]]
    jobs += [Job("reminders", {"state": ("on", "off")[i % 2]}, m) for i, m in enumerate(several)]
    jobs += [Job("export", None, m) for m in (heavy, secretive, *several[:2])]
    jobs += [Job("forget-me", None, m) for m in several[:3]]
    jobs += [Job("help", None, m) for m in several[:4]]
    jobs += [Job("checkin", {"action": a}, None) for a in ("show", "preview")]
    jobs += [Job("pause", {"until": "in 3 days", "reason": hostile(m.index, 60)[:200]}, m)
             for m in several[4:6]]
    jobs += [Job("dare", {"area": AREAS[i % len(AREAS)]}, m) for i, m in enumerate(several[:3])]
    jobs += [Job("season", {"action": "history"}, m) for m in several[:2]]
    jobs += [Job("remind", {"time": "18:00", "days": "weekdays"}, m) for m in several[:2]]
    done = track(await run_all(fake, jobs))
    later = track(await run_all(fake, [Job("goal", None, m) for m in several[:2]]
                                + [Job("goal", {"target": "off"}, several[5])]))
    # /edit: fresh asks, the private list, its Edit button answered with the form filled in,
    # a typed change in hostile words, one made private, one refused. The outbox takes the
    # changes to the celebrations themselves (no new post), and the private one's words leave
    # the channel.
    editors = members[20:23]
    assert not any(m.private for m in editors)
    fresh = track(await run_all(fake, [Job("rejected", {"ask": hostile(m.index, 70)}, m)
                                       for m in editors]))
    [listed] = track(await run_all(fake, [Job("edit", None, editors[0])]))
    assert listed.private and "ASK020-70" in listed.text
    edit_id = next(b["custom_id"] for b in buttons(listed.message)
                   if b["label"].endswith("Edit"))  # "1 · Edit": the latest entry's
    pressed = fake.press(listed.message, edit_id, user_id=editors[0].id,
                         user_name=editors[0].name)
    await fake.push(pressed)
    [form] = await fake.wait_for("POST", rf"/interactions/{pressed['id']}/[^/]+/callback")
    assert form.json["type"] == 9  # the modal, filled in (checked by the fake)
    filled = {row["components"][0]["custom_id"]: row["components"][0].get("value")
              for row in form.json["data"]["components"]}
    assert filled["ask"] == expected_text(hostile(20, 70)) and filled["outcome"] == "no"
    changed = track(await run_all(fake, [
        Job("edit", {"ask": hostile(20, 71), "outcome": "yes"}, editors[0]),
        Job("edit", {"private": True}, editors[1]),
        Job("edit", {"entry": "abc"}, editors[2])]))
    assert all(d.private for d in changed)
    assert "Updated" in changed[0].text and "to hide the text" in changed[1].text
    assert "Say which entry" in changed[2].text
    channel_messages = len(fake.find("POST", f"/channels/{CHANNEL_ID}/messages"))
    edited = await Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock).drain()
    assert (edited.posted, edited.failed) == (2, 0), edited
    assert len(fake.find("POST", f"/channels/{CHANNEL_ID}/messages")) == channel_messages
    after = [shown("\n".join(texts_of(fake.messages[d.message["id"]]))) for d in fresh]
    assert "ASK020-71" in after[0] and "(edited)" in after[0]
    assert "ASK021-70" not in after[1] and "private ask" in after[1]
    assert "ASK021-70" not in shown("\n".join(fake.channel_view(CHANNEL_ID)))

    assert catalogue_seen == {c.name for c in CATALOGUE}, catalogue_seen ^ {c.name
                                                                            for c in CATALOGUE}
    answers = {(d.job.name, d.job.member.id if d.job.member else 0, str(d.job.options)): d
               for d in done + later}

    def answer(name: str, member: Member | None, options: dict | None = None) -> Done:
        return answers[(name, member.id if member else 0, str(options))]

    heavy_asks = answer("asks", heavy)
    assert heavy_asks.private and "Your open asks" in heavy_asks.text
    assert len(heavy_asks.message["components"]) == 5 and " of " in heavy_asks.text
    assert [b["label"] for b in heavy_asks.message["components"][-1]["components"]] == ["More ›"]
    resolve_ids = [b["custom_id"] for b in buttons(heavy_asks.message)]
    assert len(resolve_ids) == len(set(resolve_ids)) and len(resolve_ids) > 15
    assert secretive.secret in answer("asks", secretive).text  # shown to its member only
    for d in done:
        if d.job.name == "leaderboard":
            assert not d.private and d.text.startswith("Leaderboard"), d.text
            chips = MENTION_CHIP.findall(d.message["embeds"][0]["description"])
            if (d.job.options or {}).get("period", "week") == "week":  # a new week: empty
                assert not chips and "Yours could be the first" in d.text
            else:
                assert len(set(chips)) >= 5, d.text
        if d.job.name == "stats":
            assert not d.private and "asking so far" in d.text and d.message["attachments"]
        if d.job.name == "help":
            assert d.private and all(f"/{c.name}" in d.text for c in CATALOGUE if c.available)
        if d.job.name == "export":
            assert d.private and d.message["attachments"][0]["filename"].endswith(".csv")
        if d.job.name in ("pause", "dare", "season", "remind"):  # answered privately
            assert d.private and d.text.strip(), d.text
    assert "100 no's" in answer("goal", several[0], {"target": "100", "by": "2027-06-30"}).text
    assert "as it reads now. Nothing is posted." in answer("checkin", None, {"action": "preview"}).text
    exported = {name: data for path, name, data in fake.file_data if name.endswith(".csv")}
    secret_csv = next(data for name, data in exported.items() if str(secretive.id) in name)
    assert secretive.secret.encode() in secret_csv  # their own file holds it all

    # Buttons: cheers from other members, a resolve from /asks, one member forgets themselves.
    for i in range(0, len(sunday), 15):
        d = sunday[i]
        cheer = next(b["custom_id"] for b in buttons(d.message) if b["label"].startswith("Cheer"))
        await press(fake, members[(i + 1) % N], fake.messages[d.message["id"]], cheer)
    await press(fake, heavy, heavy_asks.message, resolve_ids[0])
    forgetter = several[0]
    prompt = answer("forget-me", forgetter).message
    await press(fake, forgetter, prompt, buttons(prompt)[0]["custom_id"])
    assert (await repo.totals(COMMUNITY, forgetter.ref)).attempts == 0

    # Monday 09:00 Berlin: the check-in, then the recap, and the follow-up DMs.
    sched = Scheduler(repo, app, {Platform.DISCORD: bot.poster}, clock)
    report = await sched.run_due(utc(2026, 11, 30, 8))
    assert (report.posted, report.failed) == (2, 0), report
    assert report.followups > 10
    checkin_post, recap_post = fake.find("POST", f"/channels/{CHANNEL_ID}/messages")
    assert fake.refusals == [] and fake.unexpected_refusals() == []
    return Played(members, heavy, secretive, forgetter, checkin_post, recap_post)



async def test_a_crowd_of_hostile_askers_pings_no_one_and_leaks_nothing(
        bot, fake: FileKeepingDiscord, repo, app, clock):
    played = await play(bot, fake, repo, app, clock)
    members, ids, private_ones = played.members, played.ids, played.private_ones
    secretive = played.secretive

    # -- every body the bot sent: no mention allowed, no member text unescaped ---------------
    sent = bodies(fake)
    assert len(sent) > 3 * N
    problems: list[str] = []
    for s in sent:
        where = f"{s.call.method} {s.call.path}"
        if s.body.get("content") or s.body.get("embeds") or "allowed_mentions" in s.body:
            if s.body.get("allowed_mentions") != {"parse": []}:
                problems.append(f"{where}: allowed_mentions {s.body.get('allowed_mentions')}")
        for text in markdown_texts(s.body):
            if "@everyone" in text or "@here" in text:
                problems.append(f"{where}: a raw mass ping")
            problems += [f"{where}: {p}" for p in leftover_markup(text, ids)]
            problems += [f"{where}: member text as typed: {found.group()!r}"
                         for found in MEMBER_FORMATTING.finditer(text)]
        for embed in s.body.get("embeds") or []:
            title = ESCAPED.sub("", embed.get("title") or "")
            if any(c in title for c in "`*_~|"):
                problems.append(f"{where}: formatting in the title {embed['title']!r}")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} in all)"

    # -- private asks: seen by their member alone ---------------------------------------------
    secrets = {p.secret for p in private_ones}
    channels = {m["channel_id"] for m in fake.messages.values()}
    assert len(channels) > 10  # the server's channel and the follow-up DMs
    for channel in channels:
        shown_to_all = "\n".join(fake.channel_view(channel))
        assert not [x for x in secrets if x in shown_to_all], channel
    for m in members:
        seen = "\n".join(fake.seen_by(m.id, CHANNEL_ID))
        assert not [x for x in secrets - {m.secret} if x in seen], m.name
    assert secretive.secret in "\n".join(fake.seen_by(secretive.id, CHANNEL_ID))  # their /asks
    leaks = [(s.call.path, x) for s in sent if not s.ephemeral for x in secrets
             if x in str(s.body)]
    assert not leaks
    view = "\n".join(fake.channel_view(CHANNEL_ID))
    assert f"{members[2].name} used /rejected" in view and "Cheer" in view

    assert fake.refusals == [] and fake.unexpected_refusals() == []


async def test_the_checkin_and_the_recap_at_crowd_size(bot, fake: FileKeepingDiscord, repo,
                                                        app, clock):
    played = await play(bot, fake, repo, app, clock)
    recap_post, checkin_post = played.recap, played.checkin

    # -- the recap: ten ranked, the bravest, the chart, the invitation ------------------------
    invite = prompts.pick(prompts.CHECKIN_INVITES, datetime(2026, 11, 30).toordinal())
    # The recap, posted with the check-in, ends on the challenge after the check-in's.
    recap_invite = prompts.pick(prompts.CHECKIN_INVITES, datetime(2026, 11, 30).toordinal() + 1)
    assert recap_invite != invite
    [recap] = recap_post.json["embeds"]
    assert rules.embed_length(recap) <= rules.EMBED_TOTAL
    recap_text = shown(recap["description"])
    assert recap["title"] == f"Weekly recap · Askers {str(GUILD_ID)[-3:]} · 23–29 Nov"
    assert len(set(MENTION_CHIP.findall(recap["description"]))) >= 10
    assert "Bravest ask" in recap_text and "fear 10/10" in recap_text
    assert recap_post.files and recap["image"]["url"] == f"attachment://{recap_post.files[0]}"
    assert recap_text.rstrip().endswith(recap_invite), recap_text[-400:]

    # -- the check-in: names many, keeps to the limits, ends with its invitation --------------
    [embed] = checkin_post.json["embeds"]
    assert rules.embed_length(embed) <= rules.EMBED_TOTAL and len(embed["description"]) <= 4096
    text = shown(embed["description"])
    assert shown(embed["title"]) == "Check-in · Monday 30 Nov"
    named = set(MENTION_CHIP.findall(embed["description"]))
    assert len(named) >= 15 and named <= played.ids, named
    assert "more." in text.split("Logged by", 1)[1].split("\n", 1)[0]  # and the rest counted
    assert "THROWAWAY" not in text and str(played.forgetter.id) not in embed["description"]
    assert text.rstrip().endswith(f"{invite}\n\n*{prompts.CHECKIN_HOW_TO}*"), (
        f"the check-in ({len(embed['description'])} characters) ends: …{text[-300:]}")
    assert "Promised for today" in text and "Promises still open" in text
    assert fake.refusals == []
