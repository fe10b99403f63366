"""Reply → what discord.py sends: an embed (public) or ephemeral text (private), a view of
persistent buttons, files, and allowed mentions locked down to the core's own mentions.

Text a member wrote arrives as plain ``str`` spans (and as ``Strong``, headings and fields). It
is escaped one character at a time, with no look at its neighbours: every Markdown character gets
a backslash (Discord shows ``\\*`` as ``*``) and every ``@`` a zero-width space after it
(``@\u200beveryone``). So no two spans, however they sit side by side, can form a masked link,
a mention or formatting. Bare ``http(s)://`` links are left whole so they still work (a
backslash would end up in the link), but for the ``@``s: a link ending in ``@`` could
otherwise meet ``everyone`` in the next span; and for the ``*``s: Discord ends the bot's own
``**bold**`` (or ``*small print*``) at the first ``**`` (``*``) it finds, in a link or not, so a
link holding them would close it early and leave what follows unescaped (a masked link, say).
A description too long for Discord is fitted by shortening its longest paragraphs first, so
the closing ones (an invitation, small print) stay whole; a cut never falls inside an escape,
a mention chip or a link, and closes the bold it leaves open. ``allowed_mentions`` is the lock
behind all that: it allows nothing (no ``@everyone``, ``@here``, roles or users, whatever the
text says), so the core's ``Mention`` spans show as name chips and notify no one, in an embed
(where Discord never notifies anyway) and in an ephemeral text alike. An empty list also stays
inside Discord's limit of 100 ids however many members a post names.

Buttons carry the core's ``Action`` as a stable ``custom_id`` (``wn:cheer:42``). They are
``DynamicItem``s: the client registers the class once at start-up, so a press on a message of
last week is routed after any restart. A button sent in a DM has no server around it, so its id
also names the community: ``wn.<guild id>:resolve:c12:r``. ``relabelled_view`` rebuilds the
buttons of a message already sent with new labels (a Cheer count), custom ids unchanged.
"""

from __future__ import annotations

import io
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import discord

from bot.commands import YES_WORDS, CommandSpec, OptionSpec, OptionType
from bot.ids import Platform
from bot.reply import (
    Action,
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Fields,
    Heading,
    Image,
    Mention,
    Reply,
    Span,
    Strong,
    Text,
    longest_first_cap,
)

COLOUR = discord.Colour(0xF2A541)  # a warm amber
CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000  # title, description, field names and values, footer, author
TEXT_ROOM = 1024  # of the total, kept for the description when there are many fields
TITLE_LIMIT = 256
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
MAX_FIELDS = 25
MAX_ROWS = 5
MAX_PER_ROW = 5
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
# wn:<name>:<value>, or wn.<guild id>:<name>:<value> on a DM.
CUSTOM_ID = re.compile(r"wn(?:\.(?P<guild>[0-9]{1,20}))?:(?P<name>[a-z][a-z0-9_-]{0,31}):(?P<value>.*)")

_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
}


@runtime_checkable
class ActionPressHandler(Protocol):
    """What the client offers the buttons: run a pressed action through the core."""

    async def handle_action_press(self, interaction: discord.Interaction, action: Action,
                                  guild_id: str | None) -> None:
        ...


def custom_id(action: Action, guild_id: str | None = None) -> str:
    plain = action.encode()
    if guild_id is None:
        return plain
    with_guild = f"{Action.PREFIX}.{guild_id}:{action.name}:{action.value}"
    return with_guild if len(with_guild) <= CUSTOM_ID_LIMIT else plain


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID):
    """A button that sends an ``Action`` to the core, found again by its ``custom_id`` alone."""

    def __init__(self, action: Action, label: str = "…",
                 style: discord.ButtonStyle = discord.ButtonStyle.secondary,
                 guild_id: str | None = None) -> None:
        super().__init__(discord.ui.Button(label=label[:LABEL_LIMIT], style=style,
                                           custom_id=custom_id(action, guild_id)))
        self.action = action
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> ActionButton:
        label = getattr(item, "label", None) or "…"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(Action(match["name"], match["value"]), label, style, match["guild"])

    async def callback(self, interaction: discord.Interaction) -> None:
        handler = interaction.client
        if isinstance(handler, ActionPressHandler):
            await handler.handle_action_press(interaction, self.action, self.guild_id)


