"""What Slack refuses, and what a reader sees, as small functions the fake applies.

Every check returns a list of error strings written the way Slack writes them
(``"<what is wrong> [json-pointer:/blocks/0/text/text]"``); an empty list means accepted.
``Verdict`` pairs them with the error code Slack answers with. Nothing here does I/O.

Where each fact comes from:

- [SDK] ``slack_sdk.models`` 3.48 (read in ``.venv``). ``Block.parse(d)`` and ``View(**v)``
  build the models; ``to_dict()`` runs ``validate_json()`` on every object in the tree. They
  already check: ``block_id`` <= 255; section ``text`` <= 3,000, ``fields`` <= 10 items, text or
  fields present; header ``text`` present and <= 150; context <= 10 elements; actions <= 25
  elements; input ``label`` <= 2,000, ``hint`` <= 2,000, and that its element is an input
  element; button ``text`` <= 75, ``value`` <= 2,000, ``url`` <= 3,000, ``style``
  primary/danger; every interactive element's ``action_id`` <= 255 and ``placeholder`` <= 150;
  option text <= 75 and value <= 150; select options <= 100; a view's ``type``, ``title`` 1-24,
  ``submit``/``close`` <= 24, ``private_metadata`` <= 3,000, ``callback_id`` <= 255, blocks
  1-100. They are not repeated here. What they let through and Slack refuses is checked here:
  unknown block or element types (the models skip them with a log line), unknown or empty
  properties (the models drop them silently; Slack answers "unsupported property"/"must be more
  than 0 characters" -- compared here as "the input has a key that ``to_dict()`` dropped").
- [BK] Block Kit reference, https://docs.slack.dev/reference/block-kit/blocks : 50 blocks a
  message (100 a view is [SDK]); each section field <= 2,000; ``block_id`` "unique for each
  message"; header, button text, input label/hint, placeholder and a modal's title, submit and
  close are ``plain_text`` only; context elements are text or images only; actions hold
  interactive elements only; checkboxes hold <= 10 options; ``plain_text_input``
  ``max_length``/``min_length`` <= 3,000.
- [TO] Text object, https://docs.slack.dev/reference/block-kit/composition-objects/text-object :
  ``type`` is ``plain_text`` or ``mrkdwn``; ``text`` "minimum length is 1 and maximum length is
  3000 characters".
- [MSG] chat.postMessage / chat.update / chat.postEphemeral reference
  (https://docs.slack.dev/reference/methods/chat.postMessage): errors ``invalid_blocks`` (with
  an ``errors`` list), ``invalid_blocks_format`` (blocks that aren't a JSON array of objects),
  ``no_text``, ``msg_too_long`` (``text`` over 40,000 characters).
- [VIEW] views.open reference and "Modals": a modal needs a ``title``, and a ``submit`` when it
  holds an input block; a bad view is answered ``invalid_arguments`` with the details in
  ``response_metadata.messages`` (``"[ERROR] ..."``). A ``trigger_id`` can be exchanged once
  (``exchanged_trigger_id``), an unknown one is ``invalid_trigger_id``.
- [VS] "Handling modal submissions": an ack is empty, or ``response_action`` one of
  ``errors`` / ``update`` / ``push`` / ``clear``; ``errors`` maps ``block_id`` s of input blocks
  in the submitted view to their message.
- [RU] response_url ("Handling user interaction", and slack-sdk issue java-slack-sdk#1017): a
  POST with bad blocks is answered HTTP 400 with the body ``invalid_blocks``; ``no_text`` the
  same way.
- [API] Web API basics (https://docs.slack.dev/apis/web-api/): every method needs a token
  (``not_authed``), an app-level ``xapp-`` token only for ``apps.connections.open`` and a bot
  token for the rest (``not_allowed_token_type``); a method that doesn't exist is
  ``unknown_method``; a missing required argument is ``invalid_arguments`` (``"missing required
  field: channel"``). Required arguments per method are in ``REQUIRED`` below, from each
  method's reference page.
- [SC] "Implementing slash commands": ``response_type`` ``in_channel`` shares "both the response
  message and the initial slash command entered by the user" in the channel; ``ephemeral``
  (the default) shows the answer to the member alone.
- [META] Message metadata: the chat.postMessage reference (``metadata``: "JSON object with
  event_type and event_payload fields"; errors ``invalid_metadata_format`` "Invalid metadata
  format provided" and ``invalid_metadata_schema`` "Invalid metadata schema provided"), and
  "Using message metadata" (https://docs.slack.dev/messaging/message-metadata): an
  ``event_type`` holds letters, numbers, underscores and hyphens only; "Metadata with an
  invalid ``event_type`` returns an ``invalid_metadata_schema`` warning and is ignored" (the
  message is posted without it). ``conversations.history`` returns it with
  ``include_all_metadata``.
- [HIST] conversations.history reference (https://docs.slack.dev/reference/methods/
  conversations.history): arguments ``channel`` (required), ``cursor``, ``include_all_metadata``,
  ``inclusive`` ("Include messages with oldest or latest timestamps in results. Ignored unless
  either timestamp is specified"), ``latest`` (default now), ``limit`` (default 100, "Maximum
  of 999"), ``oldest`` (default 0); messages newest first, ``has_more`` and
  ``response_metadata.next_cursor``; errors ``channel_not_found``, ``invalid_cursor``,
  ``invalid_ts_latest``, ``invalid_ts_oldest``, ``not_in_channel`` ("Only user tokens can access
  public channels they are not in": a bot token reads only conversations it is a member of,
  confirmed by Slack in slackapi/deno-slack-sdk#128); bot scopes ``channels:history`` (public
  channels), ``groups:history`` (private), ``im:history`` (DMs), ``mpim:history`` (group DMs).
  A private channel the bot isn't in doesn't exist for it: ``channel_not_found``.
- [SCOPE] Each method's reference page names its bot scope (chat.postMessage ``chat:write``,
  posting in a public channel the bot isn't in ``chat:write.public``, conversations.open
  ``im:write``, users.info ``users:read``, files.* ``files:write``); a token without it gets
  ``missing_scope``, with ``needed`` (the scope) and ``provided`` (the token's scopes) beside
  the error.
- [PROJ] Rules of this project, stricter than Slack on purpose:
  a message with ``blocks`` must carry a non-empty ``text`` (Slack accepts it with a warning;
  the text is the notification and what screen readers read); an ``action_id`` is unique in the
  whole message, not just its block as Slack requires, because the bot finds a button by
  ``action_id`` alone (``relabel_blocks``). In a view, where every input uses the same
  ``action_id`` under its own ``block_id``, Slack's per-block rule applies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.blocks.block_elements import InteractiveElement
from slack_sdk.models.views import View

# ---------------------------------------------------------------------------- limits

MESSAGE_BLOCKS = 50  # [BK]
FIELD_TEXT = 2000  # [BK]
TEXT_OBJECT = 3000  # [TO]
MESSAGE_TEXT = 40_000  # [MSG]
CHECKBOX_OPTIONS = 10  # [BK]
TEXT_INPUT_LENGTH = 3000  # [BK]
TEXT_TYPES = ("plain_text", "mrkdwn")  # [TO]
# Keys whose value is a text object that must be plain_text, anywhere. [BK]
PLAIN_ONLY_KEYS = {"label", "hint", "placeholder", "title", "submit", "close"}
# Blocks/elements whose ``text`` must be plain_text. [BK]
PLAIN_TEXT_OF = {"header", "button"}
# Keys that hold a text object. [TO]
TEXT_KEYS = PLAIN_ONLY_KEYS | {"text", "description"}
CONTEXT_ELEMENTS = {"plain_text", "mrkdwn", "image"}  # [BK]
RESPONSE_ACTIONS = {"errors", "update", "push", "clear"}  # [VS]


@dataclass(frozen=True)
class Verdict:
    """Slack's answer to a request it refuses: the error code and the details."""

    error: str
    errors: tuple[str, ...] = field(default=())
    extra: tuple[tuple[str, str], ...] = field(default=())  # fields beside ``error`` (``needed``)

    def body(self) -> dict[str, Any]:
        """The Web API answer (HTTP 200, ``ok: false``)."""
        out: dict[str, Any] = {"ok": False, "error": self.error, **dict(self.extra)}
        if self.errors:
            out["errors"] = list(self.errors)
            out["response_metadata"] = {"messages": [f"[ERROR] {e}" for e in self.errors]}
        return out


