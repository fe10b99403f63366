"""The Prometheus metrics (``bot.metrics``) as the real core and the real outbox report to them,
on both backends and a fake clock: commands by name and outcome with their latency, scheduled
posts sent / retried / missed, and the outbox backlog read from the database at each scrape."""

from __future__ import annotations

import itertools

from prometheus_client.parser import text_string_to_metric_families

from bot.app import App
from bot.ids import Platform
from bot.invocation import ActionInvocation
from bot.metrics import PrometheusMetrics
from bot.ports import Delivery
from tests.helpers import FakeClock, caller, run
from tests.scheduler.helpers import RecordingPoster, make_scheduler, schedule, utc

SET_AT = utc(2026, 11, 20, 12)
NINE = utc(2026, 11, 26, 8)  # Thu 26 Nov 2026, 09:00 in Berlin


class Ticker:
    """A timer that moves ``step`` seconds each time it is read: every command the core
    measures (read before and after) takes exactly ``step``."""

    def __init__(self, step: float) -> None:
        self._values = (i * step for i in itertools.count())

    def __call__(self) -> float:
        return next(self._values)


def commands(metrics: PrometheusMetrics, name: str, outcome: str) -> float | None:
    return metrics.registry.get_sample_value("whosnext_commands_total",
                                             {"command": name, "outcome": outcome})


def posts(metrics: PrometheusMetrics, outcome: str, kind: str = "checkin") -> float:
    value = metrics.registry.get_sample_value(
        "whosnext_posts_total", {"platform": "console", "kind": kind, "outcome": outcome})
    return value or 0.0


async def scraped(metrics: PrometheusMetrics) -> dict[str, float]:
    """One scrape, parsed as Prometheus parses it: each unlabelled sample by name."""
    text = (await metrics.exposition()).decode()
    return {s.name: s.value for family in text_string_to_metric_families(text)
            for s in family.samples if not s.labels}


def observed_app(repo, clock: FakeClock, step: float = 0.375) -> tuple[App, PrometheusMetrics]:
    metrics = PrometheusMetrics(repo, clock, [Platform.CONSOLE.value])
    app = App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000, metrics=metrics,
              timer=Ticker(step))
    return app, metrics


async def test_each_command_is_counted_once_by_name_and_outcome(repo, clock):
    app, metrics = observed_app(repo, clock)
    await run(app, "/rejected asked for a raise fear:7")
    await run(app, "/Rejected asked for a discount")  # the catalogue's name, however typed
    await run(app, "/rejected asked again fear:eleven")  # a bad option
    await run(app, "/checkin set channel:general time:09:00")  # admins only
    await run(app, "/frobnicate now")  # not a command
    await app.handle_action(ActionInvocation("no-such-button", "1", caller()))
    await app.handle_action(ActionInvocation("cheer", "999", caller()))  # no such attempt
    assert commands(metrics, "rejected", "ok") == 2
    assert commands(metrics, "rejected", "refused") == 1
    assert commands(metrics, "checkin", "refused") == 1
    assert commands(metrics, "unknown", "refused") == 1
    assert commands(metrics, "button:unknown", "refused") == 1
    assert commands(metrics, "button:cheer", "refused") == 1
    assert commands(metrics, "frobnicate", "refused") is None  # no series minted by input
    # Every one measured once, 0.375 s each on the ticker.
    histogram = {"command": "rejected"}
    assert metrics.registry.get_sample_value("whosnext_command_seconds_count", histogram) == 3
    assert metrics.registry.get_sample_value("whosnext_command_seconds_sum", histogram) == 1.125
    for le, count in (("0.25", 0), ("0.5", 3), ("+Inf", 3)):
        assert metrics.registry.get_sample_value(
            "whosnext_command_seconds_bucket", {**histogram, "le": le}) == count


async def test_a_command_that_fails_counts_as_an_error(repo, clock):
    app, metrics = observed_app(repo, clock)
    await repo.close()  # every read and write now raises: a bug's path, the OOPS reply
    reply = await run(app, "/stats")
    assert reply.error
    assert commands(metrics, "stats", "error") == 1 and commands(metrics, "stats", "ok") is None


async def test_posts_sent_retried_missed_and_the_backlog_follow_a_real_outbox_run(repo, clock):
    app, metrics = observed_app(repo, clock)
    await repo.save_schedule(schedule("test", recap=None), SET_AT)
    await repo.save_schedule(schedule("gone", recap=None), SET_AT)
    poster = RecordingPoster(fail={"test": [Delivery.retry("the platform had a hiccup (HTTP 500)")],
                                   "gone": Delivery.failed("the channel is archived")})
    sched = make_scheduler(repo, app, poster, clock)
    clock.set(NINE)
    assert (await scraped(metrics))["whosnext_outbox_oldest_due_seconds"] == 0  # nothing queued
    report = await sched.run_due(NINE)
    assert (report.retrying, report.failed, report.posted) == (1, 1, 0)
    assert (posts(metrics, "retried"), posts(metrics, "missed"), posts(metrics, "sent")) == (1, 1, 0)
    # "test" waits out its backoff: the backlog is as old as its due time.
    assert (await scraped(metrics))["whosnext_outbox_oldest_due_seconds"] == 0
    clock.advance(seconds=5)
    assert (await scraped(metrics))["whosnext_outbox_oldest_due_seconds"] == 5
    assert await repo.outbox_oldest_due(clock.now()) == NINE
    assert await repo.outbox_oldest_due(clock.now(), ["slack", "discord"]) is None  # theirs only
    clock.advance(seconds=10)
    assert (await sched.drain()).posted == 1
    assert (posts(metrics, "retried"), posts(metrics, "missed"), posts(metrics, "sent")) == (1, 1, 1)
    assert (await scraped(metrics))["whosnext_outbox_oldest_due_seconds"] == 0  # all done
    assert await repo.outbox_oldest_due(clock.now()) is None


async def test_the_backlog_is_left_out_when_the_database_cannot_say(repo, clock):
    _, metrics = observed_app(repo, clock)
    assert "whosnext_outbox_oldest_due_seconds" in await scraped(metrics)
    await repo.close()
    text = (await metrics.exposition()).decode()
    assert "whosnext_outbox_oldest_due_seconds" not in text  # no stale number, no made-up 0
    assert "# TYPE whosnext_commands_total counter" in text  # the rest is still scraped


def test_two_metrics_share_nothing(repo, clock):
    """A registry each (no global default registry): a second bot in one process starts at 0
    and no name is registered twice."""
    one, two = PrometheusMetrics(repo, clock), PrometheusMetrics(repo, clock)
    one.command("rejected", "ok", 0.1)
    assert commands(one, "rejected", "ok") == 1 and commands(two, "rejected", "ok") is None
