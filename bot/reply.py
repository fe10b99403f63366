"""The platform-neutral reply: blocks, visibility and buttons.

Adapters render a Reply into Block Kit, a Discord embed or terminal text. Text that a member
wrote is always a plain ``str`` span; adapters escape it for their platform so that it can never
form a mention or a link. A mention the core *means* is a ``Mention`` span.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.ids import MemberRef


class Visibility(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"  # only the member who invoked the command sees it


@dataclass(frozen=True, slots=True)
class Mention:
    member: MemberRef
    name: str  # display name, for renderers that cannot ping (the terminal)


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


Span = str | Mention | Strong


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Text:
    spans: tuple[Span, ...]

    @classmethod
    def of(cls, *spans: Span) -> Text:
        return cls(tuple(s for s in spans if s != ""))


@dataclass(frozen=True, slots=True)
class Context:
    """Small print under the main text."""

    spans: tuple[Span, ...]

    @classmethod
    def of(cls, *spans: Span) -> Context:
        return cls(tuple(s for s in spans if s != ""))


@dataclass(frozen=True, slots=True)
class Fields:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Image:
    data: bytes  # PNG
    filename: str
    alt: str


@dataclass(frozen=True, slots=True)
class Action:
    """What a button press sends back to the core: ``App.handle_action``."""

    name: str
    value: str

    PREFIX = "wn"

    def encode(self) -> str:
        """A stable id (Discord ``custom_id``, Slack ``action_id`` value); at most 100 chars."""
        return f"{self.PREFIX}:{self.name}:{self.value}"

    @classmethod
    def decode(cls, raw: str) -> Action | None:
        prefix, _, rest = raw.partition(":")
        name, sep, value = rest.partition(":")
        if prefix != cls.PREFIX or not sep or not name:
            return None
        return cls(name, value)


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    action: Action
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class Buttons:
    buttons: tuple[Button, ...]


Block = Heading | Text | Context | Fields | Image | Buttons


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    mime: str


@dataclass(frozen=True, slots=True)
class Reply:
    blocks: tuple[Block, ...]
    visibility: Visibility = Visibility.PUBLIC
    # For a button press: replace the message that carried the button instead of posting anew.
    replace_original: bool = False
    attachments: tuple[Attachment, ...] = field(default=())
    # For a button press: buttons on the message that carried the press to show with a new
    # label (same action), e.g. a Cheer count. Adapters that can edit that message do so; the
    # reply itself still goes to the presser.
    relabel: tuple[Button, ...] = ()
    # True when the reply reports an error (nothing was changed); ``error_option`` names the
    # option at fault, so a form can show the message on that field.
    error: bool = False
    error_option: str | None = None
    # The invocation carried text only its member may see (``private:true``). A platform that
    # shows others what the member typed beside a public answer (Slack echoes the command line
    # of an in-channel answer) must post this reply on its own instead.
    conceal_input: bool = False
    # For a button press: the command whose form (a modal) to open instead of showing this
    # reply, on a platform that has forms; the reply says what to type elsewhere.
    form: str | None = None
    # With ``form``: the values its fields start with (raw text as a member would type it, by
    # option name: an /edit form shows the entry as it is), and the options it sends as they
    # are without showing them (which entry an /edit form changes).
    form_values: tuple[tuple[str, str], ...] = ()
    form_fixed: tuple[tuple[str, str], ...] = ()

    @property
    def private(self) -> bool:
        return self.visibility is Visibility.PRIVATE

    def mentions(self) -> frozenset[MemberRef]:
        """Every member the core explicitly mentions: the only ones an adapter may ping."""
        found: set[MemberRef] = set()
        for block in self.blocks:
            for span in getattr(block, "spans", ()):
                if isinstance(span, Mention):
                    found.add(span.member)
        return frozenset(found)

    def buttons(self) -> tuple[Button, ...]:
        return tuple(b for block in self.blocks if isinstance(block, Buttons) for b in block.buttons)

    def plain_text(self) -> str:
        """A readable plain-text rendering (terminal, notification fallback)."""
        return render_plain(self)


def span_text(span: Span) -> str:
    if isinstance(span, Mention):
        return f"@{span.name}"
    if isinstance(span, Strong):
        return span.text
    return span


def spans_text(spans: tuple[Span, ...]) -> str:
    return "".join(span_text(s) for s in spans)


def render_plain(reply: Reply) -> str:
    lines: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines.append(block.text)
        elif isinstance(block, (Text, Context)):
            lines.append(spans_text(block.spans))
        elif isinstance(block, Fields):
            lines.extend(f"{k}: {v}" for k, v in block.pairs)
        elif isinstance(block, Image):
            lines.append(f"[image: {block.alt}]")
        elif isinstance(block, Buttons):
            lines.append(" ".join(f"[{b.label}]" for b in block.buttons))
    return "\n".join(lines)


# What every front end says when something breaks on our side.
OOPS = "Something went wrong on my side and nothing was saved. Please try again in a moment."
UNAVAILABLE = ("I can't reach my database right now, so I couldn't do that. Give me a minute "
               "and try again.")


def error_reply(message: str, hint: str | None = None, option: str | None = None) -> Reply:
    blocks: list[Block] = [Text.of(message)]
    if hint:
        blocks.append(Context.of(hint))
    return Reply(tuple(blocks), Visibility.PRIVATE, error=True, error_option=option)


def private_reply(*blocks: Block) -> Reply:
    return Reply(tuple(blocks), Visibility.PRIVATE)


def longest_first_cap(lengths: Sequence[int], room: int, floor: int = 1) -> int:
    """The largest cap (at least ``floor``) such that every piece cut to it fits ``room`` in
    all: shortening the longest pieces first, so short ones (a closing invitation, a hint)
    stay whole. For renderers fitting many lines or paragraphs into a platform's limit."""
    low, high = floor, max(max(lengths, default=floor), floor)
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(n, cap) for n in lengths) <= room:
            low = cap
        else:
            high = cap - 1
    return low
