"""Where discord.py sends the bot's traffic: ``DISCORD_API_URL`` and ``DISCORD_GATEWAY_URL``.

This module is the adapter's one workaround for discord.py having no per-client option
saying where Discord is. discord.py keeps both addresses in public class attributes:

- ``discord.http.Route.BASE``: every REST route's URL is ``BASE + path``, made when the route
  is. That covers the client's own REST calls and, since discord.py's webhook adapter builds
  its routes from the same class, interaction responses, followups and edits of the original
  response.
- ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``: where ``discord.Client`` connects
  first, and again after Discord invalidates a session (``AutoShardedClient`` too, when given
  ``shard_count``). Resumes go to the ``resume_gateway_url`` of READY, as discord.py always
  does against Discord.

Why not a seam per client: discord.py builds its ``HTTPClient`` in ``Client.__init__`` with no
way to pass another, replacing it afterwards means writing the client's private connection
state, and interaction responses bypass it anyway (they go through a webhook adapter found in
an internal ContextVar). An aiohttp connector (a public option) can move the host but not the
scheme or the path.

So the addresses are per process. ``install(endpoints)`` points discord.py at them while an
adapter runs and ``Routing.restore()`` puts discord.py's own back once the last adapter
holding them stops. Several adapters may run at once only if they agree on the addresses (a
test may start a second "process" next to the first); one with other addresses is refused
rather than quietly moving the others' traffic. In production a process runs one client.
Tests start adapters one after another, each reaching its own fake; a test that never stops
its adapter makes the next test's start fail loudly instead of reaching the wrong fake.

The count of adapters holding the addresses lives in the value put into ``Route.BASE``
(a ``str`` whose concatenations are plain strings), not in a global of ours: the state is
discord.py's class attribute, and the value says who holds it.
"""

from __future__ import annotations

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

# discord.py's own values, as it was imported: what ``restore`` puts back. (``getattr``, so
# that a discord.py without them fails in ``check_seams`` with a message, not at import.)
DISCORD_API: str = getattr(Route, "BASE", "")
DISCORD_GATEWAY: yarl.URL = getattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL())


class Endpoints:
    """Where this adapter's Discord is."""

    def __init__(self, api_url: str, gateway_url: str):
        self.api = api_url.rstrip("/")
        self.gateway = yarl.URL(gateway_url)

    def in_force(self) -> bool:
        """Whether discord.py sends its traffic here right now."""
        return Route.BASE == self.api and DiscordWebSocket.DEFAULT_GATEWAY == self.gateway


class HeldAPI(str):
    """The value of ``Route.BASE`` while adapters hold it, counting them."""

    holders: int


def check_seams() -> None:
    """Fail loudly if this discord.py no longer keeps its addresses where this module sets
    them: assigning to a renamed attribute would silently send the traffic to Discord."""
    if not isinstance(getattr(Route, "BASE", None), str):
        raise RuntimeError("discord.py no longer has the str class attribute "
                           "discord.http.Route.BASE; adapters/discord/routing.py needs updating")
    if not isinstance(getattr(DiscordWebSocket, "DEFAULT_GATEWAY", None), yarl.URL):
        raise RuntimeError("discord.py no longer has the yarl.URL class attribute "
                           "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY; "
                           "adapters/discord/routing.py needs updating")


class Routing:
    """One adapter's hold on discord.py's addresses, until ``restore()``."""

    def __init__(self, endpoints: Endpoints, held: HeldAPI):
        self.endpoints = endpoints
        self._held: HeldAPI | None = held

    def restore(self) -> None:
        """Let go; the last holder puts discord.py's own addresses back. Idempotent."""
        held, self._held = self._held, None
        if held is None:
            return
        held.holders -= 1
        if held.holders > 0 or Route.BASE is not held:
            return  # still held by another adapter, or changed since by someone else
        Route.BASE = DISCORD_API
        if DiscordWebSocket.DEFAULT_GATEWAY == self.endpoints.gateway:
            DiscordWebSocket.DEFAULT_GATEWAY = DISCORD_GATEWAY


def install(endpoints: Endpoints) -> Routing:
    """Point discord.py at ``endpoints`` (Discord's own addresses too, so that another adapter
    can't move them); refused while discord.py is pointed elsewhere."""
    check_seams()
    current = Route.BASE
    if isinstance(current, HeldAPI) and endpoints.in_force():
        current.holders += 1
        return Routing(endpoints, current)
    if isinstance(current, HeldAPI) or (current, DiscordWebSocket.DEFAULT_GATEWAY) != (
            DISCORD_API, DISCORD_GATEWAY):
        whom = ("another Discord adapter in this process" if isinstance(current, HeldAPI)
                else "something outside adapters/discord/routing.py")
        raise RuntimeError(
            f"discord.py already sends its traffic to {current} and "
            f"{DiscordWebSocket.DEFAULT_GATEWAY} (discord.http.Route.BASE, "
            f"discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY), set by {whom}; this adapter "
            f"wants {endpoints.api} and {endpoints.gateway}. Stop the other adapter first.")
    held = HeldAPI(endpoints.api)
    held.holders = 1
    Route.BASE = held
    DiscordWebSocket.DEFAULT_GATEWAY = endpoints.gateway
    return Routing(endpoints, held)
