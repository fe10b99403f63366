"""The import contract the README's architecture section states, checked on the source: every
``import`` anywhere in a module counts, at the top or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The one place that builds storage, the core and the adapters and starts them.
COMPOSITION_ROOT = {"bot.cli", "bot.__main__"}
PLATFORM_LIBRARIES = {"discord", "slack_bolt", "slack_sdk"}
DATABASE_DRIVERS = {"aiosqlite", "sqlite3", "asyncpg", "psycopg", "psycopg2", "sqlalchemy", "greenlet"}
# Infrastructure the core keeps at its edge: each in one module nothing else in the core imports.
EDGE_MODULES = {"apscheduler": "bot.scheduler", "matplotlib": "bot.chart",
                "prometheus_client": "bot.metrics"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, by its full dotted name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules(package: str) -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in sorted((ROOT / package).rglob("*.py"))}


CORE = modules("bot")
ADAPTERS = modules("adapters")
STORAGE = modules("storage")


def top(name: str) -> str:
    return name.split(".", 1)[0]


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_walk_sees_the_whole_tree():
    assert {"bot.app", "bot.cli", "bot.scheduler", "bot.chart"} <= set(CORE)
    assert {"adapters.slack.app", "adapters.discord.client", "adapters.console"} <= set(ADAPTERS)
    assert "storage.sqlite" in STORAGE
    assert "adapters.slack.app" in CORE["bot.cli"]  # imported inside a function there


@pytest.mark.parametrize("module", sorted(set(CORE) - COMPOSITION_ROOT))
def test_the_core_imports_no_adapter_storage_platform_or_driver(module):
    bad = {name for name in CORE[module]
           if within(name, "adapters") or within(name, "storage")
           or top(name) in PLATFORM_LIBRARIES | DATABASE_DRIVERS}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("library", sorted(EDGE_MODULES))
def test_each_piece_of_infrastructure_lives_in_one_core_module(library):
    home = EDGE_MODULES[library]
    users = {m for m, names in CORE.items() if any(top(n) == library for n in names)}
    assert users <= {home}, f"{library} is imported by {sorted(users - {home})}, not only {home}"
    importers = {m for m, names in CORE.items() if home in names}
    assert importers - {home} <= COMPOSITION_ROOT, (
        f"{home} is imported by {sorted(importers - {home} - COMPOSITION_ROOT)}; only the "
        "composition root may wire it in")


@pytest.mark.parametrize("module", sorted(ADAPTERS))
def test_no_adapter_imports_another(module):
    parts = module.split(".")
    own = ".".join(parts[:2]) if len(parts) > 1 else module
    others = {name for name in ADAPTERS[module]
              if within(name, "adapters") and name != "adapters"
              and not within(name, own)}
    assert not others, f"{module} imports {sorted(others)}"


@pytest.mark.parametrize("module", sorted(ADAPTERS))
def test_adapters_reach_the_core_not_storage(module):
    bad = {name for name in ADAPTERS[module] if within(name, "storage")}
    assert not bad, f"{module} imports {sorted(bad)}"


@pytest.mark.parametrize("module", sorted(STORAGE))
def test_storage_imports_no_adapter_or_platform(module):
    bad = {name for name in STORAGE[module]
           if within(name, "adapters") or top(name) in PLATFORM_LIBRARIES}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_the_checks_can_fail(tmp_path):
    """The walk finds imports at the top, inside functions and ``from`` forms alike."""
    sample = tmp_path / "sample.py"
    sample.write_text("import discord\n\ndef f():\n    from storage.sqlite import X\n"
                      "    import matplotlib.figure as fig\n")
    assert {"discord", "storage.sqlite", "storage.sqlite.X", "matplotlib.figure"} <= imports_of(sample)
