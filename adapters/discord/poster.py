"""The scheduler's way into Discord: post a Reply to a channel, or DM it to a member, one try
per call, reported as a ``bot.ports.Delivery`` (never raised).

How a try ends:

- SENT: Discord answered with the message (``message_id``), or, for a repeat of a keyed item,
  Discord answered 404 Unknown Message: the earlier copy went out and was deleted since, which
  Discord reports instead of posting again (discord/discord-api-docs#6647).
- RETRY, nothing was posted as far as we can tell: not connected (no client, closed, or its
  session closing); a 429 (discord.py waits out each one sent with ``Via`` and gives up after
  its fifth try; a Cloudflare ban without ``Via`` it raises at once), with ``retry_after``
  from ``Retry-After``; a 5xx; a connection that never opened (``ClientConnectorError``, a
  connect timeout). Every failure to *open* a DM is RETRY or FAILED, never UNCERTAIN: opening
  a DM posts nothing. (A 504/524 is Cloudflare giving up on a Discord that may still finish
  the write: the nonce drops that copy's repeat if the next try comes within the window.)
- UNCERTAIN, the request may have reached Discord: no answer within the time allowed
  (``timeout``, or less near the end of the nonce window; discord.py's own waits count, and a
  429 longer than that is waited out inside the call, since its ``max_ratelimit_timeout``
  can't go under 30 s), the connection dropped after sending (``ServerDisconnectedError``,
  ``ClientOSError``, a truncated answer ``ClientPayloadError``), any other network error.
- FAILED, trying again won't help: 403 (closed DMs 50007, missing access 50001, missing
  permission 50013), 404 (channel or user gone), any other 4xx (a 400 Invalid Form Body is a
  bug here), an id that isn't a Discord id; and a repeat that Discord could no longer drop
  (below). ``reason`` is one sentence an admin can act on; it shows in /checkin show.

Once, and why. ``key`` goes out as the message's ``nonce`` and discord.py 2.7 adds
``enforce_nonce: true`` (``http.py``, ``handle_message_parameters``). Discord then creates at
most one message per sender and nonce "in the past few minutes" and answers a repeat with the
earlier message (docs "Create Message"; changelog 2024-02-12). So:

- discord.py's own repeats inside one call cannot post twice. It re-sends on 500/502/504/524
  (up to 5 tries, sleeping 1, 3, 5, 7, 9 s), on a 429 with ``Via`` (after ``retry_after``), and
  on ``OSError`` errno 54/10054 (ECONNRESET on macOS and Windows; Linux's 104 isn't in its
  list, so there the reset reaches us as UNCERTAIN). It has no public switch to turn that off.
  Every repeat re-sends the same body, nonce included, within seconds, so Discord drops it;
  even with no ``key``, ``Messageable.send`` makes up a random 64-bit nonce for the call
  (``abc.py``), so this holds for every call — but only within it.
- Exactly once: an item whose tries all carry the same key and start within ``NONCE_WINDOW``
  (120 s) of its first try, and that ends SENT, is exactly one message (a deleted one
  included) — provided Discord's undocumented window ("a few minutes") is at least 120 s,
  which is why the constant is conservative. A try near the window's end gets only the time
  left in it, so no request of ours reaches Discord after ``sent_since + NONCE_WINDOW``.
- At most once, after that: a try whose ``sent_since`` is ``NONCE_WINDOW`` or more in the past
  (on ``clock``) sends nothing and reports FAILED. The item may then have no message (if the
  first try never arrived) but never two. Without a ``key`` there is no nonce to repeat, so
  any ``sent_since`` gets FAILED straight away.
- Not covered here: the outbox giving one occurrence two keys, or two items one key. Discord
  scopes the nonce to the sender, not the channel, so a shared key would get the other item's
  message back, reported SENT (discord.py builds the returned message on the channel we sent
  to, so the poster can't tell).

Edits (``edit``, an /edit reaching the posts that showed an entry): one read of the channel's
latest ``EDIT_LOOKBACK`` messages (``GET /channels/{id}/messages?limit=100``), then one edit
of each of the bot's own that has a button sending the marker, oldest first. An edit changes
a message to the same thing however often it is made, so no nonce is needed and a fault
anywhere is RETRY (never UNCERTAIN); a refusal is FAILED as for a post (403, 404), a message
deleted since the read is skipped, and none found is FAILED.

``LIMITS`` keeps the scheduler under Discord's global limit to begin with.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import discord

from adapters.discord.render import CUSTOM_ID, Rendered, render
from bot.ids import CommunityRef, MemberRef
from bot.ports import (
    EDIT_LOOKBACK,
    Clock,
    Delivery,
    DeliveryStatus,
    PostingLimits,
    SystemClock,
    made_since,
)
from bot.reply import Action, Reply

log = logging.getLogger(__name__)

# One bot token for every server: Discord's global limit is 50 requests a second, so the
# scheduler starts at most 40 posts a second, 10 at a time.
LIMITS = PostingLimits(concurrency=10, per_second=40.0)


def limits_for(share: float) -> PostingLimits:
    """``LIMITS`` for a process serving ``share`` of the bot's shards. The 50 requests a second
    are per bot token, however many processes share it, so each process takes the part of
    the budget that its part of the servers needs: posts go out for the servers of its own
    shards only, and shards split the servers evenly. (Interaction responses don't count
    against the global limit: commands are answered at full speed in every process.)"""
    if share >= 1:
        return LIMITS
    assert LIMITS.per_second is not None
    return PostingLimits(concurrency=max(1, math.floor(LIMITS.concurrency * share)),
                         per_second=LIMITS.per_second * share)
# How long after an item's first try a repeat is still dropped by Discord's nonce. Discord
# says "a few minutes" and documents no number: 120 s stays well inside any reading of it.
NONCE_WINDOW = timedelta(seconds=120)
# How long one try may take, discord.py's own waits (rate limits, 5xx repeats) included; under
# the outbox's own 45 s, so that the poster's finer reading of a slow try is the one reported,
# and above the 30 s discord.py may wait out a 429 (max_ratelimit_timeout, adapters/discord/client.py).
SEND_TIMEOUT = 40.0
NONCE_LIMIT = 25  # docs "Create Message": a nonce string is at most 25 characters
NOT_CONNECTED = "Discord isn't connected right now"
BUG = "that's a bug in the bot, please report it"

# aiohttp >= 3.10 tells a connect timeout (nothing sent) from a read timeout.
_CONNECT_TIMEOUT: tuple[type[BaseException], ...] = tuple(
    t for t in (getattr(aiohttp, "ConnectionTimeoutError", None),) if isinstance(t, type))

# Discord's JSON error codes (docs "Opcodes and Status Codes" → JSON Error Codes).
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_USER = 10003, 10008, 10013
MISSING_ACCESS, CANNOT_DM, MISSING_PERMISSIONS = 50001, 50007, 50013
CANNOT_EDIT_OTHERS = 50005  # Cannot edit a message authored by another user


@dataclass(frozen=True)
class _Target:
    """Where a try goes, in the words its reasons use."""

    log_name: str  # "channel 123" / "DM to member 456"
    member_id: str | None = None  # set for a DM
    channel_id: str | None = None  # set for a channel post

    @property
    def is_dm(self) -> bool:
        return self.member_id is not None


class DiscordPoster:
    """Implements ``bot.ports.Poster``. ``client`` returns the running client (or None while the
    adapter is stopped), so the poster survives a restart of the adapter. ``clock`` measures
    ``sent_since`` against ``NONCE_WINDOW``; ``timeout`` bounds one try."""

    def __init__(self, client: Callable[[], discord.Client | None],
                 limits: PostingLimits = LIMITS, *, clock: Clock | None = None,
                 timeout: float = SEND_TIMEOUT):
        self._client = client
        self.limits = limits
        self.clock = clock or SystemClock()
        self.timeout = timeout

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply, *,
                   key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        target = _Target(f"channel {channel_id}", channel_id=channel_id)
        budget = self._budget(key, sent_since)
        if isinstance(budget, Delivery):
            return _report(target, budget)
        client = self._connected()
        if client is None:
            return _report(target, Delivery.retry(NOT_CONNECTED))
        if not _is_id(channel_id):
            return _report(target, Delivery.failed(
                f"{channel_id!r} isn't a Discord channel: choose the channel again with "
                "/checkin set"))
        deadline = asyncio.get_running_loop().time() + budget
        guild_id = int(community.id) if _is_id(community.id) else None
        channel = client.get_partial_messageable(int(channel_id), guild_id=guild_id)
        rendered = render(reply, force_public=True)
        return _report(target, await _send(channel, rendered, key, deadline, budget, target))

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply, *,
                 key: str | None = None, sent_since: datetime | None = None) -> Delivery:
        target = _Target(f"DM to member {member.id}", member_id=member.id)
        budget = self._budget(key, sent_since)
        if isinstance(budget, Delivery):
            return _report(target, budget)
        client = self._connected()
        if client is None:
            return _report(target, Delivery.retry(NOT_CONNECTED))
        if not _is_id(member.id):
            return _report(target, Delivery.failed(
                f"{member.id!r} isn't a Discord member id, so the bot can't DM them"))
        deadline = asyncio.get_running_loop().time() + budget
        opened = await _open_dm(client, member.id, deadline)
        if isinstance(opened, Delivery):
            return _report(target, opened)
        # A DM has no server around it: its buttons carry the community in their custom_id.
        rendered = render(reply, guild_id_in_buttons=community.id, force_public=True)
        return _report(target, await _send(opened, rendered, key, deadline, budget, target))

    async def edit(self, community: CommunityRef, channel_id: str, marker: Action,
                   reply: Reply, *, since: datetime | None = None) -> Delivery:
        """``reply`` instead, in each of the bot's own messages among the channel's latest
        ``EDIT_LOOKBACK`` with a button sending ``marker`` (by its custom id, with or without
        the server in it). One read of the history (``GET /channels/{id}/messages``), then one
        edit per message found. Calling again is safe (an edit to what a message shows already
        changes nothing), so a fault after the read is RETRY, never UNCERTAIN."""
        target = _Target(f"channel {channel_id}", channel_id=channel_id)
        client = self._connected()
        if client is None:
            return _report(target, Delivery.retry(NOT_CONNECTED))
        if not _is_id(channel_id):
            return _report(target, Delivery.failed(
                f"{channel_id!r} isn't a Discord channel, so the bot can't change its posts"))
        assert client.user is not None  # _connected: logged in
        me = client.user.id
        guild_id = int(community.id) if _is_id(community.id) else None
        channel = client.get_partial_messageable(int(channel_id), guild_id=guild_id)
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                found = [m async for m in channel.history(limit=EDIT_LOOKBACK)
                         if m.author.id == me and _carries(m, marker)
                         and made_since(m.created_at, since)]
        except discord.HTTPException as err:
            return _report(target, _edit_refused(err, target, reading=True))
        except RuntimeError as err:
            return _report(target, _closing(err))
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            return _report(target, Delivery.retry(_edit_fault(err, self.timeout)))
        if not found:
            return _report(target, Delivery.failed(
                f"the bot found none of its posts showing that entry among the latest "
                f"{EDIT_LOOKBACK} messages of the channel"))
        changed: str | None = None
        refusal: Delivery | None = None
        for message in reversed(found):  # oldest first: the last one changed is the newest
            rendered = render(reply, force_public=True)  # files are read once: one per edit
            try:
                async with asyncio.timeout_at(deadline):
                    await message.edit(**rendered.edit_kwargs())
            except discord.HTTPException as err:
                if err.status == 404 and err.code == UNKNOWN_MESSAGE:
                    continue  # deleted since the read: nothing left to change
                outcome = _edit_refused(err, target, reading=False)
                if outcome.status is DeliveryStatus.RETRY:
                    return _report(target, outcome)
                refusal = outcome
            except RuntimeError as err:
                return _report(target, _closing(err))
            except (TimeoutError, aiohttp.ClientError, OSError) as err:
                return _report(target, Delivery.retry(_edit_fault(err, self.timeout)))
            else:
                changed = str(message.id)
        if changed is not None:
            return Delivery.sent(changed)
        return _report(target, refusal or Delivery.failed(
            "the posts showing that entry were deleted before the bot could change them"))

    def _connected(self) -> discord.Client | None:
        client = self._client()
        if client is None or client.is_closed() or client.user is None:  # user: logged in
            return None
        return client

    def _budget(self, key: str | None, sent_since: datetime | None) -> float | Delivery:
        """Seconds this try may take, or why it must not be made at all."""
        if key is not None and not 0 < len(key) <= NONCE_LIMIT:
            return Delivery.failed(f"the bot gave this post an id Discord can't take "
                                   f"({len(key)} characters, at most {NONCE_LIMIT}): {BUG}")
        if sent_since is None:
            return self.timeout
        if key is None:
            return Delivery.failed("it may already have gone out, and without an id on it "
                                   "Discord can't drop a repeat, so the bot didn't risk a "
                                   "second copy")
        left = (NONCE_WINDOW - max(self.clock.now() - sent_since, timedelta(0))).total_seconds()
        if left <= 0:
            return Delivery.failed("it may already have gone out, and Discord only drops a "
                                   "repeat for a few minutes, so the bot didn't risk a second "
                                   "copy")
        return min(self.timeout, left)


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdecimal() and len(value) <= 20


def _report(target: _Target, delivery: Delivery) -> Delivery:
    if delivery.status is not DeliveryStatus.SENT:
        log.warning("%s: %s (%s)", target.log_name, delivery.status.value, delivery.reason)
    return delivery


async def _open_dm(client: discord.Client, member_id: str, deadline: float
                   ) -> discord.DMChannel | Delivery:
    """The member's DM channel (discord.py keeps those it has opened), or why not. Opening a DM
    posts nothing, so a failure here is never UNCERTAIN."""
    who = "that member"  # plain words: an admin reads this as text
    try:
        async with asyncio.timeout_at(deadline):
            return await client.create_dm(discord.Object(id=int(member_id)))
    except discord.RateLimited as err:
        return Delivery.retry(_slow_down(err.retry_after), err.retry_after)
    except discord.HTTPException as err:
        if err.status == 429 or err.status >= 500:
            return _passing(err)
        if err.status == 404 or err.code == UNKNOWN_USER:
            return Delivery.failed(f"Discord has no user {member_id} any more (the account "
                                   "may have been deleted)")
        if err.status == 401:
            return Delivery.failed(_bad_token())
        return Delivery.failed(f"Discord won't open a DM with {who} ({_said(err)})")
    except (TimeoutError, aiohttp.ClientError, OSError) as err:
        return Delivery.retry(f"opening a DM with {who} didn't finish ({_network(err)}); "
                              "nothing was sent")
    except RuntimeError as err:
        return _closing(err)


async def _send(channel: discord.abc.Messageable, rendered: Rendered, key: str | None,
                deadline: float, allowed: float, target: _Target) -> Delivery:
    kwargs = rendered.send_kwargs()
    if key is not None:
        kwargs["nonce"] = key  # discord.py adds enforce_nonce: true
    try:
        async with asyncio.timeout_at(deadline):
            message = await channel.send(**kwargs)
    except discord.RateLimited as err:  # a wait longer than the client's max_ratelimit_timeout
        return Delivery.retry(_slow_down(err.retry_after), err.retry_after)
    except discord.HTTPException as err:
        return _refused(err, rendered, key, target)
    except aiohttp.ClientConnectorError as err:  # before ClientOSError: nothing was sent
        return Delivery.retry(f"the bot couldn't reach Discord ({_network(err)})")
    except _CONNECT_TIMEOUT as err:
        return Delivery.retry(f"the bot couldn't reach Discord ({_network(err)})")
    except TimeoutError:
        return Delivery.uncertain(f"Discord didn't answer within {allowed:g} s, so it may "
                                  "have gone out")
    except (aiohttp.ClientError, OSError) as err:
        return Delivery.uncertain(f"the connection to Discord broke before it answered "
                                  f"({_network(err)}), so it may have gone out")
    except RuntimeError as err:
        return _closing(err)
    return Delivery.sent(str(message.id))


def _refused(err: discord.HTTPException, rendered: Rendered, key: str | None,
             target: _Target) -> Delivery:
    if err.status == 429 or err.status >= 500:
        return _passing(err)
    if err.status == 404 and err.code == UNKNOWN_MESSAGE and key is not None:
        # The repeat of a keyed post whose first copy went out and was deleted since: Discord
        # won't make it again, and neither should we.
        log.info("%s: an earlier copy (nonce %r) went out and was deleted since",
                 target.log_name, key)
        return Delivery.sent()
    if err.status == 401:
        return Delivery.failed(_bad_token())
    if target.is_dm:
        who = "that member"  # plain words: an admin reads this as text, where markup shows raw
        if err.code == CANNOT_DM:
            return Delivery.failed(f"{who} doesn't take DMs from the bot: they can allow "
                                   "direct messages from server members in the server's "
                                   "privacy settings")
        if err.status in (403, 404):
            return Delivery.failed(f"Discord won't let the bot DM {who} ({_said(err)})")
    else:
        where = "the check-in channel"  # plain words, as above
        if err.code == MISSING_PERMISSIONS:
            needed = "Send Messages and Attach Files" if rendered.files else "Send Messages"
            return Delivery.failed(f"the bot can't post in {where} (missing permission: give "
                                   f"it {needed} there)")
        if err.code == MISSING_ACCESS:
            return Delivery.failed(f"the bot can't see {where} (missing access: give it View "
                                   "Channel and Send Messages there)")
        if err.status == 403:
            return Delivery.failed(f"Discord won't let the bot post in {where} "
                                   f"({_said(err)}): check its permissions there")
        if err.status == 404:
            # A deleted channel's mention shows as #unknown: name it by its id.
            return Delivery.failed(f"channel {target.channel_id} is gone (deleted, or the bot "
                                   "was removed from the server): choose another with "
                                   "/checkin set")
    return Delivery.failed(f"Discord refused the message ({_said(err)}): {BUG}")


def _carries(message: discord.Message, marker: Action) -> bool:
    """Whether one of the message's buttons sends ``marker`` (``wn:…`` or ``wn.<guild>:…``)."""
    for row in message.components:
        for child in getattr(row, "children", ()):
            match = CUSTOM_ID.fullmatch(getattr(child, "custom_id", None) or "")
            if match is not None and Action(match["name"], match["value"]) == marker:
                return True
    return False


