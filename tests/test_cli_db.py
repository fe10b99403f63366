"""``whosnext db status`` and ``whosnext db upgrade`` through the real ``python -m bot``: status
reads without changing anything, upgrade applies what's pending and keeps the data, and a file
that isn't a database (or is newer than this bot) is a clear line, never a traceback."""

import sqlite3

from storage import migrate
from tests.test_console import whosnext

KNOWN = len(migrate.migrations())


def test_status_then_upgrade_then_status(tmp_path):
    db = tmp_path / "team.db"
    out = whosnext(["db", "status", "--db", str(db)], "", tmp_path)
    assert out.returncode == 0 and "no Who's Next database here yet" in out.stdout, out.stderr
    assert not db.exists()  # status never creates it
    out = whosnext(["db", "upgrade", "--db", str(db)], "", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "applied 0001_initial" in out.stdout and f"schema version {KNOWN}." in out.stdout
    out = whosnext(["db", "status"], "", tmp_path, {"DATABASE_URL": f"sqlite:///{db}"})
    assert out.returncode == 0 and f"schema version {KNOWN} of {KNOWN}, up to date" in out.stdout
    out = whosnext(["db", "upgrade", "--db", str(db)], "", tmp_path)
    assert "already up to date" in out.stdout


def test_an_older_database_shows_what_is_pending_and_upgrades_keeping_its_data(tmp_path,
                                                                               monkeypatch):
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    known = migrate.migrations()
    with monkeypatch.context() as m:
        m.setattr(migrate, "migrations", lambda: known[:5])  # as the bot of five versions ago
        migrate.apply(conn)
    conn.execute("INSERT INTO claims (community_id, kind, local_date, status, claimed_at) VALUES "
                 "('console:t', 'checkin', '2026-11-25', 'posted', '2026-11-25T08:00:00.000000Z')")
    conn.close()
    out = whosnext(["db", "status", "--db", str(db)], "", tmp_path)
    assert out.returncode == 0
    assert f"schema version 5 of {KNOWN}; {KNOWN - 5} to apply: 0006_outbox" in out.stdout
    with sqlite3.connect(db) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == 5  # status changed nothing
    out = whosnext(["db", "upgrade", "--db", str(db)], "", tmp_path)
    assert out.returncode == 0 and "applied 0006_outbox" in out.stdout, out.stderr
    with sqlite3.connect(db) as check:
        assert check.execute("SELECT community_id, state FROM outbox").fetchall() == [
            ("console:t", "sent")]


def test_what_isnt_a_database_is_a_clear_error_and_stays_as_it_was(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("my shopping list")
    for action in ("status", "upgrade"):
        out = whosnext(["db", action, "--db", str(bad)], "", tmp_path)
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert out.stderr.strip() == (f"whosnext: --db: {bad} can't be read as a SQLite database "
                                      "(file is not a database)")
    assert bad.read_text() == "my shopping list"
    out = whosnext(["db", "status", "--db", str(tmp_path)], "", tmp_path)
    assert out.returncode == 2 and "is a folder" in out.stderr


def test_a_newer_database_is_left_alone(tmp_path):
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {KNOWN + 3}")
    for action in ("status", "upgrade"):
        out = whosnext(["db", action, "--db", str(db)], "", tmp_path)
        assert out.returncode == 1 and "newer than this Who's Next" in out.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == KNOWN + 3
