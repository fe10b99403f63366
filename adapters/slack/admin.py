"""Who is an admin: the workspace's own roles (``users.info``: admin or owner), cached briefly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.poster import api_error

log = logging.getLogger(__name__)

DEFAULT_TTL = 300.0  # seconds: a role change takes effect within five minutes


class AdminCheck:
    """``users.info`` answers, kept ``ttl`` seconds per (workspace, user). Failures are not
    cached and count as "not an admin"."""

    def __init__(self, client: AsyncWebClient, *, ttl: float = DEFAULT_TTL,
                 now: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl
        self._now = now
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, team_id: str, user_id: str) -> bool:
        key = (team_id, user_id)
        now = self._now()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as err:
            log.warning("Couldn't check Slack roles of %s: %s", user_id, api_error(err))
            return False
        except ClientError as err:
            log.warning("Couldn't check Slack roles of %s: %s", user_id, err)
            return False
        user = response.get("user") or {}
        verdict = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if len(self._cache) > 10_000:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[key] = (verdict, now + self.ttl)
        return verdict
