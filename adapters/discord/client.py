"""The Discord adapter: a discord.py client and command tree built from the catalogue.

``DiscordAdapter(app, settings, store)``, ``store`` being the core's ``Coordinator`` port (the
repository is one); ``await start()`` logs in, syncs the slash commands, connects to the
gateway and returns once Discord says READY (every shard of this process, when sharded);
``await stop()``. ``adapter.poster`` is the scheduler's ``Poster``.

Where Discord is (``DISCORD_API_URL``, ``DISCORD_GATEWAY_URL``): ``routing.py`` points
discord.py there from ``start()`` to ``stop()``, and says how and why.

Command sync. With ``DISCORD_GUILD_IDS`` the commands are copied to those servers and synced
there on every start (instant; for development). Otherwise they are synced globally, and only
when the catalogue's payload hash differs from the one stored in the database, so restarts
never spend Discord's daily command-creation budget; and by one process only: the sync is
claimed through the database first (``Coordinator.claim_command_sync``), so processes starting
together with a new catalogue make one bulk overwrite between them, not one each.

Shards (``DISCORD_SHARD_COUNT``, ``DISCORD_SHARD_IDS``; see ``settings.py``). The client is
then discord.py's ``AutoShardedClient`` running this process's shards; Discord sends each
server's events to the session of its shard, so each process answers its own shards' servers
(and shard 0's process the DMs). Every session start (IDENTIFY) is booked through the database
in discord.py's public ``before_identify_hook``: at most one per ``IDENTIFY_INTERVAL`` in each
bucket ``shard_id % max_concurrency`` (``max_concurrency`` from ``GET /gateway/bot``), across
every process of the bot. The poster's share of the REST budget is this process's share of
the shards (``poster.limits_for``).

Responding. Discord wants a first response within 3 seconds of creating the interaction (its
snowflake time), not of our seeing it. Each command or button press runs in the core with a
short budget: ``response_budget`` (2 s by default), cut so that the first response leaves by
2.5 s after creation whatever the gateway lag. If the core answers in time the reply goes out
as the first response, otherwise the interaction is deferred and the reply follows up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands

from adapters.discord import routing, slash, translate
from adapters.discord.invite import check_token
from adapters.discord.poster import DiscordPoster, limits_for
from adapters.discord.render import ActionButton, FormModal, relabelled_view, render
from adapters.discord.routing import Endpoints
from adapters.discord.settings import DiscordSettings
from bot.app import App
from bot.commands import CommandSpec, get_command
from bot.config import ConfigError, drop_log_lines
from bot.errors import Unavailable
from bot.ports import Clock, Coordinator, SyncClaim, SystemClock
from bot.reply import OOPS, Action, Reply, error_reply
from bot.schedules import known_zones
from bot.tasks import finish_within

log = logging.getLogger(__name__)

SYNC_KEY = "discord.command_hash.{application_id}"
# A claim on the command sync lapses after this (its process died mid-sync); a sync takes
# seconds, a few 429s included.
SYNC_LEASE = timedelta(minutes=2)
# Discord: one IDENTIFY per 5 s in each bucket. Booked half a second wider, for the way from
# the database's clock to Discord's (each process sleeps on its own after booking).
IDENTIFY_INTERVAL = timedelta(seconds=5.5)
IDENTIFY_BUCKET = "discord:{application_id}:{bucket}"
# Discord takes an interaction's first response only this many seconds after its creation.
DISCORD_ANSWERS_WITHIN = 3.0
# Seconds after an interaction's creation by which its first response leaves.
FIRST_RESPONSE_BY = 2.5
NO_SERVER = "I work inside a server: run this there, and I'll count it for that community."
RESTARTING = "I'm restarting right now, so nothing was saved. Try again in a minute!"
NO_SERVER_BUTTON = "That button belongs to a server I can't tell from here. Try it in the server."


def _client_options(guild_ready_timeout: float) -> dict[str, Any]:
    intents = discord.Intents.none()
    intents.guilds = True  # no privileged intents: slash commands need none
    # A 429 asking more than 30 s (discord.py's least) raises RateLimited instead of being
    # slept out inside one send: the outbox decides when to try again (the poster's own
    # timeout, SEND_TIMEOUT, leaves room for the 30 s discord.py may still wait).
    return {"intents": intents, "guild_ready_timeout": guild_ready_timeout,
            "max_ratelimit_timeout": 30.0}


class WhosNextClient(discord.Client):
    """One unsharded session: the bot as it runs in one process."""

    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float = 2.0,
                 **options: Any):
        super().__init__(**_client_options(guild_ready_timeout), **options)
        self.adapter = adapter
        self.tree: app_commands.CommandTree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        # Buttons of any message ever sent, found by custom_id: persistent across restarts.
        self.add_dynamic_items(ActionButton)

    async def handle_action_press(self, interaction: discord.Interaction, action: Action,
                                  guild_id: str | None) -> None:
        await self.adapter.on_action(interaction, action, guild_id)


class ShardedClient(WhosNextClient, discord.AutoShardedClient):
    """This process's shards (``shard_ids`` of ``shard_count``), each session started when the
    database says its bucket's turn has come."""

    def __init__(self, adapter: DiscordAdapter, guild_ready_timeout: float, *,
                 shard_ids: list[int], shard_count: int):
        # No timeout on a shard's first connection (discord.py's is 180 s): its wait for its
        # booked turn counts in it, and with many shards in a bucket the queue is longer. The
        # start as a whole is bounded by ``DiscordAdapter._ready_within``.
        super().__init__(adapter, guild_ready_timeout, shard_ids=shard_ids,
                         shard_count=shard_count, shard_connect_timeout=None)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py's public seam before each IDENTIFY (its own sleeps 5 s, in this process
        # only): book the bucket's next slot with every other process, and wait for it.
        await self.adapter.identify_turn(self, shard_id or 0)


