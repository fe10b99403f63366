"""Any workspace can install the app (OAuth v2), offline: the real adapter in OAuth mode, the
installer's browser played by an aiohttp session with its own cookies, and the loopback fake
Slack's authorize page, ``oauth.v2.access`` and per-workspace tokens (``tests/fakes/slack.py``).

Two workspaces install the app; each one's commands and check-ins are answered with its own
token (the fake refuses a channel of another workspace, and a revoked token); an uninstall stops
that workspace's posts and leaves the other's untouched; every way an install can go wrong gets
a page of ours and changes nothing. On both database backends (``repo``)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackSettings
from adapters.slack.install import NOT_INSTALLED_HERE
from bot.ids import CommunityRef, MemberRef, Platform
from bot.models import OutboxState
from bot.scheduler import Scheduler
from tests.fakes.slack import Call, FakeSlack, Workspace
from tests.slack.helpers import (
    SECRET,
    Ids,
    as_posted,
    block_actions,
    buttons,
    post_event,
    post_interaction,
    post_signed,
    reply_json,
    section_texts,
    slash,
)

ADMIN = "U0ADMIN"
ADMIN_REF = MemberRef(Platform.SLACK, ADMIN)
ALPHA, BETA = "T0ALPHA", "T0BETA"
ALPHA_CHANNEL, BETA_CHANNEL = "C0ALPHA", "C0BETA"
AUTHORIZE = re.compile(r'href="(https://slack\.com/oauth/v2/authorize[^"]*)"')


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def oauth_settings(fake: FakeSlack, **values: Any) -> SlackSettings:
    base: dict[str, Any] = {"slack_client_id": fake.client_id,
                            "slack_client_secret": fake.client_secret,
                            "slack_signing_secret": SECRET, "slack_mode": "http",
                            "slack_api_url": fake.api_url}
    return SlackSettings(_env_file=None, **(base | values))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """Installs live in the database: this suite runs on both backends (the Slack suite's
    other tests on SQLite alone)."""
    return str(request.param)


@pytest.fixture
def workspaces(fake) -> dict[str, Workspace]:
    return {ALPHA: fake.add_workspace(ALPHA, "Alpha", channels=(ALPHA_CHANNEL,)),
            BETA: fake.add_workspace(BETA, "Beta", channels=(BETA_CHANNEL,))}


@pytest.fixture
async def adapter(app, fake, repo, workspaces) -> AsyncIterator[SlackAdapter]:
    bot = SlackAdapter(app, oauth_settings(fake), http_host="127.0.0.1", http_port=0,
                       installs=repo)
    await bot.start()
    yield bot
    await bot.stop()


def url(adapter: SlackAdapter, path: str) -> str:
    return f"http://127.0.0.1:{adapter.http_port}{path}"


def browser(adapter: SlackAdapter) -> aiohttp.ClientSession:
    """An installer's browser: it keeps the cookies our pages set, and, as browsers do for a
    local address, sends the ``Secure`` state cookie to http://127.0.0.1."""
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[url(adapter, "")])
    return aiohttp.ClientSession(cookie_jar=jar)


async def authorize_url(session: aiohttp.ClientSession, adapter: SlackAdapter) -> str:
    async with session.get(url(adapter, "/slack/install")) as page:
        assert page.status == 200 and page.content_type == "text/html"
        text = await page.text()
    assert "Add Who's Next to Slack" in html.unescape(text)
    found = AUTHORIZE.search(text)
    assert found is not None, text
    return html.unescape(found.group(1))


async def back_from_slack(session: aiohttp.ClientSession, adapter: SlackAdapter,
                          query: dict[str, str]) -> tuple[int, str]:
    async with session.get(url(adapter, "/slack/oauth_redirect"), params=query) as page:
        return page.status, html.unescape(await page.text())


async def install(adapter: SlackAdapter, fake: FakeSlack, team: str) -> None:
    async with browser(adapter) as session:
        query = fake.approve(await authorize_url(session, adapter), team)
        status, text = await back_from_slack(session, adapter, query)
    assert status == 200, text
    assert f"Who's Next is in {fake.workspaces[team].name}" in text