MODAL_INPUTS = 5  # Discord's most text inputs in a modal, one per row
MODAL_LABEL = 45  # and its longest title and input label
Submit = Callable[[discord.Interaction, dict[str, str]], Awaitable[None]]


class FormModal(discord.ui.Modal):
    """A command's form (a button's ``Reply.form``): a text input per option, at most five (the
    needed ones and yes/no ones first, then the others in order: /rejected's form leaves out
    ``lesson``), its submission handed to ``submit`` as the values typed, empty ones left out.
    ``key`` (the press's interaction id) makes each form's id its own: discord.py keeps open
    forms by id, so two members' forms must never share one.

    A form may start filled in (``Reply.form_values``, raw text by option name; a yes/no one
    shows ``yes`` or ``no``) and carry options it never shows (``Reply.form_fixed``), sent
    with the submission as they are. The command's ``clears`` option is never shown either:
    on a filled-in form, it carries the names of the fields shown that came back empty
    (comma-separated), so that emptying a field clears it (/edit)."""

    def __init__(self, spec: CommandSpec, submit: Submit, key: str, *,
                 values: Iterable[tuple[str, str]] = (),
                 fixed: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(title=f"/{spec.name}"[:MODAL_LABEL],
                         custom_id=f"wnform:{spec.name}:{key}"[:100], timeout=900)
        self._submit = submit
        self._fixed = dict(fixed)
        start = dict(values)
        self._clears = spec.clears if start else None
        self.inputs: list[discord.ui.TextInput[FormModal]] = []
        hidden = {*self._fixed, spec.clears}
        options = [o for o in spec.options if o.name not in hidden]
        first = [o for o in options if o.required or o.type is OptionType.BOOL]
        kept = first + [o for o in options if o not in first][:MODAL_INPUTS - len(first)]
        for opt in [o for o in options if o in kept][:MODAL_INPUTS]:
            hint = (", ".join(opt.choices) if opt.choices else "yes or no"
                    if opt.type is OptionType.BOOL else
                    f"e.g. {opt.example.strip(chr(34))}" if opt.example else None)
            default = _form_value(opt, start.get(opt.name))
            # A value stored longer than the option now takes still shows whole (Discord
            # refuses a form whose value is longer than its input's max_length).
            longest = min(max(opt.max_length, len(default or "")), TEXT_INPUT_LIMIT)
            text: discord.ui.TextInput[FormModal] = discord.ui.TextInput(
                label=opt.description[:MODAL_LABEL], custom_id=opt.name,
                required=opt.required, max_length=longest,
                style=(discord.TextStyle.paragraph if opt.max_length > 200
                       else discord.TextStyle.short),
                placeholder=hint[:100] if hint else None,
                default=default[:TEXT_INPUT_LIMIT] if default else None)
            self.inputs.append(text)
            self.add_item(text)
        self._yes_no = {o.name for o in options if o.type is OptionType.BOOL}

    def submission(self) -> dict[str, str]:
        """What the form sends: the values typed (empty ones left out), the fixed options, and
        on a filled-in form the ``clears`` option naming the fields emptied."""
        typed = {t.custom_id: t.value.strip() for t in self.inputs}
        out = {name: value for name, value in typed.items() if value}
        out.update(self._fixed)
        # A yes/no here is a text box: left blank it says nothing (no change), unlike Slack's
        # unticked checkbox, which says no.
        emptied = [name for name, value in typed.items() if not value and name not in
                   self._yes_no]
        if self._clears is not None and emptied:
            given = out.get(self._clears, "")
            out[self._clears] = ",".join([*filter(None, given.split(",")), *emptied])
        return out

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._submit(interaction, self.submission())


TEXT_INPUT_LIMIT = 4000  # Discord's longest text input (and value)


def _form_value(opt: OptionSpec, raw: str | None) -> str | None:
    """What a filled-in form's field starts with: the raw text, or for a yes/no option
    ``yes`` or ``no`` (the words its hint asks for)."""
    if raw is None or not raw.strip():
        return None
    if opt.type is OptionType.BOOL:
        return "yes" if raw.strip().lower() in YES_WORDS else "no"
    return raw


@dataclass
class Rendered:
    """Keyword arguments for discord.py, shared by send_message, followups, edits and posts."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)
    allowed_mentions: discord.AllowedMentions = field(default_factory=lambda: NO_MENTIONS)
    ephemeral: bool = False

    def send_kwargs(self) -> dict[str, Any]:
        """For ``response.send_message``, ``followup.send`` and ``channel.send``."""
        kwargs: dict[str, Any] = {"allowed_mentions": self.allowed_mentions}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self.files
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """For ``response.edit_message`` and ``edit_original_response``: replace everything."""
        kwargs: dict[str, Any] = {"content": self.content, "embeds": self.embeds,
                                  "view": self.view, "allowed_mentions": self.allowed_mentions}
        if self.files:
            kwargs["attachments"] = self.files
        return kwargs


# Names show, nobody is notified (see the module doc).
NO_MENTIONS: discord.AllowedMentions = discord.AllowedMentions.none()


# Discord's autolink (a bare link stays clickable; it never takes in "<" or whitespace).
_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
# Markdown characters, each shown as itself after a backslash. "+" and "." (after a digit)
# start lists; the rest are formatting, links, headings, quotes and <@…>/<#…>/<t:…> markup.
_MARKDOWN = frozenset("\\`*_~|[]()<>#-+")
# Each Markdown character after a backslash, each "@" before a zero-width space: one
# ``str.translate`` (in C) instead of a Python loop over the characters.
_ESCAPES = {ord(ch): "\\" + ch for ch in _MARKDOWN} | {ord("@"): "@\u200b"}
_TITLE_ESCAPES = {ord(ch): "\\" + ch for ch in "\\`*_~|"}


def escape(text: str) -> str:
    """Member-written text, safe to show whatever stands next to it: no Markdown, no links but
    bare ones, no mentions, headings, quotes or lists."""
    if "://" not in text:  # no link to keep whole (the common case: one pass, no regex)
        return _escape_plain(text)
    out: list[str] = []
    at = 0
    for url in _URL.finditer(text):
        out.append(_escape_plain(text[at:url.start()]))
        out.append(url.group().replace("@", "@\u200b").replace("*", "\\*"))
        at = url.end()
    out.append(_escape_plain(text[at:]))
    return "".join(out)


def escape_title(text: str) -> str:
    """An embed title shows no links, mentions, headings or lists, so only the formatting
    characters need a backslash there ("Check-in" stays as it is)."""
    return text.translate(_TITLE_ESCAPES)


def _escape_plain(text: str) -> str:
    """``text`` (no link in it) escaped: its Markdown characters and its "@"s, and a "." that
    starts it or follows a digit (a list)."""
    out = text.translate(_ESCAPES)
    if "." not in out:
        return out
    # A "." is never translated, and what stands before it after translation is what stood
    # before it in ``text`` (a character keeps its place after its backslash; "@" is followed
    # by the zero-width space, not a digit): so the test reads ``out`` as it would ``text``.
    parts: list[str] = []
    at = 0
    dot = out.find(".")
    while dot != -1:
        if dot == 0 or out[dot - 1].isdigit():
            parts.append(out[at:dot])
            parts.append("\\.")
            at = dot + 1
        dot = out.find(".", dot + 1)
    parts.append(out[at:])
    return "".join(parts)


def span(s: Span) -> str:
    if isinstance(s, Mention):
        if s.member.platform is Platform.DISCORD and s.member.id.isdecimal():
            return f"<@{s.member.id}>"
        return escape(f"@{s.name}")
    if isinstance(s, Strong):
        core = s.text.strip()
        if not core:
            return s.text
        # Markdown bold may not start or end with a space: keep the spaces outside.
        lead, trail = s.text[: len(s.text) - len(s.text.lstrip())], s.text[len(s.text.rstrip()):]
        return f"{lead}**{escape(core)}**{trail}"
    return escape(s)


def spans(items: tuple[Span, ...]) -> str:
    return "".join(span(s) for s in items)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# In rendered Markdown: an escape, bold, italics (a "*" of a member's, links' too, is escaped).
_MARKS = re.compile(r"\\.|\*\*|\*", re.DOTALL)


def _cut(text: str, limit: int) -> str:
    """Rendered Markdown cut to ``limit`` with an ellipsis: never inside an escape, a mention
    chip or a link (a link cut short would lead elsewhere), and with the bold or italics it
    leaves open closed again."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 4)]  # room for "…" and closing "*" and "**"
    opened = cut.rfind("<")
    if opened != -1 and ">" not in cut[opened:]:
        cut = cut[:opened]  # half a <@id>
    links = [m for m in _URL.finditer(cut) if m.end() == len(cut)]
    if links and _URL.match(text, links[0].start()).end() > len(cut):  # type: ignore[union-attr]
        cut = cut[: links[0].start()]
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]  # a backslash that would escape the ellipsis
    stack: list[str] = []
    for mark in _MARKS.findall(cut):
        if mark in ("*", "**"):
            if stack and stack[-1] == mark:
                stack.pop()
            else:
                stack.append(mark)
    out = cut.rstrip() + "…" + "".join(reversed(stack))
    return out if len(out) <= limit else _clip(text, limit)