def at(pointer: str, message: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


# ---------------------------------------------------------------------------- parsing

def decode(value: Any) -> Any:
    """A form-encoded argument (``blocks``, ``view``, ``files``) arrives as a JSON string."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return _UNPARSABLE
    return value


_UNPARSABLE = object()


def blocks_format_errors(blocks: Any, pointer: str = "/blocks") -> list[str]:
    """[MSG] ``invalid_blocks_format``: blocks must be a JSON array of objects with a type."""
    if blocks is _UNPARSABLE:
        return [at(pointer, "blocks is not valid JSON")]
    if not isinstance(blocks, list):
        return [at(pointer, "blocks must be an array")]
    return [at(f"{pointer}/{i}", "a block must be an object with a type")
            for i, b in enumerate(blocks) if not isinstance(b, dict) or not isinstance(b.get("type"), str)]


# ---------------------------------------------------------------------------- one block

def _dropped(given: Any, kept: Any, pointer: str) -> list[str]:
    """[SDK]/[BK] Keys of ``given`` that the model dropped: unknown, empty or null properties,
    and elements of unknown types (parsed as ``None``)."""
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return [at(pointer, "unsupported type" if kept is None else "unsupported value")]
        out = []
        for key, value in given.items():
            if key not in kept:
                what = "must be more than 0 characters" if value in ("", [], {}) else \
                    "must not be null" if value is None else "unsupported property"
                out.append(at(f"{pointer}/{key}", what))
            else:
                out.extend(_dropped(value, kept[key], f"{pointer}/{key}"))
        return out
    if isinstance(given, list):
        if not isinstance(kept, list) or len(kept) != len(given):
            return [at(pointer, "unsupported items")]
        pairs = enumerate(zip(given, kept, strict=True))
        return [e for i, (g, k) in pairs for e in _dropped(g, k, f"{pointer}/{i}")]
    return []


def sdk_block_errors(block: dict[str, Any], pointer: str) -> list[str]:
    """[SDK] slack_sdk's own validation of one block (and everything in it)."""
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [at(f"{pointer}/type", f"unsupported type: {block.get('type')}")]
        parsed.validate_json()
        kept = parsed.to_dict()  # validates every nested element and text object
    except Exception as err:  # SlackObjectFormationError, or a missing/odd field (TypeError, ...)
        return [at(pointer, f"{type(err).__name__}: {err}")]
    errors = _dropped(block, kept, pointer)
    if block.get("type") == "actions":
        errors += [at(f"{pointer}/elements/{i}", "must be an interactive element")
                   for i, e in enumerate(getattr(parsed, "elements", None) or [])
                   if e is not None and not isinstance(e, InteractiveElement)]
    return errors


def text_object_errors(node: Any, pointer: str, parent: str | None = None) -> list[str]:
    """[TO]/[BK] Every text object in ``node``: plain_text or mrkdwn, 1-3,000 characters,
    plain_text where Block Kit says so."""
    out: list[str] = []
    if isinstance(node, list):
        for i, item in enumerate(node):
            out += text_object_errors(item, f"{pointer}/{i}", parent)
        return out
    if not isinstance(node, dict):
        return out
    kind = node.get("type") if isinstance(node.get("type"), str) else parent
    for key, value in node.items():
        where = f"{pointer}/{key}"
        if key in TEXT_KEYS and isinstance(value, dict):
            out += _one_text_object(value, where, plain_only=key in PLAIN_ONLY_KEYS
                                    or (key == "text" and kind in PLAIN_TEXT_OF))
        elif key in ("fields", "elements") and isinstance(value, list) and kind in ("section", "context"):
            for i, item in enumerate(value):
                if isinstance(item, dict) and item.get("type") in TEXT_TYPES:
                    out += _one_text_object(item, f"{where}/{i}", plain_only=False)
                else:
                    out += text_object_errors(item, f"{where}/{i}", kind)
        elif isinstance(value, (dict, list)):
            out += text_object_errors(value, where, kind)
    return out


def _one_text_object(obj: dict[str, Any], pointer: str, *, plain_only: bool) -> list[str]:
    kind, text = obj.get("type"), obj.get("text")
    if kind not in TEXT_TYPES:
        return [at(f"{pointer}/type", f"must be one of {', '.join(TEXT_TYPES)}")]
    if plain_only and kind != "plain_text":
        return [at(f"{pointer}/type", "must be plain_text")]
    if not isinstance(text, str) or not text:
        return [at(f"{pointer}/text", "must be more than 0 characters")]
    if len(text) > TEXT_OBJECT:
        return [at(f"{pointer}/text", f"must be less than {TEXT_OBJECT + 1} characters")]
    return []


def block_rules(block: dict[str, Any], pointer: str) -> list[str]:
    """[BK] The per-block limits the models don't check."""
    kind = block.get("type")
    out: list[str] = []
    if kind == "section":
        for i, f in enumerate(block.get("fields") or []):
            if isinstance(f, dict) and isinstance(f.get("text"), str) and len(f["text"]) > FIELD_TEXT:
                out.append(at(f"{pointer}/fields/{i}/text", f"must be less than {FIELD_TEXT + 1} characters"))
    if kind == "context":
        for i, e in enumerate(block.get("elements") or []):
            if isinstance(e, dict) and e.get("type") not in CONTEXT_ELEMENTS:
                out.append(at(f"{pointer}/elements/{i}/type", "must be a text object or an image"))
    for element, where in _elements(block, pointer):
        if element.get("type") in ("checkboxes", "radio_buttons") and \
                len(element.get("options") or []) > CHECKBOX_OPTIONS:
            out.append(at(f"{where}/options", f"must have no more than {CHECKBOX_OPTIONS} items"))
        if element.get("type") == "plain_text_input":
            for key in ("max_length", "min_length"):
                value = element.get(key)
                if value is not None and not (isinstance(value, int) and 0 <= value <= TEXT_INPUT_LENGTH):
                    out.append(at(f"{where}/{key}", f"must be between 0 and {TEXT_INPUT_LENGTH}"))
    return out


def _elements(block: dict[str, Any], pointer: str) -> Iterable[tuple[dict[str, Any], str]]:
    """The interactive elements of a block, with their pointers."""
    for i, e in enumerate(block.get("elements") or []) if block.get("type") == "actions" else ():
        if isinstance(e, dict):
            yield e, f"{pointer}/elements/{i}"
    for key in ("element", "accessory"):
        if isinstance(block.get(key), dict):
            yield block[key], f"{pointer}/{key}"


# ---------------------------------------------------------------------------- block lists

def blocks_errors(blocks: list[dict[str, Any]], *, pointer: str = "/blocks", limit: int | None,
                  action_ids_per: str) -> list[str]:
    """All block rules for a list of blocks (already well-formed, see ``blocks_format_errors``).
    ``action_ids_per``: ``"message"`` ([PROJ]) or ``"block"`` (Slack's own rule)."""
    out: list[str] = []
    if limit is not None and len(blocks) > limit:
        out.append(at(pointer, f"must have no more than {limit} items"))
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        out += sdk_block_errors(block, where)
        out += text_object_errors(block, where)
        out += block_rules(block, where)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                out.append(at(f"{where}/block_id", f"duplicate block_id: {block_id}"))  # [BK]
            block_ids.add(block_id)
        if action_ids_per == "block":
            action_ids = set()
        for element, at_element in _elements(block, where):
            action_id = element.get("action_id")
            if isinstance(action_id, str):
                if action_id in action_ids:
                    out.append(at(f"{at_element}/action_id", f"duplicate action_id: {action_id}"))
                action_ids.add(action_id)
    return list(dict.fromkeys(out))  # one rule found by two checks is one error


# ---------------------------------------------------------------------------- messages

def message_verdict(payload: dict[str, Any], *, content_required: bool = True) -> Verdict | None:
    """A message (chat.postMessage/update/postEphemeral, a response_url POST, a slash command's
    ack): [MSG] blocks and text rules, [PROJ] text beside blocks. ``None`` when accepted."""
    blocks = decode(payload["blocks"]) if "blocks" in payload else None
    text = payload.get("text")
    if blocks is not None:
        problems = blocks_format_errors(blocks)
        if problems:
            return Verdict("invalid_blocks_format", tuple(problems))
    if text is not None and not isinstance(text, str):
        return Verdict("invalid_arguments", (at("/text", "must be a string"),))
    if isinstance(text, str) and len(text) > MESSAGE_TEXT:
        return Verdict("msg_too_long", (at("/text", f"must be less than {MESSAGE_TEXT + 1} characters"),))
    if content_required:
        if blocks and not (text or "").strip():
            return Verdict("no_text", (at("/text", "text is required beside blocks (project rule)"),))
        if not blocks and not (text or "").strip() and not payload.get("attachments"):
            return Verdict("no_text", (at("/text", "a message needs text or blocks"),))
    if blocks:
        problems = blocks_errors(blocks, limit=MESSAGE_BLOCKS, action_ids_per="message")
        if problems:
            return Verdict("invalid_blocks", tuple(problems))
    return None


def response_url_verdict(payload: Any) -> Verdict | None:
    """[RU] A POST to a response_url. ``delete_original`` needs nothing else."""
    if not isinstance(payload, dict):
        return Verdict("invalid_payload", (at("", "must be a JSON object"),))
    return message_verdict(payload, content_required=not payload.get("delete_original"))


def slash_ack_verdict(body: Any) -> Verdict | None:
    """[SC] A slash command's ack: empty, or a message."""
    if body in (None, {}, ""):
        return None
    if not isinstance(body, dict):
        return Verdict("invalid_payload", (at("", "must be a JSON object"),))
    return message_verdict(body)


def action_ack_verdict(body: Any) -> Verdict | None:
    """A button press's ack: Slack ignores its body, but a message in it must still be valid."""
    if not body or not isinstance(body, dict) or not ({"blocks", "text"} & set(body)):
        return None
    return message_verdict(body)


# ---------------------------------------------------------------------------- views

def view_errors(view: Any, pointer: str = "/view") -> list[str]:
    """[SDK]/[VIEW]/[BK] A modal as views.open (or an ``update``/``push`` ack) sends it."""
    if view is _UNPARSABLE or not isinstance(view, dict):
        return [at(pointer, "view must be a JSON object")]
    blocks = view.get("blocks")
    problems = blocks_format_errors(blocks, f"{pointer}/blocks")
    if problems:
        return problems
    out: list[str] = []
    try:
        # The view's own fields (its blocks stand in as dividers: they are checked below).
        View(**{**view, "blocks": [{"type": "divider"}] * len(blocks)}).validate_json()
    except Exception as err:
        out.append(at(pointer, f"{type(err).__name__}: {err}"))
    out += [at(f"{pointer}/{k}", "unsupported property") for k in view if k not in View.attributes]
    if view.get("type") != "modal":
        out.append(at(f"{pointer}/type", "must be modal"))
    if not view.get("title"):
        out.append(at(f"{pointer}/title", "a modal needs a title"))
    if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        out.append(at(f"{pointer}/submit", "a modal with input blocks needs submit"))
    out += text_object_errors({k: view[k] for k in ("title", "submit", "close") if k in view}, pointer)
    out += blocks_errors(blocks, pointer=f"{pointer}/blocks", limit=None, action_ids_per="block")
    return out


def view_submission_ack_errors(body: Any, view: dict[str, Any]) -> list[str]:
    """[VS] The ack of a view_submission, against the view that was submitted."""
    if body in (None, {}, ""):
        return []
    if not isinstance(body, dict) or body.get("response_action") not in RESPONSE_ACTIONS:
        return [at("/response_action", f"must be one of {', '.join(sorted(RESPONSE_ACTIONS))}")]
    action = body["response_action"]
    if action == "errors":
        errors = body.get("errors")
        if not isinstance(errors, dict) or not errors:
            return [at("/errors", "must map block_ids to messages")]
        inputs = {b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"}
        out = [at(f"/errors/{k}", f"no input block with block_id {k!r} in the view")
               for k in errors if k not in inputs]
        out += [at(f"/errors/{k}", "must be a non-empty string")
                for k, v in errors.items() if not isinstance(v, str) or not v]
        return out
    if action in ("update", "push"):
        return view_errors(body.get("view"))
    return []


# ---------------------------------------------------------------------------- Web API calls

# method -> groups of arguments, each group needing at least one present (and non-empty). [API]
REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "auth.test": (),
    "apps.connections.open": (),
    "chat.postMessage": (("channel",),),
    "chat.update": (("channel",), ("ts",)),
    "chat.postEphemeral": (("channel",), ("user",)),
    "views.open": (("trigger_id", "interactivity_pointer"), ("view",)),
    "conversations.open": (("users", "channel"),),
    "users.info": (("user",),),
    "files.getUploadURLExternal": (("filename",), ("length",)),
    "files.completeUploadExternal": (("files",),),
    "conversations.history": (("channel",),),
}
# Methods that carry a message. [MSG]
MESSAGE_METHODS = {"chat.postMessage", "chat.update", "chat.postEphemeral"}
APP_TOKEN_METHODS = {"apps.connections.open"}  # [API]
# [OAUTH] https://docs.slack.dev/reference/methods/oauth.v2.access: no token; the app's client
# id and secret (HTTP Basic preferred) with the code.
CLIENT_AUTH_METHODS = {"oauth.v2.access"}
METADATA_METHODS = {"chat.postMessage", "chat.update"}  # [META]
EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+\Z")  # [META]

# The bot scope each method needs (any one of them). [SCOPE] conversations.history's depends on
# the kind of conversation: ``HISTORY_SCOPES``. [HIST]
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.open": ("im:write",),
    "users.info": ("users:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
HISTORY_SCOPES = {"public": "channels:history", "private": "groups:history", "im": "im:history",
                  "mpim": "mpim:history"}
# What the fake's bot token holds unless a test revokes some: the manifest's scopes.
DEFAULT_BOT_SCOPES = frozenset({
    "commands", "chat:write", "chat:write.public", "im:write", "users:read", "files:write",
    "channels:history", "groups:history", "im:history"})


def scopes_needed(method: str, kind: str | None = None) -> tuple[str, ...]:
    """[SCOPE]/[HIST] The bot scopes of which ``method`` needs one (``kind``: the conversation's
    kind, ``public``/``private``/``im``/``mpim``, for conversations.history)."""
    if method == "conversations.history":
        return (HISTORY_SCOPES[kind or "public"],)
    return METHOD_SCOPES.get(method, ())


def scope_verdict(needed: tuple[str, ...], granted: Iterable[str]) -> Verdict | None:
    """[SCOPE] ``missing_scope`` naming the scope needed and the scopes the token has."""
    granted = set(granted)
    if not needed or granted & set(needed):
        return None
    return Verdict("missing_scope", extra=(("needed", ",".join(needed)),
                                           ("provided", ",".join(sorted(granted)))))


def metadata_verdict(raw: Any) -> Verdict | None:
    """[META] ``metadata`` must be a JSON object (``invalid_metadata_format``) holding a string
    ``event_type`` and an object ``event_payload`` (``invalid_metadata_schema``)."""
    value = decode(raw)
    if not isinstance(value, dict):
        return Verdict("invalid_metadata_format", (at("/metadata", "must be a JSON object"),))
    problems = []
    if not isinstance(value.get("event_type"), str) or not value["event_type"]:
        problems.append(at("/metadata/event_type", "must be a non-empty string"))
    if not isinstance(value.get("event_payload"), dict):
        problems.append(at("/metadata/event_payload", "must be an object"))
    return Verdict("invalid_metadata_schema", tuple(problems)) if problems else None


def metadata_warning(raw: Any) -> str | None:
    """[META] Metadata Slack accepts but ignores, with a warning: an ``event_type`` holding
    anything but letters, numbers, ``_`` and ``-``. Call after ``metadata_verdict`` passed."""
    value = decode(raw)
    if isinstance(value, dict) and not EVENT_TYPE.match(str(value.get("event_type"))):
        return "invalid_metadata_schema"
    return None


def history_bound(value: Any, error: str, default: float) -> float:
    """[HIST] ``oldest``/``latest``: a Unix timestamp (``"1710000000.000100"``), else ``error``."""
    if value in (None, ""):
        return default
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(error) from None
    if out != out or out < 0:  # NaN or negative
        raise ValueError(error)
    return out


def truthy(value: Any) -> bool:
    """A boolean argument as slack-sdk sends it (``"1"``/``"0"`` in a query) or as JSON."""
    return value is True or str(value).lower() in ("1", "true")


def token_of(args: dict[str, Any], headers: dict[str, str]) -> str | None:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if auth.startswith("Bearer ") and auth[7:].strip():
        return auth[7:].strip()
    token = args.get("token")
    return token if isinstance(token, str) and token else None


def missing(method: str, args: dict[str, Any]) -> list[str]:
    return [f"missing required field: {group[0]}" for group in REQUIRED.get(method, ())
            if not any(args.get(name) not in (None, "", [], {}) for name in group)]


def api_verdict(method: str, args: dict[str, Any], headers: dict[str, str],
                known: Callable[[str], bool]) -> Verdict | None:
    """[API] Everything about a Web API call that needs no state: the method exists (``known``),
    the token fits, the required arguments are there, and the message or view is valid."""
    if not known(method):
        return Verdict("unknown_method")
    if method in CLIENT_AUTH_METHODS:
        return None  # the app's client id and secret, checked with the code
    token = token_of(args, headers)
    if token is None:
        return Verdict("not_authed")
    if (method in APP_TOKEN_METHODS) != token.startswith("xapp-"):
        return Verdict("not_allowed_token_type")
    absent = missing(method, args)
    if absent:
        return Verdict("invalid_arguments", tuple(absent))
    if method in MESSAGE_METHODS:
        verdict = message_verdict(args)
        if verdict is None and method in METADATA_METHODS and "metadata" in args:
            verdict = metadata_verdict(args["metadata"])
        return verdict
    if method == "views.open":
        problems = view_errors(decode(args["view"]))
        return Verdict("invalid_arguments", tuple(problems)) if problems else None
    if method == "files.getUploadURLExternal":
        try:
            ok = int(args["length"]) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            return Verdict("invalid_arguments", (at("/length", "must be a positive integer"),))
    if method == "files.completeUploadExternal":
        files = decode(args["files"])
        if not isinstance(files, list) or not files or not all(
                isinstance(f, dict) and isinstance(f.get("id"), str) for f in files):
            return Verdict("invalid_arguments", (at("/files", "must be a JSON array of {id, title}"),))
    return None


# ---------------------------------------------------------------------------- what a reader sees

def visible_lines(blocks: Any, text: str | None) -> list[str]:
    """Everything a member can read in a message: the text of every block (header, section text
    and fields, context text, input labels, button labels, a section's button), then the
    ``text`` fallback (shown in notifications, and in the channel when there are no blocks)."""
    lines: list[str] = []

    def add(obj: Any) -> None:
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"]:
            lines.append(obj["text"])

    for block in blocks if isinstance(blocks, list) else ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in ("header", "section"):
            add(block.get("text"))
            for f in block.get("fields") or []:
                add(f)
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                add(accessory.get("text"))
        elif kind == "context":
            for e in block.get("elements") or []:
                if isinstance(e, dict) and e.get("type") in TEXT_TYPES:
                    add(e)
        elif kind == "actions":
            for e in block.get("elements") or []:
                if isinstance(e, dict):
                    add(e.get("text") or e.get("placeholder"))
        elif kind == "input":
            add(block.get("label"))
        elif kind == "image":
            add(block.get("title"))
    if text:
        lines.append(text)
    return lines
