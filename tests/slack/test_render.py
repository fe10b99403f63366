"""Reply -> Block Kit: blocks, fallback text, and escaping of everything a member wrote."""

from __future__ import annotations

from adapters.slack.render import MAX_BUTTON_LABEL, escape, relabel_blocks, render
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
)

ANA = MemberRef(Platform.SLACK, "U0ANA")
NASTY = "<!channel> <!here> <@U123> <https://evil.example|click> & more"


def test_escape_covers_the_three_characters():
    assert escape("a & <b> &amp;") == "a &amp; &lt;b&gt; &amp;amp;"


def test_every_block_kind():
    reply = Reply((
        Heading("Leaderboard"),
        Text.of(Mention(ANA, "ana"), " got a no: ", Strong("asked for a raise")),
        Context.of("1 ask so far"),
        Fields((("Asks", "3"), ("No's", "2"))),
        Image(b"png", "chart.png", "a chart"),
        Buttons((Button("Cheer", Action("cheer", "12"), ButtonStyle.PRIMARY),
                 Button("Didn't ask", Action("resolve", "c1:s")))),
    ))
    message = render(reply)
    kinds = [b["type"] for b in message.blocks]
    assert kinds == ["header", "section", "context", "section", "actions"]
    assert message.blocks[1]["text"] == {"type": "mrkdwn", "text": "@ana got a no: *asked for a raise*"}
    assert message.blocks[3]["fields"][0]["text"] == "*Asks*\n3"
    cheer, skip = message.blocks[4]["elements"]
    assert cheer["action_id"] == "wn:cheer:12" and cheer["style"] == "primary"
    assert "style" not in skip and Action.decode(skip["action_id"]) == Action("resolve", "c1:s")
    assert [u.filename for u in message.uploads] == ["chart.png"]
    assert message.text.splitlines()[:2] == ["Leaderboard", "@ana got a no: asked for a raise"]


def test_member_text_never_forms_a_mention_or_link():
    reply = Reply((Text.of(NASTY), Text.of("Ask: ", Strong(NASTY)), Context.of(NASTY),
                   Fields(((NASTY, NASTY),)), Heading(NASTY)))
    message = render(reply)
    # The header is plain_text, which Slack never parses for mentions; everything else is mrkdwn.
    assert message.blocks[-1]["type"] == "header" and message.blocks[-1]["text"]["type"] == "plain_text"
    everything = str(message.blocks[:-1]) + message.text
    for live in ("<!channel>", "<!here>", "<@U123>", "<https://"):
        assert live not in everything
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt;" in message.blocks[0]["text"]["text"]


def test_a_mention_of_another_platform_is_plain_text():
    reply = Reply((Text.of(Mention(MemberRef(Platform.DISCORD, "42"), "<b>ob"), " hi"),))
    assert render(reply).blocks[0]["text"]["text"] == "@&lt;b&gt;ob hi"


def test_long_text_is_cut_to_slack_limits():
    reply = Reply((Heading("h" * 400), Text.of("x" * 5000),
                   Buttons(tuple(Button(f"b{i}", Action("cheer", str(i))) for i in range(30)))))
    header, section, actions = render(reply).blocks
    assert len(header["text"]["text"]) == 150 and len(section["text"]["text"]) == 3000
    assert len(actions["elements"]) == 25


def test_attachments_become_uploads():
    reply = Reply((Text.of("Here you go"),), attachments=(Attachment("asks.csv", b"a,b", "text/csv"),))
    assert [(u.filename, u.data) for u in render(reply).uploads] == [("asks.csv", b"a,b")]


def test_relabel_changes_only_the_matching_buttons_label():
    cheer, other = Action("cheer", "7"), Action("cheer", "8")
    posted = render(Reply((Heading("Rejected!"), Text.of("asked for a raise"),
                           Buttons((Button("Cheer", cheer, ButtonStyle.PRIMARY),
                                    Button("Cheer", other))))))
    blocks = [{"block_id": f"b{i}", **b} for i, b in enumerate(posted.blocks)]
    out = relabel_blocks(blocks, (Button("Cheer · 2", cheer, ButtonStyle.PRIMARY),))
    assert out is not None
    assert out[:-1] == blocks[:-1]
    first, second = out[-1]["elements"]
    assert first == {**blocks[-1]["elements"][0],
                     "text": {**blocks[-1]["elements"][0]["text"], "text": "Cheer · 2"}}
    assert second == blocks[-1]["elements"][1]
    assert blocks[-1]["elements"][0]["text"]["text"] == "Cheer"  # the input is left alone
    long = relabel_blocks(blocks, (Button("x" * 200, cheer),))
    assert long is not None and len(long[-1]["elements"][0]["text"]["text"]) == MAX_BUTTON_LABEL


def test_relabel_with_nothing_to_change_is_none():
    cheer = Action("cheer", "7")
    blocks = render(Reply((Text.of("hi"), Buttons((Button("Cheer · 1", cheer),))))).blocks
    assert relabel_blocks(blocks, (Button("Cheer · 1", cheer),)) is None
    assert relabel_blocks(blocks, (Button("Cheer · 1", Action("cheer", "9")),)) is None
