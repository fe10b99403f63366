"""Settings: the core's own (``bot.config``) and each adapter's (``adapters.slack.config``,
``adapters.discord.settings``), read from the environment and .env; the composition root
loads them all and names every bad variable at once."""

from pathlib import Path

import pytest

from adapters.discord.settings import DiscordSettings, load_discord_settings
from adapters.slack.config import SlackSettings, load_slack_settings
from bot import cli
from bot.config import ConfigError, Settings, load_settings
from bot.ids import Platform

ALL_VARIABLES = {
    Settings: {"DATABASE_URL", "DEFAULT_TIMEZONE", "LOG_LEVEL", "LOG_FORMAT", "CHECKIN_GRACE_MINUTES",
               "MAX_LOGS_PER_HOUR", "OUTBOX_LEASE_SECONDS", "HEALTH_PORT", "HEALTH_HOST"},
    SlackSettings: {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_MODE",
                    "SLACK_HTTP_PORT", "SLACK_API_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET",
                    "SLACK_REDIRECT_URI"},
    DiscordSettings: {"DISCORD_TOKEN", "DISCORD_GUILD_IDS", "DISCORD_API_URL",
                      "DISCORD_GATEWAY_URL", "DISCORD_SHARD_COUNT", "DISCORD_SHARD_IDS"},
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """An empty working directory (no .env) and none of the bot's variables set."""
    monkeypatch.chdir(tmp_path)
    for names in ALL_VARIABLES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


def test_defaults():
    config = cli.load_configuration()
    s = config.core
    assert s.database_url == "sqlite:///whosnext.db" and s.default_timezone == "UTC"
    assert not config.slack.enabled and not config.discord.enabled
    assert config.running() == []


@pytest.mark.parametrize("cls", sorted(ALL_VARIABLES, key=lambda c: c.__name__))
def test_each_class_declares_only_its_own_variables(cls):
    assert {name.upper() for name in cls.model_fields} == ALL_VARIABLES[cls]


@pytest.mark.parametrize("var, value", [
    ("DEFAULT_TIMEZONE", "Europe/Atlantis"), ("LOG_LEVEL", "LOUD"), ("DATABASE_URL", "mysql://x"),
    ("LOG_FORMAT", "xml"),
    ("SLACK_BOT_TOKEN", "xoxp-user-token"), ("SLACK_APP_TOKEN", "xoxb-wrong"),
    ("SLACK_BOT_TOKEN", "xoxb-has spaces"), ("SLACK_APP_TOKEN", 'xapp-"quoted"'),
    ("SLACK_MODE", "carrier-pigeon"), ("SLACK_HTTP_PORT", "99999"), ("DISCORD_GUILD_IDS", "12,abc"),
    ("CHECKIN_GRACE_MINUTES", "-5"), ("MAX_LOGS_PER_HOUR", "zero"),
    ("OUTBOX_LEASE_SECONDS", "2"), ("OUTBOX_LEASE_SECONDS", "600"),
    ("HEALTH_PORT", "0"), ("HEALTH_PORT", "65536"), ("HEALTH_PORT", "web"), ("HEALTH_PORT", "-80"),
    ("HEALTH_PORT", "80.5"), ("HEALTH_PORT", "９０９０"), ("HEALTH_PORT", "9" * 5000),
    ("HEALTH_HOST", " "),
])
def test_a_bad_value_names_the_variable(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as err:
        cli.load_configuration()
    assert var in str(err.value)
    assert str(err.value).startswith("Bad configuration: ")
    assert str(err.value).endswith(". See .env.example for every variable.")


def test_every_bad_variable_is_named_at_once_whichever_adapter_owns_it(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("SLACK_MODE", "carrier-pigeon")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "12,abc")
    with pytest.raises(ConfigError) as err:
        cli.load_configuration()
    assert [p.split(":")[0] for p in err.value.problems] == [
        "LOG_LEVEL", "SLACK_MODE", "DISCORD_GUILD_IDS"]
    assert "; ".join(err.value.problems) in str(err.value)


def test_each_adapter_loads_its_own(monkeypatch):
    monkeypatch.setenv("SLACK_MODE", "carrier-pigeon")
    monkeypatch.setenv("DISCORD_GUILD_IDS", "12, 34")
    assert load_settings().log_level == "INFO"  # the core doesn't read SLACK_MODE
    assert load_discord_settings().guild_ids == [12, 34]
    with pytest.raises(ConfigError, match="SLACK_MODE"):
        load_slack_settings()


def test_blank_tokens_mean_not_configured(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "")
    monkeypatch.setenv("DISCORD_TOKEN", "  ")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    config = cli.load_configuration()
    assert not config.slack.enabled and not config.discord.enabled
    assert config.core.log_level == "DEBUG"


def test_a_platform_runs_when_its_token_is_set(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "any.thing.here")  # its form is checked by the adapter
    assert cli.load_configuration().running() == [Platform.DISCORD]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-abc")
    assert cli.load_configuration().running() == [Platform.SLACK, Platform.DISCORD]


def test_the_env_file_is_read_by_every_class(tmp_path):
    (tmp_path / ".env").write_text("DEFAULT_TIMEZONE=Europe/Berlin\nSLACK_BOT_TOKEN=xoxb-1-abc\n"
                                   "SLACK_MODE=HTTP\nDISCORD_GUILD_IDS=42\n")
    config = cli.load_configuration()
    assert config.core.default_timezone == "Europe/Berlin"
    assert config.slack.enabled and config.slack.slack_mode == "http"
    assert config.discord.guild_ids == [42] and not config.discord.enabled
    (tmp_path / ".env").write_text("SLACK_HTTP_PORT=0\n")
    with pytest.raises(ConfigError, match="SLACK_HTTP_PORT"):
        cli.load_configuration()


def test_the_core_settings_name_no_platform():
    import bot.config

    source = open(bot.config.__file__).read().lower()
    assert "slack" not in source and "discord" not in source


def test_env_example_documents_exactly_the_variables_the_classes_declare(tmp_path):
    example = Path(__file__).resolve().parents[1] / ".env.example"
    text = example.read_text()
    listed = {line.split("=", 1)[0] for line in text.splitlines()
              if line and not line.startswith("#")}
    assert listed == set().union(*ALL_VARIABLES.values())
    # ...and, copied to .env as it is, it is a valid configuration that runs no platform.
    (tmp_path / ".env").write_text(text)
    assert cli.load_configuration().running() == []
