"""The ``whosnext`` command: the one composition root. It reads the settings (the core's and
each adapter's own), builds storage, the core and the adapters, and starts them.

    whosnext                  Slack and/or Discord if their tokens are set, else the terminal
    whosnext run              the same
    whosnext console          the terminal adapter (--user, --db, --community)
    whosnext slack-manifest   a Slack app manifest built from the command catalogue
    whosnext discord-invite   the link that adds the bot to a Discord server
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from bot import __version__, heap
from bot.app import App
from bot.config import ConfigError, Settings, bad_configuration, configure_logging, load_settings
from bot.ids import Platform
from bot.ports import Clock, Metrics, Poster, Repository, SystemClock
from bot.scheduler import Scheduler

if TYPE_CHECKING:
    from adapters.discord.settings import DiscordSettings
    from adapters.health import Health
    from adapters.slack.config import SlackSettings
    from bot.metrics import PrometheusMetrics
    from storage.repository import Repository as Storage

log = logging.getLogger("whosnext")
T = TypeVar("T")


class PlatformSettings(Protocol):
    """What the composition root asks of each adapter's settings class."""

    ENABLED_BY: ClassVar[str]  # the variable whose presence makes the platform run

    @property
    def enabled(self) -> bool:
        ...


class Adapter(Protocol):
    """What the composition root does with a running adapter."""

    @property
    def poster(self) -> Poster:
        ...

    async def start(self) -> None:
        ...

    async def readiness(self) -> str | None:
        """None while connected to the platform; otherwise what's wrong, in a few words."""
        ...

    async def drain(self, timeout: float = 10.0) -> None:
        """Take no new work; give what's under way ``timeout`` seconds. Posting still works."""
        ...

    async def stop(self, timeout: float = 10.0) -> None:
        ...


@dataclass(frozen=True)
class Configuration:
    """Everything the environment and .env say: the core's settings and each platform's,
    each declared by its own adapter."""

    core: Settings
    slack: SlackSettings
    discord: DiscordSettings

    @property
    def platforms(self) -> dict[Platform, PlatformSettings]:
        return {Platform.SLACK: self.slack, Platform.DISCORD: self.discord}

    def running(self) -> list[Platform]:
        """The platforms that run: those whose token is set."""
        return [p for p, s in self.platforms.items() if s.enabled]

    @property
    def slack_http(self) -> bool:
        return self.slack.enabled and self.slack.slack_mode == "http"


def load_configuration() -> Configuration:
    """The core's settings and each adapter's, from the environment and .env; or one
    ConfigError naming every bad variable. Only the adapters' settings modules are imported
    here: an adapter itself (slack-bolt, discord.py) is imported when its platform runs."""
    from adapters.discord.settings import load_discord_settings
    from adapters.slack.config import load_slack_settings

    problems: list[str] = []

    def attempt(loader: Callable[[], T]) -> T | None:
        try:
            return loader()
        except ConfigError as err:
            problems.extend(err.problems or (str(err),))
            return None

    core = attempt(load_settings)
    slack = attempt(load_slack_settings)
    discord = attempt(load_discord_settings)
    if core is None or slack is None or discord is None:
        raise bad_configuration(problems)
    return Configuration(core, slack, discord)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="whosnext", description="Who's Next: log every ask, "
                                "celebrate every no. Some will, some won't, so what. Who's next?")
    p.add_argument("--version", action="version", version=f"whosnext {__version__}")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("help", help="show this help")
    sub.add_parser("run", help="run on Slack and/or Discord (the terminal if no token is set)",
                   description="Run the bot on Slack and/or Discord, as the SLACK_* and "
                   "DISCORD_* settings say (environment or .env); with neither set, in your "
                   "terminal. Ctrl-C or SIGTERM stops it.")
    c = sub.add_parser("console", help="try the bot in your terminal",
                       description="Try the bot in your terminal: type commands like "
                       "/rejected asked for a raise, and /help for all of them.")
    c.add_argument("--user", help="who you are (default: your login name)")
    c.add_argument("--db", help="a SQLite file or a database URL (default: DATABASE_URL, "
                   "sqlite:///whosnext.db)")
    c.add_argument("--community", default="local", help="which terminal community (default: local)")
    m = sub.add_parser("slack-manifest", help="print a Slack app manifest for this bot")
    m.add_argument("--request-url", help="for HTTP mode: https://your.host/slack/events "
                   "(default: a Socket Mode manifest)")
    m.add_argument("--oauth", action="store_true", help="an app any workspace can install "
                   "(HTTP mode: adds the OAuth redirect URL and the uninstall events)")
    sub.add_parser("discord-invite", help="print the link that adds the bot to a Discord server",
                   description="Print the link that adds the bot to a Discord server. Needs "
                   "DISCORD_TOKEN (environment or .env): the link is built from the bot's id "
                   "in it.")
    d = sub.add_parser("db", help="the database: its schema, bring it up to date, copy it")
    d.add_argument("action", choices=("status", "upgrade", "copy"),
                   help="status: its version and what's pending (changes nothing); upgrade: "
                   "apply what's pending (starting the bot does too); copy: everything into "
                   "another, empty database (--from, --to)")
    d.add_argument("--db", help="a SQLite file or a database URL (default: DATABASE_URL, "
                   "sqlite:///whosnext.db)")
    d.add_argument("--from", dest="source", metavar="URL", help="copy: the database to copy, "
                   "a SQLite file or a URL (default: DATABASE_URL); it is only read")
    d.add_argument("--to", dest="target", metavar="URL", help="copy: the new, empty database "
                   "to copy into, like postgresql://user@host:5432/whosnext")
    return p


