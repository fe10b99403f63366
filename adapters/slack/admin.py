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


class SlackSlow(Exception):
    """Slack didn't say in time (rate limited, or unreachable): ask the member to try again."""


class AdminCheck:
    """``users.info`` answers, kept ``ttl`` seconds per (workspace, user). Failures are not
    cached. A rate limit or a network error raises ``SlackSlow`` (an admin must not be told
    they aren't one); any other error counts as "not an admin".

    It runs before a command's ack, so give it a client that doesn't wait out rate limits (the
    workspace's own, ``client=``, where each workspace has its token)."""

    def __init__(self, client: AsyncWebClient | None = None, *, ttl: float = DEFAULT_TTL,
                 now: Callable[[], float] = time.monotonic):
        self.client = client
        self.ttl = ttl
        self._now = now
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}

    async def is_admin(self, team_id: str, user_id: str,
                       client: AsyncWebClient | None = None) -> bool:
        client = client or self.client
        if client is None:
            raise ValueError("AdminCheck needs a client: none given, here or when it was made")
        key = (team_id, user_id)
        now = self._now()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as err:
            code = api_error(err)
            log.warning("Couldn't check Slack roles of %s: %s", user_id, code)
            if code == "ratelimited":
                raise SlackSlow(code) from None
            return False
        except ClientError as err:
            log.warning("Couldn't check Slack roles of %s: %s", user_id, err)
            raise SlackSlow(str(err)) from None
        user = response.get("user") or {}
        verdict = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        if len(self._cache) > 10_000:
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[key] = (verdict, now + self.ttl)
        return verdict
