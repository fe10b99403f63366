"""A database the bot can't write to stops start-up with a message naming DATABASE_URL and
what's wrong, instead of starting and then failing every write."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.sqlite import DatabaseUnusable, SqliteRepository

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable, even for root (who ignores file modes): chattr +i there."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("running as root without chattr +i: can't make a file read-only")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


async def make_db(path: Path) -> None:
    repo = await SqliteRepository.open(path)
    await repo.close()


async def test_a_read_only_file_is_refused(tmp_path):
    db = tmp_path / "bot.db"
    await make_db(db)
    with read_only(db):
        with pytest.raises(DatabaseUnusable, match="read-only"):
            await SqliteRepository.open(db)


async def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    await make_db(folder / "bot.db")
    with read_only(folder):  # the file is writable, but its -wal file can't be made
        with pytest.raises(DatabaseUnusable, match=str(folder / "bot.db")):
            await SqliteRepository.open(folder / "bot.db")


@pytest.mark.parametrize("case", ["missing folder", "a folder", "not a database"])
async def test_unusable_paths_are_refused(case, tmp_path):
    if case == "missing folder":
        path = tmp_path / "nowhere" / "bot.db"
    elif case == "a folder":
        path = tmp_path
    else:
        path = tmp_path / "notes.txt"
        path.write_text("just some notes, not a database\n" * 100)
    with pytest.raises(DatabaseUnusable) as err:
        await SqliteRepository.open(path)
    assert str(path) in str(err.value)
    if case == "not a database":
        assert "not a SQLite database" in str(err.value)
        assert path.read_text().startswith("just some notes")  # left as it was


async def test_a_writable_database_opens_and_keeps_its_data(tmp_path):
    db = tmp_path / "bot.db"
    await make_db(db)
    repo = await SqliteRepository.open(db)
    await repo.set_value("k", "v")
    await repo.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] > 0


async def test_whosnext_refuses_to_start_on_a_read_only_database(tmp_path):
    db = tmp_path / "bot.db"
    await make_db(db)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    env.update(DATABASE_URL=f"sqlite:///{db}", PYTHONPATH=str(ROOT))
    with read_only(db):
        done = subprocess.run([sys.executable, "-m", "bot", "console", "--user", "ana"],
                              input="/rejected asked for a raise\n", capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "DATABASE_URL" in done.stderr and "read-only" in done.stderr
    assert "Traceback" not in done.stderr
    assert "got a no" not in done.stdout  # it never started
