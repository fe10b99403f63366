"""The Cheer button: one cheer per member per attempt; pressing again takes it back."""

from __future__ import annotations

from bot.errors import Refusal
from bot.handlers import Deps
from bot.invocation import ActionInvocation
from bot.models import CheerStatus
from bot.reply import Action, Button, ButtonStyle, Reply, Text, Visibility

CHEER_ACTION = "cheer"


async def cheer(deps: Deps, act: ActionInvocation) -> Reply:
    if not act.value.isdecimal():
        raise Refusal("That button doesn't look right any more.")
    status, count = await deps.repo.toggle_cheer(act.caller.community, int(act.value),
                                                 act.caller.member, act.caller.name, deps.now(),
                                                 act.request_id)
    if status == CheerStatus.NOT_FOUND:
        raise Refusal("That ask isn't here any more; maybe it was undone.")
    if status == CheerStatus.OWN:
        raise Refusal("That's your own ask! Cheer someone else's, "
                      "or better: go make the next one.")
    people = "1 cheer" if count == 1 else f"{count} cheers"
    text = (f"You cheered them on! ({people} so far)" if status == CheerStatus.ADDED
            else f"Cheer taken back. ({people} now)")
    return Reply((Text.of(text),), Visibility.PRIVATE,
                 relabel=(cheer_button(int(act.value), count),))


def cheer_button(attempt_id: int, count: int = 0) -> Button:
    """The Cheer button of a celebration, showing its count once there is one."""
    return Button(f"Cheer · {count}" if count else "Cheer", Action(CHEER_ACTION, str(attempt_id)),
                  ButtonStyle.PRIMARY)
