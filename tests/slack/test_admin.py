"""Admin rights come from the workspace's own roles (users.info), cached for a few minutes."""

from __future__ import annotations

import pytest

from adapters.slack.admin import AdminCheck, SlackSlow
from adapters.slack.app import SlackAdapter
from tests.slack.helpers import TEAM, post_signed, reply_json, settings_for, slash


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_admins_and_owners_are_admins(http_adapter, fake):
    fake.owners.add("U0OWNER")
    check = AdminCheck(http_adapter.client)
    assert await check.is_admin(TEAM, "U0ADMIN") is True
    assert await check.is_admin(TEAM, "U0OWNER") is True
    assert await check.is_admin(TEAM, "U0ANA") is False


async def test_the_answer_is_cached_until_the_ttl_runs_out(http_adapter, fake):
    ticker = Ticker()
    check = AdminCheck(http_adapter.client, ttl=300, now=ticker)
    assert await check.is_admin(TEAM, "U0ADMIN") is True
    ticker.now += 299
    assert await check.is_admin(TEAM, "U0ADMIN") is True
    assert len(fake.calls_to("users.info")) == 1
    fake.admins.discard("U0ADMIN")  # demoted in Slack
    ticker.now += 2
    assert await check.is_admin(TEAM, "U0ADMIN") is False
    assert len(fake.calls_to("users.info")) == 2


async def test_a_failed_lookup_is_not_an_admin_and_not_cached(http_adapter, fake):
    check = AdminCheck(http_adapter.client, now=Ticker())
    fake.fail("users.info", "user_not_found")
    assert await check.is_admin(TEAM, "U0ADMIN") is False
    assert await check.is_admin(TEAM, "U0ADMIN") is True


async def test_a_rate_limited_lookup_is_slack_being_slow_not_a_refusal(http_adapter, fake):
    # An admin must not be told they aren't one because Slack asked us to wait.
    check = AdminCheck(http_adapter.client, now=Ticker())
    fake.fail("users.info", "ratelimited", status=429, retry_after=0, times=3)
    with pytest.raises(SlackSlow):
        await check.is_admin(TEAM, "U0ADMIN")
    assert await check.is_admin(TEAM, "U0ADMIN") is True


async def test_admin_only_commands_check_roles_once_per_ttl(app, fake, http, ids, sleeps):
    ticker = Ticker()
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0,
                           sleep=sleeps, monotonic=ticker, admin_ttl=120)
    await adapter.start()
    try:
        for _ in range(2):
            await reply_json(await post_signed(http, adapter, slash(fake, ids, "checkin", "show",
                                                                    user="U0ADMIN")))
        assert [c.args["user"] for c in fake.calls_to("users.info")] == ["U0ADMIN"]
        ticker.now += 121
        await reply_json(await post_signed(http, adapter, slash(fake, ids, "checkin", "show",
                                                                user="U0ADMIN")))
        assert len(fake.calls_to("users.info")) == 2
        # Commands that aren't admin-only never ask.
        await reply_json(await post_signed(http, adapter, slash(fake, ids, "help")))
        assert len(fake.calls_to("users.info")) == 2
    finally:
        await adapter.stop()


async def test_only_workspace_admins_may_run_admin_commands(http_adapter, fake, http, ids):
    refused = await reply_json(await post_signed(http, http_adapter, slash(
        fake, ids, "checkin", "set time:09:00 days:weekdays channel:<#C0ASKS|asks>", user="U0ANA")))
    assert refused["response_type"] == "ephemeral" and "admins" in refused["text"]
    allowed = await reply_json(await post_signed(http, http_adapter, slash(
        fake, ids, "checkin", "set time:09:00 days:weekdays channel:<#C0ASKS|asks>", user="U0ADMIN",
        name="boss")))
    assert "admins" not in allowed["text"], allowed["text"]
    shown = await reply_json(await post_signed(http, http_adapter, slash(fake, ids, "checkin", "show",
                                                                         user="U0ADMIN")))
    assert "09:00" in shown["text"] and "C0ASKS" in shown["text"]
