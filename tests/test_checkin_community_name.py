"""The community's name, as each platform tells it, reaches the core on the ``Caller`` (issue 15):
the Discord server's name, the Slack workspace's domain (Slack sends no workspace name with a
command or an interaction). How it is stored and shown is in tests/scheduler."""

from __future__ import annotations

from types import SimpleNamespace

from adapters.discord.translate import caller as discord_caller
from adapters.slack.translate import caller_from_command, caller_from_interaction, team_name


def interaction(guild: object | None) -> SimpleNamespace:
    """The parts of a ``discord.Interaction`` the translation reads."""
    user = SimpleNamespace(id=1500000000000000001, name="ana", display_name="Ana")
    perms = SimpleNamespace(manage_guild=True, administrator=False)
    return SimpleNamespace(guild_id=1400000000000000001, user=user, channel_id=1300000000000000001,
                           permissions=perms, guild=guild)


def test_discord_passes_the_servers_name():
    who = discord_caller(interaction(SimpleNamespace(name="  Ask Club ")))  # type: ignore[arg-type]
    assert who is not None and who.community_name == "Ask Club" and who.is_admin


def test_discord_without_the_server_at_hand_passes_no_name():
    for guild in (None, SimpleNamespace(name=""), SimpleNamespace()):
        who = discord_caller(interaction(guild))  # type: ignore[arg-type]
        assert who is not None and who.community_name is None


def test_slack_passes_the_workspaces_domain_from_a_command_and_an_interaction():
    command = {"team_id": "T1", "team_domain": "askclub", "user_id": "U1", "user_name": "ana",
               "channel_id": "C1"}
    assert caller_from_command(command).community_name == "askclub"
    submitted = {"team": {"id": "T1", "domain": "askclub"}, "user": {"id": "U1", "name": "ana"}}
    assert caller_from_interaction(submitted).community_name == "askclub"


def test_slack_without_a_domain_passes_no_name():
    assert caller_from_command({"team_id": "T1", "user_id": "U1"}).community_name is None
    assert team_name({"team": {"id": "T1"}, "team_domain": "  "}) is None

