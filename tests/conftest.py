"""Shared fixtures: a real SQLite file per test, a fake clock, the real core. Helpers that are
not fixtures (``FakeClock``, ``caller``, ``run``, ``press``, ``COMMUNITY``) are in
``tests/helpers.py``."""

from __future__ import annotations

import pytest

from bot.app import App
from bot.chart import MatplotlibCharts
from storage.sqlite import SqliteRepository
from tests.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def repo(tmp_path):
    repository = await SqliteRepository.open(tmp_path / "test.db")
    yield repository
    await repository.close()


@pytest.fixture
def app(repo, clock) -> App:
    # A generous hourly limit: many tests log dozens of asks without moving the clock.
    return App(repo, clock, default_timezone="UTC", max_logs_per_hour=1000,
               charts=MatplotlibCharts())
