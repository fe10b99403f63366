"""The `ask text who:"x" fear:7` grammar."""

import pytest

from bot.commands import OptionError, get_command, validate
from bot.textopts import parse

REJECTED = get_command("rejected")


def parsed(text: str) -> dict:
    return validate(REJECTED, parse(REJECTED, text))


def test_free_text_fills_the_main_option_and_pairs_fill_the_rest():
    assert parsed('asked for a raise who:"my boss" fear:7 area:work private:yes') == {
        "ask": "asked for a raise", "who": "my boss", "fear": 7, "area": "work", "private": True}


def test_options_may_come_first_and_text_is_joined_in_order():
    assert parsed("who:Sam asked for an intro") == {"ask": "asked for an intro", "who": "Sam"}


def test_curly_quotes_from_phones_and_macs_work():
    assert parsed("who:\u201cBig Sam\u201d asked")["who"] == "Big Sam"


def test_colons_inside_text_are_not_options():
    assert parsed("pitched at 9:00 see https://example.com re: budget")["ask"] == (
        "pitched at 9:00 see https://example.com re: budget")


def test_quoted_main_text():
    assert parsed('"asked for a raise" fear:0')["ask"] == "asked for a raise"


@pytest.mark.parametrize("text, words", [
    ('asked who:"my boss', "never closed"),
    ("asked fear:3 fear:4", "given twice"),
    ("asked ask:again", "given twice"),
    ("asked colour:blue", "has no option `colour`"),
    ("asked faer:3", "Did you mean `fear`"),
])
def test_grammar_errors_are_precise(text, words):
    with pytest.raises(OptionError) as err:
        parsed(text)
    assert words in str(err.value)


def test_commands_without_options_refuse_text():
    spec = get_command("undo")
    with pytest.raises(OptionError, match="takes no text"):
        parse(spec, "everything please")
    assert parse(spec, "   ") == {}