async def command(http, adapter, fake, ids: Ids, team: str, channel: str, name: str,
                  text: str = "", *, user: str = ADMIN) -> dict[str, Any]:
    form = slash(fake, ids, name, text, user=user, name="admin", channel=channel)
    form["team_id"] = team
    payload = await reply_json(await post_signed(http, adapter, form))
    await adapter.idle()
    return payload


def calls_in(fake: FakeSlack, method: str, channel: str) -> list[Call]:
    return [c for c in fake.calls_to(method) if c.args.get("channel") == channel]


def scheduler(repo, app, adapter: SlackAdapter, clock) -> Scheduler:
    return Scheduler(repo, app, {Platform.SLACK: adapter.poster}, clock)


async def set_checkins(http, adapter, fake, ids, clock) -> None:
    clock.set(utc(2026, 11, 25, 7))  # Wednesday 08:00 Berlin
    for team, channel in ((ALPHA, ALPHA_CHANNEL), (BETA, BETA_CHANNEL)):
        answer = await command(http, adapter, fake, ids, team, channel, "checkin",
                               "set time:09:00 days:daily zone:Europe/Berlin")
        assert "Check-ins are on!" in section_texts(answer), answer


async def test_two_workspaces_each_answered_and_posted_with_its_own_token(
        adapter, fake, workspaces, http, ids, repo, app, clock):
    await install(adapter, fake, ALPHA)
    await install(adapter, fake, BETA)
    alpha, beta = workspaces[ALPHA], workspaces[BETA]
    assert alpha.token and beta.token and alpha.token != beta.token
    # The installs are in the database: what every process reads.
    for ws in (alpha, beta):
        found = await repo.find_installation("slack", None, ws.team_id)
        assert found is not None and found["bot_token"] == ws.token
        assert found["bot_user_id"] == ws.bot_user_id and found["bot_id"] == ws.bot_id

    await set_checkins(http, adapter, fake, ids, clock)
    # /checkin is for admins: each workspace's roles were asked with its own token.
    [ask_alpha, ask_beta] = fake.calls_to("users.info")
    assert (ask_alpha.token, ask_beta.token) == (alpha.token, beta.token)
    # A log in each: the answers come back in the ack, each in its own workspace.
    for team, channel in ((ALPHA, ALPHA_CHANNEL), (BETA, BETA_CHANNEL)):
        clock.set(utc(2026, 11, 25, 10))
        answer = await command(http, adapter, fake, ids, team, channel, "rejected",
                               f"asked {team} for a raise")
        assert answer["response_type"] == "in_channel"
    assert (await repo.totals(CommunityRef(Platform.SLACK, ALPHA), ADMIN_REF)).attempts == 1

    report = await scheduler(repo, app, adapter, clock).run_due(utc(2026, 11, 26, 8))
    assert (report.posted, report.failed) == (2, 0)
    [to_alpha] = calls_in(fake, "chat.postMessage", ALPHA_CHANNEL)
    [to_beta] = calls_in(fake, "chat.postMessage", BETA_CHANNEL)
    assert (to_alpha.token, to_beta.token) == (alpha.token, beta.token)
    # What each channel shows: its own check-in, by its own workspace's bot.
    [seen_alpha] = [s for s in fake.channel_view(ALPHA_CHANNEL) if s.author == alpha.bot_user_id
                    and s.metadata is not None]  # the outbox's posts carry their key
    assert "Check-in" in seen_alpha.text and "asked T0ALPHA for a raise" in seen_alpha.text
    assert "T0BETA" not in seen_alpha.text
    [seen_beta] = [s for s in fake.channel_view(BETA_CHANNEL) if s.author == beta.bot_user_id
                   and s.metadata is not None]
    assert "asked T0BETA for a raise" in seen_beta.text


