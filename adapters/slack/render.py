"""``Reply`` -> Block Kit, with a plain ``text`` fallback.

Member-written text (a plain ``str`` span) is always escaped (``&``, ``<``, ``>``), so it can never
form ``<!channel>``, ``<!here>``, ``<@U…>`` or a link. A ``Mention`` span names the member
(``@ana``) without notifying them: on Slack every ``<@U…>`` in a bot's message notifies, so the
bot writes none (as on Discord, where names sit in embeds, which never notify). Images and
file attachments cannot travel inside blocks: they come back as ``Upload`` items for the
caller to send with ``files_upload_v2``. ``relabel_blocks`` rewrites the
button labels of a message already posted (a Cheer count), for ``chat.update``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.reply import (
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

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_FIELDS = 10
MAX_FIELD = 2000
MAX_BUTTON_LABEL = 75
MAX_ACTIONS = 25
MAX_FALLBACK = 3000


@dataclass(frozen=True)
class Upload:
    """A file to send next to the message (an image block or an attachment)."""

    filename: str
    data: bytes
    title: str


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, Any]]
    uploads: tuple[Upload, ...] = field(default=())

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for chat.postMessage, ack() or a response_url."""
        out: dict[str, Any] = {"text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


def escape(text: str) -> str:
    """Slack's own escaping for message text: the three characters that form control sequences."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The start of an entity ``escape`` wrote, left unfinished at the end of a cut text.
_CUT_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` with an ellipsis; never inside ``&amp;``, ``&lt;`` or ``&gt;``
    (a bare ``&`` would show as typed, ``&am…``; in plain text the cut is a few characters
    shorter, no harm)."""
    return text if len(text) <= limit else _CUT_ENTITY.sub("", text[: limit - 1]) + "…"


def _fit_lines(lines: list[str], limit: int) -> str:
    """``lines`` joined within ``limit``: when too long, the longest lines are shortened first,
    so each keeps its start and the last ones (an invitation, a hint) are not cut off."""
    text = "\n".join(lines)
    room = limit - (len(lines) - 1)  # what the lines may take besides their line breaks
    if len(text) <= limit or room < len(lines):
        return _truncate(text, limit)
    cap = longest_first_cap([len(line) for line in lines], room)
    return "\n".join(_truncate(line, cap) for line in lines)


def span_mrkdwn(span: Span, *, formatting: bool = True) -> str:
    if isinstance(span, Mention):
        return escape(f"@{span.name}")
    if isinstance(span, Strong):
        inner = escape(span.text)
        if not formatting or not inner.strip():
            return inner
        # Bold only works when the asterisks touch the words.
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()):]
        return f"{lead}*{inner.strip()}*{trail}"
    return escape(span)


def spans_mrkdwn(spans: tuple[Span, ...], *, formatting: bool = True) -> str:
    return "".join(span_mrkdwn(s, formatting=formatting) for s in spans)


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": _truncate(text, limit) or " ", "emoji": True}


def _block(block: Block) -> dict[str, Any] | None:
    if isinstance(block, Heading):
        return {"type": "header", "text": _plain(block.text, MAX_HEADER)}
    if isinstance(block, Text):
        text = spans_mrkdwn(block.spans)
        if not text.strip():
            return None
        return {"type": "section", "text": {"type": "mrkdwn", "text": _truncate(text, MAX_SECTION)}}
    if isinstance(block, Context):
        text = spans_mrkdwn(block.spans)
        if not text.strip():
            return None
        return {"type": "context",
                "elements": [{"type": "mrkdwn", "text": _truncate(text, MAX_SECTION)}]}
    if isinstance(block, Fields):
        fields = [{"type": "mrkdwn",
                   "text": _truncate(f"*{escape(k)}*\n{escape(v)}", MAX_FIELD)}
                  for k, v in block.pairs[:MAX_FIELDS]]
        return {"type": "section", "fields": fields} if fields else None
    if isinstance(block, Buttons):
        elements = []
        for button in block.buttons[:MAX_ACTIONS]:
            element: dict[str, Any] = {
                "type": "button",
                "text": _plain(button.label, MAX_BUTTON_LABEL),
                "action_id": button.action.encode(),
                "value": button.action.value,
            }
            if button.style is ButtonStyle.PRIMARY:
                element["style"] = "primary"
            elif button.style is ButtonStyle.DANGER:
                element["style"] = "danger"
            elements.append(element)
        return {"type": "actions", "elements": elements} if elements else None
    return None  # Image: sent as an upload


def fallback_text(reply: Reply) -> str:
    """The notification text: every line of the reply, escaped, without formatting."""
    lines: list[str] = []
    for block in reply.blocks:
        if isinstance(block, Heading):
            lines.append(escape(block.text))
        elif isinstance(block, (Text, Context)):
            lines.append(spans_mrkdwn(block.spans, formatting=False))
        elif isinstance(block, Fields):
            lines.extend(f"{escape(k)}: {escape(v)}" for k, v in block.pairs)
    text = "\n".join(line for line in lines if line.strip())
    return _fit_lines(text.split("\n"), MAX_FALLBACK) or "Who's Next"


def render(reply: Reply) -> SlackMessage:
    blocks: list[dict[str, Any]] = []
    uploads: list[Upload] = []
    for block in reply.blocks:
        if isinstance(block, Image):
            uploads.append(Upload(block.filename, block.data, block.alt))
            continue
        rendered = _block(block)
        if rendered is not None:
            blocks.append(rendered)
    if len(blocks) > MAX_BLOCKS:
        # Keep the buttons (usually last) reachable: drop from the middle.
        blocks = blocks[: MAX_BLOCKS - 1] + blocks[-1:]
    uploads.extend(Upload(a.filename, a.data, a.filename) for a in reply.attachments)
    return SlackMessage(fallback_text(reply), blocks, tuple(uploads))


def relabel_blocks(blocks: list[dict[str, Any]], relabel: tuple[Button, ...]
                   ) -> list[dict[str, Any]] | None:
    """A posted message's blocks (as Slack sent them back) with the ``relabel`` buttons, found by
    ``action_id``, showing their new labels; everything else as it was. ``None`` when no button
    changes (none of them is on the message, or they already read so)."""
    labels = {b.action.encode(): _plain(b.label, MAX_BUTTON_LABEL)["text"] for b in relabel}
    changed = False
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "actions" and isinstance(block.get("elements"), list):
            elements = []
            for element in block["elements"]:
                new = labels.get(element.get("action_id")) if element.get("type") == "button" else None
                old = element.get("text") or {}
                if new is not None and old.get("text") != new:
                    element = {**element, "text": {"type": "plain_text", "emoji": True, **old,
                                                   "text": new}}
                    changed = True
                elements.append(element)
            block = {**block, "elements": elements}
        out.append(block)
    return out if changed else None
