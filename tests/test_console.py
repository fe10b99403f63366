"""The terminal adapter through a real subprocess with piped input: `whosnext console`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def whosnext(args: list[str], stdin: str, cwd: Path, env: dict | None = None):
    full_env = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "DISCORD_", "DATABASE_URL"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, text=True,
                          capture_output=True, cwd=cwd, env=full_env, timeout=60)


def test_a_two_member_session_and_a_second_run(tmp_path):
    db = tmp_path / "team.db"
    script = "\n".join([
        "/rejected asked for a raise who:\"my boss\" fear:7",
        "sam> /rejected asked for a discount",
        "sam> /accepted asked for a table by the window",
        "/accepted asked for feedback",
        "/who-next ask Lee for an intro when:tomorrow",
        "/asks",
        "!6",  # Accepted on the promise (buttons 1-4 are the Cheers above): logs a yes
        "sam> /pending asked the bank",
        "/rejected oops wrong one",
        "/undo",
        "/leaderboard",
        "sam> /stats",
        "/stats",
        "",
    ])
    out = whosnext(["console", "--db", str(db), "--user", "ana"], script, tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "@ana got a no: asked for a raise" in text
    assert "(only ana sees this) == Your open asks ==" in text
    assert "@ana got a yes: ask Lee for an intro" in text
    assert "Removed your last no: oops wrong one." in text
    assert "1. @ana · 3\n2. @sam · 3" not in text  # ties share a rank:
    assert "1. @ana · 3\n1. @sam · 3" in text
    assert "Asks: 3 | No's: 1 | Yeses: 1 | Waiting: 1 | Asks per yes: 3" in text  # sam
    assert "Asks: 3 | No's: 1 | Yeses: 2 | Waiting: 0 | Asks per yes: 1.5" in text  # ana

    # A second run on the same database continues the counts.
    again = whosnext(["console", "--db", str(db), "--user", "ana"],
                     "/rejected one more\n", tmp_path)
    assert again.returncode == 0
    assert "4 asks so far · 2 no's" in again.stdout


def test_the_40th_rejection_is_celebrated(tmp_path):
    script = "".join(f"/rejected ask number {i}\n" for i in range(1, 41))
    out = whosnext(["console", "--db", str(tmp_path / "forty.db"), "--user", "ana"],
                   script, tmp_path, env={"MAX_LOGS_PER_HOUR": "100"})
    assert out.returncode == 0
    last = out.stdout.strip().split("\n\n")[-1]
    assert "40 asks so far · 40 no's" in last
    assert "Milestone!" in last and "40 no's!" in last


def test_plain_whosnext_falls_back_to_the_terminal(tmp_path):
    out = whosnext([], "/rejected asked nicely\n", tmp_path)
    assert out.returncode == 0
    assert "No SLACK_BOT_TOKEN or DISCORD_TOKEN set" in out.stderr
    assert ".env.example" in out.stderr
    assert "@" in out.stdout and "asked nicely" in out.stdout
    assert (tmp_path / "whosnext.db").exists()  # DATABASE_URL's default, in the working dir


def test_bad_lines_and_bad_buttons_do_not_stop_the_console(tmp_path):
    script = "hello there\n!99\n/bogus\n/rejected fear:11 x\nsam> !\n/rejected still works\n"
    out = whosnext(["console", "--db", str(tmp_path / "bad.db"), "--user", "ana"], script,
                   tmp_path)
    assert out.returncode == 0
    assert "Type a command like /rejected" in out.stdout
    assert "There's no button 99" in out.stdout
    assert "`fear` goes from 0 to 10" in out.stdout
    assert "1 ask so far" in out.stdout


def test_a_bad_setting_is_a_clear_start_up_error(tmp_path):
    out = whosnext([], "", tmp_path, env={"DEFAULT_TIMEZONE": "Mars/Olympus"})
    assert out.returncode == 2
    assert "DEFAULT_TIMEZONE" in out.stderr and "Mars/Olympus" in out.stderr
    out = whosnext([], "", tmp_path, env={"DATABASE_URL": "postgres://x"})
    assert out.returncode == 2 and "DATABASE_URL" in out.stderr


def test_private_replies_are_marked(tmp_path):
    out = whosnext(["console", "--db", str(tmp_path / "p.db"), "--user", "ana"], "/help\n",
                   tmp_path)
    assert out.stdout.startswith("(only ana sees this) == Who's Next ==")


def test_env_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite:///from-dotenv.db\n")
    out = whosnext(["console", "--user", "ana"], "/rejected x\n", tmp_path)
    assert out.returncode == 0
    assert (tmp_path / "from-dotenv.db").exists()
