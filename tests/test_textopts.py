"""The `ask text who:"x" fear:7` grammar."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


WHO_NEXT = get_command("who-next")


def test_apostrophes_and_single_quotes_read_as_meant():
    assert parse(REJECTED, "it's my mom's idea who:'my mom'") == {
        "ask": "it's my mom's idea", "who": "my mom"}


@pytest.mark.parametrize("text, who", [
    ("asked who:'my mom'", "my mom"),
    ("asked who:'O'Neil' fear:3", "O'Neil"),
    ("asked who:'my mom's boss'", "my mom's boss"),
    ("asked who:\u2018my mom\u2019s friend\u2019", "my mom\u2019s friend"),
    ("asked who:\u2019Sam\u2019", "Sam"),
    ("asked who:'Sam', then left", "Sam"),
    ('asked who:"my boss"', "my boss"),
    ("asked who:\u201cBig Sam\u201d", "Big Sam"),
    ("asked who:\u201eOma\u201c", "Oma"),
    ('asked who:\u201cSam"', "Sam"),
    ("asked who:O'Neil", "O'Neil"),
    ("asked who:'90s", "'90s"),
    ("who:'my mom' asked her it's fine", "my mom"),
])
def test_quoted_option_values(text, who):
    assert parse(REJECTED, text)["who"] == who


@pytest.mark.parametrize("text", [
    "played rock 'n' roll for the '90s crowd",
    "asked the Jones' dog walker",
    "it\u2019s my mom\u2019s idea, O\u2019Neil said \u2018maybe\u2019",
    'asked "no" twice',
    "asked 'who: cares'",
])
def test_free_text_keeps_its_quotes_and_apostrophes(text):
    assert parse(REJECTED, text) == {"ask": text}


def test_a_double_quoted_stretch_of_free_text_is_text_even_with_colons():
    assert parse(REJECTED, 'said "who: knows" to Sam fear:2') == {
        "ask": 'said "who: knows" to Sam', "fear": "2"}
    assert parse(REJECTED, '"who: knows" fear:2')["ask"] == "who: knows"


@pytest.mark.parametrize("text, words", [
    ("asked who:'my parents' house'", "I can't tell where `who` ends"),
    ("who:'Sam' asked the Jones' kid", "Put it in double quotes instead"),
    ("asked who:'my mom", "A quote in `who` is never closed. Add the closing '"),
    ("asked who:\u2018my mom", "Add the closing \u2019"),
    ("asked who:\u2018my parents\u2019 house\u2019", "more than one \u2019 could close it"),
    ("asked who:\u201cmy mom", "Add the closing \u201d"),
])
def test_quotes_it_cannot_read_are_named_not_guessed(text, words):
    with pytest.raises(OptionError) as err:
        parse(REJECTED, text)
    assert words in str(err.value) and err.value.option == "who"


@pytest.mark.parametrize("text, name", [
    ("asked who:", "who"),
    ("asked who: my boss", "who"),
    ('asked who:""', "who"),
    ("asked who:''", "who"),
    ("asked who:\u201c\u201d", "who"),
    ('asked who:"  "', "who"),
    ("who: asked", "who"),
    ("asked Fear:", "fear"),
    ("ask:", "ask"),
])
def test_an_option_without_a_value_is_an_error_naming_it(text, name):
    with pytest.raises(OptionError) as err:
        parse(REJECTED, text)
    assert str(err.value).startswith(f"`{name}:` has no value. Put it right after the colon")
    assert err.value.option == name


def test_the_empty_option_error_shows_how_to_write_it():
    with pytest.raises(OptionError) as err:
        parse(REJECTED, "asked who:")
    assert str(err.value) == ('`who:` has no value. Put it right after the colon, like '
                              'who:"my boss", or leave who: out.')
    with pytest.raises(OptionError, match='like ask:"asked for a raise"'):
        parse(REJECTED, "ask: fear:3")


@pytest.mark.parametrize("spec, text", [
    (REJECTED, "asked at 10:30"),
    (REJECTED, "re: the lease"),
    (REJECTED, "note: ask again"),
    (REJECTED, "see https://example.com/a:b and mailto://x"),
    (WHO_NEXT, "ask who: knows"),  # who is not an option of /who-next
])
def test_other_words_with_a_colon_stay_free_text(spec, text):
    assert parse(spec, text) == {"ask": text}


@pytest.mark.parametrize("text, expected", [
    ("call mom when:next friday", {"ask": "call mom", "when": "next friday"}),
    ("when:in 2 weeks call mom", {"ask": "call mom", "when": "in 2 weeks"}),
    ("call mom when:1 week", {"ask": "call mom", "when": "1 week"}),
    ("when:jan 31 2027 ask boss", {"ask": "ask boss", "when": "jan 31 2027"}),
    ("when:friday call mom", {"ask": "call mom", "when": "friday"}),
    ("when:in 3 days ask:x", {"ask": "x", "when": "in 3 days"}),
    ('when:"next friday" call mom', {"ask": "call mom", "when": "next friday"}),
    ("call mom when:someday soon", {"ask": "call mom soon", "when": "someday"}),
    ("when:friday the boss", {"ask": "the boss", "when": "friday"}),
    ("when:friday, call mom", {"ask": "call mom", "when": "friday,"}),
])
def test_a_phrase_option_takes_the_words_that_continue_it(text, expected):
    assert parse(WHO_NEXT, text) == expected


def test_other_options_take_one_unquoted_word():
    assert parse(REJECTED, "asked who:my boss") == {"ask": "asked boss", "who": "my"}


_LETTERS = st.sampled_from("abcxyzAZéß")
_APOSTROPHES = st.sampled_from("'\u2019\u2018")
# Words with apostrophes anywhere: it's, O'Neil, '90s, Jones', 'n', a lone '.
_WORDS = st.lists(st.one_of(_LETTERS, _APOSTROPHES, st.sampled_from("09")), min_size=1,
                  max_size=8).map("".join)


@given(st.lists(_WORDS, min_size=1, max_size=8))
def test_free_text_with_apostrophes_round_trips(words):
    text = " ".join(words)
    assert parse(REJECTED, text) == {"ask": text}
    assert parse(REJECTED, f'{text} who:"Sam"') == {"ask": text, "who": "Sam"}


# Inside a single-quoted value an apostrophe within a word is a letter: O'Neil, mom's.
_INNER = st.lists(st.lists(_LETTERS, min_size=1, max_size=4).map("".join), min_size=1,
                  max_size=3).map("'".join)


@given(st.lists(_INNER, min_size=1, max_size=4))
def test_single_quoted_values_with_inner_apostrophes_round_trip(words):
    value = " ".join(words)
    assert parse(REJECTED, f"asked who:'{value}' fear:3") == {
        "ask": "asked", "who": value, "fear": "3"}
