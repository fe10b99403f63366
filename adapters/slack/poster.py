"""Posting for the outbox (``bot.ports.Poster``), the rate-limit retry of the app's own client,
and file uploads.

The outbox decides retries, so ``SlackPoster`` makes one try per call through a client of its
own with no retry handlers (slack-sdk's defaults re-send a post when the connection drops, and
Slack has no idempotency key: that is how a check-in shows twice), and says how the try went
as a ``Delivery``:

- SENT: Slack answered ``ok`` (``message_id`` is the message's ``ts``), or, when an earlier try
  may have reached Slack (``sent_since``), that earlier post was found in the history.
- RETRY: it didn't get there and may next time: a 429 (``retry_after`` from its
  ``Retry-After``, 1 s without one), an HTTP 5xx, ``ratelimited`` / ``service_unavailable`` /
  ``request_timeout``, no connection to Slack at all.
- UNCERTAIN: it may have got there: a timeout, a connection dropped after the request went out,
  or ``internal_error`` / ``fatal_error`` from chat.postMessage (Slack: "It's possible some
  aspect of the operation succeeded before the error was raised").
- FAILED: retrying can't fix it (channel gone or archived, bot not in it or removed, token
  revoked, a missing scope, a member who can't be DMed, a message Slack refuses, any error code
  we don't know), with one sentence an admin can act on.

At most once. Every post carries ``metadata`` ``{"event_type": "whosnext_post",
"event_payload": {"key": key}}``. With ``sent_since`` the poster first reads the
conversation's history from a little before then (``conversations.history`` with
``include_all_metadata``, a bounded number of pages); a message from this bot carrying the key
means the earlier try landed: SENT, nothing posted. Reading history needs the bot in the
channel (a bot token can't read a public channel it hasn't joined, even with
``chat:write.public``) and ``channels:history`` / ``groups:history`` / ``im:history``. Where it
can't read the history it can't tell, so it doesn't post again: the try is FAILED with why
(invite the bot, or add the scope) rather than risking a second visible post. A post found
this way doesn't get its files uploaded again.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientConnectorError, ClientError, ConnectionTimeoutError
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
from adapters.slack.workspaces import Workspace, Workspaces
from bot.ids import CommunityRef, MemberRef, Platform
from bot.ports import EDIT_LOOKBACK, Delivery, DeliveryStatus, PostingLimits, made_since
from bot.reply import Action, Reply

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

EVENT_TYPE = "whosnext_post"  # the metadata event type of every outbox post
INVITE = "/invite @Who's Next"

# Errors meaning "this channel can't take our upload": worth a clear line, not a stack trace.
CHANNEL_GONE = {
    "channel_not_found": "the channel doesn't exist any more (or is private and the bot isn't in it)",
    "not_in_channel": "the bot isn't a member of the channel; invite it with /invite",
    "is_archived": "the channel is archived",
}


class RateLimitRetry(AsyncRateLimitErrorRetryHandler):
    """slack-sdk's rate-limit retry, honouring ``Retry-After``, with the wait injectable
    (tests record the wait instead of sleeping). For the app's own client (command answers);
    the outbox's posts never retry inside the client."""

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


def _status(err: SlackApiError) -> int:
    """The HTTP status of a refused call (slack-sdk's response, or aiohttp's when the body
    wasn't JSON)."""
    for name in ("status_code", "status"):
        value = getattr(err.response, name, None)
        if isinstance(value, int):
            return value
    return 200


def _header(err: SlackApiError, name: str) -> str | None:
    headers = getattr(err.response, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value[0] if isinstance(value, list | tuple) and value else value)
    return None


def _retry_after(err: SlackApiError) -> float:
    """A 429's ``Retry-After`` in seconds; 1 without a readable one."""
    try:
        seconds = float(_header(err, "retry-after") or "")
    except ValueError:
        return 1.0
    return seconds if seconds >= 0 else 1.0


async def upload_files(client: AsyncWebClient, channel_id: str, uploads: tuple[Upload, ...]) -> None:
    for upload in uploads:
        await client.files_upload_v2(channel=channel_id, content=upload.data,
                                     filename=upload.filename, title=upload.title)


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


