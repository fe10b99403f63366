"""slack-sdk's installation and state stores over the bot's own database
(adapters/slack/oauth.py). The records themselves are tested on both backends in
tests/test_installs.py."""
from __future__ import annotations

from datetime import timedelta

from slack_sdk.oauth.installation_store.models.installation import Installation

from adapters.slack.oauth import RepositoryInstallationStore, RepositoryStateStore


def _install(team: str, token: str, user: str = "U1") -> Installation:
    return Installation(app_id="A1", team_id=team, team_name=f"Team {team}", bot_token=token,
                        bot_id="B1", bot_user_id="UBOT", bot_scopes="commands,chat:write",
                        user_id=user, installed_at=1_764_000_000.5)


async def test_each_workspace_finds_its_own_bot_token(repo, reopen, clock):
    store = RepositoryInstallationStore(repo, clock)
    await store.async_save(_install("T1", "xoxb-one"))
    await store.async_save(_install("T2", "xoxb-two"))
    elsewhere = RepositoryInstallationStore(await reopen(), clock)  # another process
    one = await elsewhere.async_find_bot(enterprise_id=None, team_id="T1")
    two = await elsewhere.async_find_installation(enterprise_id=None, team_id="T2")
    assert one is not None and one.bot_token == "xoxb-one"
    assert one.bot_scopes == ["commands", "chat:write"] and one.bot_user_id == "UBOT"
    assert two is not None and two.bot_token == "xoxb-two" and two.team_name == "Team T2"
    assert two.installed_at == 1_764_000_000.5
    assert await elsewhere.async_find_bot(enterprise_id=None, team_id="T3") is None


async def test_a_reinstall_replaces_and_an_uninstall_forgets(repo, clock):
    store = RepositoryInstallationStore(repo, clock)
    await store.async_save(_install("T1", "xoxb-old"))
    await store.async_save(_install("T1", "xoxb-new", user="U2"))
    found = await store.async_find_bot(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_token == "xoxb-new"
    await store.async_save(_install("T2", "xoxb-two"))
    await store.async_delete_all(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T2") is not None


async def test_a_state_is_good_once_and_for_a_while(repo, clock):
    states = RepositoryStateStore(repo, clock, ttl=timedelta(minutes=10))
    first = await states.async_issue()
    second = await states.async_issue()
    assert first != second
    assert await states.async_consume(first) is True
    assert await states.async_consume(first) is False  # reused
    clock.advance(minutes=11)
    assert await states.async_consume(second) is False  # expired
    assert await states.async_consume("made-up") is False