def _fit(parts: list[str], limit: int) -> str:
    """Paragraphs joined within ``limit``. When too long, the longest are shortened first (each
    keeping its start), so the last ones (an invitation, small print) are not cut off."""
    text = "\n\n".join(parts)
    room = limit - 2 * (len(parts) - 1)  # what the paragraphs may take besides the breaks
    if len(text) <= limit or room < 20 * len(parts):
        return _cut(text, limit)
    cap = longest_first_cap([len(p) for p in parts], room, floor=20)
    return "\n\n".join(_cut(p, cap) for p in parts)


def _number_items(blocks: tuple[Block, ...]) -> tuple[list[Block], list[tuple[str, Buttons]]]:
    """With several rows of buttons (``/asks``), number each item and its row so it is clear
    which buttons belong to which ask: a row right after an item's line. Returns the blocks to
    show and the labelled rows."""
    rows = [b for b in blocks if isinstance(b, Buttons)]
    if len(rows) <= 1:
        return [b for b in blocks if not isinstance(b, Buttons)], [("", r) for r in rows]
    shown: list[Block] = []
    labelled: list[tuple[str, Buttons]] = []
    numbered = 0
    previous: Block | None = None
    for block in blocks:
        after, previous = previous, block
        if isinstance(block, Buttons):
            if not isinstance(after, Text):  # a row of its own (a page's Earlier / More)
                labelled.append(("", block))
                continue
            numbered += 1
            number = numbered
            labelled.append((_row_prefix(number), block))
            for i in range(len(shown) - 1, -1, -1):  # number the line this row belongs to
                prev = shown[i]
                if isinstance(prev, Text):
                    shown[i] = Text((Strong(f"{number}."), " ", *prev.spans))
                    break
                if isinstance(prev, Heading):
                    break
        else:
            shown.append(block)
    return shown, labelled


