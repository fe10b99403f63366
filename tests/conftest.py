"""Shared fixtures: a real database per test (a SQLite file, and again on PostgreSQL), a fake
clock, the real core. Helpers that are
not fixtures (``FakeClock``, ``caller``, ``run``, ``press``, ``COMMUNITY``) are in
``tests/helpers.py``."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.chart import MatplotlibCharts
from storage.connect import open_repository
from tests import postgres
from tests.helpers import FakeClock


def pytest_terminal_summary(terminalreporter):
    """Without a PostgreSQL server, one line at the end says the PostgreSQL half was skipped."""
    if postgres.SKIPPED:
        terminalreporter.write_line(postgres.SKIPPED[0])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def postgres_database():
    """One fresh PostgreSQL database for the run (dropped at the end), migrated once."""
    postgres.server_or_skip()
    url = postgres.run(postgres.create_database())
    yield url
    postgres.run(postgres.drop_database(url))


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    """Which database the repository runs on: every core and repository test runs on both.
    (The adapters' suites override this with SQLite alone: they test the platforms.)"""
    return request.param


@pytest.fixture
def database(request, backend, tmp_path) -> str:
    """This test's database, empty, as a URL: a SQLite file, or the run's PostgreSQL database
    emptied."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url = request.getfixturevalue("postgres_database")
    postgres.run(postgres.empty(url))
    return url


@pytest.fixture
async def reopen(database):
    """Opens another repository on this test's database: another process, or a restart. What
    a test leaves open is closed at its end."""
    opened = []

    async def open_another():
        # Tests run on a fake clock: leases follow it, not the server's.
        repository = await open_repository(database, db_clock=False)
        opened.append(repository)
        return repository

    yield open_another
    for repository in opened:
        await repository.close()


@pytest.fixture
async def repo(reopen):
    return await reopen()


@pytest.fixture
def app(repo, clock) -> App:
    # A generous hourly limit: many tests log dozens of asks without moving the clock.
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000,
               charts=MatplotlibCharts())
