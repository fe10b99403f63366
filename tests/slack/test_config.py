"""Slack's own settings (``adapters.slack.config``): start-up errors name the variable to fix.

Each check sits in one place: the form of a token when the settings are loaded, what a mode
needs when the adapter is built."""

from __future__ import annotations

import pytest

from adapters.slack import check_settings
from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackSettings, load_slack_settings
from bot.config import ConfigError
from tests.slack.helpers import SECRET, settings_for


def settings(**values: object) -> SlackSettings:
    base: dict[str, object] = {"slack_bot_token": "xoxb-1-abc", "slack_app_token": "xapp-1-abc",
                               "slack_signing_secret": SECRET}
    base.update(values)
    return load_slack_settings(_env_file=None, **base)


@pytest.mark.parametrize(("values", "variable"), [
    ({"slack_bot_token": None}, "SLACK_BOT_TOKEN is not set"),
    ({"slack_app_token": None}, "SLACK_APP_TOKEN is not set"),
    ({"slack_mode": "http", "slack_signing_secret": None}, "SLACK_SIGNING_SECRET is not set"),
    ({"slack_mode": "http", "slack_signing_secret": "not a secret"}, "SLACK_SIGNING_SECRET"),
    ({"slack_api_url": "slack.com/api"}, "SLACK_API_URL"),
])
def test_bad_settings_name_the_variable(values, variable):
    with pytest.raises(ConfigError, match=variable):
        check_settings(settings(**values))


@pytest.mark.parametrize(("values", "message"), [
    ({"slack_bot_token": "xoxp-user-token"}, "SLACK_BOT_TOKEN: a Slack bot token starts with xoxb-"),
    ({"slack_bot_token": "xoxb-has spaces"},
     "SLACK_BOT_TOKEN: that doesn't look like a Slack bot token: it should be xoxb- followed by "
     "letters, digits and dashes, with no spaces or quotes"),
    ({"slack_bot_token": "xoxb-"}, "SLACK_BOT_TOKEN: that doesn't look like a Slack bot token"),
    ({"slack_app_token": "xoxb-1-abc"}, "SLACK_APP_TOKEN: a Slack app-level token starts with xapp-"),
    ({"slack_app_token": "xapp-\"quoted\""},
     "SLACK_APP_TOKEN: that doesn't look like a Slack app-level token"),
    ({"slack_mode": "pigeon"}, "SLACK_MODE: "),
    ({"slack_http_port": 0}, "SLACK_HTTP_PORT: "),
])
def test_a_malformed_value_is_caught_when_the_settings_load(values, message):
    with pytest.raises(ConfigError) as err:
        settings(**values)
    assert message in str(err.value)


def test_good_settings_pass():
    # Socket Mode needs the app token; HTTP mode needs the signing secret instead.
    assert check_settings(settings()) is None
    assert check_settings(settings(slack_mode="http", slack_app_token=None)) is None
    # A secret Socket Mode doesn't use isn't checked.
    assert check_settings(settings(slack_signing_secret="not a secret")) is None
    assert settings(slack_mode="HTTP").slack_mode == "http"


def test_blank_means_not_set_and_slack_runs_on_its_bot_token():
    assert not settings(slack_bot_token="").enabled
    assert settings(slack_app_token=" ").slack_app_token is None
    assert settings().enabled


def test_the_token_forms_are_checked_in_one_place_only():
    """Loading checks a token's form; the adapter's start-up check doesn't check it again."""
    unchecked = SlackSettings.model_construct(slack_bot_token="xoxp-never-loaded",
                                              slack_app_token="xoxb-never-loaded")
    assert check_settings(unchecked) is None


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


def oauth(**values: object) -> SlackSettings:
    base: dict[str, object] = {"slack_client_id": "1111.2222", "slack_client_secret": "shh",
                               "slack_signing_secret": SECRET, "slack_mode": "http"}
    base.update(values)
    return load_slack_settings(_env_file=None, **base)


def test_a_client_id_and_secret_install_the_app_in_any_workspace():
    settings = oauth()
    assert settings.oauth and settings.enabled and settings.slack_bot_token is None
    assert check_settings(settings) is None
    assert check_settings(oauth(slack_redirect_uri="https://bot.example.com/slack/oauth_redirect")
                          ) is None


@pytest.mark.parametrize(("values", "message"), [
    ({"slack_client_secret": None}, "SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET isn't"),
    ({"slack_client_id": None}, "SLACK_CLIENT_SECRET is set but SLACK_CLIENT_ID isn't"),
    ({"slack_bot_token": "xoxb-1-abc"}, "Both SLACK_BOT_TOKEN and SLACK_CLIENT_ID are set"),
    ({"slack_mode": "socket", "slack_app_token": "xapp-1-abc"}, "needs SLACK_MODE=http"),
    ({"slack_signing_secret": None}, "SLACK_SIGNING_SECRET is not set"),
])
def test_an_incomplete_install_setup_names_what_to_fix(values, message):
    settings = oauth(**values)
    assert settings.enabled  # a half-set pair still starts Slack, to say what's missing
    with pytest.raises(ConfigError, match=message):
        check_settings(settings)


@pytest.mark.parametrize(("values", "message"), [
    ({"slack_client_id": "my-app"}, "SLACK_CLIENT_ID: that doesn't look like a Slack client id"),
    ({"slack_redirect_uri": "http://bot.example.com/slack/oauth_redirect"},
     "SLACK_REDIRECT_URI: Slack only redirects to an https:// URL"),
])
def test_a_malformed_install_setting_is_caught_when_loading(values, message):
    with pytest.raises(ConfigError) as err:
        oauth(**values)
    assert message in str(err.value)