async def test_an_uninstall_stops_that_workspaces_posts_and_leaves_the_other(
        adapter, fake, workspaces, http, ids, repo, app, clock):
    await install(adapter, fake, ALPHA)
    await install(adapter, fake, BETA)
    await set_checkins(http, adapter, fake, ids, clock)

    response = await post_event(http, adapter, fake.uninstall(ALPHA))
    assert response.status == 200
    await adapter.idle()
    assert await repo.find_installation("slack", None, ALPHA) is None
    assert await repo.find_installation("slack", None, BETA) is not None
    revoked = workspaces[ALPHA].token

    report = await scheduler(repo, app, adapter, clock).run_due(utc(2026, 11, 26, 8))
    assert (report.posted, report.failed) == (1, 1)
    assert calls_in(fake, "chat.postMessage", ALPHA_CHANNEL) == []
    assert len(calls_in(fake, "chat.postMessage", BETA_CHANNEL)) == 1
    # The revoked token was never used again (the fake would have refused it: token_revoked).
    assert not [c for c in fake.calls if c.token == revoked and c.method == "chat.postMessage"]
    [alpha_post] = [p for p in await repo.last_posts(CommunityRef(Platform.SLACK, ALPHA))
                    if p.state is OutboxState.MISSED]
    assert "isn't installed in this workspace any more" in (alpha_post.reason or "")
    # Its members' entries stay until they /forget-me.
    assert await repo.get_schedule(CommunityRef(Platform.SLACK, ALPHA)) is not None

    # A command from the uninstalled workspace: our sentence, nothing saved.
    form = slash(fake, ids, "rejected", "asked anyway", user=ADMIN, channel=ALPHA_CHANNEL)
    form["team_id"] = ALPHA
    assert (await post_signed(http, adapter, form)).status == 200
    await fake.wait_for(lambda: fake.responses)
    assert fake.responses[-1].payload["text"] == NOT_INSTALLED_HERE
    assert (await repo.totals(CommunityRef(Platform.SLACK, ALPHA), ADMIN_REF)).attempts == 0

    # Installed again: its posts resume, with the token Slack gives now.
    await install(adapter, fake, ALPHA)
    again = await scheduler(repo, app, adapter, clock).run_due(utc(2026, 11, 27, 8))
    assert again.posted == 2
    [resumed] = calls_in(fake, "chat.postMessage", ALPHA_CHANNEL)
    assert resumed.token == workspaces[ALPHA].token != revoked


async def test_a_revoked_bot_token_is_forgotten_a_revoked_user_token_is_not(
        adapter, fake, workspaces, http, repo):
    await install(adapter, fake, ALPHA)
    user_only = fake._event(ALPHA, {"type": "tokens_revoked",
                                    "tokens": {"oauth": ["U0SOMEONE"], "bot": []}})
    assert (await post_event(http, adapter, user_only)).status == 200
    await adapter.idle()
    assert await repo.find_installation("slack", None, ALPHA) is not None
    assert (await post_event(http, adapter, fake.revoke_bot_token(ALPHA))).status == 200
    await adapter.idle()
    assert await repo.find_installation("slack", None, ALPHA) is None


async def test_a_state_is_good_once_in_the_browser_that_asked_for_it(adapter, fake, repo, clock):
    async with browser(adapter) as session:
        query = fake.approve(await authorize_url(session, adapter), ALPHA)
        async with browser(adapter) as elsewhere:  # the redirect opened in another browser
            await authorize_url(elsewhere, adapter)
            status, text = await back_from_slack(elsewhere, adapter, query)
        assert status == 400 and "started in another browser" in text
        status, text = await back_from_slack(session, adapter, query)
        assert status == 200
        again, text = await back_from_slack(session, adapter, query)  # the same link twice
    assert again == 400 and "Start again" in text and 'href="/slack/install"' in text