async def post_message(client: AsyncWebClient, channel_id: str, message: SlackMessage,
                       metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The message itself; its ``uploads`` are the caller's to send."""
    extra: dict[str, Any] = {"metadata": metadata} if metadata is not None else {}
    response = await client.chat_postMessage(channel=channel_id, unfurl_links=False,
                                             unfurl_media=False, **message.payload(), **extra)
    return dict(response.data) if isinstance(response.data, dict) else {}


def post_metadata(key: str) -> dict[str, Any]:
    """The metadata that tags an outbox post with its key."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key}}


# ---------------------------------------------------------------------------- reasons
# One sentence each, for /checkin show ("The check-in of Wed 25 Nov didn't go out: <reason>."):
# lowercase, no final period, what happened and what fixes it, not what the outbox does next
# (it says that itself), and the error code in parentheses.

RETRY_CODES = {"ratelimited", "rate_limited", "service_unavailable", "request_timeout",
               "team_added_to_org"}
# Slack: "It's possible some aspect of the operation succeeded before the error was raised."
MAYBE_DONE_CODES = {"internal_error", "fatal_error"}
AUTH_CODES = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
              "not_allowed_token_type", "no_permission", "team_access_not_granted",
              "ekm_access_denied", "org_login_required", "app_uninstalled"}
MESSAGE_CODES = {"msg_too_long", "msg_blocks_too_long", "invalid_blocks", "invalid_blocks_format",
                 "no_text", "invalid_metadata_format", "invalid_metadata_schema",
                 "metadata_too_large", "too_many_attachments", "attachment_payload_limit_exceeded",
                 "markdown_text_conflict", "invalid_arguments", "invalid_arg_name",
                 "invalid_form_data", "invalid_json", "json_not_object", "invalid_post_type",
                 "missing_post_type", "invalid_charset"}
TOKEN = ("Slack no longer accepts the bot's token (the app may have been removed from the "
         "workspace): reinstall the app and update SLACK_BOT_TOKEN")
INSTALLED_TOKEN = ("Slack no longer accepts the workspace's token (the app may have been "
                   "removed from it): a workspace admin can add it again at /slack/install")
NOT_INSTALLED = ("the app isn't installed in this workspace any more, so nothing was sent: a "
                 "workspace admin can add it again at /slack/install (not_installed)")
REFUSED_MESSAGE = ("Slack refused the message itself, so sending it again won't help: this is a "
                   "bug in the bot worth reporting")
CHANNEL_REASONS = {
    "cant_update_message": "Slack won't let the bot change that post (it isn't the bot's own)",
    "edit_window_closed": "Slack no longer lets that post be changed (its edit window closed)",
    "channel_not_found": "the bot can't find the channel: it may have been deleted, or it's "
                         f"private and the bot isn't in it (invite it with {INVITE}, or pick "
                         "another channel with /checkin set)",
    "not_in_channel": f"the bot isn't in the channel: invite it with {INVITE}",
    "is_archived": "the channel is archived: unarchive it, or pick another channel with "
                   "/checkin set",
    "restricted_action": "a workspace setting stops the bot posting in the channel: ask a "
                         "workspace admin, or pick another channel with /checkin set",
    "restricted_action_read_only_channel": "the channel is read-only for the bot: pick another "
                                           "channel with /checkin set",
    "restricted_action_thread_only_channel": "the channel takes thread replies only: pick "
                                             "another channel with /checkin set",
    "message_limit_exceeded": "the workspace has reached Slack's message limit for free "
                              "workspaces",
}
DM_REASONS = {
    "channel_not_found": "Slack can't find the bot's DM with that member",
    "not_in_channel": "the bot can't write in its DM with that member",
    "is_archived": "the bot's DM with that member is closed",
    "cannot_dm_bot": "that member is a bot, and Slack doesn't let bots DM bots",
    "user_not_found": "Slack can't find that member: they may have left the workspace",
    "user_not_visible": "the bot can't see that member (they may be in another workspace)",
    "user_disabled": "that member's account is deactivated",
    "messages_tab_disabled": "members can't get DMs from the bot while its Messages tab is off: "
                             "turn it on under App Home in the app's settings",
    "restricted_action": "a workspace setting stops the bot sending DMs: ask a workspace admin",
    "message_limit_exceeded": "the workspace has reached Slack's message limit for free "
                              "workspaces",
}
HISTORY_SCOPE = {"D": "im:history", "G": "groups:history"}
NO_CHECK = "Slack didn't confirm an earlier try, and the bot can't read {where} to check " \
           "whether it arrived, so it didn't {verb} again"


# One token per workspace, so a post per workspace never meets a shared limit: no pacing. A 429
# is the outbox's to wait out (``Delivery.retry_after``).
LIMITS = PostingLimits(concurrency=20)


@dataclass(frozen=True)
class _Target:
    """Where a try goes, for reasons and logs."""

    community: CommunityRef
    channel: str  # the channel, or the DM's conversation once opened
    member: str | None = None  # a DM's member

    @property
    def dm(self) -> bool:
        return self.member is not None

    @property
    def label(self) -> str:
        if self.member is not None:
            return f"DM to Slack member {self.member} in workspace {self.community.id}"
        return f"Slack channel {self.channel} in workspace {self.community.id}"

    @property
    def thing(self) -> str:
        return "DM" if self.dm else "post"


class _TooMuchHistory(Exception):
    """More pages of history since ``sent_since`` than the poster reads."""


def _failed_reason(code: str, target: _Target, needed: str | None, oauth: bool) -> str:
    """Why Slack refused for good, for an admin."""
    if code in AUTH_CODES:
        return f"{INSTALLED_TOKEN if oauth else TOKEN} ({code})"
    if code == "missing_scope":
        scope = needed or ("im:write, chat:write" if target.dm else "chat:write")
        return (f"the bot lacks the Slack permission {scope}: add it under OAuth & Permissions "
                f"and reinstall the app ({code})")
    if code in MESSAGE_CODES:
        return f"{REFUSED_MESSAGE} ({code})"
    reasons = DM_REASONS if target.dm else CHANNEL_REASONS
    if code in reasons:
        return f"{reasons[code]} ({code})"
    return f"Slack refused the {target.thing}, and trying again won't help ({code})"


def _history_scope(channel: str) -> str:
    return HISTORY_SCOPE.get(channel[:1], "channels:history (groups:history for a private channel)")


def _no_check_reason(code: str, target: _Target, needed: str | None) -> str:
    """Why the history couldn't be read, so the post wasn't made again."""
    where = "its DM with that member" if target.dm else "the channel's history"
    start = NO_CHECK.format(where=where, verb="send it" if target.dm else "post")
    if code == "missing_scope":
        scope = needed or _history_scope(target.channel)
        return (f"{start}: add the {scope} permission under OAuth & Permissions and reinstall "
                f"the app ({code})")
    if code == "not_in_channel" and not target.dm:
        return f"{start}: invite the bot to the channel with {INVITE} ({code})"
    if code == "channel_not_found" and not target.dm:
        return (f"{start}: the channel may have been deleted, or it's private and the bot isn't "
                f"in it (invite it with {INVITE}) ({code})")
    return f"{start} ({code})"


class SlackPoster:
    """Posts the outbox's replies: to a channel, or as a DM to a member; one try per call (see
    the module's docstring). ``source``: the app's client (one workspace), or the
    ``Workspaces`` whose tokens answer each community; the poster posts through copies without
    retries. ``history_margin`` seconds before ``sent_since`` is where the search for an
    earlier try starts (our clock and Slack's may differ a little); at most ``history_pages``
    pages of ``history_page`` messages are read."""

    def __init__(self, source: AsyncWebClient | Workspaces, limits: PostingLimits = LIMITS, *,
                 history_margin: float = 60.0, history_page: int = 200, history_pages: int = 5):
        self.workspaces = source if isinstance(source, Workspaces) else Workspaces.one(source)
        self.limits = limits
        self.history_margin = history_margin
        self.history_page = history_page
        self.history_pages = history_pages
        # The bot's (user id, bot id) per token, from auth.test when the install didn't say.
        self._me: dict[str, tuple[str, str]] = {}
        self._asking = asyncio.Lock()  # many first checks at once ask auth.test once

    @staticmethod
    def _ours(community: CommunityRef) -> Delivery | None:
        if community.platform is not Platform.SLACK:
            log.error("Slack poster asked to post for a %s community (%s); skipped",
                      community.platform.value, community.id)
            return Delivery.failed(f"this is a {community.platform.value} community, not a Slack "
                                   "one (wrong_platform)")
        return None

    async def _workspace_of(self, community: CommunityRef) -> Workspace | Delivery:
        """The community's installed workspace, or the Delivery that says why there is none."""
        refused = self._ours(community)
        if refused is not None:
            return refused
        ws = await self.workspaces.find(community.id)
        return self._not_installed(community) if ws is None else ws

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        ws = await self._workspace_of(community)
        if isinstance(ws, Delivery):
            return ws
        return await self._send(ws, _Target(community, channel_id), render(reply), key,
                                sent_since)

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        ws = await self._workspace_of(community)
        if isinstance(ws, Delivery):
            return ws
        target = _Target(community, "", member.id)
        try:
            channel_id = await open_dm(ws.one_try, member.id)  # the same DM every time
        except Exception as err:
            return self._outcome(err, target, posting=False)
        return await self._send(ws, _Target(community, channel_id, member.id), render(reply),
                                key, sent_since)

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        """``reply`` instead, in each of the bot's own messages among the channel's latest
        ``EDIT_LOOKBACK`` with a button sending ``marker`` (by ``action_id``): one read of the
        history (``conversations.history``), then one ``chat.update`` per message found, oldest
        first. An update changes a message to the same thing however often it is made, so a
        fault is RETRY, never UNCERTAIN; a refusal is FAILED as for a post."""
        ws = await self._workspace_of(community)
        if isinstance(ws, Delivery):
            return ws
        target = _Target(community, channel_id)
        wanted = marker.encode()
        try:
            user_id, bot_id = await self._whoami(ws)
            response = await ws.one_try.conversations_history(channel=channel_id,
                                                              limit=EDIT_LOOKBACK)
        except Exception as err:
            return self._outcome(err, target, posting=False)
        messages = response.get("messages") or []
        found = [m for m in messages[:EDIT_LOOKBACK]
                 if _by_bot(m, user_id, bot_id) and _carries(m, wanted)
                 and made_since(_posted_at(m), since)]
        if not found:
            log.info("%s: none of the bot's posts with %s among the latest %d messages",
                     target.label, wanted, EDIT_LOOKBACK)
            return Delivery.failed(f"the post isn't among the channel's latest {EDIT_LOOKBACK} "
                                   "messages any more, so the bot couldn't change it "
                                   "(not_found)")
        message = render(reply)
        changed: str | None = None
        refusal: Delivery | None = None
        for old in reversed(found):  # history is newest first: the last one changed is newest
            ts = str(old["ts"])
            try:
                await ws.one_try.chat_update(channel=channel_id, ts=ts, **message.payload())
            except Exception as err:
                if isinstance(err, SlackApiError) and api_error(err) == "message_not_found":
                    continue  # deleted since the read: nothing left to change
                outcome = self._outcome(err, target, posting=False)
                if outcome.status is not DeliveryStatus.FAILED:
                    return outcome
                refusal = outcome
            else:
                changed = ts
        if changed is not None:
            return Delivery.sent(changed)
        return refusal or Delivery.failed("the posts showing that entry were deleted before "
                                          "the bot could change them (message_not_found)")

    @staticmethod
    def _not_installed(community: CommunityRef) -> Delivery:
        log.info("Slack workspace %s: the app isn't installed there; nothing sent", community.id)
        return Delivery.failed(NOT_INSTALLED)

    # ------------------------------------------------------------------ one try

    async def _send(self, ws: Workspace, target: _Target, message: SlackMessage,
                    key: str | None, sent_since: datetime | None) -> Delivery:
        if sent_since is not None:
            found = await self._look_for(ws, target, key, sent_since)
            if found is not None:
                return found
        try:
            response = await post_message(ws.one_try, target.channel, message,
                                          post_metadata(key) if key is not None else None)
        except Exception as err:
            return self._outcome(err, target, posting=True)
        ts = response.get("ts")
        if message.uploads:
            await self._attach(ws, target, message)
        return Delivery.sent(str(ts) if ts is not None else None)

    async def _look_for(self, ws: Workspace, target: _Target, key: str | None,
                        sent_since: datetime) -> Delivery | None:
        """SENT if the earlier try is in the history, None if it isn't (post now), or why
        the poster can't tell."""
        if key is None:
            start = NO_CHECK.format(where="which message was this one's",
                                    verb="send it" if target.dm else "post")
            log.warning("%s: an earlier try may have landed and this one has no key to look "
                        "for; not posting again", target.label)
            return Delivery.failed(f"{start} (no_key)")
        try:
            ts = await self._find(ws, target.channel, key, sent_since)
        except _TooMuchHistory:
            where = "its DM with that member" if target.dm else "the channel"
            log.warning("%s: more than %d messages since %s; can't check for the earlier try",
                        target.label, self.history_page * self.history_pages, sent_since)
            return Delivery.failed(f"Slack didn't confirm an earlier try, and {where} has had "
                                   f"too many messages since then to check whether it arrived, "
                                   f"so the bot didn't {'send it' if target.dm else 'post'} "
                                   "again (too_much_history)")
        except Exception as err:
            return self._outcome(err, target, posting=False, checking=True)
        if ts is None:
            log.info("%s: the earlier try isn't in the history; posting", target.label)
            return None
        log.info("%s: the earlier try landed (ts %s); not posting again", target.label, ts)
        return Delivery.sent(ts)

    async def _whoami(self, ws: Workspace) -> tuple[str, str]:
        if ws.bot_user_id and ws.bot_id:
            return ws.bot_user_id, ws.bot_id
        token = str(ws.one_try.token)
        async with self._asking:
            if token not in self._me:
                response = await ws.one_try.auth_test()
                self._me[token] = (str(response.get("user_id") or ""),
                                   str(response.get("bot_id") or ""))
        return self._me[token]

    async def _find(self, ws: Workspace, channel: str, key: str,
                    sent_since: datetime) -> str | None:
        """The ts of this bot's message tagged ``key`` since a little before ``sent_since``."""
        user_id, bot_id = await self._whoami(ws)
        oldest = f"{max(sent_since.timestamp() - self.history_margin, 0.0):.6f}"
        cursor: str | None = None
        for _ in range(self.history_pages):
            args: dict[str, Any] = {"channel": channel, "oldest": oldest, "inclusive": True,
                                    "include_all_metadata": True, "limit": self.history_page}
            if cursor:
                args["cursor"] = cursor
            response = await ws.one_try.conversations_history(**args)
            for message in response.get("messages") or []:
                if _is_ours(message, key, user_id, bot_id):
                    return str(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not response.get("has_more") or not cursor:
                return None
        raise _TooMuchHistory(channel)

    # ------------------------------------------------------------------ outcomes

    def _outcome(self, err: Exception, target: _Target, *, posting: bool,
                 checking: bool = False) -> Delivery:
        """How a failed call ends the try. ``posting``: the call was chat.postMessage (it may
        have landed); ``checking``: it was reading the history for an earlier try."""
        if isinstance(err, SlackApiError):
            return self._refusal(err, target, posting=posting, checking=checking)
        what = "the history check" if checking else target.thing
        if isinstance(err, ClientConnectorError | ConnectionTimeoutError):
            log.warning("%s: couldn't reach Slack (%r); will retry", target.label, err)
            return Delivery.retry("the bot couldn't reach Slack (no_connection)")
        if isinstance(err, TimeoutError):
            if posting:
                log.warning("%s: Slack didn't answer in time; the post may have landed", target.label)
                return Delivery.uncertain(f"Slack didn't answer in time, so the {what} may or may "
                                          "not have arrived (timeout)")
            log.warning("%s: Slack didn't answer %s in time; will retry", target.label, what)
            return Delivery.retry(f"Slack didn't answer the {what} in time (timeout)")
        if isinstance(err, ClientError | OSError):
            if posting:
                log.warning("%s: the connection dropped after sending (%r); the post may have "
                            "landed", target.label, err)
                return Delivery.uncertain(f"the connection to Slack dropped after the {what} was "
                                          "sent, so it may have arrived (connection_dropped)")
            log.warning("%s: the connection dropped during %s (%r); will retry", target.label,
                        what, err)
            return Delivery.retry(f"the connection to Slack dropped during the {what} "
                                  "(connection_dropped)")
        # Not Slack's refusal nor the network's: a bug here or in slack-sdk. Never raised to the
        # outbox; a post may have gone out before it.
        log.exception("%s: the try failed unexpectedly", target.label)
        name = type(err).__name__
        if posting:
            return Delivery.uncertain(f"something went wrong while posting, so the {what} may "
                                      f"have arrived ({name})")
        return Delivery.retry(f"something went wrong during the {what} ({name})")

    def _refusal(self, err: SlackApiError, target: _Target, *, posting: bool,
                 checking: bool) -> Delivery:
        code, status = api_error(err), _status(err)
        needed = _needed(err)
        if status == 429:
            wait = _retry_after(err)
            log.info("%s: rate limited; retry in %g s", target.label, wait)
            return Delivery.retry(f"Slack asked the bot to slow down for {wait:g} s ({code})",
                                  wait)
        if posting and (code in MAYBE_DONE_CODES or status == 504):
            log.warning("%s: Slack failed partway (%s, HTTP %d); the post may have landed",
                        target.label, code, status)
            return Delivery.uncertain(f"Slack had a problem partway through, so the "
                                      f"{target.thing} may have arrived ({_shown(code, status)})")
        if status >= 500 or code in RETRY_CODES or code in MAYBE_DONE_CODES:
            log.warning("%s: a passing problem at Slack (%s, HTTP %d); will retry", target.label,
                        code, status)
            if checking:
                return Delivery.retry("Slack didn't confirm an earlier try, and checking for it "
                                      f"failed this time ({_shown(code, status)})")
            return Delivery.retry(f"Slack had a passing problem ({_shown(code, status)})")
        if checking and code not in AUTH_CODES:
            reason = _no_check_reason(code, target, needed)
            log.warning("%s: can't read the history to check for an earlier try (%s); not "
                        "posting again", target.label, code)
            return Delivery.failed(reason)
        reason = _failed_reason(code, target, needed, self.workspaces.oauth)
        log.warning("Can't reach %s: %s", target.label, reason)
        return Delivery.failed(reason)

    async def _attach(self, ws: Workspace, target: _Target, message: SlackMessage) -> None:
        """The post is out; a file that can't follow it (files need the bot in the channel,
        which chat:write.public doesn't) is a clear log line, not a failed post."""
        names = ", ".join(u.filename for u in message.uploads)
        try:
            await upload_files(ws.one_try, target.channel, message.uploads)
        except SlackApiError as err:
            code = api_error(err)
            reason = CHANNEL_GONE.get(code, "Slack refused the upload")
            log.warning("Posted to %s, but couldn't attach %s: %s (%s).", target.label, names,
                        reason, code)
        except Exception as err:  # the network, or a bug: the post is out either way
            log.warning("Posted to %s, but couldn't attach %s: %r", target.label, names, err)


def _needed(err: SlackApiError) -> str | None:
    try:
        value = err.response.get("needed")
    except Exception:
        return None
    return str(value) if value else None


def _shown(code: str, status: int) -> str:
    return code if code != "unknown_error" or status == 200 else f"HTTP {status}"


def _by_bot(message: Any, user_id: str, bot_id: str) -> bool:
    """A message this bot posted."""
    if not isinstance(message, Mapping) or not message.get("ts"):
        return False
    return bool((bot_id and message.get("bot_id") == bot_id)
                or (user_id and message.get("user") == user_id))


def _posted_at(message: Mapping[str, Any]) -> datetime:
    """When Slack says the message was posted (its ``ts``: seconds since the epoch)."""
    return datetime.fromtimestamp(float(message["ts"]), UTC)


def _carries(message: Mapping[str, Any], action_id: str) -> bool:
    """Whether the message's blocks hold a button with ``action_id``."""
    blocks = message.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        elements = block.get("elements") if isinstance(block, Mapping) else None
        for element in elements if isinstance(elements, list) else []:
            if (isinstance(element, Mapping) and element.get("type") == "button"
                    and element.get("action_id") == action_id):
                return True
    return False


def _is_ours(message: Any, key: str, user_id: str, bot_id: str) -> bool:
    """A message from this bot carrying ``key`` in its metadata."""
    if not isinstance(message, Mapping):
        return False
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping) or payload.get("key") != key:
        return False
    return bool((bot_id and message.get("bot_id") == bot_id)
                or (user_id and message.get("user") == user_id))

