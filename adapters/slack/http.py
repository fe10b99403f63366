"""Slack's HTTP endpoint: our own small aiohttp app that hands each request to bolt, with the
``RequestGuard`` in front of it.

bolt's own ``AsyncApp.web_app`` would do, but for one bug of its body parser (slack-bolt 1.30,
``slack_bolt.request.internals.parse_body``): any form body that contains the word "payload"
anywhere is taken for an interaction, and when it has no ``payload`` field bolt reads it as
empty. So ``/rejected pitched the payload team`` got "unhandled request". Here the request is
built with bolt's public ``to_bolt_request`` as usual; a form without a ``payload`` field gets
its fields back (``body`` and the context built from it, both public, the raw body untouched
for the signature check). This is the one place that works around it.

With an OAuth flow (any workspace can install the app), the flow's two pages are served too,
``GET`` on its install and redirect paths, outside the signature guard (a browser comes
there, not Slack). A fault on the way (Slack or the database unreachable) is one log line and a
page asking to try again, never a traceback to the browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import parse_qsl

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from adapters.slack.guard import Clock, guarded
from adapters.slack.install import page

log = logging.getLogger(__name__)


def events_app(bolt_app: AsyncApp, signing_secret: str, *, path: str,
               monotonic: Clock = time.monotonic, now: Clock = time.time,
               routes: Iterable[web.RouteDef] = (),
               oauth_flow: AsyncOAuthFlow | None = None) -> web.Application:
    """An aiohttp app serving ``path``: guarded, then bolt; ``oauth_flow``'s install and
    redirect pages; and ``routes`` (the health and metrics endpoints) as they are: the guard
    looks at ``path`` only."""
    web_app = web.Application()
    if oauth_flow is not None:
        web_app.router.add_get(oauth_flow.install_path,
                               _browser_page(oauth_flow.handle_installation, "install page"))
        web_app.router.add_get(oauth_flow.redirect_uri_path,
                               _browser_page(oauth_flow.handle_callback, "install"))

    async def handle(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        _restore_form(bolt_request)
        return await to_aiohttp_response(await bolt_app.async_dispatch(bolt_request))

    web_app.router.add_post(path, handle)
    web_app.router.add_routes(routes)
    return guarded(web_app, signing_secret, path=path, monotonic=monotonic, now=now)


def _browser_page(step: Callable[[AsyncBoltRequest], Awaitable[BoltResponse]], what: str
                  ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            answer = await step(await to_bolt_request(request))
        except Exception as err:  # Slack or the database unreachable: say so, try again
            log.warning("Slack: the %s failed: %r", what, err)
            answer = page("Not installed yet", "<p>Something on our side didn't answer just "
                          "now, so nothing changed. Please try again in a minute: "
                          '<a href="/slack/install">Add to Slack</a>.</p>', 503)
        return await to_aiohttp_response(answer)
    return handle


def _restore_form(request: AsyncBoltRequest) -> None:
    """A form body without a ``payload`` field is a slash command (or ``ssl_check``): its
    fields, whatever words its text contains."""
    raw = request.raw_body
    if not raw or raw.startswith("{") or request.body:
        return
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" not in fields:
        request.body = fields
        request.context = build_async_context(AsyncBoltContext({}), fields)
