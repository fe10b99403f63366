"""What Discord refuses, as the loopback fake's own small rules.

The facts come from Discord's OpenAPI spec (repository ``discord/discord-api-spec``,
``specs/openapi.json``; each shape below names its schema there) and from the developer docs
(discord.com/developers/docs: the page is named where a rule comes from it). Where the two
disagree the docs win for what a *bot* may send (``content`` is 2,000 characters for a bot;
the spec's 4,000 is a Nitro user's limit) and the note says so.

Three liberties, each marked where it is taken:
- Snowflakes may be JSON integers as well as digit strings: discord.py has long sent some
  (``recipient_id``, attachment ids) as integers and Discord accepts them.
- Discord *ignores* fields it doesn't know. The fake refuses them (code ``UNKNOWN_FIELD``, the
  fake's own) so that a misspelt field fails a test instead of silently doing nothing. The few
  fields discord.py sends that the spec doesn't list are in ``TOLERATED``.
- Error codes inside ``errors`` are Discord's where known (``BASE_TYPE_MAX_LENGTH``...), else
  named in the same style. The envelope is Discord's: 400 ``{"code": 50035, "message":
  "Invalid Form Body", "errors": {<path>: {"_errors": [{"code", "message"}]}}}``; an empty
  message is Discord's 400 ``{"code": 50006, "message": "Cannot send an empty message"}``.

Entry points: ``check_commands``, ``check_callback``, ``check_message``, ``check_dm``; each
returns a ``Problems`` (falsy when the body is fine).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# -- the refusal ------------------------------------------------------------------------------

INVALID_FORM_BODY = 50035
EMPTY_MESSAGE = 50006
Path = tuple[str | int, ...]


class Problems:
    """Errors found in one body, keyed by where they are (``("embeds", 0, "title")``)."""

    def __init__(self) -> None:
        self.found: list[tuple[Path, str, str]] = []
        self.empty = False  # Discord's separate "Cannot send an empty message"

    def add(self, path: Path, code: str, message: str) -> None:
        self.found.append((path, code, message))

    def __bool__(self) -> bool:
        return bool(self.found) or self.empty

    def lines(self) -> list[str]:
        """``"embeds.0.title: Must be 256 or fewer in length."``, for assertion messages."""
        out = [f"{'.'.join(map(str, p)) or '(body)'}: {m}" for p, _, m in self.found]
        return out + (["Cannot send an empty message"] if self.empty else [])

    def codes(self) -> set[str]:
        return {code for _, code, _ in self.found} | ({"EMPTY_MESSAGE"} if self.empty else set())

    def body(self) -> dict[str, Any]:
        if not self.found and self.empty:
            return {"code": EMPTY_MESSAGE, "message": "Cannot send an empty message"}
        errors: dict[str, Any] = {}
        for path, code, message in self.found:
            node = errors
            for part in path:
                node = node.setdefault(str(part), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return {"code": INVALID_FORM_BODY, "message": "Invalid Form Body", "errors": errors}


# -- a small schema language ------------------------------------------------------------------
# Every type admits JSON null unless ``nullable=False`` (the spec's ``["string", "null"]``).


@dataclass(frozen=True)
class Str:
    min: int = 0
    max: int | None = None
    nullable: bool = True


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None
    nullable: bool = True


@dataclass(frozen=True)
class Num:
    nullable: bool = True


@dataclass(frozen=True)
class Bool:
    nullable: bool = True


@dataclass(frozen=True)
class Snowflake:
    """SnowflakeType: ``^(0|[1-9][0-9]*)$``; an integer too (see the module doc)."""

    nullable: bool = True


@dataclass(frozen=True)
class Bits:
    """A permission bit set: docs "Permissions" (a string, as an integer also accepted)."""

    nullable: bool = True


@dataclass(frozen=True)
class OneOf:
    values: frozenset[Any]
    nullable: bool = True


@dataclass(frozen=True)
class ListOf:
    item: Any
    min: int = 0
    max: int | None = None
    unique: bool = False
    nullable: bool = True


@dataclass(frozen=True)
class MapOf:
    """An object of free keys (localizations: keys are locales, at most 34 of them)."""

    value: Any
    max: int | None = None
    nullable: bool = True


@dataclass(frozen=True)
class Anything:
    """A part the fake doesn't model (a poll, a message reference): any object."""

    nullable: bool = True


@dataclass(frozen=True)
class Either:
    """Valid when either spec accepts the value (the spec's ``oneOf``)."""

    first: Any
    second: Any
    nullable: bool = True


@dataclass(frozen=True)
class Shape:
    schema: str  # the spec's schema name, for messages and for readers
    fields: dict[str, Any]
    required: frozenset[str] = frozenset()
    nullable: bool = True


def _len_message(lo: int, hi: int | None) -> tuple[str, str]:
    if hi is None:
        return "BASE_TYPE_MIN_LENGTH", f"Must be {lo} or more in length."
    if lo == 0:
        return "BASE_TYPE_MAX_LENGTH", f"Must be {hi} or fewer in length."
    return "BASE_TYPE_BAD_LENGTH", f"Must be between {lo} and {hi} in length."


