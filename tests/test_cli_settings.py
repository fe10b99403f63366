"""The composition root reads the core's settings and each adapter's own, runs the platforms
whose token is set, and turns any bad value into exit code 2 and one line naming the variable
(through the real ``python -m bot``)."""

import base64
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import pytest

from tests.test_console import ROOT, whosnext

FALLBACK = ("No SLACK_BOT_TOKEN or DISCORD_TOKEN set, so here's the terminal version. "
            "See .env.example to connect Slack or Discord.")
BOT_ID = 1234567890123456789
GOOD_DISCORD_TOKEN = base64.b64encode(str(BOT_ID).encode()).decode().rstrip("=") + ".GAbCdE." + "k" * 38


def clear_error(out, variable: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert variable in out.stderr and "Traceback" not in out.stderr, out.stderr
    last = out.stderr.strip().splitlines()[-1]  # (after any log lines of the shutdown)
    assert last.startswith("whosnext: ") and variable in last


@pytest.mark.parametrize("args", [[], ["console"], ["slack-manifest"]], ids=["run", "console",
                                                                           "manifest"])
@pytest.mark.parametrize("variable, value", [
    ("SLACK_MODE", "carrier-pigeon"), ("SLACK_BOT_TOKEN", "xoxp-a-user-token"),
    ("SLACK_APP_TOKEN", "xapp-with spaces"), ("DISCORD_GUILD_IDS", "12,abc"),
    ("SLACK_HTTP_PORT", "0"),
])
def test_a_bad_adapter_setting_stops_every_command(tmp_path, args, variable, value):
    out = whosnext(args, "", tmp_path, env={variable: value})
    clear_error(out, variable)
    assert "Bad configuration" in out.stderr and "See .env.example" in out.stderr


def test_without_a_token_the_terminal_runs(tmp_path):
    out = whosnext([], "/help\n", tmp_path, env={"SLACK_BOT_TOKEN": "", "DISCORD_TOKEN": ""})
    assert out.returncode == 0, out.stderr
    assert FALLBACK in out.stderr
    assert "== Who's Next ==" in out.stdout


@pytest.mark.parametrize("env, variable", [
    # What each adapter checks when it is built: no network is reached.
    ({"DISCORD_TOKEN": "not-a-token"}, "DISCORD_TOKEN doesn't look like a Discord bot token"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-abc"}, "SLACK_APP_TOKEN is not set, and Socket Mode needs it"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_MODE": "http"}, "SLACK_SIGNING_SECRET is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_APP_TOKEN": "xapp-1-abc",
      "SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL must be an http(s) URL"),
])
def test_a_platform_that_cannot_start_is_a_clear_error(tmp_path, env, variable):
    out = whosnext(["run"], "", tmp_path, env=env)
    clear_error(out, variable)
    assert FALLBACK not in out.stderr


def test_discord_invite_reads_discords_own_settings(tmp_path):
    out = whosnext(["discord-invite"], "", tmp_path)
    clear_error(out, "DISCORD_TOKEN is not set")
    out = whosnext(["discord-invite"], "", tmp_path, env={"DISCORD_TOKEN": "a.b"})
    clear_error(out, "DISCORD_TOKEN doesn't look like")
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN=Bot {GOOD_DISCORD_TOKEN}\n")
    out = whosnext(["discord-invite"], "", tmp_path)
    assert out.returncode == 0, out.stderr
    assert parse_qs(urlparse(out.stdout.strip()).query)["client_id"] == [str(BOT_ID)]


def test_reading_the_settings_imports_no_platform_library(tmp_path):
    """Which platforms run is decided from the adapters' settings modules alone; slack-bolt
    and discord.py are imported only by an adapter that runs."""
    code = ("import sys\nfrom bot import cli\nconfig = cli.load_configuration()\n"
            "assert config.running(), config\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('slack_bolt', 'slack_sdk', 'discord', 'aiohttp'))\n"
            "assert not loaded, loaded\n")
    env = {"PATH": "", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
           "SLACK_BOT_TOKEN": "xoxb-1-abc", "DISCORD_TOKEN": GOOD_DISCORD_TOKEN}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_help_is_a_command_and_every_command_says_what_it_does(tmp_path):
    out = whosnext(["help"], "", tmp_path, env={"SLACK_MODE": "carrier-pigeon"})
    assert out.returncode == 0 and "usage: whosnext" in out.stdout  # whatever .env holds
    assert "slack-manifest" in out.stdout and "discord-invite" in out.stdout
    for command, says in (("run", "Run the bot on Slack and/or Discord"),
                          ("console", "Try the bot in your terminal"),
                          ("discord-invite", "Needs DISCORD_TOKEN")):
        shown = whosnext([command, "--help"], "", tmp_path)
        assert shown.returncode == 0 and says in " ".join(shown.stdout.split()), shown.stdout


def test_slack_manifest_refuses_a_plain_http_request_url(tmp_path):
    out = whosnext(["slack-manifest", "--request-url", "http://bot.example.com/slack/events"],
                   "", tmp_path)
    assert out.returncode == 2 and out.stdout == ""
    assert "Slack sends its requests to https:// URLs only" in out.stderr
    assert "Traceback" not in out.stderr
