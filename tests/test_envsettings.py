"""bot.envsettings: the settings loader the bot uses instead of pydantic-settings (it costs a
tenth of the start-up): where values come from, how they are checked, what errors say."""

from __future__ import annotations

from typing import Literal

import pytest

from bot.envsettings import BaseSettings, Field, SettingsError, ValidationInfo, field_validator


class Demo(BaseSettings):
    model_config = {"env_file": ".env"}

    demo_port: int = Field(3000, ge=1, le=65535)
    demo_mode: Literal["socket", "http"] = "socket"
    demo_token: str | None = None
    demo_debug: bool = False
    demo_name: str = Field("bot", min_length=1)
    demo_count: int | None = None
    demo_ids: str = ""

    @field_validator("demo_mode", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @field_validator("demo_ids")
    @classmethod
    def _ids(cls, v: str, info: ValidationInfo) -> str:
        if v and info.data.get("demo_count") is None:
            raise ValueError("ids need DEMO_COUNT too")
        return v


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in Demo.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def test_defaults_then_env_file_then_environment_then_arguments(tmp_path, monkeypatch):
    assert Demo().demo_port == 3000 and Demo().model_fields_set == frozenset()
    (tmp_path / ".env").write_text(
        "# a comment\n\nexport DEMO_PORT=4000\ndemo_name='quoted # kept'\n"
        "DEMO_TOKEN=abc # a comment after it\nDEMO_MODE=\"HTTP\"\nnot a line\n")
    s = Demo()
    assert (s.demo_port, s.demo_name, s.demo_token, s.demo_mode) == (4000, "quoted # kept",
                                                                      "abc", "http")
    assert s.model_fields_set == {"demo_port", "demo_name", "demo_token", "demo_mode"}
    monkeypatch.setenv("Demo_Port", "5000")  # names match whatever their case
    assert Demo().demo_port == 5000
    assert Demo(demo_port=6000).demo_port == 6000
    assert Demo(_env_file=None).demo_name == "bot"  # no .env read


def test_every_bad_value_is_named_at_once(monkeypatch):
    monkeypatch.setenv("DEMO_PORT", "0")
    monkeypatch.setenv("DEMO_MODE", "pigeon")
    monkeypatch.setenv("DEMO_DEBUG", "maybe")
    monkeypatch.setenv("DEMO_NAME", "")
    monkeypatch.setenv("DEMO_COUNT", "three")
    with pytest.raises(SettingsError) as err:
        Demo()
    assert err.value.problems == [
        "DEMO_PORT: should be at least 1, not 0",
        "DEMO_MODE: should be socket or http, not “pigeon”",
        "DEMO_DEBUG: should be true or false, not “maybe”",
        "DEMO_NAME: should not be empty",
        "DEMO_COUNT: should be a whole number, not “three”",
    ]
    with pytest.raises(SettingsError, match="DEMO_PORT: should be at most 65535, not 70000"):
        Demo(demo_port="70000")


def test_a_validator_sees_the_fields_before_it():
    with pytest.raises(SettingsError, match="DEMO_IDS: ids need DEMO_COUNT too"):
        Demo(demo_ids="1,2")
    assert Demo(demo_ids="1,2", demo_count="2").demo_count == 2
    assert Demo(demo_debug="yes").demo_debug is True


def test_copies_and_unchecked_construction_as_pydantic_has_them():
    s = Demo(demo_port=4000)
    other = s.model_copy(update={"demo_port": 1})
    assert (s.demo_port, other.demo_port, other.demo_mode) == (4000, 1, "socket")
    raw = Demo.model_construct(demo_port=-5)
    assert raw.demo_port == -5 and raw.model_fields_set == {"demo_port"}
    assert "secret" not in repr(Demo(demo_token="secret"))  # tokens never in a log line
    assert "demo_token='***'" in repr(Demo(demo_token="secret"))


def test_the_env_file_reads_as_python_dotenv_does(tmp_path, monkeypatch):
    from bot.envsettings import read_env_file

    monkeypatch.setenv("PGPASS", "s3cret")
    path = tmp_path / ".env"
    path.write_text('# comment\nexport A=plain\nB="quoted" # mine\nC=\'single # kept\'\n'
                    'D=value # comment\nE="line\\nnext"\nF=postgresql://bot:${PGPASS}@db/w\n'
                    'G=${MISSING:-fallback}\nH=${A}-x\nJ="say \\"hi\\""\nK=\nL=a#b\n')
    assert read_env_file(path) == {
        "a": "plain", "b": "quoted", "c": "single # kept", "d": "value", "e": "line\nnext",
        "f": "postgresql://bot:s3cret@db/w", "g": "fallback", "h": "plain-x",
        "j": 'say "hi"', "k": "", "l": "a#b"}
    assert read_env_file(tmp_path / "absent") == {}


def test_a_number_that_isnt_one_is_said_plainly():
    with pytest.raises(SettingsError, match="DEMO_PORT: should be a whole number, not “--5”"):
        Demo(demo_port="--5")