async def test_an_old_made_up_or_cancelled_install_changes_nothing(adapter, fake, repo, clock):
    async with browser(adapter) as session:
        stale = fake.approve(await authorize_url(session, adapter), ALPHA)
        clock.advance(minutes=11)  # a state is good for ten minutes
        status, text = await back_from_slack(session, adapter, stale)
        assert status == 400 and "older than ten minutes" in text

        made_up = fake.approve(await authorize_url(session, adapter), ALPHA)
        made_up["state"] = "not-a-state-we-issued"
        status, _ = await back_from_slack(session, adapter, made_up)
        assert status == 400

        cancelled = fake.cancel(await authorize_url(session, adapter))
        status, text = await back_from_slack(session, adapter, cancelled)
        assert status == 200 and "No worries, nothing was installed" in text

        forged = {"state": (await _fresh_state(session, adapter)), "code": "code-forged"}
        fake.expect_refusal("invalid_code", where="oauth.v2.access")
        status, text = await back_from_slack(session, adapter, forged)
        assert status == 400 and "didn't confirm the install" in text
    assert await repo.find_installation("slack", None, ALPHA) is None


async def _fresh_state(session: aiohttp.ClientSession, adapter: SlackAdapter) -> str:
    found = re.search(r"state=([^&]+)", await authorize_url(session, adapter))
    assert found is not None
    return found.group(1)


async def test_a_wrong_client_secret_is_refused_by_slack_and_said_plainly(
        app, fake, repo, workspaces):
    bot = SlackAdapter(app, oauth_settings(fake, slack_client_secret="wrong-secret"),
                       http_host="127.0.0.1", http_port=0, installs=repo)
    await bot.start()
    try:
        async with browser(bot) as session:
            query = fake.approve(await authorize_url(session, bot), ALPHA)
            fake.expect_refusal("bad_client_secret", where="oauth.v2.access")
            status, text = await back_from_slack(session, bot, query)
    finally:
        await bot.stop()
    assert status == 400 and "didn't confirm the install" in text
    assert await repo.find_installation("slack", None, ALPHA) is None


async def test_slack_unreachable_during_an_install_is_a_page_not_a_traceback(
        adapter, fake, repo, caplog):
    async with browser(adapter) as session:
        query = fake.approve(await authorize_url(session, adapter), ALPHA)
        await fake.stop()  # Slack goes away between the approval and the exchange
        status, text = await back_from_slack(session, adapter, query)
    assert status == 503 and "try again in a minute" in text
    assert "Traceback" not in caplog.text
    assert await repo.find_installation("slack", None, ALPHA) is None


async def test_the_install_page_asks_for_the_manifests_scopes(adapter, fake):
    async with browser(adapter) as session:
        link = await authorize_url(session, adapter)
    assert f"client_id={fake.client_id}" in link
    fake.approve(link, ALPHA)  # the fake's authorize page checks client id, scopes and state
    assert not fake.unexpected_refusals()


async def test_buttons_and_forms_use_their_own_workspaces_token(
        adapter, fake, workspaces, http, ids):
    await install(adapter, fake, ALPHA)
    await install(adapter, fake, BETA)
    beta = workspaces[BETA]
    celebration = as_posted(await command(http, adapter, fake, ids, BETA, BETA_CHANNEL,
                                          "rejected", "asked for a raise"))
    cheer = next(b["action_id"] for b in buttons(celebration) if b["text"]["text"] == "Cheer")
    press = block_actions(fake, ids, cheer, user="U0BEN", name="ben", channel=BETA_CHANNEL,
                          message=celebration)
    press["team"]["id"] = press["user"]["team_id"] = BETA
    assert (await post_interaction(http, adapter, press)).status == 200
    await adapter.idle()
    [relabel] = fake.calls_to("chat.update")  # the celebration now counts the cheer
    assert relabel.token == beta.token and relabel.args["channel"] == BETA_CHANNEL

    form = slash(fake, ids, "rejected", "", user=ADMIN, channel=BETA_CHANNEL)  # no text: a form
    form["team_id"] = BETA
    assert (await post_signed(http, adapter, form)).status == 200
    [opened] = fake.calls_to("views.open")
    assert opened.token == beta.token
