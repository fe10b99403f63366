"""Reply → Discord message parts, and the set-up helpers (pure, no network)."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, urlparse

import discord
import pytest

from adapters.discord.invite import application_id_from_token, check_token, invite_url
from adapters.discord.render import CUSTOM_ID, ActionButton, custom_id, escape, relabelled_view, render
from adapters.discord.slash import COMMON_ZONES, match_zones
from bot.config import ConfigError
from bot.ids import MemberRef, Platform
from bot.reply import (
    Action,
    Attachment,
    Button,
    Buttons,
    ButtonStyle,
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
from tests.discord.helpers import shown

ANA = MemberRef(Platform.DISCORD, "1500000000000000001")
SLACKER = MemberRef(Platform.SLACK, "U123")


def test_public_reply_is_one_embed_with_title_fields_and_small_print():
    reply = Reply((Heading("Your asking so far"), Fields((("Asks", "3"), ("No's", "2"))),
                   Text.of(Mention(ANA, "ana"), " got a no: ", Strong("a raise")),
                   Context.of("Every ask counts.")))
    out = render(reply)
    assert not out.ephemeral and out.content is None
    (embed,) = out.embeds
    assert embed.title == "Your asking so far"
    assert [(f.name, f.value) for f in embed.fields] == [("Asks", "3"), ("No's", "2")]
    assert embed.description == f"<@{ANA.id}> got a no: **a raise**\n\n*Every ask counts.*"
    assert out.allowed_mentions.to_dict() == {"parse": []}


def test_private_reply_is_ephemeral_text():
    reply = Reply((Heading("Your open asks"), Text.of("Nothing open."), Context.of("Try /who-next")),
                  Visibility.PRIVATE)
    out = render(reply)
    assert out.ephemeral and not out.embeds
    assert out.content == "**Your open asks**\nNothing open.\n-# Try /who\\-next"
    assert out.send_kwargs()["allowed_mentions"].to_dict() == {"parse": []}


def test_a_long_private_reply_becomes_an_ephemeral_embed():
    out = render(Reply((Text.of("x" * 2500),), Visibility.PRIVATE))
    assert out.ephemeral and out.content is None and len(out.embeds[0].description) == 2500


def test_strong_keeps_spaces_outside_the_stars():
    out = render(Reply((Text.of(Strong("Milestone! "), "First ask."),)))
    assert out.embeds[0].description == "**Milestone!** First ask."


@pytest.mark.parametrize("text", [
    "@everyone look", "@here", "<@1500000000000000002>", "<@!1500000000000000002>",
    "<@&1600000000000000001>",
])
def test_member_text_cannot_form_a_mention(text: str):
    for rendered in (escape(text),
                     render(Reply((Text.of("They asked: ", Strong(text), " / ", text),))
                            ).embeds[0].description):
        assert text not in rendered
        assert "@\u200b" in rendered


@pytest.mark.parametrize("text, escaped", [
    ("**bold** and __under__", "\\*\\*bold\\*\\* and \\_\\_under\\_\\_"),
    ("[site](https://x.y)", "\\[site\\]\\(https://x.y\\)"),
    ("# big heading", "\\# big heading"), ("> quoted", "\\> quoted"), ("`code`", "\\`code\\`"),
    ("- a list", "\\- a list"), ("-# small", "\\-\\# small"), ("1. first", "1\\. first"),
    ("||spoiler|| ~~gone~~", "\\|\\|spoiler\\|\\| \\~\\~gone\\~\\~"),
    ("<#1300000000000000001>", "\\<\\#1300000000000000001\\>"),
    ("a \\ b", "a \\\\ b"),
])
def test_member_text_markdown_is_escaped(text: str, escaped: str):
    assert escape(text) == escaped
    assert render(Reply((Text.of(text),))).embeds[0].description == escaped
    assert shown(escaped) == text  # Discord shows each escaped character as itself


MARKDOWN = "\\`*_~|[]()<>#-+."


def bare(rendered: str) -> str:
    """What is left of rendered text once every backslash escape (and a bare link, kept whole
    on purpose) is taken out: anything Markdown could act on."""
    return re.sub(r"https?://\S+|\\[^0-9A-Za-z\s]", "", rendered)


@pytest.mark.parametrize("char", MARKDOWN + "@")
def test_every_dangerous_character_is_neutralised(char: str):
    out = escape(char)
    assert shown(out) == char
    assert not set(bare(out)) & set(MARKDOWN) and out != char


@pytest.mark.parametrize("left, right", [
    ("[Free Nitro", "claim](https://evil.example/x)"),  # a masked link
    ("**loud", "words**"), ("*lean", "ing*"), ("_lean", "ing_"), ("__under", "line__"),
    ("~~struck", "out~~"), ("||hid", "den||"), ("`co", "de`"),
    ("@", "everyone"), ("@", "here"), ("<@", "1500000000000000002>"), ("<@&", "1600000000000000001>"),
    ("<#", "1300000000000000001>"), ("<t:", "1700000000:R>"), ("trailing \\", "*x*"),
    ("\n", "# heading"), ("\n", "> quote"), ("\n", "- item"), ("\n1", ". item"),
    ("see https://x.example/@", "everyone"), ("https://x.example/a", "[b](https://evil.example)"),
])
def test_spans_side_by_side_form_nothing(left: str, right: str):
    for text in (Text.of(left, right), Text.of(Strong(left), ", ", Strong(right))):
        description = render(Reply((text,))).embeds[0].description
        plain = description.replace("**", "")  # the bold this module adds itself
        left_over = bare(plain)
        assert not set(left_over) & set(MARKDOWN.rstrip(".")), description
        assert not re.search(r"\d\.|@(everyone|here|[!&]?\d)|<", left_over), description
        assert shown(plain).replace(", ", "") == left + right


def test_promises_cannot_join_into_a_masked_link():
    # The check-in's "Promised for today" line: several members' asks in one block.
    ben = MemberRef(Platform.DISCORD, "1500000000000000002")
    line = Text.of(Strong("Promised for today: "), Mention(ANA, "ana"), ": ",
                   Strong("[Free Nitro"), ", ", Mention(ben, "ben"), ": ",
                   Strong("claim](https://evil.example/x)"), ". You've got this!")
    description = render(Reply((line,))).embeds[0].description
    assert description == (f"**Promised for today:** <@{ANA.id}>: **\\[Free Nitro**, "
                           f"<@{ben.id}>: **claim\\]\\(https://evil.example/x\\)**\\. "
                           "You've got this!")


def test_ordinary_text_reads_naturally():
    plain = "asked my boss for a raise, and she said yes! Next: ask Sam (the editor) for 2.5 days"
    assert shown(escape(plain)) == plain
    assert escape("asked my boss for a raise, and she said no!") == (
        "asked my boss for a raise, and she said no!")
    # A bare link stays whole, so it still works; the text around it is escaped.
    assert escape("see https://my-site.example/a_b?x=1 (mine)") == (
        "see https://my-site.example/a_b?x=1 \\(mine\\)")
    assert shown(escape("mail ana@example.com")) == "mail ana@example.com"


def test_mentions_from_other_platforms_are_plain_names():
    out = render(Reply((Text.of(Mention(SLACKER, "sam")),)))
    assert shown(out.embeds[0].description) == "@sam"
    assert out.allowed_mentions.to_dict() == {"parse": []}


def test_buttons_are_persistent_with_stable_ids():
    reply = Reply((Text.of("Logged."), Buttons((Button("Cheer", Action("cheer", "42")),))))
    out = render(reply)
    assert out.view is not None and out.view.timeout is None
    (row,) = out.view.to_components()
    (button,) = row["components"]
    assert button["custom_id"] == "wn:cheer:42" and button["label"] == "Cheer"
    assert out.view.is_persistent()


def test_custom_ids_round_trip_and_carry_the_server_in_dms():
    action = Action("resolve", "c12:r")
    assert CUSTOM_ID.fullmatch(custom_id(action))["value"] == "c12:r"
    match = CUSTOM_ID.fullmatch(custom_id(action, "1200000000000000001"))
    assert (match["guild"], match["name"], match["value"]) == ("1200000000000000001", "resolve", "c12:r")
    assert Action.decode(custom_id(action)) == action
    long = Action("resolve", "x" * 90)
    assert custom_id(long, "1200000000000000001") == long.encode()  # too long: plain id


def test_more_than_five_rows_of_buttons_say_so():
    blocks = []
    for i in range(7):
        blocks += [Text.of(f"Item {i}"), Buttons((Button("Done", Action("resolve", f"a{i}:r")),))]
    out = render(Reply(tuple(blocks), Visibility.PRIVATE))
    assert len(out.view.to_components()) == 5
    assert "first 5" in out.content


def test_images_and_attachments_become_files():
    reply = Reply((Heading("Week"), Image(b"\x89PNG...", "week.png", "A chart of the week")),
                  attachments=(Attachment("asks.csv", b"a,b\n", "text/csv"),))
    out = render(reply)
    assert [f.filename for f in out.files] == ["week.png", "asks.csv"]
    assert [f.description for f in out.files] == ["A chart of the week", None]  # the image's alt
    assert out.embeds[0].image.url == "attachment://week.png"


def test_invite_url_has_both_scopes_and_least_permissions():
    url = urlparse(invite_url(1234567890123456789))
    assert url.netloc == "discord.com" and url.path == "/oauth2/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == ["1234567890123456789"]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms.send_messages and perms.embed_links and perms.view_channel and perms.attach_files
    assert not (perms.administrator or perms.manage_guild or perms.mention_everyone
                or perms.manage_messages or perms.read_message_history)


def test_application_id_from_token():
    first = base64.b64encode(b"1234567890123456789").decode().rstrip("=")
    token = f"{first}.GAbCdE.{'k' * 38}"
    assert application_id_from_token(token) == 1234567890123456789
    assert check_token(f"  {token}\n") == token


@pytest.mark.parametrize("token", [None, " ", "abc", "a.b", "a.b.c.d", "bm90IGFuIGlk.x.y", "a b.c.d"])
def test_bad_tokens_name_the_variable(token):
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        application_id_from_token(token)


def test_zone_matching():
    zones = ("America/New_York", "Europe/Berlin", "Europe/Bucharest", "UTC")
    assert match_zones(zones, "eu") == ["Europe/Berlin", "Europe/Bucharest"]
    assert match_zones(zones, "new york") == ["America/New_York"]
    assert match_zones(zones, "lin") == ["Europe/Berlin"]
    assert match_zones(zones, "") == [z for z in COMMON_ZONES if z in zones]


def sent(reply: Reply, guild_id: str | None = None) -> list[discord.ActionRow]:
    """A reply's buttons as Discord hands them back on ``Message.components``."""
    view = render(reply, guild_id_in_buttons=guild_id).view
    assert view is not None
    return [discord.ActionRow(row) for row in view.to_components()]


