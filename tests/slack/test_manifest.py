"""The app manifest is built from the catalogue."""

from __future__ import annotations

import json

from adapters.slack.manifest import build_manifest, manifest_json
from bot.commands import CATALOGUE


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
            "files:write"} == scopes


def test_http_mode_manifest_points_everything_at_the_request_url():
    url = "https://bot.example.org/slack/events"
    manifest = build_manifest(request_url=url)
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}


def test_json_round_trips():
    assert json.loads(manifest_json()) == build_manifest()
