"""Posting for the scheduler (``bot.ports.Poster``), the rate-limit retry, and file uploads."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import SlackMessage, Upload, render
from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import PostingLimits
from bot.reply import Reply

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Errors meaning "this channel can't take our post": worth a clear line, not a stack trace.
CHANNEL_GONE = {
    "channel_not_found": "the channel doesn't exist any more (or is private and the bot isn't in it)",
    "not_in_channel": "the bot isn't a member of the channel; invite it with /invite",
    "is_archived": "the channel is archived",
}


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's rate-limit retry, honouring ``Retry-After``, with the wait injectable
    (tests record the wait instead of sleeping)."""

    def __init__(self, max_retry_count: int = 2, sleep: Sleep = asyncio.sleep,
                 jitter: Callable[[], float] = random.random):
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self._jitter = jitter

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        if response is None:
            raise error if error is not None else RuntimeError("rate-limit retry without response")
        state.next_attempt_requested = True
        delay = 1.0
        for key, values in response.headers.items():
            if key.lower() == "retry-after" and values:
                try:
                    delay = float(int(values[0]))
                except ValueError:
                    delay = 1.0
                break
        log.info("Slack rate limit on %s: retrying in %.0f s", request.url.rsplit("/", 1)[-1], delay)
        await self._sleep(delay + self._jitter())
        state.increment_current_attempt()


def retry_handlers(sleep: Sleep = asyncio.sleep,
                   jitter: Callable[[], float] = random.random) -> list[AsyncRetryHandler]:
    return [AsyncConnectionErrorRetryHandler(), RateLimitRetry(sleep=sleep, jitter=jitter)]


def api_error(err: SlackApiError) -> str:
    try:
        return str(err.response.get("error") or "unknown_error")
    except Exception:  # a response we can't read
        return "unknown_error"


async def upload_files(client: AsyncWebClient, channel_id: str, uploads: tuple[Upload, ...]) -> None:
    for upload in uploads:
        await client.files_upload_v2(channel=channel_id, content=upload.data,
                                     filename=upload.filename, title=upload.title)


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


async def post_message(client: AsyncWebClient, channel_id: str, message: SlackMessage) -> dict[str, Any]:
    """The message itself; its ``uploads`` are the caller's to send."""
    response = await client.chat_postMessage(channel=channel_id, unfurl_links=False,
                                             unfurl_media=False, **message.payload())
    return dict(response.data) if isinstance(response.data, dict) else {}


# One token per workspace, so a post per workspace never meets a shared limit: no pacing; the
# client itself waits out a 429's Retry-After (``RateLimitRetry``).
LIMITS = PostingLimits(concurrency=20)


class SlackPoster:
    """Posts the scheduler's replies: to a channel, or as a DM to a member."""

    def __init__(self, client: AsyncWebClient, limits: PostingLimits = LIMITS):
        self.client = client
        self.limits = limits

    @staticmethod
    def _ours(community: CommunityRef) -> bool:
        if community.platform is not Platform.SLACK:
            log.error("Slack poster asked to post for a %s community (%s); skipped",
                      community.platform.value, community.id)
            return False
        return True

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply) -> bool:
        if not self._ours(community):
            return False
        message = render(reply)
        try:
            await post_message(self.client, channel_id, message)
        except SlackApiError as err:
            code = api_error(err)
            if code in CHANNEL_GONE:
                log.warning("Can't post to Slack channel %s in workspace %s: %s (%s). "
                            "Pick another channel with /checkin.",
                            channel_id, community.id, CHANNEL_GONE[code], code)
            else:
                log.error("Posting to Slack channel %s in workspace %s failed: %s",
                          channel_id, community.id, code)
            return False
        except (TimeoutError, ClientError) as err:
            log.error("Posting to Slack channel %s failed: %s", channel_id, err)
            return False
        if message.uploads:
            await self._attach(community, channel_id, message)
        return True

    async def _attach(self, community: CommunityRef, channel_id: str, message: SlackMessage) -> None:
        """The post is out; a file that can't follow it (files need the bot in the channel,
        which chat:write.public doesn't) is a clear log line, not a failed post."""
        names = ", ".join(u.filename for u in message.uploads)
        try:
            await upload_files(self.client, channel_id, message.uploads)
        except SlackApiError as err:
            code = api_error(err)
            reason = CHANNEL_GONE.get(code, "Slack refused the upload")
            log.warning("Posted to Slack channel %s in workspace %s, but couldn't attach %s: %s (%s).",
                        channel_id, community.id, names, reason, code)
        except (TimeoutError, ClientError) as err:
            log.warning("Posted to Slack channel %s in workspace %s, but couldn't attach %s: %r",
                        channel_id, community.id, names, err)

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply) -> bool:
        if not self._ours(community):
            return False
        try:
            channel_id = await open_dm(self.client, member.id)
            message = render(reply)
            await post_message(self.client, channel_id, message)
            await upload_files(self.client, channel_id, message.uploads)
            return True
        except SlackApiError as err:
            log.warning("Can't DM Slack member %s in workspace %s: %s",
                        member.id, community.id, api_error(err))
            return False
        except (TimeoutError, ClientError) as err:
            log.error("DM to Slack member %s failed: %s", member.id, err)
            return False
