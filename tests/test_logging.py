"""``LOG_FORMAT``: text for a person (the default), or one JSON object a line for a log
collector, from a real process and from the formatter itself."""

from __future__ import annotations

import json
import logging
import signal

from bot.config import JsonLines, load_settings
from tests.test_shutdown import clean_env, free_port, start


def record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("whosnext.test", logging.WARNING, __file__, 1, message, args, info)


def test_a_record_is_one_line_of_json_with_its_traceback():
    try:
        raise ValueError("bad\nthing")
    except ValueError as err:
        line = JsonLines().format(record("posting to %s failed: “%s”", "#général", "ñ\nx", exc=err))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "WARNING" and parsed["logger"] == "whosnext.test"
    assert parsed["message"] == "posting to #général failed: “ñ\nx”"
    assert parsed["time"].endswith("+00:00")
    assert "ValueError: bad" in parsed["exception"] and "Traceback" in parsed["exception"]


def test_text_is_the_default_and_json_is_read_in_any_case(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert load_settings().log_format == "text"
    monkeypatch.setenv("LOG_FORMAT", " JSON ")
    assert load_settings().log_format == "json"


async def test_a_running_bot_logs_only_json_lines(tmp_path):
    from tests.fakes.slack import FakeSlack

    fake = await FakeSlack().start()
    run = await start(tmp_path, "run", env=clean_env(
        tmp_path, LOG_FORMAT="json", SLACK_BOT_TOKEN="xoxb-1-test", SLACK_MODE="http",
        SLACK_SIGNING_SECRET="0123456789abcdef0123456789abcdef",
        SLACK_HTTP_PORT=str(free_port()), SLACK_API_URL=fake.api_url))
    try:
        await run.wait_for("Who's Next is running on Slack")
        code = await run.stop(signal.SIGTERM)
    finally:
        if run.proc.returncode is None:
            run.proc.kill()
            await run.proc.wait()
        await fake.stop()
    assert code == 0
    lines = "".join(run.stderr).splitlines()
    parsed = [json.loads(line) for line in lines]  # every line, or this raises
    messages = [p["message"] for p in parsed]
    assert any(m.startswith("Who's Next is running on Slack") for m in messages), messages
    assert "Stopped. Bye!" in messages
    assert all(p["level"] in ("INFO", "WARNING", "ERROR") and p["logger"] for p in parsed)
