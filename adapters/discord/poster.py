"""The scheduler's way into Discord: post a Reply to a channel, or DM it to a member.

A closed DM (403), a deleted channel (404) or any other refusal is logged and skipped: the
method returns False and the bot carries on. Rate limits (429) are waited out and retried by
discord.py itself; ``LIMITS`` keeps the scheduler under Discord's global limit to begin with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import discord

from adapters.discord.render import Rendered, render
from bot.ids import CommunityRef, MemberRef
from bot.ports import PostingLimits
from bot.reply import Reply

log = logging.getLogger(__name__)

# One bot token for every server: Discord's global limit is 50 requests a second, so the
# scheduler starts at most 40 posts a second, 10 at a time.
LIMITS = PostingLimits(concurrency=10, per_second=40.0)


class DiscordPoster:
    """Implements ``bot.ports.Poster``. ``client`` returns the running client (or None while the
    adapter is stopped), so the poster survives a restart of the adapter."""

    def __init__(self, client: Callable[[], discord.Client | None],
                 limits: PostingLimits = LIMITS):
        self._client = client
        self.limits = limits

    async def post(self, community: CommunityRef, channel_id: str, reply: Reply) -> bool:
        client = self._client()
        if client is None or client.is_closed():
            log.warning("Discord is not connected; check-in for channel %s skipped", channel_id)
            return False
        if not channel_id.isdecimal():
            log.warning("%r is not a Discord channel id; check-in skipped", channel_id)
            return False
        guild_id = int(community.id) if community.id.isdecimal() else None
        channel = client.get_partial_messageable(int(channel_id), guild_id=guild_id)
        return await self._send(channel, render(reply, force_public=True), f"channel {channel_id}")

    async def dm(self, community: CommunityRef, member: MemberRef, reply: Reply) -> bool:
        client = self._client()
        if client is None or client.is_closed():
            log.warning("Discord is not connected; DM to member %s skipped", member.id)
            return False
        if not member.id.isdecimal():
            log.warning("%r is not a Discord user id; DM skipped", member.id)
            return False
        try:
            channel = await client.create_dm(discord.Object(id=int(member.id)))
        except discord.HTTPException as err:
            log.warning("could not open a DM with member %s (%s %s); skipped", member.id,
                        err.status, err.text or "")
            return False
        # A DM has no server around it: its buttons carry the community in their custom_id.
        rendered = render(reply, guild_id_in_buttons=community.id, force_public=True)
        return await self._send(channel, rendered, f"DM to member {member.id}")

    async def _send(self, channel: discord.abc.Messageable, rendered: Rendered, where: str) -> bool:
        try:
            await channel.send(**rendered.send_kwargs())
        except discord.Forbidden as err:
            log.warning("%s refused (403 %s): the member closed their DMs or the bot may not "
                        "post there; skipped", where, err.text or "Forbidden")
            return False
        except discord.NotFound as err:
            log.warning("%s not found (404 %s): deleted?; skipped", where, err.text or "")
            return False
        except discord.HTTPException as err:
            log.warning("%s failed (%s %s); skipped", where, err.status, err.text or "")
            return False
        return True
