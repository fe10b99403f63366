"""``escape`` and ``escape_title`` (str.translate, no Python loop over the characters) give what
escaping one character at a time gives, the rule the render module's doc states: every Markdown
character after a backslash, every "@" before a zero-width space, a "." after a backslash when
it starts a span or follows a digit (``str.isdigit``: "²." too), bare links whole."""

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.render import _URL, escape, escape_title

MARKDOWN = "\\`*_~|[]()<>#-+"


def one_at_a_time(text: str) -> str:
    out = []
    for i, char in enumerate(text):
        if char in MARKDOWN or (char == "." and (i == 0 or text[i - 1].isdigit())):
            out.append("\\" + char)
        elif char == "@":
            out.append("@\u200b")
        else:
            out.append(char)
    return "".join(out)


def reference(text: str) -> str:
    out, at = [], 0
    for url in _URL.finditer(text):
        out.append(one_at_a_time(text[at:url.start()]))
        out.append(url.group().replace("@", "@\u200b").replace("*", "\\*"))
        at = url.end()
    out.append(one_at_a_time(text[at:]))
    return "".join(out)


# Markdown, dots after digits of several scripts, "@", links and their pieces, plain text.
PIECES = st.sampled_from([*MARKDOWN, ".", "@", "1", "²", "٣", " ", "a", "é", "\n", "http://",
                          "https://x.example/a_b", "://", "*", "<@1>", "1.", "..", "\u200b"])
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=20).map("".join)


@given(TEXT)
def test_escape_is_the_character_at_a_time_rule(text: str):
    assert escape(text) == reference(text)


@given(TEXT)
def test_escape_title_escapes_formatting_only(text: str):
    assert escape_title(text) == "".join("\\" + ch if ch in "\\`*_~|" else ch for ch in text)


def test_examples():
    assert escape("1. first") == "1\\. first"
    assert escape(".5 of a raise") == "\\.5 of a raise"
    assert escape("². x") == "²\\. x"  # str.isdigit, as before
    assert escape("a.b @ana") == "a.b @\u200bana"
    # The link ends before its "."; that "." starts the span after it.
    assert escape("see https://a.example/x_y. then 2.") == "see https://a.example/x_y\\. then 2\\."


async def test_rendered_views_are_sent_without_discord_py_listening_to_them():
    """Presses reach ActionButton by custom id, so discord.py needn't store each view sent
    (nor time out an ephemeral one): the views are stopped before they go."""
    import discord

    from adapters.discord.render import relabelled_view, render
    from bot.reply import Action, Button, Buttons, Reply, Text

    cheer = Button("Cheer", Action("cheer", "7"))
    rendered = render(Reply((Text.of("a no"), Buttons((cheer,)))))
    assert rendered.view is not None and rendered.view.is_finished()
    components: list[discord.Component] = [discord.ActionRow(c) for c in rendered.view.to_components()]
    relabelled = relabelled_view(components, (Button("Cheer (1)", Action("cheer", "7")),))
    assert relabelled is not None and relabelled.is_finished()
    assert relabelled.to_components()[0]["components"][0]["label"] == "Cheer (1)"
