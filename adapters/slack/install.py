"""Installing the app in a workspace (OAuth v2): bolt's ``AsyncOAuthFlow`` with our pages.

``GET /slack/install`` issues a state (kept in the database for ten minutes, good once, and
bound to the browser by bolt's cookie) and serves an "Add to Slack" page linking to Slack's
authorize URL with the manifest's bot scopes. Slack sends the browser back to
``GET /slack/oauth_redirect``: the state is checked, the code is exchanged with
``oauth.v2.access``, and the installation is saved in the database (``oauth.py``), where every
process finds it. Every page is ours: the install page, the welcome page, and a page for each
way it can fail (cancelled, an old or reused link, a code Slack doesn't confirm, a save that
didn't happen), each saying what to do next.
"""

from __future__ import annotations

import html
import logging

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.config import SlackSettings
from adapters.slack.manifest import APP_NAME, BOT_SCOPES, REDIRECT_PATH
from adapters.slack.oauth import STATE_TTL, RepositoryInstallationStore, RepositoryStateStore

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
NOT_INSTALLED_HERE = ("Who's Next isn't installed in this workspace any more, so nothing was "
                      "saved. Ask a workspace admin to add it again, then try once more.")

_STYLE = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;"
          "line-height:1.5;color:#1d1c1d}a.button{display:inline-block;padding:.7rem 1.2rem;"
          "border-radius:.4rem;background:#4a154b;color:#fff;text-decoration:none;"
          "font-weight:600}")
_AGAIN = f'<p><a class="button" href="{INSTALL_PATH}">Add to Slack</a></p>'
# Why the install didn't happen, by bolt's reason: (HTTP status, what we say).
_FAILURES = {
    "access_denied": (200, "No worries, nothing was installed. Whenever you're ready:"),
    "invalid_browser": (400, "This install started in another browser, or its link is older "
                             "than ten minutes. Start again from here:"),
    "invalid_state": (400, "That install link was already used or is older than ten minutes. "
                           "Start again from here:"),
    "missing_code": (400, "Slack didn't send the install back to us, so nothing changed. "
                          "Start again from here:"),
    "invalid_code": (400, "Slack didn't confirm the install (its code may have been used "
                          "already), so nothing changed. Start again from here:"),
    "storage_error": (503, "Slack said yes, but we couldn't save the install just now. Try "
                           "again in a minute:"),
}
_UNKNOWN_FAILURE = (400, "The install didn't finish, so nothing changed. Start again from here:")


def page(title: str, body: str, status: int = 200) -> BoltResponse:
    """A small HTML page of ours; ``body`` is HTML already escaped where it holds input."""
    text = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width\"><title>{html.escape(title)}"
            f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
            "</body></html>")
    return BoltResponse(status=status, body=text,
                        headers={"Content-Type": "text/html; charset=utf-8"})


def failed_page(reason: str) -> BoltResponse:
    status, text = _FAILURES.get(reason, _UNKNOWN_FAILURE)
    return page("Not installed yet", f"<p>{html.escape(text)}</p>{_AGAIN}", status)


class InstallFlow(AsyncOAuthFlow):
    """bolt's OAuth flow, with our install page."""

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        link = html.escape(url, quote=True)
        return str(page(f"Add {APP_NAME} to Slack", (
            "<p>Log every ask you make, above all the ones that end in no, and let your "
            "workspace cheer the attempt. Some will, some won't, so what: who's next?</p>"
            f'<p><a class="button" href="{link}">Add to Slack</a></p>'
            "<p>After you approve, type <code>/help</code> in any channel to start.</p>")).body)


async def _installed(args: AsyncSuccessArgs) -> BoltResponse:
    team = args.installation.team_name or "your workspace"
    log.info("Slack: installed in workspace %s (%s)", args.installation.team_id, team)
    return page(f"{APP_NAME} is in {team}", (
        f"<p>Welcome! Type <code>/help</code> in any channel of {html.escape(team)} to start, "
        "log your first ask with <code>/rejected</code> or <code>/accepted</code>, and have an "
        "admin set a group check-in with <code>/checkin set</code>.</p>"
        "<p>You can close this tab.</p>"))


async def _not_installed(args: AsyncFailureArgs) -> BoltResponse:
    log.info("Slack: an install didn't finish (%s)", args.reason)
    return failed_page(args.reason)


def install_flow(settings: SlackSettings, store: RepositoryInstallationStore,
                 states: RepositoryStateStore, client: AsyncWebClient) -> InstallFlow:
    """The OAuth flow for ``settings`` (OAuth mode), saving to ``store``, checking ``states``,
    reaching Slack's API through ``client`` (the app's, without a token)."""
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES), redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
        installation_store=store, installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=int(STATE_TTL.total_seconds()),
        callback_options=AsyncCallbackOptions(success=_installed, failure=_not_installed))
    return InstallFlow(client=client, settings=oauth)