def rows_of(view: discord.ui.View | None) -> list[list[tuple[str, str, int]]]:
    assert view is not None
    return [[(b["custom_id"], b["label"], b["style"]) for b in row["components"]]
            for row in view.to_components()]


def test_relabel_rebuilds_the_same_buttons_with_a_new_label():
    one, two = Action("cheer", "7"), Action("cheer", "8")
    reply = Reply((Text.of("first"), Buttons((Button("Cheer", one, ButtonStyle.PRIMARY),
                                              Button("Undo", Action("undo", "7")))),
                   Text.of("second"), Buttons((Button("Cheer · 4", two, ButtonStyle.PRIMARY),))))
    primary, secondary = discord.ButtonStyle.primary.value, discord.ButtonStyle.secondary.value
    components = sent(reply, guild_id="42")
    view = relabelled_view(components, (Button("Cheer · 5", two, ButtonStyle.PRIMARY),))
    # Same ids, styles and rows; only the second row's Cheer changed, keeping its number.
    assert rows_of(view) == [
        [("wn.42:cheer:7", "1 · Cheer", primary), ("wn.42:undo:7", "1 · Undo", secondary)],
        [("wn.42:cheer:8", "2 · Cheer · 5", primary)],
    ]
    assert all(isinstance(item, ActionButton) for item in view.children)
    assert view.timeout is None