# How long a stopping bot gives what's in flight (replies, scheduled posts) before it closes.
STOP_TIMEOUT = 8.0  # with closing, within the 10 s that docker stop and Kubernetes allow


class Shutdown:
    """SIGTERM and SIGINT (``systemctl stop``, ``docker stop``, Kubernetes, Ctrl-C) stop the
    bot cleanly: a signal while it starts up cancels the start; once it runs, ``requested`` is
    set and the caller stops taking work, lets what's in flight finish, and closes."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self._starting: asyncio.Task[object] | None = None

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        self._starting = asyncio.current_task()
        for sig in self.SIGNALS:
            with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                loop.add_signal_handler(sig, self._on_signal, sig)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self.SIGNALS:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)

    def running(self) -> None:
        """From here a signal asks for a graceful stop instead of cancelling the start."""
        self._starting = None

    def _on_signal(self, sig: int) -> None:
        log.info("Got %s: stopping.", signal.Signals(sig).name)
        if self._starting is not None:
            self._starting.cancel()
            self._starting = None  # a second signal must not cancel the cleanup
        self.requested.set()


def _database_url(settings: Settings, db: str | None, option: str = "--db") -> tuple[str, str]:
    """The database to use (``--db``, a file or a URL, over ``DATABASE_URL``) and the name of
    where it came from, for messages."""
    from storage.connect import as_url, backend

    url, variable = (as_url(db), option) if db else (settings.database_url, "DATABASE_URL")
    try:
        backend(url)
    except ValueError as err:
        raise ConfigError(f"{variable}: {err}") from None
    return url, variable


async def _open_repository(settings: Settings, db: str | None = None) -> Storage:
    from storage.connect import open_repository
    from storage.db import DatabaseUnusable

    url, variable = _database_url(settings, db)
    try:
        return await open_repository(url)
    except DatabaseUnusable as err:
        raise ConfigError(f"{variable}: {err}") from None


def _app(settings: Settings, repo: Repository, clock: Clock,
         metrics: Metrics | None = None) -> App:
    from bot.chart import MatplotlibCharts

    return App(repo, clock, default_timezone=settings.default_timezone,
               max_logs_per_hour=settings.max_logs_per_hour, charts=MatplotlibCharts(),
               metrics=metrics)


@dataclass
class Observed:
    """The health and metrics endpoints, when this process serves them (``HEALTH_PORT``, or
    Slack's HTTP mode): imported and built only then."""

    metrics: PrometheusMetrics
    health: Health

    @classmethod
    def build(cls, repo: Repository, clock: Clock, platforms: list[Platform],
              stopping: asyncio.Event) -> Observed:
        from adapters.health import Health, database_check
        from bot.metrics import PrometheusMetrics

        metrics = PrometheusMetrics(repo, clock, [p.value for p in platforms])
        health = Health({"database": database_check(repo.ping)}, metrics=metrics.exposition,
                        content_type=metrics.content_type, stopping=stopping)
        return cls(metrics, health)

    def watch(self, adapters: list[tuple[Platform, Adapter]]) -> None:
        """/readyz also asks each running platform whether it is connected."""
        for platform, adapter in adapters:
            self.health.checks[platform.value] = adapter.readiness

    async def serve(self, settings: Settings) -> None:
        """The server of its own on HEALTH_PORT, if set."""
        if settings.health_port is not None:
            await self.health.start(settings.health_host, settings.health_port)

    async def stop(self) -> None:
        await self.health.stop()


def _scheduler(settings: Settings, repo: Repository, app: App, posters: dict[Platform, Poster],
               **kwargs: Any) -> Scheduler:
    return Scheduler(repo, app, posters, grace_minutes=settings.checkin_grace_minutes,
                     lease=timedelta(seconds=settings.outbox_lease_seconds), **kwargs)


def _adapters(config: Configuration, app: App, repo: Storage, observed: Observed | None = None
              ) -> list[tuple[Platform, Adapter]]:
    """The adapters of the platforms that run, each built from its own settings (and imported
    only then). Slack's HTTP mode serves the health and metrics endpoints on its port too."""
    adapters: list[tuple[Platform, Adapter]] = []
    if config.slack.enabled:
        from adapters.slack.app import SlackAdapter

        routes = observed.health.routes if observed is not None else ()
        adapters.append((Platform.SLACK, SlackAdapter(app, config.slack, routes=routes,
                                                      installs=repo)))
    if config.discord.enabled:
        from adapters.discord.client import DiscordAdapter

        adapters.append((Platform.DISCORD, DiscordAdapter(app, config.discord, repo)))
    return adapters


async def _console(settings: Settings, user: str, db: str | None, community: str) -> None:
    from adapters.console import Console, ConsolePoster, run_console

    shutdown = Shutdown()
    shutdown.install()
    repo = await _open_repository(settings, db)
    clock = SystemClock()
    observed = None
    if settings.health_port is not None:  # the terminal serves none unless asked
        observed = Observed.build(repo, clock, [Platform.CONSOLE], shutdown.requested)
    app = _app(settings, repo, clock, observed.metrics if observed else None)
    console = Console(app, user, community)
    # The terminal serves its own community: check-ins print here, DMs are marked.
    scheduler = _scheduler(settings, repo, app, {Platform.CONSOLE: ConsolePoster(console)},
                           communities=[console.community])
    try:
        if observed is not None:
            await observed.serve(settings)
        await scheduler.start()  # one community: its missed post shows before the prompt
        shutdown.running()
        await run_console(console, stop=shutdown.requested)
    finally:
        await scheduler.stop(STOP_TIMEOUT)
        if observed is not None:
            await observed.stop()
        await repo.close()
        shutdown.uninstall()


async def _run_platforms(config: Configuration) -> None:
    settings = config.core
    _check_ports(config)
    shutdown = Shutdown()
    shutdown.install()
    repo = await _open_repository(settings)
    clock = SystemClock()
    observed = None
    if settings.health_port is not None or config.slack_http:
        observed = Observed.build(repo, clock, config.running(), shutdown.requested)
    app = _app(settings, repo, clock, observed.metrics if observed else None)
    adapters: list[Adapter] = []
    posters: dict[Platform, Poster] = {}
    scheduler = None
    try:
        built = _adapters(config, app, repo, observed)
        for platform, adapter in built:
            adapters.append(adapter)
            posters[platform] = adapter.poster
        if observed is not None:
            observed.watch(built)
            await observed.serve(settings)  # alive (not ready) while the platforms connect
        for adapter in adapters:
            await adapter.start()
        # Check-ins, recaps and follow-ups for the platforms this process serves (a sharded
        # Discord: for its own shards' servers only).
        shards = config.discord.shard_spec if config.discord.enabled else None
        scheduler = _scheduler(settings, repo, app, posters,
                               shards=[shards] if shards is not None else [])
        await scheduler.start(wait=False)  # what was missed goes out while commands are served
        heap.settle()  # start-up's objects: never walked by the collector again
        shutdown.running()
        log.info("Who's Next is running on %s. Ctrl-C (or SIGTERM) stops it.",
                 " and ".join(type(a).__name__.removesuffix("Adapter") for a in adapters))
        await shutdown.requested.wait()
        log.info("Stopping: finishing what's under way (at most %g s)…", STOP_TIMEOUT)
    finally:
        await _stop_all(scheduler, adapters, repo, observed)
        shutdown.uninstall()
        log.info("Stopped. Bye!")


def _check_ports(config: Configuration) -> None:
    port = config.core.health_port
    if config.slack_http and port == config.slack.slack_http_port:
        raise ConfigError(f"HEALTH_PORT and SLACK_HTTP_PORT are both {port}. In SLACK_MODE=http "
                          "the Slack port serves /healthz, /readyz and /metrics already: unset "
                          "HEALTH_PORT, or give it another port.")


async def _stop_all(scheduler: Scheduler | None, adapters: list[Adapter], repo: Repository,
                    observed: Observed | None = None) -> None:
    """Everything stops taking work at once and shares one deadline (STOP_TIMEOUT), then the
    connections close, the health server (which says "stopping" meanwhile), and the database
    last. One failing step doesn't skip the others."""
    steps = [a.drain(STOP_TIMEOUT) for a in adapters]
    if scheduler is not None:
        steps.append(scheduler.stop(STOP_TIMEOUT))  # its posts in flight still go out
    names = [type(a).__name__ for a in adapters] + ["the scheduler"]
    for name, result in zip(names, await asyncio.gather(*steps, return_exceptions=True),
                            strict=False):
        if isinstance(result, Exception):
            log.error("Stopping %s failed", name, exc_info=result)
    for adapter in reversed(adapters):
        try:
            await adapter.stop(0)  # drained: this only closes
        except Exception:
            log.exception("Stopping %s failed", type(adapter).__name__)
    if observed is not None:
        try:
            await observed.stop()
        except Exception:
            log.exception("Stopping the health server failed")
    try:
        await repo.close()
    except Exception:
        log.exception("Closing the database failed")


def _default_user() -> str:
    try:
        name = getpass.getuser()
    except Exception:
        name = ""
    return name or "me"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "help":  # before the settings: help works whatever .env holds
        parser.print_help()
        return 0
    try:
        config = load_configuration()
    except ConfigError as err:
        print(f"whosnext: {err}", file=sys.stderr)
        return 2
    settings = config.core
    command = args.command or "run"
    if command == "run" and not config.running():
        tokens = " or ".join(s.ENABLED_BY for s in config.platforms.values())
        print(f"No {tokens} set, so here's the terminal version. "
              "See .env.example to connect Slack or Discord.", file=sys.stderr)
        command = "console"
    # In the terminal, log lines would interleave with the conversation: warnings only,
    # unless LOG_LEVEL was set on purpose, in the environment (a .env copied from .env.example
    # says INFO, for the platforms).
    level = settings.log_level
    if command == "console" and not any(k.upper() == "LOG_LEVEL" for k in os.environ):
        level = "WARNING"
    configure_logging(level, settings.log_format)
    if command == "console" and sys.stderr.isatty():
        _log_to_current_stderr()
    if level != "DEBUG":  # APScheduler logs every job run at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        if command == "slack-manifest":
            from adapters.slack.manifest import manifest_json

            print(manifest_json(args.request_url, oauth=args.oauth))
            return 0
        if command == "discord-invite":
            return _discord_invite(config.discord)
        if command == "db":
            return _database(settings, args.action, args.db, args.source, args.target)
        if command == "console":
            user = getattr(args, "user", None) or _default_user()
            _run_until_stopped(_console(settings, user, getattr(args, "db", None),
                                        getattr(args, "community", "local")))
            print("Bye! Go make an ask.", file=sys.stderr)
        else:
            _run_until_stopped(_run_platforms(config))
    except ConfigError as err:
        print(f"whosnext: {err}", file=sys.stderr)
        return 2
    return 0


class _CurrentStderr:
    """``sys.stderr`` as it is at each write, for a log handler."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _log_to_current_stderr() -> None:
    """On a terminal, the console's prompt takes standard error over while it reads a line
    (prompt_toolkit's ``patch_stdout``): log lines written to it then print above the prompt
    instead of through the half-typed line."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            handler.setStream(_CurrentStderr())


def _run_until_stopped(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main``; a stop asked for by a signal (even one that cancelled the start) is a
    normal end."""
    with contextlib.suppress(asyncio.CancelledError, KeyboardInterrupt):
        asyncio.run(main)


async def _open_and_close(settings: Settings, db: str | None) -> None:
    """Open the database (which migrates it, as a start does) and close it, on one loop."""
    repo = await _open_repository(settings, db)
    await repo.close()


def _database(settings: Settings, action: str, db: str | None, source: str | None = None,
              target: str | None = None) -> int:
    """``whosnext db status`` reads the schema version without changing anything (nor creating
    the file); ``whosnext db upgrade`` applies the pending migrations, each in one transaction;
    ``whosnext db copy`` copies it all into another database. Either backend."""
    from storage import migrate
    from storage.connect import SQLITE, backend, describe, sqlite_path

    if action == "copy":
        return _copy(settings, db, source, target)
    if source or target:
        raise ConfigError(f"--from and --to go with `whosnext db copy`, not db {action}")
    url, variable = _database_url(settings, db)
    kind = backend(url)
    where = describe(url)
    known = migrate.latest()
    if kind == SQLITE:
        current = _schema_version(sqlite_path(url), variable)
    else:
        current = asyncio.run(_pg_schema_version(url, variable)) or None
    if current is not None and current > known:
        print(f"{where}: schema version {current}, newer than this Who's Next knows ({known}). "
              "Upgrade the bot before running it on this database.", file=sys.stderr)
        return 1
    todo = migrate.pending(current or 0, kind)
    names = ", ".join(m.name.removesuffix(".sql") for m in todo)
    if action == "upgrade":
        if todo or current is None:
            asyncio.run(_open_and_close(settings, db))
        print(f"{where}: applied {names}; now at schema version {known}." if todo
              else f"{where}: already up to date (schema version {known}).")
    elif current is None:
        print(f"{where}: no Who's Next database here yet. `whosnext db upgrade` creates it "
              "(so does starting the bot).")
    elif todo:
        print(f"{where}: schema version {current} of {known}; {len(todo)} to apply: {names}. "
              "Run `whosnext db upgrade` (starting the bot applies them too).")
    else:
        print(f"{where}: schema version {current} of {known}, up to date.")
    return 0


def _copy(settings: Settings, db: str | None, source: str | None, target: str | None) -> int:
    """``whosnext db copy --to URL [--from URL]``: every row into a new, empty database (see
    ``storage.copy``). A refusal or a failed copy is one line and exit 1; the source is never
    changed and the target keeps no row of a copy that didn't finish."""
    from storage.copy import CopyError, copy
    from storage.db import DatabaseUnusable

    if db:
        raise ConfigError("`whosnext db copy` takes --from (default: DATABASE_URL) and --to, "
                          "not --db")
    if not target:
        raise ConfigError("`whosnext db copy` needs --to: the new, empty database to copy into "
                          "(a SQLite file or postgresql://user@host:5432/database)")
    src, _ = _database_url(settings, source, "--from")
    dst, _ = _database_url(settings, target, "--to")
    try:
        copied = asyncio.run(copy(src, dst, progress=sys.stderr))
    except CopyError as err:
        print(f"whosnext: {err}.", file=sys.stderr)
        return 1
    except DatabaseUnusable as err:
        raise ConfigError(str(err)) from None
    except KeyboardInterrupt:
        print("\nwhosnext: copy interrupted; the target keeps none of it, the source is as it "
              "was.", file=sys.stderr)
        return 130
    print(copied.summary())
    return 0


async def _pg_schema_version(url: str, variable: str) -> int:
    from storage.db import DatabaseUnusable
    from storage.postgres import schema_version

    try:
        return await schema_version(url)
    except DatabaseUnusable as err:
        raise ConfigError(f"{variable}: {err}") from None


def _schema_version(path: Path, variable: str) -> int | None:
    """The file's schema version, read only (None: no file yet)."""
    import sqlite3

    from storage import migrate

    if not path.exists():
        return None
    if path.is_dir():
        raise ConfigError(f"{variable}: {path} is a folder; name a database file in it, like "
                          f"{path / 'whosnext.db'}")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            return migrate.version(conn)
    except sqlite3.Error as err:
        raise ConfigError(f"{variable}: {path} can't be read as a SQLite database "
                          f"({err})") from None


def _discord_invite(settings: DiscordSettings) -> int:
    from adapters.discord.invite import application_id_from_token, invite_url

    if not settings.discord_token:
        print("whosnext: DISCORD_TOKEN is not set. Copy your bot's token into .env first.",
              file=sys.stderr)
        return 2
    print(invite_url(application_id_from_token(settings.discord_token)))
    return 0
