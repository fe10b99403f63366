"""Slack's rules for an app manifest, written as our own code, so a test can say which rule a
manifest breaks without a network, a JSON Schema library or a copy of Slack's schema.

Where the rules come from
-------------------------
* SCHEMA: Slack's manifest JSON schema, github.com/slackapi/manifest-schema at commit
  c50cfa8508ff1017344550a5e5fb29a1416e5b98, ``schemas/manifest.schema.1.0.0.json`` (the one
  ``manifest.schema.json`` applies when ``_metadata.major_version`` is 1 or absent, as in ours).
  ``manifest.schema.2.0.0.json`` has the same keys and numbers for every object checked here.
  Only the facts are carried over (keys, types, lengths, counts, patterns), not the file.
* SLACK: what Slack checks on top of the schema when it takes a manifest (App manifest
  reference, docs.slack.dev/reference/app-manifest, and the Socket Mode / slash command docs):
  without Socket Mode Slack must have somewhere to send requests, so every slash command needs
  a ``url`` and enabled interactivity a ``request_url``; with Socket Mode those are optional.
* OURS: sanity rules of this project, not Slack's words; each one says so where it is checked.

The parts of a manifest this bot never uses (``functions``, ``workflows``, ``datastores``,
``types``, ``external_auth_providers``, ``mcp_servers``, ``features.functions``) are only
checked for their JSON type, not field by field.

``manifest_problems(manifest)`` returns readable problems, ``[]`` for a manifest that passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# --- a tiny rule language -------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    min_len: int = 0
    max_len: int | None = None
    pattern: str | None = None  # searched, as JSON Schema does; ours are anchored
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Bool:
    pass


@dataclass(frozen=True)
class Int:
    pass


@dataclass(frozen=True)
class Arr:
    items: Rule
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False


@dataclass(frozen=True)
class Obj:
    fields: dict[str, Rule] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    closed: bool = True  # the schema's "additionalProperties": false


@dataclass(frozen=True)
class AnyObj:
    """An object whose inside is not checked here."""


Rule = Str | Bool | Int | Arr | Obj | AnyObj

_TYPE_NAMES = {Str: "a string", Bool: "true or false", Int: "an integer", Arr: "a list",
               Obj: "an object", AnyObj: "an object"}


def _check(value: Any, rule: Rule, path: str, out: list[str]) -> None:
    path = path or "manifest"
    if isinstance(rule, Str):
        if not isinstance(value, str):
            out.append(f"{path}: must be {_TYPE_NAMES[Str]}, not {_json_type(value)}")
            return
        if len(value) < rule.min_len:
            out.append(f"{path}: {value!r} is {len(value)} characters, at least {rule.min_len}")
        if rule.max_len is not None and len(value) > rule.max_len:
            out.append(f"{path}: {len(value)} characters, at most {rule.max_len} allowed")
        if rule.pattern is not None and not re.search(rule.pattern, value):
            out.append(f"{path}: {value!r} does not match {rule.pattern}")
        if rule.choices and value not in rule.choices:
            out.append(f"{path}: {value!r} is not one of {', '.join(rule.choices)}")
    elif isinstance(rule, Bool):
        if not isinstance(value, bool):
            out.append(f"{path}: must be {_TYPE_NAMES[Bool]}, not {_json_type(value)}")
    elif isinstance(rule, Int):
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{path}: must be {_TYPE_NAMES[Int]}, not {_json_type(value)}")
    elif isinstance(rule, Arr):
        if not isinstance(value, list):
            out.append(f"{path}: must be {_TYPE_NAMES[Arr]}, not {_json_type(value)}")
            return
        if len(value) < rule.min_items:
            out.append(f"{path}: {len(value)} items, at least {rule.min_items}")
        if rule.max_items is not None and len(value) > rule.max_items:
            out.append(f"{path}: {len(value)} items, at most {rule.max_items} allowed")
        if rule.unique:
            seen: list[Any] = []
            for item in value:
                if item in seen:
                    out.append(f"{path}: {item!r} is listed twice")
                else:
                    seen.append(item)
        for i, item in enumerate(value):
            _check(item, rule.items, f"{path}[{i}]", out)
    elif isinstance(rule, (Obj, AnyObj)):
        if not isinstance(value, dict):
            out.append(f"{path}: must be {_TYPE_NAMES[Obj]}, not {_json_type(value)}")
            return
        if isinstance(rule, AnyObj):
            return
        for key in rule.required:
            if key not in value:
                out.append(f"{path}: {key!r} is required")
        for key, item in value.items():
            sub = key if path == "manifest" else f"{path}.{key}"
            if key in rule.fields:
                _check(item, rule.fields[key], sub, out)
            elif rule.closed:
                out.append(f"{sub}: unknown key (allowed here: {', '.join(rule.fields)})")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- the schema's facts (SCHEMA) ------------------------------------------------------------
# Patterns end in \Z where the schema ends in $: in JSON Schema's regex dialect $ does not match
# before a final newline, as Python's does.

HTTP_URL = r"^https?://"
HTTPS_URL = r"^https://"
HEX_COLOR = r"^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?\Z"  # the schema writes it as "regex", 4-7 chars
DOMAIN = r"^(?![.\-])[-a-z0-9.]+[a-z0-9]\Z"
IPV4_OCTET = r"([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])"
IPV4_RANGE = rf"^({IPV4_OCTET}\.){{3}}{IPV4_OCTET}(/(3[0-2]|[1-2][0-9]|[0-9]))?\Z"
EMAIL = (r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
         r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\Z")

MAX_SLASH_COMMANDS = 50
MAX_SCOPES_PER_LIST = 255

METADATA = Obj({"schema_version": Int(), "min_version": Int(), "major_version": Int(),
                "minor_version": Int()})

APP_DIRECTORY = Obj(
    {
        "app_directory_categories": Arr(Str(1, 255), max_items=3),
        "use_direct_install": Bool(),
        "direct_install_url": Str(max_len=255, pattern=HTTP_URL),
        "installation_landing_page": Str(max_len=255, pattern=HTTP_URL),
        "privacy_policy_url": Str(max_len=500, pattern=HTTP_URL),
        "support_url": Str(max_len=350, pattern=HTTP_URL),
        "support_email": Str(max_len=100, pattern=EMAIL),
        "supported_languages": Arr(Str(max_len=50), min_items=1, max_items=50),
        "pricing": Str(1, 30),
    },
    required=("installation_landing_page", "privacy_policy_url", "support_url", "support_email",
              "supported_languages", "pricing"),
)

DISPLAY_INFORMATION = Obj(
    {
        "name": Str(1, 35),
        "description": Str(1, 140),
        "background_color": Str(4, 7, pattern=HEX_COLOR),
        "long_description": Str(175, 4000),
    },
    required=("name",),
)

APP_HOME = Obj({"home_tab_enabled": Bool(), "messages_tab_enabled": Bool(),
                "messages_tab_read_only_enabled": Bool()})

BOT_USER = Obj({"display_name": Str(1, 80), "always_online": Bool()}, required=("display_name",))

SHORTCUTS = Arr(
    Obj({"name": Str(1, 24), "type": Str(choices=("message", "global")),
         "callback_id": Str(1, 255), "description": Str(1, 150)},
        required=("name", "type", "callback_id", "description")),
    min_items=1, max_items=10,
)

SLASH_COMMANDS = Arr(
    Obj({"command": Str(2, 32, pattern=r"^/"), "url": Str(max_len=3000, pattern=HTTP_URL),
         "description": Str(1, 2000), "usage_hint": Str(1, 1000), "should_escape": Bool()},
        required=("command", "description")),
    min_items=1, max_items=MAX_SLASH_COMMANDS,
)

WORKFLOW_STEPS = Arr(Obj({"name": Str(1, 50), "callback_id": Str(1, 50)},
                         required=("name", "callback_id")), min_items=1, max_items=10)

PROMPT = Obj({"title": Str(), "message": Str()}, required=("title", "message"))

FEATURES = Obj({
    "app_home": APP_HOME,
    "bot_user": BOT_USER,
    "functions": Arr(AnyObj(), max_items=50),
    "shortcuts": SHORTCUTS,
    "slash_commands": SLASH_COMMANDS,
    "workflow_steps": WORKFLOW_STEPS,
    "unfurl_domains": Arr(Str(max_len=255, pattern=DOMAIN), min_items=1, max_items=5, unique=True),
    "assistant_view": Obj({"assistant_description": Str(), "suggested_prompts": Arr(PROMPT)},
                          required=("assistant_description",)),
    "agent_view": Obj({"agent_description": Str(max_len=300),
                       "suggested_prompts": Arr(PROMPT, max_items=4),
                       "actions": Arr(Obj({"name": Str(), "description": Str()},
                                          required=("name", "description")))}),
})

SCOPE_LIST = Arr(Str(max_len=50), max_items=MAX_SCOPES_PER_LIST)

OAUTH_CONFIG = Obj({
    "redirect_urls": Arr(Str(max_len=2500), max_items=1000, unique=True),
    "scopes": Obj({"user": SCOPE_LIST, "bot": SCOPE_LIST, "user_optional": SCOPE_LIST,
                   "bot_optional": SCOPE_LIST}),
    "token_management_enabled": Bool(),
    "pkce_enabled": Bool(),
})

EVENT_LIST = Arr(Str(max_len=50), max_items=100, unique=True)

SETTINGS = Obj({
    "allowed_ip_address_ranges": Arr(Str(pattern=IPV4_RANGE), min_items=1, max_items=50,
                                     unique=True),
    "event_subscriptions": Obj({
        "request_url": Str(max_len=3500, pattern=HTTP_URL),
        "user_events": EVENT_LIST,
        "bot_events": EVENT_LIST,
        "metadata_subscriptions": Arr(
            Obj({"app_id": Str(), "event_type": Str(max_len=50)},
                required=("app_id", "event_type")),
            min_items=1, max_items=20, unique=True),
    }),
    "incoming_webhooks": Obj({"incoming_webhooks_enabled": Bool()}),
    "interactivity": Obj({"is_enabled": Bool(),
                          "request_url": Str(max_len=3500, pattern=HTTP_URL),
                          "message_menu_options_url": Str(max_len=3500, pattern=HTTP_URL)},
                         required=("is_enabled",)),
    "org_deploy_enabled": Bool(),
    "socket_mode_enabled": Bool(),
    "is_hosted": Bool(),
    "token_rotation_enabled": Bool(),
    "siws_links": Obj({"initiate_uri": Str(max_len=3500, pattern=HTTPS_URL)}),
    "hermes_app_type": Str(),
    "function_runtime": Str(),
    "is_mcp_enabled": Bool(),
})

MANIFEST = Obj(
    {
        "$schema": Str(),
        "_metadata": METADATA,
        "app_directory": APP_DIRECTORY,
        "display_information": DISPLAY_INFORMATION,
        "features": FEATURES,
        "oauth_config": OAUTH_CONFIG,
        "settings": SETTINGS,
        "functions": AnyObj(),
        "workflows": AnyObj(),
        "datastores": AnyObj(),
        "outgoing_domains": Arr(Str(max_len=50, pattern=DOMAIN), max_items=10, unique=True),
        "types": AnyObj(),
        "external_auth_providers": AnyObj(),
        "mcp_servers": AnyObj(),
    },
    required=("display_information",),
)

# manifest.schema.json knows major versions 1 and 2 only (absent means 1).
MAJOR_VERSIONS = (1, 2)

# --- bot scopes (OURS, from Slack's permission scopes list, api.slack.com/scopes) -----------
# The schema only limits a scope to 50 characters. To catch typos this is a partial list of
# Slack's granular bot-token scopes; add a scope here when the bot really needs a new one.
KNOWN_BOT_SCOPES = frozenset({
    "app_mentions:read", "assistant:write", "bookmarks:read", "bookmarks:write", "calls:read",
    "calls:write", "canvases:read", "canvases:write", "channels:history", "channels:join",
    "channels:manage", "channels:read", "channels:write.invites", "channels:write.topic",
    "chat:write", "chat:write.customize", "chat:write.public", "commands", "dnd:read",
    "emoji:read", "files:read", "files:write", "groups:history", "groups:read", "groups:write",
    "groups:write.invites", "groups:write.topic", "im:history", "im:read", "im:write",
    "incoming-webhook", "links.embed:write", "links:read", "links:write",
    "metadata.message:read", "mpim:history", "mpim:read", "mpim:write", "pins:read",
    "pins:write", "reactions:read", "reactions:write", "reminders:read", "reminders:write",
    "remote_files:read", "remote_files:share", "remote_files:write", "team:read",
    "usergroups:read", "usergroups:write", "users.profile:read", "users:read",
    "users:read.email", "users:write",
})


# --- the checker ----------------------------------------------------------------------------


def manifest_problems(manifest: dict) -> list[str]:
    """Every rule ``manifest`` breaks, as readable lines; ``[]`` if it passes them all."""
    out: list[str] = []
    _check(manifest, MANIFEST, "", out)
    if not isinstance(manifest, dict):
        return out
    # Shape problems are reported above; the rules below read only well-shaped parts.
    _check_version(manifest, out)
    _check_request_urls(manifest, out)
    _check_commands(manifest, out)
    _check_scopes(manifest, out)
    return out


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _check_version(manifest: dict, out: list[str]) -> None:
    major = _get(manifest, "_metadata", "major_version")
    if isinstance(major, int) and not isinstance(major, bool) and major not in MAJOR_VERSIONS:
        out.append(f"_metadata.major_version: {major} is not one of 1, 2")


def _check_request_urls(manifest: dict, out: list[str]) -> None:
    """SLACK: with Socket Mode off (the default when the key is absent) Slack sends HTTP
    requests, so it needs a URL for each thing that receives them."""
    if _get(manifest, "settings", "socket_mode_enabled") is True:
        return
    commands = _get(manifest, "features", "slash_commands")
    if isinstance(commands, list):
        for i, command in enumerate(commands):
            if isinstance(command, dict) and "url" not in command:
                out.append(f"features.slash_commands[{i}]: 'url' is required when "
                           "socket_mode_enabled is not true")
    interactivity = _get(manifest, "settings", "interactivity")
    if (isinstance(interactivity, dict) and interactivity.get("is_enabled") is True
            and "request_url" not in interactivity):
        out.append("settings.interactivity: 'request_url' is required when interactivity is "
                   "enabled and socket_mode_enabled is not true")
    # The same reasoning for the Events API (an extension of the rule above, not in the brief).
    events = _get(manifest, "settings", "event_subscriptions")
    if (isinstance(events, dict) and (events.get("bot_events") or events.get("user_events"))
            and "request_url" not in events):
        out.append("settings.event_subscriptions: 'request_url' is required for events when "
                   "socket_mode_enabled is not true")


def _check_commands(manifest: dict, out: list[str]) -> None:
    commands = _get(manifest, "features", "slash_commands")
    if not isinstance(commands, list):
        return
    seen: set[str] = set()
    for i, command in enumerate(commands):
        name = command.get("command") if isinstance(command, dict) else None
        if not isinstance(name, str):
            continue
        # OURS: a command is the first word typed, so it cannot hold a space.
        if re.search(r"\s", name):
            out.append(f"features.slash_commands[{i}].command: {name!r} contains whitespace")
        # OURS: one app cannot register the same command twice.
        if name in seen:
            out.append(f"features.slash_commands[{i}].command: {name!r} is listed twice")
        seen.add(name)
    # SLACK (slash command docs): slash commands are granted by the `commands` bot scope.
    if commands and "commands" not in (_get(manifest, "oauth_config", "scopes", "bot") or []):
        out.append("oauth_config.scopes.bot: slash commands need the 'commands' scope")


def _check_scopes(manifest: dict, out: list[str]) -> None:
    for key in ("bot", "bot_optional"):
        scopes = _get(manifest, "oauth_config", "scopes", key)
        if not isinstance(scopes, list):
            continue
        seen: set[str] = set()
        for i, scope in enumerate(scopes):
            if not isinstance(scope, str):
                continue
            if scope not in KNOWN_BOT_SCOPES:
                out.append(f"oauth_config.scopes.{key}[{i}]: {scope!r} is not a known bot scope")
            if scope in seen:  # OURS
                out.append(f"oauth_config.scopes.{key}[{i}]: {scope!r} is listed twice")
            seen.add(scope)
