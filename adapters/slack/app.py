"""The Slack adapter: slack-bolt's ``AsyncApp`` in Socket Mode or HTTP mode, around the core.

Slash commands are acknowledged with the rendered reply when the core answers within
``ack_budget`` seconds of the request's arrival (it normally takes milliseconds); otherwise they
are acknowledged empty and answered through the ``response_url`` when the core is done. The
work before an ack (the admin check, opening a form) counts against the same budget, and
doesn't wait out Slack's rate limits: Slack wants the ack within 3 seconds. Button presses are
acknowledged at once and answered through the ``response_url``; when the answer relabels
buttons of the message pressed (a Cheer count), that message is rewritten with ``chat.update``
if it is a channel message (an ephemeral one can't be). Work that outlives a request
runs in tasks the adapter tracks: ``idle()`` waits for them, ``stop()`` drains them.

bolt runs with ``process_before_response=True``: it awaits each listener and answers with its
ack when the listener returns, instead of running the listener beside the request and looking
for the ack every 10 ms (bolt's asyncio listener runner), which put a 10 ms floor under every
answer and a wake-up every 10 ms under every request in flight. That is sound because every
listener here returns as soon as it has acked, well within the budget: the work before an
ack is bounded by the deadline above, and anything after it (an answer slower than the
budget, uploads, a button's answer, forgetting an uninstalled workspace) is spawned.

One workspace or any (``settings.oauth``). With ``SLACK_CLIENT_ID`` the app is installed per
workspace through ``/slack/install`` (``install.py``), each workspace's token kept in the
database (``oauth.py``); every call for a request, and every post, uses the token of the
workspace it is for (``workspaces.py``). ``app_uninstalled`` and ``tokens_revoked`` forget that
workspace's token, which stops its posts: the outbox's tries for it fail as "not installed"
without a call to Slack. Its members' entries stay until each runs /forget-me, and come back
into use if the workspace installs the app again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from aiohttp import ClientError, web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.admin import DEFAULT_TTL, AdminCheck, SlackSlow
from adapters.slack.config import SlackSettings, api_base_url, check_settings
from adapters.slack.http import events_app
from adapters.slack.install import INSTALL_PATH, NOT_INSTALLED_HERE, install_flow
from adapters.slack.modals import (
    CALLBACK_ID,
    ModalContext,
    build_modal,
    options_from_view,
    shown_options,
)
from adapters.slack.oauth import RepositoryInstallationStore, RepositoryStateStore
from adapters.slack.poster import (
    SlackPoster,
    api_error,
    open_dm,
    post_message,
    retry_handlers,
    upload_files,
)
from adapters.slack.render import Upload, relabel_blocks, render
from adapters.slack.translate import (
    PressedMessage,
    action_request_id,
    caller_from_command,
    caller_from_interaction,
    command_request_id,
    options_from_text,
    pressed_message,
    retry_number,
    team_id,
    view_request_id,
)
from adapters.slack.workspaces import InstalledAuthorize, Workspace, Workspaces
from bot.app import App
from bot.commands import CommandSpec, get_command
from bot.config import ConfigError, drop_log_lines
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.ports import Repository
from bot.reply import OOPS, Action, Button, Context, Reply, Visibility, error_reply

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
               "not_allowed_token_type"}
Sleep = Callable[[float], Awaitable[None]]
CANT_POST = ("I can't post in this channel, so only you see this. Invite me (/invite @Who's Next) "
             "and your next one goes to everyone; the private part always stays with you.")
CANT_POST_IN_DM = ("I can't post in a conversation between people, so only you see this. "
                   "It's counted all the same.")
POST_FAILED = ("I couldn't post this to the channel just now, so here it is for you. "
               "It's counted all the same.")
# Errors meaning the bot can't post in that conversation at all (rather than "not right now").
NOT_POSTABLE = {"channel_not_found", "not_in_channel", "is_archived", "restricted_action"}
SLOW = "Slack is slow to answer right now, please try again in a moment."
# As the Poster posts: no link previews under our answers.
NO_PREVIEWS = MappingProxyType({"unfurl_links": False, "unfurl_media": False})


class SlackAdapter:
    """One Slack workspace (one bot token), in Socket Mode or HTTP mode; or any workspace that
    installs the app (OAuth, HTTP mode)."""

    def __init__(self, app: App, settings: SlackSettings, *, api_url: str | None = None,
                 http_host: str = "0.0.0.0", http_port: int | None = None,
                 ack_budget: float = 2.0, admin_ttl: float = DEFAULT_TTL,
                 connect_timeout: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Sleep = asyncio.sleep,
                 routes: Iterable[web.RouteDef] = (), installs: Repository | None = None):
        """``routes``: more endpoints for the HTTP mode's server, beside the events path and
        outside its signature guard (the health and metrics endpoints). ``installs``: where
        OAuth mode keeps installations and OAuth states (the repository)."""
        check_settings(settings)
        self.core = app
        self.settings = settings
        self.mode = settings.slack_mode
        self.api_url = api_base_url(api_url or settings.slack_api_url)
        self.http_host = http_host
        self.http_port = http_port if http_port is not None else settings.slack_http_port
        self.ack_budget = ack_budget
        self.connect_timeout = connect_timeout
        self.routes = list(routes)
        self._retry_handlers: list[AsyncRetryHandler] = retry_handlers(sleep)
        # One workspace: its token's. OAuth: no token; each workspace's client is built from
        # this one (base URL, retries) with that workspace's token.
        self.client = AsyncWebClient(token=settings.slack_bot_token, base_url=self.api_url,
                                     retry_handlers=self._retry_handlers)
        self.installs: RepositoryInstallationStore | None = None
        if settings.oauth:
            if installs is None:
                raise ValueError("OAuth mode keeps installations in the repository: pass "
                                 "installs=")
            self.installs = RepositoryInstallationStore(installs, app.deps.clock)
        self.workspaces = Workspaces(self.client, self.installs)
        # The outbox's posts go through the poster's own copies of the workspaces' clients,
        # without retries: the outbox decides them (a retry here would re-send a dropped post).
        self.poster = SlackPoster(self.workspaces)
        self.admins = AdminCheck(ttl=admin_ttl, now=monotonic)
        # Bolt also reads SLACK_BOT_TOKEN from the environment and, finding one beside our
        # client, warns that it's unused: it is the same token, so that line is dropped.
        drop_log_lines("slack_bolt.AsyncApp", warning_client_prioritized_and_token_skipped())
        oauth: dict[str, Any] = {}
        if self.installs is not None and installs is not None:
            flow = install_flow(settings, self.installs,
                                RepositoryStateStore(installs, app.deps.clock), self.client)
            # The flow's settings are passed too, so that bolt builds no default settings of
            # its own from the environment (their file stores would write to $HOME). bolt
            # takes an AsyncAuthorize as ``authorize`` (its annotation names only callables).
            oauth = {"oauth_settings": flow.settings, "oauth_flow": flow,
                     "authorize": InstalledAuthorize(self.workspaces),
                     "user_facing_authorize_error_message": NOT_INSTALLED_HERE}
        # process_before_response: see the module's docstring. The signature is checked once,
        # by the guard in front of bolt (``http.py``: every request to the events path, with
        # the same secret and the same five minutes of clock skew), so bolt doesn't again;
        # Socket Mode requests carry none.
        self.bolt_app = AsyncApp(client=self.client, name="whosnext",
                                 signing_secret=settings.slack_signing_secret or "",
                                 request_verification_enabled=False,
                                 process_before_response=True, **oauth)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._register()

    # ------------------------------------------------------------------ lifecycle

    def _register(self) -> None:
        # One listener for every command (a command configured in Slack but not in the catalogue
        # gets the core's friendly answer). Never two that match the same command: when a
        # listener hasn't acked (within 3 s, were bolt polling for the ack; by the time it
        # returns, as bolt awaits it here), bolt runs the next matching one, i.e. the same
        # command again. Every listener returns once it has acked (process_before_response).
        self.bolt_app.command(re.compile(r"^/.+"))(self._on_command)
        self.bolt_app.action(re.compile(rf"^{Action.PREFIX}:"))(self._on_action)
        self.bolt_app.view(CALLBACK_ID)(self._on_view_submission)
        if self.installs is not None:
            self.bolt_app.event("app_uninstalled")(self._on_uninstalled)
            self.bolt_app.event("tokens_revoked")(self._on_tokens_revoked)

    async def start(self) -> None:
        """Check the token with Slack (one workspace), then connect (Socket Mode) or listen
        (HTTP mode)."""
        if self.installs is None:
            await self._check_auth()
        if self.mode == "http":
            await self._start_http()
        else:
            await self._start_socket()

    async def readiness(self) -> str | None:
        """None while Slack can reach us (HTTP mode: listening; Socket Mode: the websocket
        is up); otherwise what's wrong, in a few words."""
        if self.mode == "http":
            return None if self._runner is not None else "not listening for Slack's requests"
        if self._socket is None:
            return "not connected to Slack"
        if not await self._socket.client.is_connected():
            return "the Socket Mode connection is down (reconnecting)"
        return None

    async def drain(self, timeout: float = 10.0) -> None:
        """``stop``: the Poster posts through the Web API, which needs no open connection."""
        await self.stop(timeout)

    async def stop(self, timeout: float = 10.0) -> None:
        """Disconnect, then give replies still being sent ``timeout`` seconds before cancelling
        them."""
        await self._close_socket()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        if not self._tasks:  # wait_for(…, 0) would time out even on nothing to wait for
            return
        try:
            await asyncio.wait_for(self.idle(), timeout=timeout)
        except TimeoutError:
            tasks = list(self._tasks)
            log.warning("Slack: cancelling %d replies still being sent", len(tasks))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        """Start, then serve until cancelled."""
        try:
            await self.start()
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def idle(self) -> None:
        """Wait until every reply still being sent has been sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _check_auth(self) -> None:
        try:
            response = await self.client.auth_test()
        except SlackApiError as err:
            code = api_error(err)
            if code in AUTH_ERRORS:
                raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({code}). Copy the Bot User "
                                  "OAuth Token (xoxb-…) again from OAuth & Permissions, and "
                                  "reinstall the app if you changed its scopes.") from None
            raise ConfigError(f"Slack's auth.test failed ({code}) at {self.api_url}; "
                              "check SLACK_API_URL and SLACK_BOT_TOKEN.") from None
        except (TimeoutError, ClientError, OSError) as err:
            raise ConfigError(f"Couldn't reach Slack at {self.api_url} ({err}). Check the network, "
                              "or SLACK_API_URL if you set it.") from None
        log.info("Slack: signed in as %s in workspace %s (%s mode)", response.get("user"),
                 response.get("team"), self.mode)

    async def _start_http(self) -> None:
        web_app = events_app(self.bolt_app, self.settings.slack_signing_secret or "",
                             path=EVENTS_PATH, routes=self.routes,
                             oauth_flow=self.bolt_app.oauth_flow)
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.http_host, self.http_port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            raise ConfigError(f"Can't listen on port {self.http_port} ({err.strerror}). Set "
                              "SLACK_HTTP_PORT to a free port.") from None
        self._runner = runner
        address = runner.addresses[0]
        self.http_port = int(address[1])
        log.info("Slack: listening for requests on http://%s:%d%s", self.http_host, self.http_port,
                 EVENTS_PATH)
        if self.installs is not None:
            log.info("Slack: any workspace can add the app at http://%s:%d%s", self.http_host,
                     self.http_port, INSTALL_PATH)

    async def _start_socket(self) -> None:
        app_token = self.settings.slack_app_token or ""
        try:
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackApiError as err:
            raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack ({api_error(err)}). Create an "
                              "app-level token with the connections:write scope under Basic "
                              "Information → App-Level Tokens, and turn Socket Mode on.") from None
        url = str(opened["url"])
        # On self before connecting, so that stop() can close it while it connects.
        self._socket = handler = AsyncSocketModeHandler(self.bolt_app, app_token=app_token,
                                                        web_client=self.client)
        handler.client.wss_uri = url
        try:
            # slack-sdk's connect() never gives up: it logs and retries every ping interval.
            await asyncio.wait_for(handler.connect_async(), timeout=self.connect_timeout)
        except TimeoutError:
            await self._close_socket()
            where = url.split("?", 1)[0]  # the query holds a one-time ticket
            raise ConfigError(f"Couldn't open Slack's Socket Mode websocket at {where} within "
                              f"{self.connect_timeout:g} s. Check that this machine can reach it, "
                              "and that SLACK_APP_TOKEN belongs to this app with Socket Mode "
                              "turned on.") from None
        log.info("Slack: connected in Socket Mode")

    async def _close_socket(self) -> None:
        if self._socket is None:
            return
        socket, self._socket = self._socket, None
        await socket.close_async()
        pending = [t for t in (socket.client.message_processor, socket.client.current_session_monitor,
                               socket.client.message_receiver) if t is not None]
        await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str | None) -> asyncio.Task[Any]:
        """Run ``coro`` as a tracked task. Its failure is logged as "``what`` failed"; with
        ``what=None`` the failure is the awaiter's to log (the core's work on a request)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(done, what))
        return task

    def _task_done(self, task: asyncio.Task[Any], what: str | None) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()  # retrieved either way, so asyncio doesn't report it again
        if error is not None and what is not None:
            log.error("Slack: %s failed", what, exc_info=error)

    # ------------------------------------------------------------------ slash commands

    @staticmethod
    def _remaining(deadline: float) -> float:
        return max(0.0, deadline - asyncio.get_running_loop().time())

    async def _in_time(self, work: asyncio.Task[Reply], deadline: float, ack: Any,
                       response_url: str | None, caller: Caller, ws: Workspace) -> Reply | None:
        """The core's answer if it comes before the deadline; otherwise ack empty now, send the
        answer to the response_url when it's ready, and return None."""
        done, _ = await asyncio.wait({work}, timeout=self._remaining(deadline))
        if work in done:
            return work.result()
        await ack()
        self._spawn(self._deliver_later(work, response_url, caller, ws), "sending a slow answer")
        return None

    def _deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.ack_budget

    def _workspace(self, context: Any) -> Workspace:
        """The request's workspace: the one OAuth's authorize found, else the one token's."""
        return Workspaces.of(context) or self.workspaces.for_token(self.client.token)

    async def _is_admin(self, body: dict[str, Any], caller: Caller, deadline: float,
                        ws: Workspace) -> bool:
        """The workspace's roles, or ``SlackSlow`` if Slack can't say before the deadline."""
        try:
            return await asyncio.wait_for(
                self.admins.is_admin(team_id(body), caller.member.id, ws.quick),
                timeout=self._remaining(deadline))
        except TimeoutError:
            log.warning("Slack: users.info for %s didn't answer before the ack was due",
                        caller.member.id)
            raise SlackSlow("timeout") from None

    async def _on_command(self, ack: Any, body: dict[str, Any], request: AsyncBoltRequest,
                          context: Any) -> None:
        deadline = self._deadline()
        ws = self._workspace(context)
        command = str(body.get("command", "")).lstrip("/")
        spec = get_command(command)
        retry = retry_number(request.headers)
        if retry:
            log.info("Slack: retry %d of /%s (%s); it will not count twice", retry, command,
                     request.headers.get("x-slack-retry-reason", ["?"])[0])
        text = str(body.get("text") or "").strip()
        caller = caller_from_command(body)
        try:
            if spec is not None and spec.asks_admin(text):
                caller = replace(caller, is_admin=await self._is_admin(body, caller, deadline, ws))
            if (spec is not None and spec.available and spec.needs_input and not text
                    and (caller.is_admin or not spec.admin_only)):
                await self._open_modal(ack, body, spec, deadline, ws)
                return
            work = self._spawn(self.core.run_text(command, text, caller, command_request_id(body),
                                                  grammar=options_from_text), None)
            reply = await self._in_time(work, deadline, ack, body.get("response_url"), caller, ws)
            if reply is None:
                return
        except SlackSlow:
            reply = error_reply(SLOW)
        except Exception:
            log.exception("Slack: /%s failed", command)
            reply = error_reply(OOPS)
        if _posted_apart(reply):
            await ack()  # an empty ack shows nothing, not even the typed command
            self._spawn(self._post_apart(reply, caller, body.get("response_url"), ws),
                        "posting a private ask's celebration")
            return
        message = render(reply)
        await ack(dict(message.payload(), **NO_PREVIEWS,
                       response_type="ephemeral" if reply.private else "in_channel"))
        if message.uploads:
            self._spawn(self._upload(message.uploads, reply, caller, ws), "uploading files")

    async def _open_modal(self, ack: Any, body: dict[str, Any], spec: CommandSpec,
                          deadline: float, ws: Workspace) -> None:
        context = ModalContext(spec.name, body.get("channel_id"), body.get("response_url"))
        try:
            await asyncio.wait_for(
                ws.quick.views_open(trigger_id=body.get("trigger_id", ""),
                                              view=build_modal(spec, context)),
                timeout=self._remaining(deadline))
        except (TimeoutError, SlackApiError, ClientError) as err:
            code = api_error(err) if isinstance(err, SlackApiError) else repr(err)
            log.warning("Slack: couldn't open the /%s form: %s", spec.name, code)
            message = render(error_reply("I couldn't open the form just now. You can also write it "
                                         "in one line:", spec.usage))
            await ack(dict(message.payload(), response_type="ephemeral"))
            return
        await ack()

    # ------------------------------------------------------------------ modals

    async def _on_view_submission(self, ack: Any, body: dict[str, Any], view: dict[str, Any],
                                  context: Any) -> None:
        deadline = self._deadline()
        ws = self._workspace(context)
        modal = ModalContext.decode(view.get("private_metadata"))
        spec = get_command(modal.command) if modal else None
        if modal is None or spec is None:
            await ack()
            return
        caller = caller_from_interaction(body, channel_id=modal.channel_id)
        try:
            if spec.admin_only:
                caller = replace(caller, is_admin=await self._is_admin(body, caller, deadline, ws))
            options = options_from_view(spec, (view.get("state") or {}).get("values") or {},
                                        modal)
            work = self._spawn(self.core.dispatch(
                Invocation(spec.name, caller, options, view_request_id(body))), None)
            reply = await self._in_time(work, deadline, ack, modal.response_url, caller, ws)
            if reply is None:
                return
        except SlackSlow:
            reply = error_reply(SLOW)
        except Exception:
            log.exception("Slack: /%s form failed", spec.name)
            reply = error_reply(OOPS)
        if reply.error:
            names = [o.name for o in shown_options(spec, modal.fixed, modal.filled)]
            names = names or [o.name for o in spec.options]
            field = reply.error_option if reply.error_option in names else names[0]
            await ack(response_action="errors", errors={field: reply.plain_text()[:1000]})
            return
        await ack()
        self._spawn(self._deliver(reply, response_url=modal.response_url, caller=caller,
                                  ws=ws), "answering a form")

    # ------------------------------------------------------------------ buttons

    async def _on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any],
                         context: Any) -> None:
        await ack()
        decoded = Action.decode(str(action.get("action_id", "")))
        if decoded is None:
            return
        caller = caller_from_interaction(body)
        press = ActionInvocation(decoded.name, decoded.value, caller, action_request_id(body, action))
        self._spawn(self._press(press, body.get("response_url"), pressed_message(body),
                                self._workspace(context), body.get("trigger_id")),
                    "answering a button press")

    async def _press(self, press: ActionInvocation, response_url: str | None,
                     message: PressedMessage, ws: Workspace, trigger_id: str | None = None
                     ) -> None:
        reply = await self.core.handle_action(press)  # never raises: the core answers failures
        spec = get_command(reply.form) if reply.form else None
        if spec is not None and trigger_id and await self._open_form(press, spec, trigger_id,
                                                                     response_url, ws, reply):
            return  # the form is the answer; else the reply says what to type
        if reply.relabel and not reply.replace_original:
            self._spawn(self._relabel(message, reply.relabel, response_url, ws),
                        "relabelling buttons")
        await self._deliver(reply, response_url=response_url, caller=press.caller, ws=ws,
                            from_button=True)

    async def _open_form(self, press: ActionInvocation, spec: CommandSpec, trigger_id: str,
                         response_url: str | None, ws: Workspace, reply: Reply) -> bool:
        """A button's form (``Reply.form``), opened with the press's trigger_id."""
        channel = press.caller.channel.id if press.caller.channel else None
        context = ModalContext(spec.name, channel, response_url)
        try:
            view = build_modal(spec, context, values=dict(reply.form_values),
                               fixed=dict(reply.form_fixed))
            await ws.quick.views_open(trigger_id=trigger_id, view=view)
        except (SlackApiError, ClientError, TimeoutError) as err:
            code = api_error(err) if isinstance(err, SlackApiError) else repr(err)
            log.warning("Slack: couldn't open the /%s form from a button: %s", spec.name, code)
            return False
        return True

    async def _relabel(self, message: PressedMessage, buttons: tuple[Button, ...],
                       response_url: str | None, ws: Workspace) -> None:
        """Show new labels on the pressed message's buttons; the press is answered either way.
        ``chat.update`` first; if Slack says the message isn't the bot's to update (as it may
        for a slash command's in-channel answer), the press's ``response_url`` replaces it."""
        if message.ephemeral or not (message.channel_id and message.ts and message.blocks):
            # An ephemeral message can't be updated; it comes without ``message`` in the payload.
            log.info("Slack: can't relabel buttons on message %s in %s (ephemeral, or its blocks "
                     "weren't in the payload)", message.ts, message.channel_id)
            return
        blocks = relabel_blocks(message.blocks, buttons)
        if blocks is None:
            return
        update: dict[str, Any] = {"channel": message.channel_id, "ts": message.ts, "blocks": blocks}
        if message.text is not None:
            update["text"] = message.text
        try:
            await ws.client.chat_update(**update)
        except SlackApiError as err:
            if api_error(err) == "cant_update_message" and response_url:
                try:
                    await self._respond(response_url, {"replace_original": True,
                                                       "blocks": blocks, "text": message.text or ""})
                except (TimeoutError, ClientError) as failed:
                    log.warning("Slack: couldn't relabel buttons on message %s in %s: %r",
                                message.ts, message.channel_id, failed)
                return
            log.warning("Slack: couldn't relabel buttons on message %s in %s: %s", message.ts,
                        message.channel_id, api_error(err))
        except (TimeoutError, ClientError) as err:
            log.warning("Slack: couldn't relabel buttons on message %s in %s: %r", message.ts,
                        message.channel_id, err)

    # ------------------------------------------------------------------ delivery

    async def _deliver_later(self, work: asyncio.Task[Reply], response_url: str | None,
                             caller: Caller, ws: Workspace) -> None:
        reply = await work  # the core's answer: it never raises
        await self._deliver(reply, response_url=response_url, caller=caller, ws=ws)

    async def _deliver(self, reply: Reply, *, response_url: str | None, caller: Caller,
                       ws: Workspace, from_button: bool = False) -> None:
        """Answer outside an ack, through the response_url of the command, form or press."""
        if not from_button and _posted_apart(reply):
            await self._post_apart(reply, caller, response_url, ws)
            return
        message = render(reply)
        if not response_url:  # Slack always sends one; a form keeps its command's
            log.warning("Slack: no response_url to answer %s with", caller.member.id)
        else:
            payload: dict[str, Any] = message.payload()
            if from_button and reply.replace_original:
                payload["replace_original"] = True
            else:
                payload.update(NO_PREVIEWS,
                               response_type="ephemeral" if reply.private else "in_channel")
                if from_button:
                    payload["replace_original"] = False
            try:
                await self._respond(response_url, payload)
            except (TimeoutError, ClientError) as err:
                log.warning("Slack: couldn't answer %s through the response_url: %r",
                            caller.member.id, err)
        if message.uploads:
            await self._upload(message.uploads, reply, caller, ws)

    async def _post_apart(self, reply: Reply, caller: Caller, response_url: str | None,
                          ws: Workspace) -> None:
        """A public reply to a command whose text must stay private: the bot posts it in the
        channel itself (``chat.postMessage``), so Slack shows no one the member's typed command.
        Where the bot can't post (a private channel it isn't in, a DM between people), the
        member alone gets it, with a word on how to share the next one."""
        message = render(reply)
        channel = caller.channel.id if caller.channel is not None else None
        try:
            if channel is None:
                raise SlackApiError("no channel", {"ok": False, "error": "channel_not_found"})
            await post_message(ws.client, channel, message)
        except (SlackApiError, TimeoutError, ClientError) as err:
            code = api_error(err) if isinstance(err, SlackApiError) else repr(err)
            if code not in NOT_POSTABLE:
                note = POST_FAILED  # a passing fault: say nothing about the channel
            elif channel is not None and channel.startswith(("D", "G")):
                note = CANT_POST_IN_DM  # a DM or group DM between people
            else:
                note = CANT_POST
            log.info("Slack: can't post in %s (%s); answering %s privately", channel, code,
                     caller.member.id)
            alone = replace(reply, visibility=Visibility.PRIVATE,
                            blocks=(*reply.blocks, Context.of(note)))
            if response_url:
                try:
                    await self._respond(response_url, dict(render(alone).payload(), **NO_PREVIEWS,
                                                           response_type="ephemeral"))
                except (TimeoutError, ClientError) as failed:
                    log.warning("Slack: couldn't answer %s through the response_url either: %r",
                                caller.member.id, failed)
            return
        if message.uploads:
            await self._upload(message.uploads, reply, caller, ws)

    async def _respond(self, response_url: str, payload: dict[str, Any]) -> None:
        webhook = AsyncWebhookClient(url=response_url, retry_handlers=self._retry_handlers)
        response = await webhook.send_dict(payload)
        if response.status_code != 200:
            log.warning("Slack: the response_url answered %d: %s", response.status_code, response.body)

    async def _upload(self, uploads: tuple[Upload, ...], reply: Reply, caller: Caller,
                      ws: Workspace) -> None:
        """Files can't be ephemeral: a private one goes to the member's DM, a public one to the
        channel, or to the DM when the bot isn't in the channel (files need membership, which
        chat:write.public doesn't give)."""
        try:
            if not reply.private and caller.channel is not None:
                try:
                    await upload_files(ws.client, caller.channel.id, uploads)
                    return
                except SlackApiError as err:
                    if api_error(err) not in ("not_in_channel", "channel_not_found"):
                        raise
                    log.info("Slack: can't upload to %s (%s); sending the files to %s's DM",
                             caller.channel.id, api_error(err), caller.member.id)
            await upload_files(ws.client, await open_dm(ws.client, caller.member.id), uploads)
        except (SlackApiError, TimeoutError, ClientError) as err:
            code = api_error(err) if isinstance(err, SlackApiError) else repr(err)
            log.warning("Slack: couldn't upload %s for %s: %s",
                        ", ".join(u.filename for u in uploads), caller.member.id, code)


    # ------------------------------------------------------------------ installs (OAuth)

    # Events are acked when their listener returns (process_before_response): the database
    # work is spawned, so that a slow database can't hold the ack past Slack's 3 seconds.

    async def _on_uninstalled(self, body: dict[str, Any]) -> None:
        self._spawn(self._forget(str(body.get("team_id") or ""), "the app was uninstalled"),
                    "forgetting an uninstalled workspace")

    async def _on_tokens_revoked(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):  # a user's token alone is none of ours
            self._spawn(self._forget(str(body.get("team_id") or ""), "its bot token was revoked"),
                        "forgetting a revoked token")

    async def _forget(self, team: str, why: str) -> None:
        """Forget the workspace's token: its posts stop (each try finds no install); its
        members' entries stay until they /forget-me."""
        if self.installs is None or not team:
            return
        await self.installs.async_delete_installation(enterprise_id=None, team_id=team)
        log.info("Slack: workspace %s is gone (%s); its token is forgotten and its posts "
                 "stop", team, why)


def _posted_apart(reply: Reply) -> bool:
    """A public answer to private input: never in_channel, where Slack would echo the input."""
    return reply.conceal_input and not reply.private