def _row_prefix(number: int) -> str:
    return f"{number} · "


def build_view(rows: list[tuple[str, Buttons]], guild_id: str | None = None
               ) -> tuple[discord.ui.View | None, int]:
    """A view of persistent buttons (``timeout=None``), at most 5 rows of 5; returns it and
    how many rows did not fit."""
    if not rows:
        return None, 0
    view = discord.ui.View(timeout=None)
    kept = rows[:MAX_ROWS]
    for row_index, (prefix, block) in enumerate(kept):
        for button in block.buttons[:MAX_PER_ROW]:
            view.add_item(_button(button, prefix, guild_id, row_index))
    return _sent_only(view), len(rows) - len(kept)


def _sent_only(view: discord.ui.View) -> discord.ui.View:
    """A view to send that discord.py doesn't keep listening to (``View.stop()``). Presses
    never need it: they reach ``ActionButton`` by custom id (``add_dynamic_items`` at
    start-up). A live view would be walked and stored again after every send or edit, and an
    ephemeral one given a 15-minute timeout task; a stopped one is sent just the same."""
    view.stop()
    return view


def _button(button: Button, prefix: str, guild_id: str | None, row: int) -> ActionButton:
    item = ActionButton(button.action, f"{prefix}{button.label}", _STYLES[button.style], guild_id)
    item.row = row
    return item