def _edit_refused(err: discord.HTTPException, target: _Target, *, reading: bool) -> Delivery:
    """A refusal to read the channel's history (``reading``) or to edit one of its posts."""
    if err.status == 429 or err.status >= 500:
        return _passing(err)
    if err.status == 401:
        return Delivery.failed(_bad_token())
    where = "that channel"  # plain words: an admin reads this as text
    if err.code == MISSING_ACCESS:
        return Delivery.failed(f"the bot can't see {where} (missing access: give it View "
                               "Channel and Read Message History there)")
    if err.code == MISSING_PERMISSIONS:
        needed = "Read Message History" if reading else "Send Messages"
        return Delivery.failed(f"the bot can't change its posts in {where} (missing "
                               f"permission: give it {needed} there)")
    if err.code == CANNOT_EDIT_OTHERS:
        return Delivery.failed(f"Discord won't let the bot change that post ({_said(err)}): "
                               f"{BUG}")
    if err.status == 403:
        return Delivery.failed(f"Discord won't let the bot change its posts in {where} "
                               f"({_said(err)}): check its permissions there")
    if err.status == 404:
        return Delivery.failed(f"channel {target.channel_id} is gone (deleted, or the bot was "
                               "removed from the server)")
    return Delivery.failed(f"Discord refused the change ({_said(err)}): {BUG}")


