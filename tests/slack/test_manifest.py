"""The app manifest is built from the catalogue."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.slack.manifest import build_manifest, manifest_json
from bot.commands import CATALOGUE
from bot.config import ConfigError
from tests.fakes.slack_manifest_rules import manifest_problems

ROOT = Path(__file__).resolve().parents[2]


def test_lists_exactly_the_catalogue_commands():
    manifest = build_manifest()
    commands = manifest["features"]["slash_commands"]
    assert [c["command"] for c in commands] == [f"/{s.name}" for s in CATALOGUE]
    for entry, spec in zip(commands, CATALOGUE, strict=True):
        assert entry["description"] == spec.description
        assert entry.get("usage_hint", "") == spec.usage_hint
        assert entry["should_escape"] is True
        assert "url" not in entry
        assert 0 < len(entry["description"]) <= 100


def test_socket_mode_interactivity_and_scopes():
    manifest = build_manifest()
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert manifest["display_information"]["name"] == "Who's Next"
    assert manifest["features"]["bot_user"]["display_name"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "chat:write.public", "im:write", "users:read",
            "files:write", "channels:history", "groups:history", "im:history"} == scopes


def test_http_mode_manifest_points_everything_at_the_request_url():
    url = "https://bot.example.org/slack/events"
    manifest = build_manifest(request_url=url)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}


def test_manifest_json_is_the_document_to_paste():
    """What ``whosnext slack-manifest`` prints: readable JSON (indented, no \\u escapes) holding
    the app's real values, not just whatever ``build_manifest`` returns."""
    text = manifest_json("https://bot.example.org/slack/events")
    assert text.startswith('{\n  "display_information": {\n    "name": "Who\'s Next",\n')
    assert "\\u" not in text
    manifest = json.loads(text)
    assert manifest["display_information"] == {
        "name": "Who's Next",
        "description": "Log every ask you make, celebrate every no. Some will, some won't, so "
                       "what: who's next?",
        "background_color": "#2d3a4a"}
    assert manifest["features"]["bot_user"] == {"display_name": "whos-next", "always_online": True}
    assert manifest["features"]["slash_commands"][0] == {
        "command": "/rejected", "description": "Log an ask that got a no. Every no counts!",
        "should_escape": True,
        "usage_hint": 'asked for a raise [who:"my boss"] [area:work] [fear:7] '
                      '[lesson:"ask earlier"] [private:true]',
        "url": "https://bot.example.org/slack/events"}
    assert manifest["oauth_config"] == {"scopes": {"bot": [
        "commands", "chat:write", "chat:write.public", "im:write", "users:read", "files:write",
        "channels:history", "groups:history", "im:history"]}}
    assert manifest["settings"] == {
        "interactivity": {"is_enabled": True,
                          "request_url": "https://bot.example.org/slack/events"},
        "org_deploy_enabled": False, "socket_mode_enabled": False,
        "token_rotation_enabled": False}
    # Without a request URL: Socket Mode, and no URL anywhere.
    socket = json.loads(manifest_json())
    assert socket["settings"]["socket_mode_enabled"] is True
    assert socket["settings"]["interactivity"] == {"is_enabled": True}
    assert "https://" not in manifest_json()


# --- Slack's own rules (tests/fakes/slack_manifest_rules.py) ---------------------------------

URL = "https://bot.example.org/slack/events"


def test_socket_mode_manifest_breaks_no_slack_rule():
    assert manifest_problems(build_manifest()) == []


def test_http_mode_manifest_breaks_no_slack_rule():
    assert manifest_problems(build_manifest(request_url=URL)) == []