def relabelled_view(components: list[discord.Component], relabel: tuple[Button, ...]
                    ) -> discord.ui.View | None:
    """The buttons of a message this bot sent (``Message.components``), rebuilt as the same
    persistent buttons with ``relabel``'s labels on those with the same action (whether or not
    the custom id names a server; a numbered row keeps its number). ``None`` when no label
    changes, or when the message holds anything this module didn't build."""
    labels = {b.action: b.label for b in relabel}
    view = discord.ui.View(timeout=None)
    changed = False
    for row, component in enumerate(components):
        if not isinstance(component, discord.ActionRow):
            return None
        prefix = _row_prefix(row + 1) if len(components) > 1 else ""
        for child in component.children:
            match = CUSTOM_ID.fullmatch(getattr(child, "custom_id", None) or "")
            if not isinstance(child, discord.Button) or match is None:
                return None
            action = Action(match["name"], match["value"])
            label = child.label or "…"
            new = labels.get(action)
            if new is not None and f"{prefix}{new}"[:LABEL_LIMIT] != label:
                label, changed = f"{prefix}{new}", True
            item = ActionButton(action, label, child.style, match["guild"])
            item.item.disabled = child.disabled
            item.row = row
            view.add_item(item)
    return _sent_only(view) if changed else None


def render(reply: Reply, *, guild_id_in_buttons: str | None = None,
           force_public: bool = False) -> Rendered:
    """Render a reply. Public → one embed; private → ephemeral text (an ephemeral embed when
    the text is too long for a message). ``guild_id_in_buttons`` is for DMs (see module doc);
    ``force_public`` is for scheduled posts, which have no one to be private to."""
    shown, rows = _number_items(reply.blocks)
    view, hidden_rows = build_view(rows, guild_id_in_buttons)
    files: list[discord.File] = []
    image_name: str | None = None
    for block in shown:
        if isinstance(block, Image):
            files.append(discord.File(io.BytesIO(block.data), filename=block.filename,
                                      description=block.alt[:1024] or None))
            image_name = image_name or block.filename
    for att in reply.attachments:
        files.append(discord.File(io.BytesIO(att.data), filename=att.filename))
    more = (f"Showing buttons for the first {MAX_ROWS}. Sort those out and run the command "
            "again for the rest.") if hidden_rows else None
    private = reply.private and not force_public
    out = Rendered(view=view, files=files, allowed_mentions=NO_MENTIONS,
                   ephemeral=private)
    if private:
        text = _as_text(shown, more)
        if len(text) <= CONTENT_LIMIT:
            out.content = text or "\u200b"
            return out
    out.embeds = [_as_embed(shown, image_name, more)]
    return out


def _as_text(blocks: list[Block], more: str | None) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines.append(f"**{escape(block.text)}**")
        elif isinstance(block, Text):
            lines.append(spans(block.spans))
        elif isinstance(block, Context):
            lines.extend(f"-# {line}" for line in spans(block.spans).split("\n") if line.strip())
        elif isinstance(block, Fields):
            lines.extend(f"**{escape(k)}**: {escape(v)}" for k, v in block.pairs)
    if more:
        lines.append(f"-# {more}")
    return "\n".join(line for line in lines if line)


def _as_embed(blocks: list[Block], image_name: str | None, more: str | None) -> discord.Embed:
    embed = discord.Embed(colour=COLOUR)
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            if embed.title is None and not parts:
                embed.title = _clip(escape_title(block.text), TITLE_LIMIT)
            else:
                parts.append(f"**{escape(block.text)}**")
        elif isinstance(block, Text):
            parts.append(spans(block.spans))
        elif isinstance(block, Context):
            text = spans(block.spans).strip()
            if text:
                parts.append("\n".join(f"*{line}*" for line in text.split("\n") if line.strip()))
        elif isinstance(block, Fields):
            for key, value in block.pairs:
                name = _clip(escape(key), FIELD_NAME_LIMIT) or "\u200b"
                shown = _clip(escape(value), FIELD_VALUE_LIMIT) or "\u200b"
                # Fields past 25, or past what the total leaves after room for the text, become
                # lines of the description.
                fits = len(embed) + len(name) + len(shown) <= EMBED_TOTAL_LIMIT - TEXT_ROOM
                if len(embed.fields) < MAX_FIELDS and fits:
                    embed.add_field(name=name, value=shown, inline=True)
                else:
                    parts.append(f"**{escape(key)}**: {escape(value)}")
    if more:
        parts.append(f"*{more}*")
    parts = [p for p in parts if p]
    if parts:
        # Within the description's own limit and within what the embed's total leaves it.
        room = EMBED_TOTAL_LIMIT - len(embed)
        embed.description = _fit(parts, min(DESCRIPTION_LIMIT, room))
    if image_name:
        embed.set_image(url=f"attachment://{image_name}")
    return embed
