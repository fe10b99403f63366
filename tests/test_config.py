import pytest

from bot.config import ConfigError, load_settings


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.database_url == "sqlite:///whosnext.db" and s.default_timezone == "UTC"
    assert not s.slack_enabled and not s.discord_enabled


@pytest.mark.parametrize("var, value", [
    ("DEFAULT_TIMEZONE", "Europe/Atlantis"), ("LOG_LEVEL", "LOUD"), ("DATABASE_URL", "mysql://x"),
    ("SLACK_BOT_TOKEN", "xoxp-user-token"), ("SLACK_APP_TOKEN", "xoxb-wrong"),
    ("SLACK_MODE", "carrier-pigeon"), ("SLACK_HTTP_PORT", "99999"), ("DISCORD_GUILD_IDS", "12,abc"),
    ("CHECKIN_GRACE_MINUTES", "-5"), ("MAX_LOGS_PER_HOUR", "zero"),
])
def test_a_bad_value_names_the_variable(monkeypatch, tmp_path, var, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert var in str(err.value)


def test_blank_tokens_mean_not_configured(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = load_settings()
    assert not s.slack_enabled and s.log_level == "DEBUG"
