"""routing.py: discord.py pointed at DISCORD_API_URL / DISCORD_GATEWAY_URL, and only while an
adapter runs. The first tests fail with a message naming the discord.py attribute if a
release moves or renames what routing.py relies on."""

from __future__ import annotations

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord import routing
from adapters.discord.client import DiscordAdapter
from bot.config import ConfigError
from bot.ids import CommunityRef, Platform
from bot.reply import Reply, Text
from tests.discord.helpers import ANA, StartBot, first_response, settings_for
from tests.fakes.discord import BOT_ID, GUILD_ID, FakeDiscord

UPDATE = "adapters/discord/routing.py needs updating for this discord.py"
COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
NOTE = Reply((Text.of("Still here"),))


def at_discord_py_defaults() -> bool:
    return (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == (routing.DISCORD_API,
                                                              routing.DISCORD_GATEWAY)


# -- what discord.py must keep doing ---------------------------------------------------------


def test_discord_py_still_has_the_two_class_attributes():
    assert isinstance(getattr(Route, "BASE", None), str), (
        f"discord.http.Route.BASE is gone or no longer a str (discord.py {discord.__version__}); "
        + UPDATE)
    assert isinstance(getattr(DiscordWebSocket, "DEFAULT_GATEWAY", None), yarl.URL), (
        "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY is gone or no longer a yarl.URL "
        f"(discord.py {discord.__version__}); " + UPDATE)
    assert routing.DISCORD_API.startswith("https://discord.com/api/v"), routing.DISCORD_API
    assert routing.DISCORD_GATEWAY.host == "gateway.discord.gg", routing.DISCORD_GATEWAY
    routing.check_seams()


def test_routes_take_their_url_from_route_base(monkeypatch):
    monkeypatch.setattr(Route, "BASE", "http://127.0.0.1:1/api/v10")
    route = Route("POST", "/interactions/{webhook_id}/{webhook_token}/callback",
                  webhook_id=1, webhook_token="tok")
    assert route.url == "http://127.0.0.1:1/api/v10/interactions/1/tok/callback", (
        "discord.http.Route no longer builds its URL from discord.http.Route.BASE; " + UPDATE)


@pytest.mark.parametrize("owner, name", [(Route, "BASE"), (DiscordWebSocket, "DEFAULT_GATEWAY")])
def test_a_missing_attribute_is_named_at_start(monkeypatch, owner, name):
    monkeypatch.delattr(owner, name)
    with pytest.raises(RuntimeError, match=f"{owner.__name__}.{name}"):
        routing.install(routing.Endpoints("http://127.0.0.1:1/api/v10", "ws://127.0.0.1:1/"))


async def test_rest_gateway_and_interaction_responses_reach_the_fake(start_bot: StartBot,
                                                                     fake: FakeDiscord):
    try:
        await start_bot()
    except ConfigError as err:
        pytest.fail(f"the adapter did not reach the fake ({err}): discord.http.Route.BASE or "
                    "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY no longer routes "
                    "discord.py; " + UPDATE)
    # REST: login, application info, command sync.
    assert [c.path for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    assert fake.find("PUT", rf"/applications/{BOT_ID}/commands")
    # The gateway: the configured URL, not one discord.py asked the API for.
    assert fake.identifies, "no IDENTIFY reached DISCORD_GATEWAY_URL"
    assert not fake.find("GET", "/gateway(/bot)?"), (
        "discord.Client now asks the API for its gateway: DISCORD_GATEWAY_URL "
        "(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) may no longer be honoured; " + UPDATE)
    # Interaction responses: discord.py's webhook adapter, on the same Route class.
    payload = fake.command("help", user_id=ANA)
    await fake.push(payload)
    try:
        call = await first_response(fake, payload)
    except TimeoutError:
        pytest.fail("the interaction response never reached the fake: discord.py's webhook "
                    "adapter (discord.webhook.async_) no longer builds its URLs from "
                    "discord.http.Route.BASE; " + UPDATE)
    assert call.json["type"] == 4


async def test_the_configured_gateway_is_the_one_used(app, repo, fake: FakeDiscord):
    settings = settings_for(fake).model_copy(
        update={"discord_gateway_url": f"ws://127.0.0.1:{fake.port}/nowhere"})
    adapter = DiscordAdapter(app, settings, repo, ready_timeout=5)
    with pytest.raises(ConfigError, match="DISCORD_GATEWAY_URL"):
        await adapter.start()
    assert not fake.identifies, (
        "discord.py connected to a gateway other than DISCORD_GATEWAY_URL: "
        "discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY no longer decides it; " + UPDATE)
    assert at_discord_py_defaults()


# -- how long the routing lasts ------------------------------------------------------------


async def test_routing_lasts_from_start_to_stop(start_bot: StartBot, fake: FakeDiscord):
    assert at_discord_py_defaults()
    adapter = await start_bot()
    assert Route.BASE == fake.api_url
    assert DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL(fake.gateway_url)
    await adapter.stop()
    assert at_discord_py_defaults()
    await adapter.stop()  # idempotent
    assert at_discord_py_defaults()


async def test_a_failed_start_puts_discord_py_back(app, repo, fake: FakeDiscord):
    fake.fail_next("GET", "/users/@me", 401, message="401: Unauthorized")
    adapter = DiscordAdapter(app, settings_for(fake), repo, ready_timeout=5)
    with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
        await adapter.start()
    assert at_discord_py_defaults()


async def test_adapters_one_after_another_each_reach_their_own_fake(app, repo, fake: FakeDiscord):
    other = FakeDiscord()
    await other.start()
    try:
        for server in (fake, other):
            # Guild sync happens at every start (a global one only when the catalogue changed).
            adapter = DiscordAdapter(app, settings_for(server, str(GUILD_ID)), repo,
                                     ready_timeout=10, guild_ready_timeout=0.05)
            await adapter.start()
            try:
                payload = server.command("help", user_id=ANA)
                await server.push(payload)
                assert (await first_response(server, payload)).json["type"] == 4
            finally:
                await adapter.stop()
        assert not fake.find("POST", rf"/interactions/{payload['id']}/[^/]+/callback")
        assert len(fake.identifies) == len(other.identifies) == 1
    finally:
        await other.close()
    assert at_discord_py_defaults()


async def test_a_second_adapter_elsewhere_is_refused(start_bot: StartBot, app, repo,
                                                     fake: FakeDiscord):
    await start_bot()
    other = FakeDiscord()
    await other.start()
    try:
        second = DiscordAdapter(app, settings_for(other), repo)
        with pytest.raises(RuntimeError, match="another Discord adapter in this process"):
            await second.start()
        assert second.client is None and not other.calls
    finally:
        await other.close()
    # The first one is untouched and still answers.
    assert routing.Endpoints(fake.api_url, fake.gateway_url).in_force()
    payload = fake.command("help", user_id=ANA)
    await fake.push(payload)
    assert (await first_response(fake, payload)).json["type"] == 4


async def test_adapters_at_the_same_place_share_it_until_the_last_stops(
        start_bot: StartBot, fake: FakeDiscord):
    first = await start_bot()
    second = await start_bot()  # another "process" on the same Discord (as test_checkins does)
    await first.stop()
    assert routing.Endpoints(fake.api_url, fake.gateway_url).in_force()
    assert (await second.poster.post(COMMUNITY, str(fake.channel_id), NOTE)).ok
    assert fake.find("POST", f"/channels/{fake.channel_id}/messages")
    await second.stop()
    assert at_discord_py_defaults() and not isinstance(Route.BASE, routing.HeldAPI)


def test_discords_own_addresses_are_held_too():
    held = routing.install(routing.Endpoints(routing.DISCORD_API + "/",
                                             str(routing.DISCORD_GATEWAY)))
    assert at_discord_py_defaults()  # the same addresses...
    assert isinstance(Route.BASE, routing.HeldAPI)  # ...held, so none other can move them
    with pytest.raises(RuntimeError, match="another Discord adapter"):
        routing.install(routing.Endpoints("http://127.0.0.1:1/api/v10", "ws://127.0.0.1:1/"))
    held.restore()
    held.restore()
    assert at_discord_py_defaults() and not isinstance(Route.BASE, routing.HeldAPI)


def test_someone_elses_change_is_refused(monkeypatch):
    monkeypatch.setattr(Route, "BASE", "https://discord.com/api/v9")
    with pytest.raises(RuntimeError, match=r"discord\.http\.Route\.BASE.*outside"):
        routing.install(routing.Endpoints("http://127.0.0.1:1/api/v10", "ws://127.0.0.1:1/"))
    assert Route.BASE == "https://discord.com/api/v9"
