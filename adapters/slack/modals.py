"""Modals built from the catalogue, and their submissions read back into raw options.

Each option is one input block whose ``block_id`` is the option's name, so an error the core
reports on an option (``Reply.error_option``) lands on that field (``response_action: errors``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.commands import CommandSpec, OptionSpec, OptionType
from bot.ids import MemberRef, Platform

CALLBACK_ID = "whosnext_modal"
ACTION_ID = "value"
MAX_TEXT_INPUT = 3000  # Slack's limit for plain_text_input.max_length
MAX_TITLE = 24

SUBMIT_LABELS = {"rejected": "Log it", "accepted": "Log it", "pending": "Log it",
                 "who-next": "Promise it"}


@dataclass(frozen=True)
class ModalContext:
    """What the submission needs to answer where the command was sent (``private_metadata``)."""

    command: str
    channel_id: str | None = None
    response_url: str | None = None

    def encode(self) -> str:
        data = {"c": self.command, "ch": self.channel_id, "u": self.response_url}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def decode(cls, raw: str | None) -> ModalContext | None:
        try:
            data = json.loads(raw or "")
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        return cls(data["c"], data.get("ch"), data.get("u"))


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _label(opt: OptionSpec) -> str:
    return opt.description[:2000]


def _element(opt: OptionSpec) -> dict[str, Any]:
    if opt.type is OptionType.INT:
        element: dict[str, Any] = {"type": "number_input", "is_decimal_allowed": False}
        if opt.min_value is not None:
            element["min_value"] = str(opt.min_value)
        if opt.max_value is not None:
            element["max_value"] = str(opt.max_value)
        return element
    if opt.type is OptionType.CHOICE:
        return {"type": "static_select", "placeholder": _plain("Choose…"),
                "options": [{"text": _plain(c), "value": c} for c in opt.choices]}
    if opt.type is OptionType.BOOL:
        return {"type": "checkboxes",
                "options": [{"text": _plain("Yes"), "value": "true",
                             "description": _plain(opt.description[:75])}]}
    if opt.type is OptionType.DATE:
        return {"type": "datepicker"}
    if opt.type is OptionType.MEMBER:
        return {"type": "users_select", "placeholder": _plain("Pick someone")}
    if opt.type is OptionType.CHANNEL:
        # Channels only: a check-in can't go to a DM or a group DM.
        return {"type": "conversations_select", "placeholder": _plain("Pick a channel"),
                "default_to_current_conversation": True,
                "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    element = {"type": "plain_text_input", "max_length": min(opt.max_length, MAX_TEXT_INPUT)}
    if opt.max_length > 200:
        element["multiline"] = True
    if opt.example:
        element["placeholder"] = _plain(f"e.g. {opt.example.strip(chr(34))}"[:150])
    return element


def build_modal(spec: CommandSpec, context: ModalContext) -> dict[str, Any]:
    blocks = []
    for opt in spec.options:
        element = dict(_element(opt), action_id=ACTION_ID)
        blocks.append({"type": "input", "block_id": opt.name, "label": _plain(_label(opt)),
                       "optional": not opt.required, "element": element})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": context.encode(),
        "title": _plain(f"/{spec.name}"[:MAX_TITLE]),
        "submit": _plain(SUBMIT_LABELS.get(spec.name, "Send")),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def options_from_view(spec: CommandSpec, values: dict[str, Any]) -> dict[str, object]:
    """Raw options from ``view.state.values``; empty optional fields are left out."""
    out: dict[str, object] = {}
    for opt in spec.options:
        state = (values.get(opt.name) or {}).get(ACTION_ID) or {}
        value: object | None
        if opt.type is OptionType.CHOICE:
            value = (state.get("selected_option") or {}).get("value")
        elif opt.type is OptionType.BOOL:
            value = True if state.get("selected_options") else None
        elif opt.type is OptionType.DATE:
            value = state.get("selected_date")
        elif opt.type is OptionType.MEMBER:
            user = state.get("selected_user")
            value = MemberRef(Platform.SLACK, user) if user else None
        elif opt.type is OptionType.CHANNEL:
            value = state.get("selected_conversation") or state.get("selected_channel")
        else:
            value = state.get("value")
        if isinstance(value, str) and not value.strip():
            value = None
        if value is not None:
            out[opt.name] = value
    return out
