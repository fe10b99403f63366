"""Shared fixtures: a real SQLite file per test, a fake clock, the real core. Helpers that are
not fixtures (``FakeClock``, ``caller``, ``run``, ``press``, ``COMMUNITY``) are in
``tests/helpers.py``."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.chart import MatplotlibCharts
from storage.postgres import PostgresRepository
from storage.sqlite import SqliteRepository
from tests import postgres
from tests.helpers import FakeClock


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
async def repo(request, backend, tmp_path):
    if backend == "sqlite":
        repository = await SqliteRepository.open(tmp_path / "test.db")
    else:
        url = request.getfixturevalue("postgres_database")
        await postgres.empty(url)
        # Tests run on a fake clock: leases follow it, not the server's.
        repository = await PostgresRepository.open(url, db_clock=False)
    yield repository
    await repository.close()


@pytest.fixture
def app(repo, clock) -> App:
    # A generous hourly limit: many tests log dozens of asks without moving the clock.
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000,
               charts=MatplotlibCharts())
