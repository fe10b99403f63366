"""Every option type of the catalogue: good values, and a precise error for each bad one."""

from datetime import date

import pytest

from bot.commands import CATALOGUE, OptionError, OptionType, clean_text, get_command, validate
from bot.ids import MemberRef, Platform

REJECTED = get_command("rejected")


@pytest.mark.parametrize("raw, message", [
    ({}, "needs `ask`"),
    ({"ask": ""}, "`ask` is empty"),
    ({"ask": "   \n\t "}, "`ask` is empty"),
    ({"ask": "x" * 501}, "501 characters long; the most is 500"),
    ({"ask": "x", "who": "y" * 101}, "the most is 100"),
    ({"ask": "x", "fear": "11"}, "`fear` goes from 0 to 10; 11 is out of range"),
    ({"ask": "x", "fear": "-1"}, "out of range"),
    ({"ask": "x", "fear": 11}, "out of range"),
    ({"ask": "x", "fear": "lots"}, "`fear` takes a whole number"),
    ({"ask": "x", "fear": "7.5"}, "whole number"),
    ({"ask": "x", "area": "love"}, "`area` can be work, money"),
    ({"ask": "x", "area": "wrk"}, "Did you mean `work`"),
    ({"ask": "x", "private": "maybe"}, "`private` takes true or false"),
    ({"ask": "x", "private": 3.5}, "wrong kind"),
    ({"ask": "x", "mood": "good"}, "has no option `mood`"),
])
def test_bad_values_get_precise_errors(raw, message):
    with pytest.raises(OptionError) as err:
        validate(REJECTED, raw)
    assert message in str(err.value)


def test_typed_values_from_discord_pass():
    assert validate(REJECTED, {"ask": "x", "fear": 10, "private": False, "area": "Money"}) == {
        "ask": "x", "fear": 10, "private": False, "area": "money"}


def test_member_option_takes_a_member_ref_or_text():
    spec = get_command("stats")
    ref = MemberRef(Platform.DISCORD, "42")
    assert validate(spec, {"member": ref}) == {"member": ref}
    assert validate(spec, {"member": "@sam"}) == {"member": "@sam"}


def test_date_option():
    spec = get_command("goal")
    assert validate(spec, {"by": "2027-06-30"})["by"] == date(2027, 6, 30)
    with pytest.raises(OptionError, match="takes a date"):
        validate(spec, {"by": "next june"})


def test_control_characters_and_direction_overrides_are_neutralised():
    assert clean_text("ask\u202eevil\u202c \x00boss\x1b[31m\u200b") == "askevil boss [31m"
    assert clean_text("line one\nline two\r\n\u2028three") == "line one line two three"


def test_catalogue_is_well_formed():
    names = [c.name for c in CATALOGUE]
    assert len(names) == len(set(names))
    for spec in CATALOGUE:
        assert spec.description and len(spec.description) <= 100
        for opt in spec.options:
            assert opt.description and opt.example
            if opt.type is OptionType.CHOICE:
                assert opt.choices
        # only the main (first) option may be required
        assert all(not o.required for o in spec.options[1:])
