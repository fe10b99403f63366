"""Installations and OAuth states in the bot's own database, on both backends."""
from __future__ import annotations

from datetime import timedelta

RECORD = {"team_id": "T1", "bot_token": "xoxb-one", "scopes": ["commands", "chat:write"]}


async def test_an_installation_is_saved_found_replaced_and_deleted(repo, clock):
    assert await repo.find_installation("slack", None, "T1") is None
    await repo.save_installation("slack", None, "T1", RECORD, clock.now())
    assert await repo.find_installation("slack", None, "T1") == RECORD
    assert await repo.find_installation("slack", "E1", "T1") is None  # keyed by enterprise too
    assert await repo.find_installation("discord", None, "T1") is None  # and by platform
    again = {**RECORD, "bot_token": "xoxb-two"}
    await repo.save_installation("slack", None, "T1", again, clock.advance(minutes=1))
    assert await repo.find_installation("slack", None, "T1") == again
    assert await repo.delete_installation("slack", None, "T1") is True
    assert await repo.delete_installation("slack", None, "T1") is False
    assert await repo.find_installation("slack", None, "T1") is None


async def test_every_process_sees_every_install(repo, reopen, clock):
    other = await reopen()
    await repo.save_installation("slack", "E9", "T2", {"bot_token": "xoxb-t2"}, clock.now())
    assert await other.find_installation("slack", "E9", "T2") == {"bot_token": "xoxb-t2"}


async def test_a_state_is_good_once(repo, reopen, clock):
    await repo.issue_state("s1", clock.now(), timedelta(minutes=10))
    other = await reopen()
    assert await other.consume_state("s1", clock.now()) is True
    assert await repo.consume_state("s1", clock.now()) is False
    assert await repo.consume_state("never-issued", clock.now()) is False


async def test_a_state_expires(repo, clock):
    await repo.issue_state("late", clock.now(), timedelta(minutes=10))
    await repo.issue_state("soon", clock.now(), timedelta(minutes=10))
    assert await repo.consume_state("soon", clock.advance(minutes=9)) is True
    assert await repo.consume_state("late", clock.advance(minutes=2)) is False
