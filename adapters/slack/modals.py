"""Modals built from the catalogue, and their submissions read back into raw options.

Each option is one input block whose ``block_id`` is the option's name, so an error the core
reports on an option (``Reply.error_option``) lands on that field (``response_action: errors``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.commands import YES_WORDS, CommandSpec, OptionSpec, OptionType
from bot.ids import MemberRef, Platform

CALLBACK_ID = "whosnext_modal"
ACTION_ID = "value"
MAX_TEXT_INPUT = 3000  # Slack's limit for plain_text_input.max_length
MAX_TITLE = 24
MAX_METADATA = 3000  # Slack's limit for a view's private_metadata

SUBMIT_LABELS = {"rejected": "Log it", "accepted": "Log it", "pending": "Log it",
                 "who-next": "Promise it"}


@dataclass(frozen=True)
class ModalContext:
    """What the submission needs to answer where the command was sent (``private_metadata``).

    ``fixed``: options the form sends as they are without showing them (``Reply.form_fixed``);
    ``filled``: the form started filled in (``Reply.form_values`` or ``fixed``), so fields that
    come back empty are named in the command's ``clears`` option."""

    command: str
    channel_id: str | None = None
    response_url: str | None = None
    fixed: Mapping[str, str] = field(default_factory=dict)
    filled: bool = False

    def encode(self) -> str:
        data: dict[str, Any] = {"c": self.command, "ch": self.channel_id, "u": self.response_url,
                                "f": dict(self.fixed), "p": 1 if self.filled else None}
        return json.dumps({k: v for k, v in data.items() if v}, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str | None) -> ModalContext | None:
        try:
            data = json.loads(raw or "")
        except (ValueError, TypeError, RecursionError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        channel, url, fixed = data.get("ch"), data.get("u"), data.get("f")
        if not isinstance(fixed, dict):
            fixed = {}
        return cls(data["c"], channel if isinstance(channel, str) else None,
                   url if isinstance(url, str) else None,
                   {k: v for k, v in fixed.items() if isinstance(k, str) and isinstance(v, str)},
                   bool(data.get("p")) or bool(fixed))


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


def _prefill(opt: OptionSpec, element: dict[str, Any], raw: str | None) -> dict[str, Any]:
    """``element`` starting with ``raw`` (an option's raw text), the way Slack's element takes
    it; as it was when there's nothing to show or the value doesn't fit the element."""
    if raw is None or not raw.strip():
        return element
    value = raw.strip()
    kind = element.get("type")
    if kind == "plain_text_input":
        # A value stored longer than the input now takes still shows whole (Slack refuses an
        # initial value longer than max_length).
        longest = min(max(int(element.get("max_length") or 0), len(raw)), MAX_TEXT_INPUT)
        return dict(element, initial_value=raw[:MAX_TEXT_INPUT], max_length=longest)
    if kind == "static_select":
        match = [o for o in element.get("options", []) if o.get("value") == value]
        return dict(element, initial_option=match[0]) if match else element
    if kind == "checkboxes":
        if value.lower() in YES_WORDS:
            return dict(element, initial_options=list(element.get("options", [])[:1]))
        return element
    if kind == "number_input":
        try:
            number = int(value)
        except ValueError:
            return element
        if opt.min_value is not None and number < opt.min_value:
            return element
        if opt.max_value is not None and number > opt.max_value:
            return element
        return dict(element, initial_value=str(number))
    if kind == "datepicker":
        return dict(element, initial_date=value) if _is_date(value) else element
    if kind == "users_select":
        return dict(element, initial_user=value.removeprefix("<@").removesuffix(">"))
    if kind == "conversations_select":
        return dict(element, initial_conversation=value)
    return element


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def shown_options(spec: CommandSpec, fixed: Mapping[str, str] = {}, filled: bool = False
                  ) -> list[OptionSpec]:
    """The options a form shows: not the fixed ones, nor on a filled-in form ``spec.clears``."""
    hidden = set(fixed)
    if filled and spec.clears:
        hidden.add(spec.clears)
    return [o for o in spec.options if o.name not in hidden]


def build_modal(spec: CommandSpec, context: ModalContext, *,
                values: Mapping[str, str] = {}, fixed: Mapping[str, str] = {}) -> dict[str, Any]:
    """The command's form. ``values``: what fields start with (raw text by option name);
    ``fixed``: options sent as they are without a field, carried in ``private_metadata``."""
    fixed = {**context.fixed, **fixed}
    filled = context.filled or bool(values) or bool(fixed)
    context = ModalContext(context.command, context.channel_id, context.response_url, fixed,
                           filled)
    metadata = context.encode()
    if len(metadata) > MAX_METADATA:  # the response_url is the one thing that can go
        context = ModalContext(context.command, context.channel_id, None, fixed, filled)
        metadata = context.encode()
    blocks = []
    for opt in shown_options(spec, fixed, filled):
        element = _prefill(opt, dict(_element(opt), action_id=ACTION_ID), values.get(opt.name))
        blocks.append({"type": "input", "block_id": opt.name, "label": _plain(_label(opt)),
                       "optional": not opt.required, "element": element})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata[:MAX_METADATA],
        "title": _plain(f"/{spec.name}"[:MAX_TITLE]),
        "submit": _plain(SUBMIT_LABELS.get(spec.name, "Send")),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }


def options_from_view(spec: CommandSpec, values: dict[str, Any],
                      context: ModalContext | None = None) -> dict[str, object]:
    """Raw options from ``view.state.values``; empty optional fields are left out. With the
    form's ``context``: its fixed options too, and on a filled-in form ``spec.clears`` naming
    the fields shown that came back empty."""
    fixed = dict(context.fixed) if context is not None else {}
    filled = context is not None and context.filled
    out: dict[str, object] = {}
    emptied: list[str] = []
    for opt in shown_options(spec, fixed, filled):
        block = values.get(opt.name)
        state = (block.get(ACTION_ID) if isinstance(block, dict) else None) or {}
        if not isinstance(state, dict):
            state = {}
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
        else:  # shown and left empty (or unticked)
            emptied.append(opt.name)
    out.update(fixed)
    if filled and spec.clears and emptied:
        given = str(out.get(spec.clears) or "")
        out[spec.clears] = ",".join([*filter(None, given.split(",")), *emptied])
    return out
