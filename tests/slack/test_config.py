"""Start-up errors name the variable to fix."""

from __future__ import annotations

import pytest

from adapters.slack import check_settings
from adapters.slack.app import SlackAdapter
from bot.config import ConfigError, Settings, load_settings
from tests.slack.conftest import SECRET, settings_for


def settings(**values: object) -> Settings:
    base: dict[str, object] = {"slack_bot_token": "xoxb-1-abc", "slack_app_token": "xapp-1-abc",
                               "slack_signing_secret": SECRET}
    base.update(values)
    return Settings(_env_file=None, **base)


@pytest.mark.parametrize(("values", "variable"), [
    ({"slack_bot_token": None}, "SLACK_BOT_TOKEN"),
    ({"slack_bot_token": "xoxb-has spaces"}, "SLACK_BOT_TOKEN"),
    ({"slack_app_token": None}, "SLACK_APP_TOKEN"),
    ({"slack_app_token": "xapp-\"quoted\""}, "SLACK_APP_TOKEN"),
    ({"slack_mode": "http", "slack_signing_secret": None}, "SLACK_SIGNING_SECRET"),
    ({"slack_mode": "http", "slack_signing_secret": "not a secret"}, "SLACK_SIGNING_SECRET"),
    ({"slack_api_url": "slack.com/api"}, "SLACK_API_URL"),
])
def test_bad_settings_name_the_variable(values, variable):
    with pytest.raises(ConfigError, match=variable):
        check_settings(settings(**values))


def test_good_settings_pass():
    # Socket Mode needs the app token; HTTP mode needs the signing secret instead.
    assert check_settings(settings()) is None
    assert check_settings(settings(slack_mode="http", slack_app_token=None)) is None


def test_a_malformed_token_is_caught_by_the_settings_too():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        load_settings(_env_file=None, slack_bot_token="xoxp-user-token")


def test_the_adapter_checks_at_construction(app):
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackAdapter(app, settings(slack_app_token=None))


async def test_a_refused_bot_token_is_a_start_up_error(app, fake):
    fake.fail("auth.test", "invalid_auth")
    adapter = SlackAdapter(app, settings_for(fake, "http"), http_host="127.0.0.1", http_port=0)
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN.*invalid_auth"):
        await adapter.start()
    await adapter.stop()


async def test_a_refused_app_token_is_a_start_up_error(app, fake):
    fake.fail("apps.connections.open", "invalid_auth")
    adapter = SlackAdapter(app, settings_for(fake, "socket"))
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN.*invalid_auth"):
        await adapter.start()
    await adapter.stop()


async def test_api_url_without_trailing_slash_still_works(app, fake):
    adapter = SlackAdapter(app, settings_for(fake, "http"), api_url=fake.api_url.rstrip("/"),
                           http_host="127.0.0.1", http_port=0)
    assert adapter.api_url == fake.api_url
    await adapter.start()
    try:
        assert len(fake.calls_to("auth.test")) == 1
    finally:
        await adapter.stop()