def _run_cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """``python -m bot slack-manifest ...`` in a clean environment and an empty working
    directory: no .env, no tokens."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "bot", "slack-manifest", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("args", [[], ["--request-url", URL]], ids=["socket", "http"])
def test_cli_output_breaks_no_slack_rule(args, tmp_path):
    done = _run_cli(args, tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == build_manifest(request_url=args[1] if args else None)
    assert printed["settings"]["socket_mode_enabled"] is (not args)  # Socket Mode without a URL
    assert {c.get("url") for c in printed["features"]["slash_commands"]} == {args[1] if args else None}
    assert manifest_problems(printed) == []


@pytest.mark.parametrize("bad", ["bot.example.org/slack/events", "ftp://bot.example.org/x",
                                 "https://", "https://bot.example.org/" + "x" * 3000])
def test_a_url_slack_would_refuse_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="request URL"):
        build_manifest(request_url=bad)


def test_cli_refuses_a_url_slack_would_refuse(tmp_path):
    done = _run_cli(["--request-url", "bot.example.org/slack/events"], tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "request URL" in done.stderr and "Traceback" not in done.stderr


def test_oauth_manifest_adds_the_redirect_url_and_the_uninstall_events(tmp_path):
    done = _run_cli(["--request-url", "https://host/slack/events", "--oauth"], tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["oauth_config"]["redirect_urls"] == ["https://host/slack/oauth_redirect"]
    assert printed["settings"]["event_subscriptions"] == {
        "request_url": "https://host/slack/events",
        "bot_events": ["app_uninstalled", "tokens_revoked"]}
    assert printed["settings"]["socket_mode_enabled"] is False
    assert manifest_problems(printed) == []
    plain = build_manifest(request_url="https://host/slack/events")
    assert "redirect_urls" not in plain["oauth_config"]
    assert "event_subscriptions" not in plain["settings"]


def test_oauth_redirect_keeps_a_path_prefix():
    built = build_manifest(request_url="https://host/bot/slack/events", oauth=True)
    assert built["oauth_config"]["redirect_urls"] == ["https://host/bot/slack/oauth_redirect"]


def test_oauth_without_a_request_url_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--oauth"):
        build_manifest(oauth=True)
    done = _run_cli(["--oauth"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--request-url" in done.stderr and "Traceback" not in done.stderr


def _socket() -> dict:
    return build_manifest()


def _http() -> dict:
    return build_manifest(request_url=URL)


def _cmd(manifest: dict, **changes) -> dict:
    """The first slash command, changed (a value of None removes the key)."""
    entry = manifest["features"]["slash_commands"][0]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return manifest


def _set(manifest: dict, path: str, value) -> dict:
    """Set (or, with _DROP, remove) the value at a dotted path."""
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DROP:
        node.pop(last)
    else:
        node[last] = value
    return manifest


_DROP = object()


def _many_commands(manifest: dict, count: int) -> dict:
    first = manifest["features"]["slash_commands"][0]
    manifest["features"]["slash_commands"] = [dict(first, command=f"/c{i}") for i in range(count)]
    return manifest


# (id, base manifest, how to break it, text the problem must contain)
BROKEN = [
    ("no display_information", _socket, lambda m: _set(m, "display_information", _DROP),
     "'display_information' is required"),
    ("unknown top-level key", _socket, lambda m: _set(m, "slash_commands", []), "unknown key"),
    ("unknown major version", _socket, lambda m: _set(m, "_metadata", {"major_version": 3}),
     "major_version"),
    ("no app name", _socket, lambda m: _set(m, "display_information.name", _DROP),
     "'name' is required"),
    ("empty app name", _socket, lambda m: _set(m, "display_information.name", ""),
     "display_information.name"),
    ("app name of 36", _socket, lambda m: _set(m, "display_information.name", "x" * 36),
     "at most 35"),
    ("description of 141", _socket, lambda m: _set(m, "display_information.description", "x" * 141),
     "at most 140"),
    ("long_description of 174", _socket,
     lambda m: _set(m, "display_information.long_description", "x" * 174), "at least 175"),
    ("long_description of 4001", _socket,
     lambda m: _set(m, "display_information.long_description", "x" * 4001), "at most 4000"),
    ("colour without #", _socket, lambda m: _set(m, "display_information.background_color",
                                                "2d3a4a"), "background_color"),
    ("colour of 4 digits", _socket, lambda m: _set(m, "display_information.background_color",
                                                  "#2d3a"), "background_color"),
    ("colour not hex", _socket, lambda m: _set(m, "display_information.background_color",
                                              "#2d3a4g"), "background_color"),
    ("unknown display key", _socket, lambda m: _set(m, "display_information.icon", "x.png"),
     "display_information.icon: unknown key"),
    ("no bot display_name", _socket, lambda m: _set(m, "features.bot_user.display_name", _DROP),
     "'display_name' is required"),
    ("bot display_name of 81", _socket,
     lambda m: _set(m, "features.bot_user.display_name", "x" * 81), "at most 80"),
    ("always_online not a boolean", _socket,
     lambda m: _set(m, "features.bot_user.always_online", "yes"), "true or false"),
    ("unknown features key", _socket, lambda m: _set(m, "features.commands", []),
     "features.commands: unknown key"),
    ("no slash commands in the list", _socket, lambda m: _set(m, "features.slash_commands", []),
     "at least 1"),
    ("51 slash commands", _socket, lambda m: _many_commands(m, 51), "at most 50"),
    ("command without /", _socket, lambda m: _cmd(m, command="rejected"), "does not match ^/"),
    ("command of 33", _socket, lambda m: _cmd(m, command="/" + "x" * 32), "at most 32"),
    ("command of just /", _socket, lambda m: _cmd(m, command="/"), "at least 2"),
    ("command with a space", _socket, lambda m: _cmd(m, command="/who next"), "whitespace"),
    ("command listed twice", _socket,
     lambda m: _cmd(m, command=m["features"]["slash_commands"][1]["command"]), "listed twice"),
    ("command without description", _socket, lambda m: _cmd(m, description=None),
     "'description' is required"),
    ("empty command description", _socket, lambda m: _cmd(m, description=""), "at least 1"),
    ("command description of 2001", _socket, lambda m: _cmd(m, description="x" * 2001),
     "at most 2000"),
    ("empty usage_hint", _socket, lambda m: _cmd(m, usage_hint=""), "at least 1"),
    ("usage_hint of 1001", _socket, lambda m: _cmd(m, usage_hint="x" * 1001), "at most 1000"),
    ("should_escape not a boolean", _socket, lambda m: _cmd(m, should_escape="true"),
     "true or false"),
    ("unknown command key", _socket, lambda m: _cmd(m, name="rejected"), "unknown key"),
    ("command url not http(s)", _http, lambda m: _cmd(m, url="bot.example.org/slack/events"),
     "does not match"),
    ("command url of 3001", _http, lambda m: _cmd(m, url="https://" + "x" * 2993),
     "at most 3000"),
    ("HTTP mode, a command without url", _http, lambda m: _cmd(m, url=None),
     "'url' is required when socket_mode_enabled"),
    ("HTTP mode, interactivity without request_url", _http,
     lambda m: _set(m, "settings.interactivity.request_url", _DROP), "'request_url' is required"),
    ("socket mode unset, no urls", _socket,
     lambda m: _set(m, "settings.socket_mode_enabled", _DROP), "'url' is required"),
    ("HTTP mode, events without request_url", _http,
     lambda m: _set(m, "settings.event_subscriptions", {"bot_events": ["app_mention"]}),
     "event_subscriptions: 'request_url' is required"),
    ("interactivity without is_enabled", _socket,
     lambda m: _set(m, "settings.interactivity", {}), "'is_enabled' is required"),
    ("interactivity request_url of 3501", _http,
     lambda m: _set(m, "settings.interactivity.request_url", "https://" + "x" * 3493),
     "at most 3500"),
    ("unknown interactivity key", _socket, lambda m: _set(m, "settings.interactivity.url", URL),
     "unknown key"),
    ("socket_mode_enabled as a string", _socket,
     lambda m: _set(m, "settings.socket_mode_enabled", "true"), "true or false"),
    ("org_deploy_enabled as a number", _socket,
     lambda m: _set(m, "settings.org_deploy_enabled", 0), "true or false"),
    ("token_rotation_enabled null", _socket,
     lambda m: _set(m, "settings.token_rotation_enabled", None), "not null"),
    ("unknown settings key", _socket, lambda m: _set(m, "settings.socket_mode", True),
     "settings.socket_mode: unknown key"),
    ("bad ip range", _socket, lambda m: _set(m, "settings.allowed_ip_address_ranges",
                                             ["10.0.0.256"]), "does not match"),
    ("duplicate bot event", _http, lambda m: _set(m, "settings.event_subscriptions",
                                                  {"request_url": URL,
                                                   "bot_events": ["app_mention", "app_mention"]}),
     "listed twice"),
    ("bot event of 51", _http, lambda m: _set(m, "settings.event_subscriptions",
                                              {"request_url": URL, "bot_events": ["x" * 51]}),
     "at most 50"),
    ("scopes not a list", _socket, lambda m: _set(m, "oauth_config.scopes.bot", "commands"),
     "must be a list"),
    ("unknown scope list", _socket, lambda m: _set(m, "oauth_config.scopes.bots", ["commands"]),
     "oauth_config.scopes.bots: unknown key"),
    ("unknown bot scope", _socket,
     lambda m: _set(m, "oauth_config.scopes.bot", [*m["oauth_config"]["scopes"]["bot"],
                                                   "chat:writes"]), "not a known bot scope"),
    ("scope of 51", _socket, lambda m: _set(m, "oauth_config.scopes.user", ["x" * 51]),
     "at most 50"),
    ("256 user scopes", _socket, lambda m: _set(m, "oauth_config.scopes.user",
                                                [f"s{i}" for i in range(256)]), "at most 255"),
    ("bot scope listed twice", _socket,
     lambda m: _set(m, "oauth_config.scopes.bot", ["commands", "commands"]), "listed twice"),
    ("slash commands without the commands scope", _socket,
     lambda m: _set(m, "oauth_config.scopes.bot", ["chat:write"]), "'commands' scope"),
    ("unknown oauth_config key", _socket, lambda m: _set(m, "oauth_config.scope", []),
     "unknown key"),
    ("duplicate redirect url", _socket, lambda m: _set(m, "oauth_config.redirect_urls", [URL, URL]),
     "listed twice"),
    ("shortcut name of 25", _socket,
     lambda m: _set(m, "features.shortcuts", [{"name": "x" * 25, "type": "global",
                                               "callback_id": "c", "description": "d"}]),
     "at most 24"),
    ("shortcut of an unknown type", _socket,
     lambda m: _set(m, "features.shortcuts", [{"name": "n", "type": "channel",
                                               "callback_id": "c", "description": "d"}]),
     "not one of message, global"),
    ("upper-case unfurl domain", _socket, lambda m: _set(m, "features.unfurl_domains",
                                                        ["Example.org"]), "does not match"),
    ("app_directory missing its required keys", _socket, lambda m: _set(m, "app_directory", {}),
     "'privacy_policy_url' is required"),
    ("manifest not an object", _socket, lambda m: [m], "must be an object"),
]


@pytest.mark.parametrize(("base", "breaker", "expected"), [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_the_checker_refuses_a_broken_manifest(base, breaker, expected):
    manifest = breaker(copy.deepcopy(base()))
    problems = manifest_problems(manifest)
    assert any(expected in problem for problem in problems), problems


# Right at each limit is fine: the checker is not stricter than Slack.
AT_THE_LIMIT = [
    ("app name of 35", lambda m: _set(m, "display_information.name", "x" * 35)),
    ("description of 140", lambda m: _set(m, "display_information.description", "x" * 140)),
    ("long_description of 175", lambda m: _set(m, "display_information.long_description",
                                               "x" * 175)),
    ("3-digit colour", lambda m: _set(m, "display_information.background_color", "#FfF")),
    ("bot display_name of 80", lambda m: _set(m, "features.bot_user.display_name", "x" * 80)),
    ("command of 32", lambda m: _cmd(m, command="/" + "x" * 31)),
    ("command description of 2000", lambda m: _cmd(m, description="x" * 2000)),
    ("usage_hint of 1000", lambda m: _cmd(m, usage_hint="x" * 1000)),
    ("no usage_hint", lambda m: _cmd(m, usage_hint=None)),
    ("50 slash commands", lambda m: _many_commands(m, 50)),
    ("no slash commands at all", lambda m: _set(m, "features.slash_commands", _DROP)),
    ("no settings at all (and no commands)",
     lambda m: _set(_set(m, "settings", _DROP), "features.slash_commands", _DROP)),
    ("interactivity off, no request_url, HTTP mode",
     lambda m: _set(_set(m, "settings.interactivity", {"is_enabled": False}),
                    "settings.socket_mode_enabled", True)),
    ("major version 2", lambda m: _set(m, "_metadata", {"major_version": 2, "minor_version": 1})),
]


@pytest.mark.parametrize("changer", [case[1] for case in AT_THE_LIMIT],
                         ids=[case[0] for case in AT_THE_LIMIT])
def test_the_checker_accepts_values_at_the_limits(changer):
    assert manifest_problems(changer(copy.deepcopy(_socket()))) == []


def test_http_mode_with_urls_everywhere_is_accepted():
    manifest = _http()
    manifest["settings"]["event_subscriptions"] = {"request_url": URL, "bot_events": ["app_mention"]}
    assert manifest_problems(manifest) == []