def _edit_fault(err: BaseException, allowed: float) -> str:
    if isinstance(err, TimeoutError) and not isinstance(err, _CONNECT_TIMEOUT):
        return (f"Discord didn't answer within {allowed:g} s; changing a post again is safe, "
                "so the bot will try again")
    return f"the bot couldn't finish talking to Discord ({_network(err)})"


def _closing(err: RuntimeError) -> Delivery:
    """aiohttp's "Session is closed": the adapter stopped between our look at the client and
    the request, which was never made. Any other RuntimeError is a bug: it goes up."""
    if "Session is closed" not in str(err):
        raise err
    return Delivery.retry(NOT_CONNECTED)


def _passing(err: discord.HTTPException) -> Delivery:
    """A 429 or 5xx that discord.py's own repeats didn't get past: nothing was posted."""
    if err.status == 429:
        after = _retry_after(err)
        return Delivery.retry(_slow_down(after), after)
    return Delivery.retry(f"Discord had a server error ({err.status})")


def _retry_after(err: discord.HTTPException) -> float | None:
    """docs "Rate Limits": wait ``Retry-After`` seconds (the body's ``retry_after`` is the same
    number; discord.py keeps no copy of the body on the exception)."""
    headers = getattr(err.response, "headers", None) or {}
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        try:
            value = float(headers.get(name, ""))
        except ValueError:
            continue
        if value >= 0:
            return value
    return None


def _slow_down(after: float | None) -> str:
    if after is None:
        return "Discord asked the bot to slow down (429)"
    return f"Discord asked the bot to slow down (429) for {after:g} s"


def _bad_token() -> str:
    return ("Discord refused the bot's token (401): reset it in the Developer Portal and put "
            "the new one in DISCORD_TOKEN")


def _said(err: discord.HTTPException) -> str:
    """``403 50013 Missing Permissions``, on one line (a 400's field errors joined with ;)."""
    text = "; ".join(line.strip() for line in (err.text or "").splitlines() if line.strip())
    code = f" {err.code}" if err.code else ""
    said = f"{err.status}{code} {text}".strip()
    return said if len(said) <= 200 else said[:199] + "…"


def _network(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