class DiscordAdapter:
    def __init__(self, app: App, settings: DiscordSettings, store: Coordinator, *,
                 response_budget: float = 2.0, ready_timeout: float = 60.0,
                 guild_ready_timeout: float = 2.0,
                 identify_interval: timedelta = IDENTIFY_INTERVAL,
                 clock: Clock | None = None):
        """``identify_interval``: how far apart session starts of one bucket are booked (tests
        against a fake with a shorter interval may shorten it). ``clock``: the real time that
        bookings and the sync claim use (Discord's limits are in real seconds; on PostgreSQL
        the database's clock is used instead)."""
        # discord.py warns at every client start that voice needs PyNaCl and davey. This bot
        # has no voice, so those two lines (and only those) are dropped.
        drop_log_lines("discord.client", "PyNaCl is not installed, voice will NOT be supported",
                       "davey is not installed, voice will NOT be supported")
        self.app = app
        self.token = check_token(settings.discord_token)
        self.guild_ids = settings.guild_ids
        self.endpoints = Endpoints(settings.discord_api_url, settings.discord_gateway_url)
        self.store = store
        self.shard_count = settings.discord_shard_count
        self.shard_ids = settings.shard_ids
        self.identify_interval = identify_interval
        self.max_concurrency = 1  # from GET /gateway/bot when sharded
        self.owner = f"discord-{uuid.uuid4().hex[:12]}"  # this adapter, on its sync claims
        self.real_clock = clock or SystemClock()
        self.response_budget = response_budget
        self.ready_timeout = ready_timeout
        self.guild_ready_timeout = guild_ready_timeout
        self.client: WhosNextClient | None = None
        # The core's clock: the poster measures an outbox item's first try on it. Sharded, the
        # poster keeps to this process's share of the bot's REST budget.
        spec = settings.shard_spec
        self.poster = DiscordPoster(lambda: self.client, limits_for(spec.share if spec else 1.0),
                                    clock=app.deps.clock)
        self._runner: asyncio.Task[None] | None = None
        self._routing: routing.Routing | None = None
        self._busy: set[asyncio.Task[Any]] = set()  # interactions being answered
        self._stopping = False
        self._zones = tuple(sorted(known_zones()))

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self.client is not None:
            raise RuntimeError("the Discord adapter is already running")
        self._stopping = False
        self._routing = routing.install(self.endpoints)
        client = self._new_client()
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
            await self._session_limits(client)
            self._runner = asyncio.create_task(client.connect(reconnect=True),
                                               name="whosnext-discord")
            await self._wait_ready(client, self._runner)
        except BaseException:
            await self.stop()
            raise
        shards = "" if self.shard_ids is None else (
            f", shards {','.join(map(str, self.shard_ids))} of {self.shard_count}")
        log.info("Discord: connected as %s, in %d server(s)%s", client.user, len(client.guilds),
                 shards)

    def _new_client(self) -> WhosNextClient:
        if self.shard_ids is None or self.shard_count is None:
            return WhosNextClient(self, self.guild_ready_timeout)
        return ShardedClient(self, self.guild_ready_timeout, shard_ids=list(self.shard_ids),
                             shard_count=self.shard_count)

    # -- shards ---------------------------------------------------------------------------

    async def _session_limits(self, client: WhosNextClient) -> None:
        """Sharded: how many sessions may start at once (the buckets), and how many starts
        are left today, from ``GET /gateway/bot``."""
        if not isinstance(client, discord.AutoShardedClient) or self.shard_ids is None:
            return
        try:
            limits = await client.fetch_session_start_limits()
        except discord.DiscordException as err:
            log.warning("Discord: couldn't read the session start limits (%s); starting one "
                        "session at a time", err)
            self.max_concurrency = 1
            return
        self.max_concurrency = max(1, limits.max_concurrency)
        if limits.remaining < len(self.shard_ids):
            hours = limits.reset_after / 3_600_000
            log.error("Discord: only %d session start(s) left for today and %d shard(s) to "
                      "start; Discord resets the count in %.1f h", limits.remaining,
                      len(self.shard_ids), hours)

    def bucket_of(self, shard_id: int) -> int:
        return shard_id % self.max_concurrency

    async def identify_turn(self, client: WhosNextClient, shard_id: int) -> None:
        """Wait for this shard's turn to IDENTIFY, booked with every process of the bot. A
        database out of reach must not keep the bot off Discord: then this process waits one
        interval, as discord.py itself would."""
        bucket = IDENTIFY_BUCKET.format(application_id=client.application_id,
                                        bucket=self.bucket_of(shard_id))
        try:
            wait = await self.store.reserve_identify(bucket, self.identify_interval,
                                                     self.real_clock.now())
        except Exception as err:  # noqa: BLE001 - raised here, it would stop the shard for good
            log.warning("Discord: couldn't book shard %d's session start in the database (%s); "
                        "waiting %g s instead", shard_id, err if isinstance(err, Unavailable)
                        else f"{type(err).__name__}: {err}",
                        self.identify_interval.total_seconds())
            wait = self.identify_interval.total_seconds()
        if wait > 0:
            log.info("Discord: shard %d starts its session in %.1f s (bucket %d)", shard_id,
                     wait, self.bucket_of(shard_id))
            await asyncio.sleep(wait)

    def _ready_within(self) -> float:
        """Seconds to wait for READY: sharded, every bucket may have a queue of session starts
        (every process's) before this process's last one."""
        if self.shard_count is None:
            return self.ready_timeout
        per_bucket = math.ceil(self.shard_count / self.max_concurrency)
        return self.ready_timeout + per_bucket * self.identify_interval.total_seconds()

    async def _wait_ready(self, client: WhosNextClient, runner: asyncio.Task[None]) -> None:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait({ready, runner}, timeout=self._ready_within(),
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
        raise ConfigError(f"Discord did not say READY within {self._ready_within():.0f} s. "
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
        if isinstance(client, discord.AutoShardedClient):
            down = sorted(i for i, shard in client.shards.items() if shard.is_closed())
            if down:
                return (f"the Discord gateway connection of shard "
                        f"{', '.join(map(str, down))} is down (reconnecting)")
            return None
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
        claim = await self.store.claim_command_sync(key, digest, self.owner,
                                                    self.real_clock.now(), SYNC_LEASE)
        if claim is SyncClaim.UNCHANGED:
            log.info("Discord: commands unchanged since the last sync; not syncing")
            return
        if claim is SyncClaim.TAKEN:
            log.info("Discord: another process of the bot is syncing the commands; not syncing")
            return
        commands: list[Any] | None = None
        try:
            commands = await tree.sync()
        except discord.HTTPException as err:
            # Keep running with the commands Discord has; the next start tries again.
            log.error("Discord: syncing commands failed (%s %s); will retry at the next start",
                      err.status, err.text)
        finally:
            # Let the claim go even if the start is cancelled meanwhile (it lapses otherwise).
            await asyncio.shield(self.store.finish_command_sync(key, digest, self.owner,
                                                                commands is not None))
        if commands is not None:
            log.info("Discord: %d commands synced globally (may take a while to show up)",
                     len(commands))

    # -- commands, autocomplete, buttons ---------------------------------------------------

    async def _run_command(self, interaction: discord.Interaction, spec: CommandSpec,
                           values: dict[str, Any]) -> None:
        who = translate.caller(interaction)
        if who is None:
            await self._respond(interaction, _ready(error_reply(NO_SERVER)), command=spec)
            return
        inv = translate.invocation(interaction, spec, values, who)
        await self._respond(interaction, self.app.dispatch(inv), command=spec)

    async def _form_submitted(self, interaction: discord.Interaction, values: dict[str, str], *,
                              spec: CommandSpec, guild_id: str | None) -> None:
        """A form (``FormModal``) sent: its command, run as if typed."""
        who = translate.caller(interaction, guild_id)
        if who is None:
            await self._respond(interaction, _ready(error_reply(NO_SERVER)), command=spec)
            return
        inv = translate.invocation(interaction, spec, values, who)
        await self._respond(interaction, self.app.dispatch(inv), command=spec, guild_id=guild_id)

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
                       command: CommandSpec | None = None, guild_id: str | None = None) -> None:
        """Answer within Discord's 3 seconds: the reply itself if the core is quick, else a
        deferral now and the reply as a followup. ``stop`` waits for this to finish.

        The core runs right here, in discord.py's task for the interaction; a timer set for
        the budget starts the deferral beside it if the core is still working then. (No task,
        shield or ``wait_for`` of our own per interaction: a quick answer costs one timer.)"""
        current = asyncio.current_task()
        if current is not None:
            self._busy.add(current)
        try:
            await self._answer(interaction, work, command, guild_id)
        finally:
            if current is not None:
                self._busy.discard(current)

    async def _answer(self, interaction: discord.Interaction, work: Awaitable[Reply],
                      command: CommandSpec | None, guild_id: str | None) -> None:
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
        # When the core is slow, the "thinking…" placeholder is public for commands whose
        # answers normally are (the catalogue says which), private for the rest; a button
        # press is acknowledged without one (deferred_public None).
        deferred_public = None if command is None else command.public
        deferral: asyncio.Task[None] | None = None

        def defer() -> None:
            nonlocal deferral
            deferral = asyncio.ensure_future(_defer(interaction, deferred_public))

        budget = min(self.response_budget, FIRST_RESPONSE_BY - age)
        timer = None
        if budget > 0:
            timer = asyncio.get_running_loop().call_later(budget, defer)
        else:
            defer()
        try:  # the core never raises: it answers every failure itself
            reply = await work
        except BaseException:  # cancelled: so is a deferral on its way
            if deferral is not None:
                deferral.cancel()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        try:
            if deferral is None:
                await self._send_first(interaction, reply, guild_id)
                return
            await deferral
            await self._follow_up(interaction, reply, guild_id, deferred_public)
        except discord.HTTPException as err:
            log.warning("Discord: could not answer interaction %s (%s %s)", interaction.id,
                        err.status, err.text or "")

    async def _send_first(self, interaction: discord.Interaction, reply: Reply,
                          guild_id: str | None) -> None:
        r = render(reply, guild_id_in_buttons=_dm_guild(interaction, guild_id))
        is_button = interaction.type is discord.InteractionType.component
        form = get_command(reply.form) if is_button and reply.form else None
        if form is not None:  # the form is the answer (too slow for it: the reply says how)
            await interaction.response.send_modal(FormModal(form, functools.partial(
                self._form_submitted, spec=form, guild_id=guild_id), key=str(interaction.id),
                values=reply.form_values, fixed=reply.form_fixed))
            return
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


async def _defer(interaction: discord.Interaction, deferred_public: bool | None) -> None:
    """The first response while the core is still working: "thinking…" for a command (public
    or private), a bare acknowledgement for a button press (``None``)."""
    if deferred_public is None:
        await interaction.response.defer()  # a button: acknowledge, change nothing yet
    else:
        await interaction.response.defer(ephemeral=not deferred_public, thinking=True)


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
