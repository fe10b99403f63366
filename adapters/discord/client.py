"""The Discord adapter: a discord.py client and command tree built from the catalogue.

``DiscordAdapter(app, settings, kv_store)``, ``kv_store`` being the core's ``KeyValueStore``
port (the repository is one); ``await start()`` logs in, syncs the slash commands, connects to
the gateway and returns once Discord says READY; ``await stop()``. ``adapter.poster`` is the
scheduler's ``Poster``.

Where Discord is (``DISCORD_API_URL``, ``DISCORD_GATEWAY_URL``): ``routing.py`` points
discord.py there from ``start()`` to ``stop()``, and says how and why.

Command sync. With ``DISCORD_GUILD_IDS`` the commands are copied to those servers and synced
there on every start (instant; for development). Otherwise they are synced globally, and only
when the catalogue's payload hash differs from the one stored in the database, so restarts
never spend Discord's daily command-creation budget.

Responding. Discord wants a first response within 3 seconds of creating the interaction (its
snowflake time), not of our seeing it. Each command or button press runs in the core with a
short budget: ``response_budget`` (2 s by default), cut so that the first response leaves by
2.5 s after creation whatever the gateway lag. If the core answers in time the reply goes out
as the first response, otherwise the interaction is deferred and the reply follows up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable
from typing import Any
from zoneinfo import available_timezones

import aiohttp
import discord
from discord import app_commands

from adapters.discord import routing, slash, translate
from adapters.discord.invite import check_token
from adapters.discord.poster import DiscordPoster
from adapters.discord.render import ActionButton, relabelled_view, render
from adapters.discord.routing import Endpoints
from adapters.discord.settings import DiscordSettings
from bot.app import App
from bot.commands import CommandSpec, get_command
from bot.config import ConfigError, drop_log_lines
from bot.ports import KeyValueStore
from bot.reply import OOPS, Action, Reply, error_reply
from bot.tasks import finish_within

log = logging.getLogger(__name__)

SYNC_KEY = "discord.command_hash.{application_id}"
# Discord takes an interaction's first response only this many seconds after its creation.
DISCORD_ANSWERS_WITHIN = 3.0
# Seconds after an interaction's creation by which its first response leaves.
FIRST_RESPONSE_BY = 2.5
NO_SERVER = "I work inside a server: run this there, and I'll count it for that community."
RESTARTING = "I'm restarting right now, so nothing was saved. Try again in a minute!"
NO_SERVER_BUTTON = "That button belongs to a server I can't tell from here. Try it in the server."


class WhosNextClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float = 2.0):
        intents = discord.Intents.none()
        intents.guilds = True  # no privileged intents: slash commands need none
        # A 429 asking more than 30 s (discord.py's least) raises RateLimited instead of being
        # slept out inside one send: the outbox decides when to try again (the poster's own
        # timeout, SEND_TIMEOUT, leaves room for the 30 s discord.py may still wait).
        super().__init__(intents=intents, guild_ready_timeout=guild_ready_timeout,
                         max_ratelimit_timeout=30.0)
        self.adapter = adapter
        self.tree: app_commands.CommandTree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        # Buttons of any message ever sent, found by custom_id: persistent across restarts.
        self.add_dynamic_items(ActionButton)

    async def handle_action_press(self, interaction: discord.Interaction, action: Action,
                                  guild_id: str | None) -> None:
        await self.adapter.on_action(interaction, action, guild_id)


class DiscordAdapter:
    def __init__(self, app: App, settings: DiscordSettings, kv_store: KeyValueStore, *,
                 response_budget: float = 2.0, ready_timeout: float = 60.0,
                 guild_ready_timeout: float = 2.0):
        # discord.py warns at every client start that voice needs PyNaCl and davey. This bot
        # has no voice, so those two lines (and only those) are dropped.
        drop_log_lines("discord.client", "PyNaCl is not installed, voice will NOT be supported",
                       "davey is not installed, voice will NOT be supported")
        self.app = app
        self.token = check_token(settings.discord_token)
        self.guild_ids = settings.guild_ids
        self.endpoints = Endpoints(settings.discord_api_url, settings.discord_gateway_url)
        self.kv = kv_store
        self.response_budget = response_budget
        self.ready_timeout = ready_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.client: WhosNextClient | None = None
        # The core's clock: the poster measures an outbox item's first try on it.
        self.poster = DiscordPoster(lambda: self.client, clock=app.deps.clock)
        self._runner: asyncio.Task[None] | None = None
        self._routing: routing.Routing | None = None
        self._busy: set[asyncio.Task[Any]] = set()  # interactions being answered
        self._stopping = False
        self._zones = tuple(sorted(z for z in available_timezones()
                                   if not z.startswith(("posix/", "right/"))))

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.client is not None:
            raise RuntimeError("the Discord adapter is already running")
        self._stopping = False
        self._routing = routing.install(self.endpoints)
        client = WhosNextClient(self, self.guild_ready_timeout)
        for command in slash.build_commands(self._run_command, self._complete_zone):
            client.tree.add_command(command)
        client.tree.error(self._on_tree_error)
        self.client = client
        try:
            try:
                await client.login(self.token)
            except discord.LoginFailure:
                raise ConfigError("Discord refused DISCORD_TOKEN (401). Reset the token in the "
                                  "Developer Portal (Bot → Reset Token) and copy it into .env."
                                  ) from None
            except (aiohttp.ClientError, OSError) as err:
                raise ConfigError(f"Could not reach Discord at {self.endpoints.api} ({err}). "
                                  "Check DISCORD_API_URL and your network.") from None
            await self._sync(client)
            self._runner = asyncio.create_task(client.connect(reconnect=True),
                                               name="whosnext-discord")
            await self._wait_ready(client, self._runner)
        except BaseException:
            await self.stop()
            raise
        log.info("Discord: connected as %s, in %d server(s)", client.user, len(client.guilds))

    async def _wait_ready(self, client: WhosNextClient, runner: asyncio.Task[None]) -> None:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({ready, runner}, timeout=self.ready_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            return
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ready
        if runner in done:
            err = runner.exception()
            raise ConfigError(f"Could not connect to the Discord gateway at "
                              f"{self.endpoints.gateway} ({err or 'closed'}). Check "
                              "DISCORD_GATEWAY_URL and your network.") from err
        raise ConfigError(f"Discord did not say READY within {self.ready_timeout:.0f} s. "
                          "Check DISCORD_GATEWAY_URL and your network.")

    async def readiness(self) -> str | None:
        """None while the gateway is connected and READY; otherwise what's wrong, in a few
        words (discord.py resumes a dropped connection without clearing READY: the socket
        says)."""
        client = self.client
        if client is None or client.is_closed():
            return "not connected to Discord"
        if not client.is_ready():
            return "the Discord gateway isn't ready yet"
        if client.ws is None or not client.ws.open:
            return "the Discord gateway connection is down (reconnecting)"
        return None

    async def drain(self, timeout: float = 10.0) -> None:
        """Answer new interactions with "restarting" and give the ones being answered
        ``timeout`` seconds. The connection stays open, so scheduled posts still go out."""
        self._stopping = True
        late = await finish_within(self._busy, timeout)
        if late:
            log.warning("Discord: %d interaction(s) still being answered after %g s; "
                        "closing anyway", late, timeout)

    async def stop(self, timeout: float = 10.0) -> None:
        """``drain``, then close the gateway and the HTTP session."""
        await self.drain(timeout)
        client, runner = self.client, self._runner
        self.client, self._runner = None, None
        if client is not None:
            await client.close()
        if runner is not None:
            if not runner.done():
                runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await runner
        if self._routing is not None:
            self._routing.restore()  # only once nothing of this client can still send
            self._routing = None

    # -- command sync ---------------------------------------------------------------------

    @staticmethod
    def catalogue_hash(client: WhosNextClient) -> str:
        payload = sorted((c.to_dict(client.tree) for c in client.tree.get_commands()),
                         key=lambda c: c["name"])
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def _sync(self, client: WhosNextClient) -> None:
        tree = client.tree
        if self.guild_ids:
            for guild_id in self.guild_ids:
                guild = discord.Object(id=guild_id)
                tree.copy_global_to(guild=guild)
                try:
                    synced = await tree.sync(guild=guild)
                except discord.Forbidden:
                    log.error("Discord: no access to server %s from DISCORD_GUILD_IDS. Invite "
                              "the bot there first (whosnext discord-invite).", guild_id)
                except discord.HTTPException as err:
                    log.error("Discord: syncing commands to server %s failed (%s %s)", guild_id,
                              err.status, err.text)
                else:
                    log.info("Discord: %d commands synced to server %s", len(synced), guild_id)
            return
        key = SYNC_KEY.format(application_id=client.application_id)
        digest = self.catalogue_hash(client)
        if await self.kv.get_value(key) == digest:
            log.info("Discord: commands unchanged since the last sync; not syncing")
            return
        try:
            synced = await tree.sync()
        except discord.HTTPException as err:
            # Keep running with the commands Discord has; the next start tries again.
            log.error("Discord: syncing commands failed (%s %s); will retry at the next start",
                      err.status, err.text)
            return
        await self.kv.set_value(key, digest)
        log.info("Discord: %d commands synced globally (may take a while to show up)", len(synced))

    # -- commands, autocomplete, buttons ---------------------------------------------------

    async def _run_command(self, interaction: discord.Interaction, spec: CommandSpec,
                           values: dict[str, Any]) -> None:
        who = translate.caller(interaction)
        if who is None:
            await self._respond(interaction, _ready(error_reply(NO_SERVER)), command=spec.name)
            return
        inv = translate.invocation(interaction, spec, values, who)
        await self._respond(interaction, self.app.dispatch(inv), command=spec.name)

    async def on_action(self, interaction: discord.Interaction, action: Action,
                        guild_id: str | None) -> None:
        who = translate.caller(interaction, guild_id)
        work = (_ready(error_reply(NO_SERVER_BUTTON)) if who is None
                else self.app.handle_action(translate.action_invocation(interaction, action, who)))
        await self._respond(interaction, work, guild_id=guild_id)

    async def _complete_zone(self, interaction: discord.Interaction, current: str
                             ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=z, value=z) for z in slash.match_zones(self._zones, current)]

    async def _on_tree_error(self, interaction: discord.Interaction,
                             error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.TransformerError):
            reply = error_reply(f"I couldn't read “{error.value}”. Could you pick it from the list?")
        elif isinstance(error, (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)):
            reply = error_reply("My commands were just updated and Discord is still catching up. "
                                "Give it a minute and try again.")
        else:
            log.error("Discord command failed", exc_info=error)
            reply = error_reply(OOPS)
        with contextlib.suppress(discord.HTTPException):
            r = render(reply)
            if interaction.response.is_done():
                await interaction.followup.send(**r.send_kwargs(), ephemeral=True)
            else:
                await interaction.response.send_message(**r.send_kwargs(), ephemeral=True)

    async def _respond(self, interaction: discord.Interaction, work: Awaitable[Reply], *,
                       command: str | None = None, guild_id: str | None = None) -> None:
        """Answer within Discord's 3 seconds: the reply itself if the core is quick, else a
        deferral now and the reply as a followup. ``stop`` waits for this to finish."""
        current = asyncio.current_task()
        if current is not None:
            self._busy.add(current)
            current.add_done_callback(self._busy.discard)
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        if age >= DISCORD_ANSWERS_WITHIN or self._stopping:
            if asyncio.iscoroutine(work):
                work.close()  # never started: nothing of it runs, nothing is saved
            if age >= DISCORD_ANSWERS_WITHIN:
                # Discord refuses any answer now and tells the member the app didn't respond;
                # running it anyway would count an ask they will likely send again.
                log.warning("Discord: interaction %s reached us %.1f s after it was made, too "
                            "late to answer; not running it", interaction.id, age)
                return
            work = _ready(error_reply(RESTARTING))
        task = asyncio.ensure_future(work)
        budget = max(0.0, min(self.response_budget, FIRST_RESPONSE_BY - age))
        try:  # the core never raises: it answers every failure itself
            reply: Reply | None = await asyncio.wait_for(asyncio.shield(task), budget)
        except TimeoutError:
            reply = None
        try:
            if reply is not None:
                await self._send_first(interaction, reply, guild_id)
                return
            # When the core is slow, the "thinking…" placeholder is public for commands whose
            # answers normally are (the catalogue says which), private for the rest.
            spec = get_command(command) if command is not None else None
            deferred_public = spec is not None and spec.public
            if command is not None:
                await interaction.response.defer(ephemeral=not deferred_public, thinking=True)
            else:
                await interaction.response.defer()  # a button: acknowledge, change nothing yet
            reply = await task
            await self._follow_up(interaction, reply, guild_id, deferred_public
                                  if command is not None else None)
        except discord.HTTPException as err:
            log.warning("Discord: could not answer interaction %s (%s %s)", interaction.id,
                        err.status, err.text or "")

    async def _send_first(self, interaction: discord.Interaction, reply: Reply,
                          guild_id: str | None) -> None:
        r = render(reply, guild_id_in_buttons=_dm_guild(interaction, guild_id))
        is_button = interaction.type is discord.InteractionType.component
        if is_button and reply.replace_original:
            await interaction.response.edit_message(**r.edit_kwargs())
            return
        view = _relabelled(interaction, reply) if is_button else None
        if view is not None:
            try:
                await interaction.response.edit_message(view=view)
            except discord.HTTPException as err:
                log.warning("Discord: could not relabel the buttons of message %s (%s %s)",
                            _message_id(interaction), err.status, err.text or "")
            else:
                await interaction.followup.send(**r.send_kwargs(), ephemeral=r.ephemeral)
                return
        await interaction.response.send_message(**r.send_kwargs(), ephemeral=r.ephemeral)

    async def _follow_up(self, interaction: discord.Interaction, reply: Reply,
                         guild_id: str | None, deferred_public: bool | None) -> None:
        r = render(reply, guild_id_in_buttons=_dm_guild(interaction, guild_id))
        if deferred_public is None:  # a button press, deferred without a placeholder
            if reply.replace_original:
                await interaction.edit_original_response(**r.edit_kwargs())
                return
            view = _relabelled(interaction, reply)
            if view is not None:
                try:  # after a deferred update, the original is the pressed message
                    await interaction.edit_original_response(view=view)
                except discord.HTTPException as err:
                    log.warning("Discord: could not relabel the buttons of message %s (%s %s)",
                                _message_id(interaction), err.status, err.text or "")
            await interaction.followup.send(**r.send_kwargs(), ephemeral=r.ephemeral)
            return
        if r.ephemeral == (not deferred_public):
            await interaction.edit_original_response(**r.edit_kwargs())
        else:
            # The placeholder has the wrong visibility (say, an error after a public
            # "thinking…"): remove it and send the reply as it should be seen.
            await interaction.delete_original_response()
            await interaction.followup.send(**r.send_kwargs(), ephemeral=r.ephemeral)


async def _ready(reply: Reply) -> Reply:
    return reply


def _relabelled(interaction: discord.Interaction, reply: Reply) -> discord.ui.View | None:
    """The pressed message's buttons with the reply's new labels, if it relabels any."""
    if not reply.relabel or reply.replace_original or interaction.message is None:
        return None
    return relabelled_view(interaction.message.components, reply.relabel)


def _message_id(interaction: discord.Interaction) -> int | None:
    return interaction.message.id if interaction.message is not None else None


def _dm_guild(interaction: discord.Interaction, guild_id: str | None) -> str | None:
    """In a DM, new buttons must keep naming the community they belong to."""
    return guild_id if interaction.guild_id is None else None
