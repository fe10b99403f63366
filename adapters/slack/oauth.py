"""Slack installs kept in the bot's own database: slack-sdk's installation and OAuth state
stores over the core's Repository, so that every process sees every workspace's install.

One record per workspace (per organisation for an org-wide install): the latest install,
which holds the bot token every request and post there uses. A workspace's record is keyed by
its team alone, even inside an Enterprise Grid organisation, so that a post, which knows only
the team, finds it as a request does. A state is good once, for
``STATE_TTL``, on the repository's clock.
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.ports import Clock, Repository

PLATFORM = "slack"
STATE_TTL = timedelta(minutes=10)
log = logging.getLogger("whosnext.slack.oauth")


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The record as JSON can hold it: times as Unix timestamps."""
    return {k: (v.timestamp() if isinstance(v, datetime) else v) for k, v in data.items()}


def _key(enterprise_id: str | None, team_id: str | None,
         is_enterprise_install: bool | None) -> tuple[str | None, str | None]:
    """(enterprise, team) of the record: the organisation's for an org-wide install, else the
    workspace's alone."""
    return (enterprise_id, None) if is_enterprise_install else (None, team_id)


class RepositoryInstallationStore(AsyncInstallationStore):
    """slack-sdk's installation store on the Repository's installation records."""

    def __init__(self, repository: Repository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        await self._repository.save_installation(
            PLATFORM, *_key(installation.enterprise_id, installation.team_id,
                            installation.is_enterprise_install),
            _plain(installation.to_dict_for_copying()), self._clock.now())

    async def async_save_bot(self, bot: Bot) -> None:
        """Bots are saved with their installation (``async_save``): nothing more to keep."""

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None,
                                      is_enterprise_install: bool | None = False
                                      ) -> Installation | None:
        data = await self._repository.find_installation(
            PLATFORM, *_key(enterprise_id, team_id, is_enterprise_install))
        if data is None or (user_id is not None and data.get("user_id") != user_id):
            return None
        return Installation(**data)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        found = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id,
            is_enterprise_install=is_enterprise_install)
        return found.to_bot() if found is not None and found.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(self, *, enterprise_id: str | None,
                                        team_id: str | None,
                                        user_id: str | None = None) -> None:
        if user_id is not None:
            return  # the record is the workspace's, not one installer's
        await self._repository.delete_installation(
            PLATFORM, *_key(enterprise_id, team_id, team_id is None))


class RepositoryStateStore(AsyncOAuthStateStore):
    """slack-sdk's OAuth state store on the Repository: each state good once, for a while."""

    def __init__(self, repository: Repository, clock: Clock,
                 ttl: timedelta = STATE_TTL) -> None:
        self._repository = repository
        self._clock = clock
        self._ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self._repository.issue_state(state, self._clock.now(), self._ttl)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self._repository.consume_state(state, self._clock.now())
