"""Which bot token speaks for which Slack workspace.

One workspace (``SLACK_BOT_TOKEN``): that token answers every team, as it always has. Any
workspace (OAuth): each workspace's token comes from its installation record in the bot's
database, looked up on every request and every post, so an install or an uninstall made
through any process counts in every process at once. The clients for a token are built once
and kept (they hold no connection of their own).

``InstalledAuthorize`` is bolt's authorize step for OAuth mode: it finds the installation
without an ``auth.test`` per request (bolt's own store authorize makes one), because the
record already holds the bot's ids, and leaves the ``Workspace`` in the request's context for
the listeners.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.authorization.authorize_result import AuthorizeResult
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CONTEXT_KEY = "whosnext_workspace"
_KEEP = 10_000  # clients kept before the cache starts over


@dataclass(frozen=True)
class Workspace:
    """One workspace's bot token, as three clients: ``client`` for the app's own calls (with
    the adapter's retries), ``quick`` for calls while an ack is pending (no waiting out a rate
    limit), ``one_try`` for the outbox's posts (no retries at all: the outbox decides them).
    ``bot_user_id`` / ``bot_id`` when the installation says them (else ``auth.test`` does)."""

    team_id: str | None
    client: AsyncWebClient
    quick: AsyncWebClient
    one_try: AsyncWebClient
    bot_user_id: str | None = None
    bot_id: str | None = None


def _client(token: str | None, base_url: str, retry_handlers: Sequence[AsyncRetryHandler],
            template: AsyncWebClient | None = None) -> AsyncWebClient:
    if template is None:
        return AsyncWebClient(token=token, base_url=base_url, retry_handlers=list(retry_handlers))
    # Everything of the template's (timeout, TLS, proxy, session, headers) but the retries.
    headers = {k: v for k, v in template.headers.items() if k.lower() != "user-agent"}
    return AsyncWebClient(token=token, base_url=template.base_url, timeout=template.timeout,
                          ssl=template.ssl, proxy=template.proxy, session=template.session,
                          trust_env_in_session=template.trust_env_in_session, headers=headers,
                          team_id=template.default_params.get("team_id"),
                          logger=template.logger, retry_handlers=list(retry_handlers))


@dataclass
class Workspaces:
    """The clients for each workspace: ``single`` for every team (one workspace), or each
    team's from ``installs`` (OAuth)."""

    template: AsyncWebClient
    installs: AsyncInstallationStore | None = None
    _cache: dict[str, Workspace] = field(default_factory=dict)

    @classmethod
    def one(cls, client: AsyncWebClient) -> Workspaces:
        """Every team answered with ``client``'s token (``SLACK_BOT_TOKEN``)."""
        return cls(client)

    @property
    def oauth(self) -> bool:
        return self.installs is not None

    def for_token(self, token: str | None, team_id: str | None = None,
                  bot_user_id: str | None = None, bot_id: str | None = None) -> Workspace:
        key = f"{token}|{team_id}|{bot_user_id}|{bot_id}"
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _KEEP:
                self._cache.clear()
            t = self.template
            found = Workspace(
                team_id, client=_client(token, t.base_url, t.retry_handlers, t),
                quick=_client(token, t.base_url, [AsyncConnectionErrorRetryHandler()], t),
                one_try=_client(token, t.base_url, [], t), bot_user_id=bot_user_id,
                bot_id=bot_id)
            self._cache[key] = found
        return found

    async def find(self, team_id: str | None) -> Workspace | None:
        """The workspace's clients, or None when the app isn't installed there (OAuth)."""
        if self.installs is None:
            return self.for_token(self.template.token)
        if not team_id:
            return None
        bot = await self.installs.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        return self.for_token(bot.bot_token, team_id, bot.bot_user_id, bot.bot_id)

    @staticmethod
    def of(context: Any) -> Workspace | None:
        """The workspace ``InstalledAuthorize`` found for this request."""
        found = context.get(CONTEXT_KEY) if context is not None else None
        return found if isinstance(found, Workspace) else None


class InstalledAuthorize(AsyncAuthorize):
    """bolt's authorize step in OAuth mode: the request's workspace from its installation."""

    def __init__(self, workspaces: Workspaces) -> None:
        super().__init__()
        self.workspaces = workspaces

    async def __call__(self, *, context: AsyncBoltContext, enterprise_id: str | None,
                       team_id: str | None, user_id: str | None,
                       actor_enterprise_id: str | None = None, actor_team_id: str | None = None,
                       actor_user_id: str | None = None) -> AuthorizeResult | None:
        workspace = await self.workspaces.find(team_id)
        if workspace is None:
            log.warning("Slack: a request from workspace %s, where the app isn't installed",
                        team_id)
            return None
        context[CONTEXT_KEY] = workspace
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id,
                               bot_token=str(workspace.client.token),
                               bot_user_id=workspace.bot_user_id, bot_id=workspace.bot_id,
                               user_id=user_id)
