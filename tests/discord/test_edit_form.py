"""A form that starts filled in (``Reply.form_values``), through the real discord.py client
against the strict loopback fake: the modal opens with each field's value (the fake checks
the MODAL callback, values included), options the form sends as they are (``form_fixed``)
and the command's ``clears`` option are never shown, and a field emptied comes back named in
``clears`` (/edit's ``clear``), so emptying it clears it. A form that doesn't start filled in
(/rejected's, from /remind's nudge: ``test_remind.py``) sends no ``clear``."""

from __future__ import annotations

from bot.app import App
from bot.ids import CommunityRef, Platform
from bot.invocation import ActionInvocation, Invocation
from bot.reply import Action, Button, Buttons, Reply, Text
from tests.discord.helpers import ANA, BEN, inputs, press, submit_form
from tests.fakes.discord import CHANNEL_ID, GUILD_ID, FakeDiscord

COMMUNITY = CommunityRef(Platform.DISCORD, str(GUILD_ID))
EDIT = Action("edit", "a7")
VALUES = (("ask", "asked for a raise"), ("outcome", "no"), ("who", "my boss"),
          ("private", "false"), ("area", "work"), ("fear", "6"))


class FormCore(App):
    """The real core, but its Edit button answers with a filled-in /edit form (as the /edit
    handler will), and a submitted /edit is kept, not run."""

    def __init__(self, *args, values=VALUES, fixed=(("entry", "a7"),), **kwargs):
        super().__init__(*args, **kwargs)
        self.values, self.fixed = values, fixed
        self.submitted: list[dict[str, object]] = []

    async def handle_action(self, act: ActionInvocation) -> Reply:
        if act.name != EDIT.name:
            return await super().handle_action(act)
        return Reply((Text.of("Change it with /edit."),), form="edit",
                     form_values=self.values, form_fixed=self.fixed)

    async def dispatch(self, inv: Invocation) -> Reply:
        if inv.command != "edit":
            return await super().dispatch(inv)
        self.submitted.append(dict(inv.options))
        return Reply((Text.of("Changed."),))


async def open_form(start_bot, fake: FakeDiscord, core: FormCore, user_id: int = ANA) -> dict:
    """Post a message with an Edit button, press it, and return the modal it opened."""
    bot = await start_bot(core=core)
    post = Reply((Text.of("Your entry"), Buttons((Button("Edit", EDIT),))))
    delivery = await bot.poster.post(COMMUNITY, str(CHANNEL_ID), post)
    assert delivery.ok
    message = fake.messages[delivery.message_id]
    _, call = await press(fake, message, "wn:edit:a7", user_id=user_id)
    assert call.json["type"] == 9  # MODAL, accepted by the fake (values and all)
    return call.json["data"]




async def test_the_form_opens_filled_in_without_its_fixed_and_clear_options(
        start_bot, fake, repo, clock):
    core = FormCore(repo, clock, default_timezone="UTC")
    modal = await open_form(start_bot, fake, core)
    shown = inputs(modal)
    # Five at most: the yes/no one first, then the rest in order; `entry` is fixed, `clear`
    # the adapter's own, and area and fear stay for the slash command's options.
    assert list(shown) == ["ask", "outcome", "who", "lesson", "private"]
    assert {name: item.get("value") for name, item in shown.items()} == {
        "ask": "asked for a raise", "outcome": "no", "who": "my boss", "lesson": None,
        "private": "no"}
    assert shown["outcome"]["placeholder"] == "no, yes, pending"
    assert all(not item.get("required") for item in shown.values())


async def test_an_unchanged_form_sends_its_values_and_its_fixed_options(
        start_bot, fake, repo, clock):
    core = FormCore(repo, clock, default_timezone="UTC")
    modal = await open_form(start_bot, fake, core)
    call = await submit_form(fake, modal, {"ask": "asked for a 10% raise", "lesson": "ask earlier"})
    assert call.json["type"] == 4 and "Changed." in str(call.json["data"])
    # Every field came back with something in it: nothing to clear.
    assert core.submitted == [{"ask": "asked for a 10% raise", "outcome": "no",
                               "who": "my boss", "lesson": "ask earlier", "private": "no",
                               "entry": "a7"}]


async def test_a_field_emptied_is_named_in_clear(start_bot, fake, repo, clock):
    core = FormCore(repo, clock, default_timezone="UTC")
    modal = await open_form(start_bot, fake, core)
    await submit_form(fake, modal, {"who": "  ", "ask": "asked for a raise, again"})
    # `who` was emptied; `lesson` started empty and stayed so.
    assert core.submitted == [{"ask": "asked for a raise, again", "outcome": "no",
                               "private": "no", "entry": "a7", "clear": "who,lesson"}]


async def test_a_yes_no_box_left_blank_changes_nothing(start_bot, fake, repo, clock):
    """Discord's yes/no is a text box: blanking it is no answer, not a no (an entry stays
    private), unlike Slack's unticked checkbox."""
    core = FormCore(repo, clock, default_timezone="UTC",
                    values=(("ask", "asked for a raise"), ("private", "true")))
    modal = await open_form(start_bot, fake, core)
    assert inputs(modal)["private"]["value"] == "yes"
    await submit_form(fake, modal, {"private": ""})
    (sent,) = core.submitted
    assert "private" not in sent and "private" not in sent.get("clear", "")


async def test_a_fixed_option_is_sent_as_it_is_whatever_is_typed(start_bot, fake, repo, clock):
    core = FormCore(repo, clock, default_timezone="UTC",
                    fixed=(("entry", "a7"), ("outcome", "yes")))
    modal = await open_form(start_bot, fake, core)
    assert list(inputs(modal)) == ["ask", "who", "lesson", "private", "area"]
    await submit_form(fake, modal, {"lesson": "ask earlier", "area": ""})
    (sent,) = core.submitted
    assert sent["outcome"] == "yes" and sent["entry"] == "a7"
    assert sent["clear"] == "area"  # started as work, emptied


async def test_a_value_longer_than_its_option_takes_still_opens(start_bot, fake, repo, clock):
    """An entry stored under an older, longer limit: the input takes its whole value (Discord
    refuses a value longer than its input's max_length)."""
    long_who = "my manager's manager, " * 6  # 132 characters; `who` now takes 100
    core = FormCore(repo, clock, default_timezone="UTC",
                    values=(("ask", "asked"), ("who", long_who)))
    modal = await open_form(start_bot, fake, core)
    who = inputs(modal)["who"]
    assert who["value"] == long_who and who["max_length"] == len(long_who)


async def test_a_form_not_filled_in_sends_no_clear(start_bot, fake, repo, clock):
    core = FormCore(repo, clock, default_timezone="UTC", values=(), fixed=())
    modal = await open_form(start_bot, fake, core, user_id=BEN)
    shown = inputs(modal)
    assert "clear" not in shown and all("value" not in i or not i["value"]
                                        for i in shown.values())
    await submit_form(fake, modal, {"ask": "asked for a raise"}, user_id=BEN)
    assert core.submitted == [{"ask": "asked for a raise"}]
