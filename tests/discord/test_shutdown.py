"""Stopping the Discord adapter: the interaction being answered is answered, a new one is told
the bot is restarting (and nothing is saved), then the gateway closes."""

from __future__ import annotations

import asyncio

from bot.app import App
from bot.invocation import Invocation
from bot.reply import Reply
from tests.discord.helpers import ANA, first_response
from tests.fakes.discord import FakeDiscord


class HeldApp(App):
    """The real core, holding each command until the test lets it go."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def dispatch(self, inv: Invocation) -> Reply:
        self.started.set()
        await self.release.wait()
        return await super().dispatch(inv)


async def test_stop_finishes_the_answer_under_way_and_refuses_new_work(fake: FakeDiscord, repo,
                                                                       clock, start_bot):
    core = HeldApp(repo, clock, default_timezone="UTC")
    bot = await start_bot(core=core)
    held = fake.command("rejected", {"ask": "asked for a raise"}, user_id=ANA)
    await fake.push(held)
    await asyncio.wait_for(core.started.wait(), 10)

    stopping = asyncio.create_task(bot.stop(timeout=30))
    await asyncio.sleep(0)  # let stop() begin: it waits for the held interaction
    assert not stopping.done()
    late = fake.command("rejected", {"ask": "asked for a discount"}, user_id=ANA)
    await fake.push(late)
    refused = await first_response(fake, late)
    assert "restarting" in refused.json["data"]["content"]
    assert refused.json["data"]["flags"] & 64  # only the member sees it

    core.release.set()  # the held command finishes (answered first, or deferred and followed up)
    await asyncio.wait_for(stopping, 30)
    first = await first_response(fake, held)
    edits = fake.find("PATCH", rf"/webhooks/\d+/{held['token']}/messages/@original")
    answer = first.json["data"] if first.json["type"] == 4 else edits[-1].json
    assert "got a no" in answer["embeds"][0]["description"]
    assert fake.connected == 0
    totals = await repo.totals(*_ana())
    assert totals.attempts == 1  # the held one; the one sent while stopping wasn't saved


def _ana():
    from bot.ids import CommunityRef, MemberRef, Platform
    from tests.fakes.discord import GUILD_ID

    return CommunityRef(Platform.DISCORD, str(GUILD_ID)), MemberRef(Platform.DISCORD, str(ANA))