def _is_snowflake(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value < 2**64
    return isinstance(value, str) and value.isascii() and value.isdecimal() and (
        value == "0" or not value.startswith("0")) and int(value) < 2**64


def validate(value: Any, spec: Any, path: Path, problems: Problems) -> None:
    """Check ``value`` against ``spec``, adding what is wrong to ``problems``."""
    if value is None:
        if not spec.nullable:
            problems.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    if isinstance(spec, Either):
        first = Problems()
        validate(value, spec.first, path, first)
        if first:
            validate(value, spec.second, path, problems)
    elif isinstance(spec, Anything):
        if not isinstance(value, dict):
            problems.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
    elif isinstance(spec, Str):
        if not isinstance(value, str):
            problems.add(path, "STRING_TYPE_CONVERT", f"Could not interpret {value!r} as string.")
        elif len(value) < spec.min or (spec.max is not None and len(value) > spec.max):
            problems.add(path, *_len_message(spec.min, spec.max))
    elif isinstance(spec, Int | Num):
        integral = isinstance(spec, Int)
        ok_type = (int,) if integral else (int, float)
        if isinstance(value, bool) or not isinstance(value, ok_type):
            kind = "int" if integral else "float"
            problems.add(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not {kind}.")
        elif integral and spec.min is not None and value < spec.min:
            problems.add(path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {spec.min}.")
        elif integral and spec.max is not None and value > spec.max:
            problems.add(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {spec.max}.")
    elif isinstance(spec, Bool):
        if not isinstance(value, bool):
            problems.add(path, "BOOLEAN_TYPE_CONVERT", "Must be either true or false.")
    elif isinstance(spec, Snowflake):
        if not _is_snowflake(value):
            problems.add(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not snowflake.")
    elif isinstance(spec, Bits):
        if not (_is_snowflake(value) and int(value) < 2**54):
            problems.add(path, "NUMBER_TYPE_COERCE", f"Value {value!r} is not a permission bit set.")
    elif isinstance(spec, OneOf):
        if isinstance(value, bool) or value not in spec.values:
            choices = ", ".join(map(str, sorted(spec.values, key=str)))
            problems.add(path, "BASE_TYPE_CHOICES", f"Value must be one of {{{choices}}}.")
    elif isinstance(spec, ListOf):
        if not isinstance(value, list):
            problems.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
            return
        if len(value) < spec.min or (spec.max is not None and len(value) > spec.max):
            problems.add(path, *_len_message(spec.min, spec.max))
        if spec.unique and len({repr(v) for v in value}) != len(value):
            problems.add(path, "LIST_ITEM_VALUE_DUPLICATE", "List items must be unique.")
        for i, item in enumerate(value):
            validate(item, spec.item, (*path, i), problems)
    elif isinstance(spec, MapOf):
        if not isinstance(value, dict):
            problems.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
            return
        if spec.max is not None and len(value) > spec.max:
            problems.add(path, *_len_message(0, spec.max))
        for key, item in value.items():
            validate(item, spec.value, (*path, key), problems)
    elif isinstance(spec, Shape):
        if not isinstance(value, dict):
            problems.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            return
        for name in sorted(spec.required - value.keys()):
            problems.add((*path, name), "BASE_TYPE_REQUIRED", "This field is required")
        for name, item in value.items():
            if name not in spec.fields:
                problems.add((*path, name), "UNKNOWN_FIELD",
                             f"Not a field of {spec.schema} (Discord would ignore it).")
            else:
                validate(item, spec.fields[name], (*path, name), problems)
    else:  # pragma: no cover - a mistake in the tables below
        raise TypeError(f"unknown spec {spec!r}")


def _shape(schema: str, fields: dict[str, Any], required: Iterable[str] = (), **kw: Any) -> Shape:
    return Shape(schema, fields, frozenset(required), **kw)


# -- commands: spec ApplicationCommandUpdateRequest and the ApplicationCommand*Option schemas;
#    docs "Application Commands" (naming, limits, ordering) ------------------------------------

COMMAND_TYPES = {1: "CHAT_INPUT", 2: "USER", 3: "MESSAGE", 4: "PRIMARY_ENTRY_POINT"}
# docs "Application Commands" → Registering a command: per scope, 100 chat input commands,
# 5 user commands, 5 message commands (and 1 entry point); the spec caps the PUT array at 130.
MAX_COMMANDS = {1: 100, 2: 5, 3: 5, 4: 1}
MAX_COMMANDS_PER_PUT = 130
MAX_OPTIONS = 25
MAX_CHOICES = 25
# docs "Application Commands" → Application Command Naming and limits: name, description and
# every option's and choice's name, description and value together.
MAX_COMMAND_CHARACTERS = 8000
OPTION_TYPES = {1: "SUB_COMMAND", 2: "SUB_COMMAND_GROUP", 3: "STRING", 4: "INTEGER",
                5: "BOOLEAN", 6: "USER", 7: "CHANNEL", 8: "ROLE", 9: "MENTIONABLE",
                10: "NUMBER", 11: "ATTACHMENT"}
CHANNEL_TYPES = frozenset({0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16})  # spec ChannelTypes + media
INT53 = 2**53 - 1  # spec Int53Type
_LOCALES = MapOf(Str(1, 32, nullable=False), max=34)
_LOCALE_TEXT = MapOf(Str(1, 100, nullable=False), max=34)

_CHOICE_VALUE = {3: Str(0, 100, nullable=False),  # docs: "up to 100 characters if string"
                 4: Int(-INT53, INT53, nullable=False),  # (the spec says 6,000 for a string)
                 10: Num(nullable=False)}


def _choice(option_type: int) -> Shape:
    # spec ApplicationCommandOption{String,Integer,Number}Choice
    return _shape("ApplicationCommandOptionChoice", {
        "name": Str(1, 100, nullable=False), "name_localizations": MapOf(Str(1, 100), max=34),
        "value": _CHOICE_VALUE[option_type]}, ("name", "value"), nullable=False)


_OPTION_COMMON = {"type": OneOf(frozenset(OPTION_TYPES), nullable=False),
                  "name": Str(1, 32, nullable=False), "name_localizations": _LOCALES,
                  "description": Str(1, 100, nullable=False),
                  "description_localizations": _LOCALE_TEXT, "required": Bool()}
# Extra fields each option type takes (spec ApplicationCommand<Type>Option).
_OPTION_EXTRA: dict[int, dict[str, Any]] = {
    1: {"options": ListOf(Anything(), max=MAX_OPTIONS)},
    2: {"options": ListOf(Anything(), max=MAX_OPTIONS)},
    3: {"autocomplete": Bool(), "min_length": Int(0, 6000), "max_length": Int(1, 6000),
        "choices": ListOf(_choice(3), max=MAX_CHOICES)},
    4: {"autocomplete": Bool(), "min_value": Int(-INT53, INT53), "max_value": Int(-INT53, INT53),
        "choices": ListOf(_choice(4), max=MAX_CHOICES)},
    5: {}, 6: {}, 8: {}, 9: {}, 11: {},
    7: {"channel_types": ListOf(OneOf(CHANNEL_TYPES, nullable=False), unique=True)},
    10: {"autocomplete": Bool(), "min_value": Num(), "max_value": Num(),
         "choices": ListOf(_choice(10), max=MAX_CHOICES)},
}
OPTION_SHAPES = {kind: _shape(f"ApplicationCommand{OPTION_TYPES[kind].title()}Option",
                              {**_OPTION_COMMON, **extra}, ("type", "name", "description"),
                              nullable=False)
                 for kind, extra in _OPTION_EXTRA.items()}

COMMAND = _shape("ApplicationCommandUpdateRequest", {
    "name": Str(1, 32, nullable=False), "name_localizations": _LOCALES,
    "description": Str(0, 100), "description_localizations": _LOCALE_TEXT,
    "options": ListOf(Anything(), max=MAX_OPTIONS),
    "default_member_permissions": Bits(), "dm_permission": Bool(),
    "contexts": ListOf(OneOf(frozenset({0, 1, 2}), nullable=False), min=1, unique=True),
    "integration_types": ListOf(OneOf(frozenset({0, 1}), nullable=False), min=1, unique=True),
    "handler": OneOf(frozenset({1, 2})), "type": OneOf(frozenset(COMMAND_TYPES)),
    "id": Snowflake(),
    "nsfw": Bool(),  # docs "Application Command Object" (not in the spec's request schema)
}, ("name",), nullable=False)


def is_command_name(name: str) -> bool:
    """docs "Application Commands" → Application Command Naming: CHAT_INPUT command and option
    names match ``^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$`` and use the lowercase
    variant of every letter that has one."""
    if not 1 <= len(name) <= 32:
        return False
    for char in name:
        script = unicodedata.name(char, "").split(" ")[0]
        if not (char in "-_" or unicodedata.category(char)[0] in "LN"
                or script in ("DEVANAGARI", "THAI")):
            return False
        if char.lower() != char:
            return False
    return True


def _name_rule(name: Any, path: Path, problems: Problems, what: str) -> None:
    if isinstance(name, str) and not is_command_name(name):
        problems.add(path, "APPLICATION_COMMAND_INVALID_NAME",
                     f"{what} name {name!r} is invalid: 1-32 lowercase letters, numbers, - or _.")


def _check_options(options: list[Any], path: Path, problems: Problems, depth: int) -> int:
    """One level of options (depth 0: the command's own). Returns the characters counted for
    MAX_COMMAND_CHARACTERS."""
    chars = 0
    kinds = [o.get("type") for o in options if isinstance(o, dict)]
    subs = [k for k in kinds if k in (1, 2)]
    if subs and len(subs) != len(kinds):
        problems.add(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                     "Sub-commands and groups can't be mixed with other options.")
    names: set[str] = set()
    seen_optional = False
    for i, option in enumerate(options):
        here = (*path, i)
        if not isinstance(option, dict):
            problems.add(here, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        kind = option.get("type")
        shape = OPTION_SHAPES.get(kind) if isinstance(kind, int) else None
        if shape is None:
            problems.add((*here, "type"), "BASE_TYPE_CHOICES",
                         f"Value must be one of {{{', '.join(map(str, OPTION_TYPES))}}}.")
            continue
        validate(option, shape, here, problems)
        name = option.get("name")
        _name_rule(name, (*here, "name"), problems, "Option")
        if isinstance(name, str):
            if name in names:
                problems.add((*here, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                             f"Option name {name!r} is already used at this level.")
            names.add(name)
        chars += len(str(name or "")) + len(str(option.get("description") or ""))
        # docs: required options must be listed before optional ones.
        if kind not in (1, 2):
            if option.get("required"):
                if seen_optional:
                    problems.add((*here, "required"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                 "Required options must be placed before non-required options")
            else:
                seen_optional = True
        choices = option.get("choices") or []
        if choices and option.get("autocomplete"):
            problems.add((*here, "autocomplete"), "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_CHOICES",
                         "Autocomplete can't be used with choices.")
        for choice in choices:
            if isinstance(choice, dict):
                chars += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
        for low, high in (("min_value", "max_value"), ("min_length", "max_length")):
            lo, hi = option.get(low), option.get(high)
            if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
                problems.add((*here, low), "BASE_TYPE_BAD_RANGE", f"{low} must not exceed {high}.")
        nested = option.get("options") or []
        if kind in (1, 2) and isinstance(nested, list):
            if kind == 2 and any(isinstance(o, dict) and o.get("type") != 1 for o in nested):
                problems.add((*here, "options"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                             "A sub-command group holds sub-commands only.")
            if kind == 1 and any(isinstance(o, dict) and o.get("type") in (1, 2) for o in nested):
                problems.add((*here, "options"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                             "A sub-command can't hold sub-commands.")
            if kind == 2 and depth > 0:
                problems.add(here, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                             "Sub-command groups can't be nested.")
            chars += _check_options(nested, (*here, "options"), problems, depth + 1)
    return chars


def check_command(command: Any, path: Path, problems: Problems) -> None:
    validate(command, COMMAND, path, problems)
    if not isinstance(command, dict):
        return
    kind = command.get("type") if isinstance(command.get("type"), int) else 1
    name, description = command.get("name"), command.get("description")
    if kind == 1:
        _name_rule(name, (*path, "name"), problems, "Command")
        # docs "Application Command Object": CHAT_INPUT descriptions are 1-100 characters.
        if not isinstance(description, str) or not description:
            problems.add((*path, "description"), "BASE_TYPE_BAD_LENGTH",
                         "Must be between 1 and 100 in length.")
    elif description:
        problems.add((*path, "description"), "APPLICATION_COMMAND_DESCRIPTION_INVALID",
                     "USER and MESSAGE commands have an empty description.")
    options = command.get("options") or []
    if kind != 1 and options:
        problems.add((*path, "options"), "APPLICATION_COMMAND_OPTIONS_INVALID",
                     "Only CHAT_INPUT commands take options.")
    chars = len(str(name or "")) + len(str(description or ""))
    if isinstance(options, list):
        chars += _check_options(options, (*path, "options"), problems, 0)
    if chars > MAX_COMMAND_CHARACTERS:
        problems.add(path, "APPLICATION_COMMAND_TOO_LARGE",
                     f"Command exceeds maximum size ({MAX_COMMAND_CHARACTERS})")


def check_commands(body: Any) -> Problems:
    """PUT /applications/{app}[/guilds/{guild}]/commands: spec "an array of
    ApplicationCommandUpdateRequest, maxItems 130"; docs "Application Commands" for the rest."""
    problems = Problems()
    if not isinstance(body, list):
        problems.add((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        return problems
    if len(body) > MAX_COMMANDS_PER_PUT:
        problems.add((), *_len_message(0, MAX_COMMANDS_PER_PUT))
    counts: dict[int, int] = {}
    seen: set[tuple[Any, Any]] = set()
    for i, command in enumerate(body):
        check_command(command, (i,), problems)
        if not isinstance(command, dict):
            continue
        kind = command.get("type") if isinstance(command.get("type"), int) else 1
        counts[kind] = counts.get(kind, 0) + 1
        key = (kind, command.get("name"))
        if key in seen:
            problems.add((i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME",
                         f"Application command names must be unique ({command.get('name')!r}).")
        seen.add(key)
    for kind, count in counts.items():
        limit = MAX_COMMANDS.get(kind)
        if limit is not None and count > limit:
            problems.add((), "APPLICATION_COMMANDS_TOO_MANY",
                         f"Maximum number of {COMMAND_TYPES[kind]} commands reached ({limit}).")
    return problems


# -- messages: spec MessageCreateRequest, IncomingWebhookRequestPartial and friends; docs
#    "Message Resource" (Create Message, Embed Limits, Allowed Mentions) and "Component
#    Reference" (Action Row, Button) -------------------------------------------------------

CONTENT_LIMIT = 2000  # docs "Create Message": up to 2000 characters (the spec's 4000 is Nitro's)
MAX_EMBEDS = 10
EMBED_TOTAL = 6000  # docs "Embed Limits": across every embed of the message
MAX_FIELDS = 25
MAX_ROWS = 5  # docs "Action Row": up to 5 in a message (without IS_COMPONENTS_V2)
MAX_PER_ROW = 5
MAX_ATTACHMENTS = 10
MAX_MENTION_IDS = 100  # docs "Allowed Mentions Object": users and roles, at most 100 each
EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS = 1 << 2, 1 << 12
IS_VOICE_MESSAGE, IS_COMPONENTS_V2 = 1 << 13, 1 << 15
# docs "Create Message" / "Execute Webhook" / "Interaction Response": the flags a sender may set.
CHANNEL_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
INTERACTION_FLAGS = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
EDIT_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2

_URL = Str(0, 2048)
_MEDIA = _shape("RichEmbedImage", {"url": _URL, "width": Int(), "height": Int(),
                                   "placeholder": Str(0, 64), "placeholder_version": Int(0),
                                   "is_animated": Bool(), "description": Str(0, 4096),
                                   "proxy_url": _URL})  # proxy_url: echoed back by discord.py
EMBED = _shape("RichEmbed", {
    "type": Str(), "url": _URL, "title": Str(0, 256), "color": Int(0, 0xFFFFFF),
    "timestamp": Str(), "description": Str(0, 4096),
    "author": _shape("RichEmbedAuthor", {"name": Str(0, 256), "url": _URL, "icon_url": _URL,
                                         "proxy_icon_url": _URL}),
    "image": _MEDIA, "thumbnail": _MEDIA, "video": _MEDIA,
    "footer": _shape("RichEmbedFooter", {"text": Str(0, 2048), "icon_url": _URL,
                                         "proxy_icon_url": _URL}),
    "fields": ListOf(_shape("RichEmbedField", {"name": Str(0, 256, nullable=False),
                                               "value": Str(0, 1024, nullable=False),
                                               "inline": Bool()},
                            ("name", "value"), nullable=False), max=MAX_FIELDS),
    "provider": _shape("RichEmbedProvider", {"name": Str(0, 256), "url": _URL}),
    # TOLERATED: MessageEmbedResponse carries flags; discord.py's Embed.to_dict sends them back.
    "flags": Int(),
}, nullable=False)

ALLOWED_MENTIONS = _shape("MessageAllowedMentionsRequest", {
    "parse": ListOf(OneOf(frozenset({"users", "roles", "everyone"}), nullable=False), unique=True),
    "users": ListOf(Snowflake(nullable=False), max=MAX_MENTION_IDS, unique=True),
    "roles": ListOf(Snowflake(nullable=False), max=MAX_MENTION_IDS, unique=True),
    "replied_user": Bool(),
})

ATTACHMENT = _shape("MessageAttachmentRequest", {
    "id": Snowflake(nullable=False), "filename": Str(1, 1024), "description": Str(0, 1024),
    "duration_secs": Num(), "waveform": Str(0, 400), "title": Str(0, 1024),
    "is_spoiler": Bool(), "is_remix": Bool()}, ("id",), nullable=False)

_EMOJI = _shape("ComponentEmojiForRequest", {"id": Snowflake(), "name": Str(0, 32),
                                             "animated": Bool()})
BUTTON = _shape("ButtonComponentForMessageRequest", {
    "type": OneOf(frozenset({2}), nullable=False), "id": Int(0),
    "custom_id": Str(1, 100), "style": OneOf(frozenset({1, 2, 3, 4, 5, 6}), nullable=False),
    "label": Str(0, 80), "disabled": Bool(), "url": Str(0, 512), "sku_id": Snowflake(),
    "emoji": _EMOJI}, ("type", "style"), nullable=False)
_SELECT_COMMON = {"id": Int(0), "custom_id": Str(1, 100, nullable=False),
                  "placeholder": Str(0, 150), "min_values": Int(0, 25), "max_values": Int(1, 25),
                  "disabled": Bool(), "required": Bool(),
                  "default_values": ListOf(Anything(), max=25)}
SELECTS = {
    3: _shape("StringSelectComponentForMessageRequest", {
        **_SELECT_COMMON, "type": OneOf(frozenset({3})),
        "options": ListOf(_shape("StringSelectOptionForRequest", {
            "label": Str(1, 100, nullable=False), "value": Str(1, 100, nullable=False),
            "description": Str(0, 100), "default": Bool(), "emoji": _EMOJI},
            ("label", "value"), nullable=False), min=1, max=25, nullable=False)},
        ("type", "custom_id", "options"), nullable=False),
    **{kind: _shape(f"{name}SelectComponentForMessageRequest",
                    {**_SELECT_COMMON, "type": OneOf(frozenset({kind})),
                     **({"channel_types": ListOf(OneOf(CHANNEL_TYPES))} if kind == 8 else {})},
                    ("type", "custom_id"), nullable=False)
       for kind, name in ((5, "User"), (6, "Role"), (7, "Mentionable"), (8, "Channel"))},
}
ACTION_ROW = _shape("ActionRowComponentForMessageRequest", {
    "type": OneOf(frozenset({1}), nullable=False), "id": Int(0),
    "components": ListOf(Anything(nullable=False), min=1, max=MAX_PER_ROW, nullable=False),
}, ("type", "components"), nullable=False)

_MESSAGE_PARTS = {
    "content": Str(0, CONTENT_LIMIT), "embeds": ListOf(EMBED, max=MAX_EMBEDS),
    "allowed_mentions": ALLOWED_MENTIONS, "components": ListOf(Anything(nullable=False), max=40),
    "attachments": ListOf(ATTACHMENT, max=MAX_ATTACHMENTS), "flags": Int(),
    "poll": Anything(),
}
MESSAGE_SHAPES = {
    # POST /channels/{id}/messages
    "create": _shape("MessageCreateRequest", {
        **_MESSAGE_PARTS, "sticker_ids": ListOf(Snowflake(nullable=False), max=3),
        "shared_client_theme": Anything(), "message_reference": Anything(),
        "nonce": Either(Int(-2**63, 2**63 - 1), Str(0, 25)), "enforce_nonce": Bool(),
        "tts": Bool()}, nullable=False),
    # PATCH /channels/{id}/messages/{id}
    "edit": _shape("MessageEditRequestPartial", {
        **_MESSAGE_PARTS, "sticker_ids": ListOf(Snowflake(nullable=False)),
        "tts": Bool()}, nullable=False),  # tts: TOLERATED (discord.py sends it on every edit)
    # POST /webhooks/{app}/{token} (an interaction followup)
    "webhook": _shape("IncomingWebhookRequestPartial", {
        **_MESSAGE_PARTS, "tts": Bool(), "username": Str(1, 80), "avatar_url": Str(0, 2048),
        "thread_name": Str(0, 100), "applied_tags": ListOf(Snowflake(nullable=False), max=5)},
        nullable=False),
    # PATCH /webhooks/{app}/{token}/messages/{id or @original}
    "webhook_edit": _shape("IncomingWebhookUpdateRequestPartial", {
        **_MESSAGE_PARTS, "tts": Bool()}, nullable=False),  # tts: TOLERATED, as above
    # POST /interactions/{id}/{token}/callback, types 4 and 5
    "callback": _shape("IncomingWebhookInteractionRequest", {**_MESSAGE_PARTS, "tts": Bool()},
                       nullable=False),
    # ... types 6 and 7
    "callback_update": _shape("IncomingWebhookUpdateForInteractionCallbackRequestPartial", {
        **_MESSAGE_PARTS, "tts": Bool()}, nullable=False),  # tts: TOLERATED, as above
}
MESSAGE_FLAGS = {"create": CHANNEL_FLAGS, "edit": EDIT_FLAGS, "webhook": INTERACTION_FLAGS,
                 "webhook_edit": EDIT_FLAGS, "callback": INTERACTION_FLAGS,
                 "callback_update": EDIT_FLAGS}
TOLERATED = {"RichEmbed": ("flags",), "edits and updates": ("tts",)}


def embed_length(embed: dict[str, Any]) -> int:
    """docs "Embed Limits": title, description, field names and values, footer text and author
    name count towards the 6,000."""
    def text(value: Any) -> int:
        return len(value) if isinstance(value, str) else 0
    total = text(embed.get("title")) + text(embed.get("description"))
    for item in embed.get("fields") or []:
        if isinstance(item, dict):
            total += text(item.get("name")) + text(item.get("value"))
    for part, key in (("footer", "text"), ("author", "name")):
        if isinstance(embed.get(part), dict):
            total += text(embed[part].get(key))
    return total


def _check_embeds(embeds: Any, problems: Problems) -> None:
    if not isinstance(embeds, list):
        return
    total = 0
    for i, embed in enumerate(embeds):
        if isinstance(embed, dict):
            size = embed_length(embed)
            total += size
            if size > EMBED_TOTAL:
                problems.add(("embeds", i), "BASE_TYPE_MAX_LENGTH",
                             f"Embed size exceeds maximum size of {EMBED_TOTAL}")
                return
    if total > EMBED_TOTAL:  # several embeds, each within the limit, together beyond it
        problems.add(("embeds",), "BASE_TYPE_MAX_LENGTH",
                     f"Embed size exceeds maximum size of {EMBED_TOTAL}")


def _check_allowed_mentions(mentions: Any, problems: Problems) -> None:
    """docs "Allowed Mentions Object": ``parse: ["users"]`` and a ``users`` list (or the same
    for roles) are mutually exclusive."""
    if not isinstance(mentions, dict):
        return
    parse = mentions.get("parse") or []
    for kind in ("users", "roles"):
        if isinstance(parse, list) and kind in parse and mentions.get(kind):
            problems.add(("allowed_mentions", "parse"), "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                         f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.')


def _check_button(button: dict[str, Any], path: Path, problems: Problems) -> None:
    """docs "Component Reference" → Button: non-link buttons need a custom_id and no url; link
    buttons (style 5) a url and no custom_id; premium (6) a sku_id only; all but premium a
    label or an emoji."""
    style = button.get("style")
    has = {k: button.get(k) not in (None, "") for k in ("custom_id", "url", "sku_id", "label", "emoji")}
    if style in (1, 2, 3, 4):
        if not has["custom_id"]:
            problems.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
                         "A custom id is required")
        if has["url"]:
            problems.add((*path, "url"), "BUTTON_COMPONENT_URL_NOT_ALLOWED",
                         "A url may not be specified")
    elif style == 5:
        if not has["url"]:
            problems.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        if has["custom_id"]:
            problems.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                         "A custom id may not be specified")
    elif style == 6:
        if not has["sku_id"]:
            problems.add((*path, "sku_id"), "BUTTON_COMPONENT_SKU_ID_REQUIRED", "A sku id is required")
        for key in ("custom_id", "url", "label", "emoji"):
            if has[key]:
                problems.add((*path, key), "BUTTON_COMPONENT_PREMIUM_FIELD_NOT_ALLOWED",
                             f"A premium button may not have a {key}")
    if style != 6 and not (has["label"] or has["emoji"]):
        problems.add((*path, "label"), "BUTTON_COMPONENT_LABEL_REQUIRED", "A label or an emoji is required")


def _check_components(components: Any, flags: int, problems: Problems) -> None:
    if not isinstance(components, list):
        return
    if flags & IS_COMPONENTS_V2:
        return  # layout components (v2) are not modelled: this bot sends classic rows
    if len(components) > MAX_ROWS:
        problems.add(("components",), *_len_message(0, MAX_ROWS))
    custom_ids: set[str] = set()
    for r, row in enumerate(components):
        path = ("components", r)
        if isinstance(row, dict) and row.get("type") != 1:
            problems.add((*path, "type"), "COMPONENT_LAYOUT_REQUIRES_FLAG",
                         "Top-level components must be action rows without IS_COMPONENTS_V2.")
            continue
        validate(row, ACTION_ROW, path, problems)
        children = row.get("components") if isinstance(row, dict) else None
        if not isinstance(children, list):
            continue
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in SELECTS]
        if selects and len(children) > 1:
            problems.add((*path, "components"), "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                         "A select menu takes a whole action row.")
        for c, child in enumerate(children):
            here = (*path, "components", c)
            kind = child.get("type") if isinstance(child, dict) else None
            if kind == 2:
                validate(child, BUTTON, here, problems)
                _check_button(child, here, problems)
            elif kind in SELECTS:
                validate(child, SELECTS[kind], here, problems)
            else:
                problems.add((*here, "type"), "COMPONENT_TYPE_INVALID",
                             "An action row holds buttons or one select menu.")
                continue
            cid = child.get("custom_id")
            if isinstance(cid, str):
                if cid in custom_ids:
                    problems.add((*here, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED",
                                 "Component custom id cannot be duplicated")
                custom_ids.add(cid)


def check_message(body: Any, kind: str, files: int = 0,
                  existing_attachments: Iterable[str] = ()) -> Problems:
    """A message body for ``kind`` (a key of MESSAGE_SHAPES). ``files``: how many files came
    with it (multipart ``files[n]``); ``existing_attachments``: ids an edit may keep."""
    problems = Problems()
    validate(body, MESSAGE_SHAPES[kind], (), problems)
    if not isinstance(body, dict):
        return problems
    flags = body.get("flags") if isinstance(body.get("flags"), int) else 0
    allowed = MESSAGE_FLAGS[kind]
    if flags & ~allowed:
        problems.add(("flags",), "MESSAGE_FLAGS_INVALID",
                     f"Only flags {allowed} may be set here (got {flags}).")
    _check_embeds(body.get("embeds"), problems)
    _check_allowed_mentions(body.get("allowed_mentions"), problems)
    _check_components(body.get("components"), flags, problems)
    if files > MAX_ATTACHMENTS:
        problems.add(("files",), *_len_message(0, MAX_ATTACHMENTS))
    keep = {str(a) for a in existing_attachments}
    attachments = body.get("attachments")
    for i, att in enumerate(attachments if isinstance(attachments, list) else []):
        if isinstance(att, dict) and _is_snowflake(att.get("id")):
            ident = str(att["id"])
            if ident not in keep and not int(ident) < files:
                problems.add(("attachments", i, "id"), "ATTACHMENT_NOT_FOUND",
                             f"No file uploaded as files[{ident}] and no attachment {ident}.")
    return problems


def is_empty(message: dict[str, Any], files: int = 0) -> bool:
    """docs "Create Message": at least one of content, embeds, sticker_ids, components, files
    or poll. (Whitespace alone is no content; a zero-width space is.)"""
    content = message.get("content")
    return not ((isinstance(content, str) and content.strip()) or message.get("embeds")
                or message.get("components") or message.get("sticker_ids") or message.get("poll")
                or message.get("attachments") or files)


# -- interaction responses: spec InteractionCallbackTypes and the *CallbackRequest schemas;
#    docs "Receiving and Responding" → Interaction Callback Type --------------------------------

CALLBACK_TYPES = {1: "PONG", 4: "CHANNEL_MESSAGE_WITH_SOURCE",
                  5: "DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE", 6: "DEFERRED_UPDATE_MESSAGE",
                  7: "UPDATE_MESSAGE", 8: "APPLICATION_COMMAND_AUTOCOMPLETE_RESULT", 9: "MODAL",
                  12: "LAUNCH_ACTIVITY"}
INTERACTION_TYPES = {1: "PING", 2: "APPLICATION_COMMAND", 3: "MESSAGE_COMPONENT",
                     4: "APPLICATION_COMMAND_AUTOCOMPLETE", 5: "MODAL_SUBMIT"}
# Which answers each kind of interaction takes: 6/7 only for components (and modals sent from
# one), 8 only for autocomplete, a modal never answering a modal or an autocomplete.
CALLBACKS_FOR = {1: frozenset({1}), 2: frozenset({4, 5, 9, 12}),
                 3: frozenset({4, 5, 6, 7, 9, 12}), 4: frozenset({8}),
                 5: frozenset({4, 5, 6, 7})}

AUTOCOMPLETE_DATA = _shape("InteractionApplicationCommandAutocompleteCallbackStringData", {
    "choices": ListOf(Anything(), max=MAX_CHOICES, nullable=False)}, ("choices",), nullable=False)
# docs "Component Reference" → Text Input: in a modal, one per action row.
TEXT_INPUT = _shape("TextInputComponentForModalRequest", {
    "type": OneOf(frozenset({4}), nullable=False), "custom_id": Str(1, 100, nullable=False),
    "style": OneOf(frozenset({1, 2}), nullable=False), "label": Str(1, 45, nullable=False),
    "min_length": Int(0, 4000), "max_length": Int(1, 4000), "required": Bool(),
    "value": Str(0, 4000), "placeholder": Str(0, 100), "id": Int()},
    ("type", "custom_id", "style", "label"), nullable=False)
MODAL_ROW = _shape("ActionRowComponentForModalRequest", {
    "type": OneOf(frozenset({1}), nullable=False),
    "components": ListOf(TEXT_INPUT, min=1, max=1, nullable=False), "id": Int()},
    ("type", "components"), nullable=False)
MODAL_DATA = _shape("ModalInteractionCallbackRequestData", {
    "custom_id": Str(1, 100, nullable=False), "title": Str(1, 45, nullable=False),
    "components": ListOf(MODAL_ROW, min=1, max=5, nullable=False)},
    ("custom_id", "title", "components"), nullable=False)  # docs "Modal": 1-5 components
CALLBACK = _shape("InteractionCallbackRequest", {"type": Int(nullable=False), "data": Anything()},
                  ("type",), nullable=False)


def _check_modal_values(data: dict[str, Any], problems: Problems) -> None:
    """A text input's prefilled ``value`` within its own ``max_length`` (the fake's reading:
    Discord's docs give the value 4,000 characters and say nothing of the input's limit)."""
    for i, row in enumerate(data["components"]):
        item = row["components"][0]
        value, longest = item.get("value"), item.get("max_length")
        if isinstance(value, str) and isinstance(longest, int) and len(value) > longest:
            problems.add(("components", i, "components", 0, "value"), "BASE_TYPE_BAD_LENGTH",
                         f"Must be between 0 and {longest} in length.")


def check_callback(body: Any, interaction_type: int, files: int = 0,
                   option_type: int = 3) -> Problems:
    """POST /interactions/{id}/{token}/callback for an interaction of ``interaction_type``.
    ``option_type``: the focused option's type, for autocomplete choices."""
    problems = Problems()
    validate(body, CALLBACK, (), problems)
    if problems or not isinstance(body, dict):
        return problems
    kind, data = body["type"], body.get("data")
    allowed = CALLBACKS_FOR.get(interaction_type, frozenset())
    if kind not in allowed:
        problems.add(("type",), "INTERACTION_CALLBACK_TYPE_INVALID",
                     f"{CALLBACK_TYPES.get(kind, kind)} is not a response to "
                     f"{INTERACTION_TYPES.get(interaction_type, interaction_type)} (takes "
                     f"{sorted(allowed)}).")
        return problems
    if kind in (4, 5):
        inner = check_message(data or {}, "callback", files)
        if kind == 4 and is_empty(data or {}, files):
            inner.empty = True
    elif kind in (6, 7):
        inner = check_message(data or {}, "callback_update", files)
    elif kind == 8:
        inner = Problems()
        validate(data, AUTOCOMPLETE_DATA, (), inner)
        for i, choice in enumerate((data or {}).get("choices") or []):
            validate(choice, _choice(option_type if option_type in _CHOICE_VALUE else 3),
                     ("choices", i), inner)
    elif kind == 9:
        inner = Problems()
        validate(data, MODAL_DATA, (), inner)
        if not inner:
            _check_modal_values(data, inner)
    else:
        inner = Problems()
        if data is not None:
            inner.add(("data",), "UNKNOWN_FIELD", f"{CALLBACK_TYPES[kind]} takes no data.")
    for path, code, message in inner.found:
        problems.add(("data", *path), code, message)
    problems.empty = inner.empty
    return problems


# -- opening a DM: spec CreatePrivateChannelRequest; docs "User Resource" → Create DM ----------

DM = _shape("CreatePrivateChannelRequest", {
    "recipient_id": Snowflake(nullable=False), "access_tokens": ListOf(Str()),
    "nicks": MapOf(Str())}, ("recipient_id",), nullable=False)


def check_dm(body: Any) -> Problems:
    problems = Problems()
    validate(body, DM, (), problems)
    return problems


# -- reading a channel's history: docs "Channel Resource" → Get Channel Messages ---------------

HISTORY_LIMIT = (1, 100)  # limit: 1-100, 50 when not given
HISTORY_ANCHORS = ("around", "before", "after")


def check_history_query(query: dict[str, str]) -> Problems:
    """GET /channels/{id}/messages: ``limit`` an integer from 1 to 100, ``around``/``before``/
    ``after`` snowflakes, at most one of those (the docs call them mutually exclusive; Discord
    quietly uses one, the fake refuses, code ``MUTUALLY_EXCLUSIVE``, the fake's own)."""
    problems = Problems()
    raw = query.get("limit")
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            problems.add(("limit",), "NUMBER_TYPE_COERCE", f"Value \"{raw}\" is not int.")
        else:
            low, high = HISTORY_LIMIT
            if limit < low:
                problems.add(("limit",), "NUMBER_TYPE_MIN",
                             f"int value should be greater than or equal to {low}.")
            elif limit > high:
                problems.add(("limit",), "NUMBER_TYPE_MAX",
                             f"int value should be less than or equal to {high}.")
    given = [name for name in HISTORY_ANCHORS if name in query]
    for name in given:
        if not _is_snowflake(query[name]):
            problems.add((name,), "NUMBER_TYPE_COERCE", f"Value \"{query[name]}\" is not snowflake.")
    if len(given) > 1:
        problems.add((given[1],), "MUTUALLY_EXCLUSIVE",
                     f"{', '.join(given)} are mutually exclusive: give one.")
    return problems