def test_relabel_with_nothing_to_change_or_foreign_buttons_is_none():
    cheer = Action("cheer", "7")
    components = sent(Reply((Buttons((Button("Cheer · 1", cheer),)),)))
    assert relabelled_view(components, (Button("Cheer · 1", cheer),)) is None
    assert relabelled_view(components, (Button("Cheer · 2", Action("cheer", "9")),)) is None
    foreign = [discord.ActionRow({"type": 1, "components": [
        {"type": 2, "style": 1, "label": "Cheer", "custom_id": "wn:cheer:7"},
        {"type": 2, "style": 5, "label": "Docs", "url": "https://example.com"}]})]
    assert relabelled_view(foreign, (Button("Cheer · 2", cheer),)) is None


def test_embed_titles_escape_only_formatting():
    from adapters.discord.render import escape_title

    assert escape_title("Check-in · Thu 26 Nov (3)") == "Check-in · Thu 26 Nov (3)"
    assert escape_title("**bo**'s _asking_ ~~so~~ far|`x`") == (
        "\\*\\*bo\\*\\*'s \\_asking\\_ \\~\\~so\\~\\~ far\\|\\`x\\`")


def test_an_embed_stays_within_discords_6000_total():
    fields = Fields(tuple((f"field {i} " + "k" * 200, "v" * 1000) for i in range(5)))
    out = render(Reply((Heading("H" * 300), fields, Text.of("x" * 5000))))
    (embed,) = out.embeds
    assert len(embed) <= 6000 and len(embed.description or "") <= 4096
    assert embed.description.endswith("…")
