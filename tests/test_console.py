"""The terminal adapter: `whosnext console` through a real subprocess with piped input, and
`Console.handle_line` in process on the real core. (A real terminal: test_console_tty.py.)"""

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.console import Console

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the terminal is what's tested here; the core runs on both elsewhere


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
    assert "fear goes from 0 to 10" in out.stdout
    assert "`" not in out.stdout  # code spans show as their words
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


def test_piped_input_does_not_import_prompt_toolkit(tmp_path):
    """Line editing is for a real terminal: a piped console starts without prompt_toolkit."""
    code = ("import sys\nfrom bot.cli import main\n"
            f"main(['console', '--user', 'ana', '--db', {str(tmp_path / 'p.db')!r}])\n"
            "print('prompt_toolkit loaded:', 'prompt_toolkit' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
    out = subprocess.run([sys.executable, "-c", code], input="/help\n", text=True,
                         capture_output=True, cwd=tmp_path, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "== Who's Next ==" in out.stdout
    assert "prompt_toolkit loaded: False" in out.stdout


def test_the_example_env_file_keeps_the_terminal_free_of_log_lines(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # as the README says
    out = whosnext(["console", "--user", "ana"], "/rejected asked for a raise\n", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 ask so far" in out.stdout
    assert " INFO " not in out.stderr and " INFO " not in out.stdout
    # Set on purpose, LOG_LEVEL still applies to the terminal.
    chatty = whosnext(["console", "--user", "ana"], "/stats\n", tmp_path, env={"LOG_LEVEL": "INFO"})
    assert " INFO bot.scheduler: Scheduler started" in chatty.stderr


async def test_member_names_are_case_insensitive(app):
    out = io.StringIO()
    console = Console(app, "Ana", "test", out=out)
    await console.handle_line("Sam> /rejected asked for a discount")
    await console.handle_line("sam> /rejected asked for a refund")
    await console.handle_line("SAM> /accepted asked for a table")
    await console.handle_line("sam> /stats")
    await console.handle_line("sam> /asks")
    text = out.getvalue()
    assert "Asks: 3 | No's: 2 | Yeses: 1" in text  # one member, all three asks
    assert "(only Sam sees this)" in text and "@sam" not in text  # as first typed
    await console.handle_line("/leaderboard")
    board = out.getvalue()[len(text):]
    assert "1. @Sam · 3" in board and "@SAM" not in board
    # --user Ana is the admin however the line spells her.
    await console.handle_line("ana> /checkin set time:09:00")
    await console.handle_line("sam> /checkin off")
    after = out.getvalue()
    assert after.count("/checkin is for admins") == 1  # sam's, not ana's
    assert "(only Sam sees this) /checkin is for admins" in after
    assert "@ana" not in after and "(only ana sees this)" not in after


async def test_code_spans_show_without_backticks(app):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out)
    await console.handle_line('/rejected asked for a raise who:"a" who:"b"')
    await console.handle_line("/rejected asked fear:7 faer:3")
    text = out.getvalue()
    assert "who is given twice. Keep just one." in text
    assert "/rejected has no option faer. Did you mean fear?" in text
    assert "`" not in text
    # A lone backtick (not a code span) is left as typed.
    await console.handle_line("/rejected asked about the ` key")
    assert "asked about the ` key" in out.getvalue()


async def test_a_line_without_its_slash_gets_a_did_you_mean(app):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out)
    await console.handle_line("rejected asked for a raise")
    await console.handle_line("sam> Accepted asked for a table")
    await console.handle_line("rejcted asked for a discount")
    await console.handle_line("who next call mom")
    await console.handle_line("good morning")
    await console.handle_line("hello there")
    text = out.getvalue()
    assert "Did you mean /rejected asked for a raise? Commands start with a slash." in text
    assert "Did you mean /accepted asked for a table?" in text
    assert "Did you mean /rejected asked for a discount?" in text
    assert "Did you mean /who-next call mom?" in text
    assert text.count("Type a command like /rejected") == 2  # nothing close to "good", "hello"
    assert "ask so far" not in text  # a suggestion runs nothing
    # A long line is suggested cut short.
    await console.handle_line("rejected " + "very " * 100 + "long")
    assert "Did you mean /rejected very very" in out.getvalue()
    assert "very long?" not in out.getvalue()


async def test_a_space_instead_of_the_dash_gets_a_did_you_mean(app):
    out = io.StringIO()
    console = Console(app, "ana", "test", out=out)
    await console.handle_line("/who next call mom when:friday")
    await console.handle_line("/forget me")
    await console.handle_line("/rejectd asked")
    text = out.getvalue()
    assert "I don't know the command “/who”. Did you mean /who-next call mom when:friday?" in text
    assert "Did you mean /forget-me?" in text
    assert "Did you mean /rejected?" in text  # a typo: the closest name, as before
    assert "ask so far" not in text and "got a" not in text
