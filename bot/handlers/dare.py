"""/dare: a suggested ask from the deck, the "I'll do it" button that makes it a promise, the
community's own dares (admins: add, list, remove) and today's dare in the check-in."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date

from bot.commands import OptionError
from bot.dares import DECK, Dare, community_deck, draw, fold, matching, of_the_day
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.commitments import promise
from bot.invocation import ActionInvocation, Invocation
from bot.models import CommunityDare, DareAdded
from bot.reply import (
    Action,
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Heading,
    Reply,
    Strong,
    Text,
    private_reply,
)

MOST_DARES = 200  # a community's own dares
MIN_TEXT = 10  # characters: a dare says what to ask
PER_PAGE = 10  # /dare list
ADD_EXAMPLE = '/dare add text:"Ask a neighbour to swap a skill" area:social level:easy'
ONLY = {"add": ("text", "area", "level"), "list": ("number",), "remove": ("number",)}
DRAW_ONLY = ("area", "level")


def _extra(opts: Options, allowed: Sequence[str], what: str) -> None:
    for name in ("area", "level", "text", "number"):
        if name in opts and name not in allowed:
            raise OptionError(f"`{name}` doesn't go with {what}.", name)


async def dare(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    action = opts.get("action")
    if action is None:
        _extra(opts, DRAW_ONLY, "a dare (it takes area and level)")
        return await _draw(deps, inv, opts.get("area"), opts.get("level"))
    if not inv.caller.is_admin:
        raise Refusal(f"/dare {action} is for admins of this community: they look after its "
                      "own dares. /dare gives you one to try!")
    _extra(opts, ONLY[action], f"/dare {action}")
    if action == "add":
        return await _add(deps, inv, opts)
    if action == "list":
        return await _list(deps, inv, opts.get("number", 1))
    return await _remove(deps, inv, opts.get("number"))


def _seed(member_key: str, seq: int) -> int:
    return zlib.crc32(f"{member_key}:{seq}".encode())


def _described(area: str | None, level: str | None) -> str:
    words = " ".join(w for w in (level, area) if w)
    return f"{words} dare" if words else "dare"


async def _draw(deps: Deps, inv: Invocation, area: str | None, level: str | None) -> Reply:
    caller = inv.caller
    own = await deps.repo.community_dares(caller.community)
    last = await deps.repo.last_dare(caller.community, caller.member)
    choices = matching(community_deck(own), area, level)
    picked = draw(choices, _seed(caller.member.key, (last.seq if last else 0) + 1),
                  last.text if last else None)
    if picked is None:
        what = _described(area, level)
        if choices:  # just the one, and it was the last
            raise Refusal(f"The only {what} is the one you had last time, and a fresh one is "
                          "more fun.", hint="Try another area or level, or /dare for any.")
        raise Refusal(f"There's no {what} in the deck yet.",
                      hint="Try another area or level, or /dare for any.")
    given = await deps.repo.remember_dare(caller.community, caller.member, picked.text,
                                          deps.now())
    return private_reply(
        Text.of(Strong("Your dare: "), picked.text),
        Context.of(f"{picked.idea} · {picked.area}, {picked.level}"),
        Buttons((Button("I'll do it", Action("dare", str(given.seq)), ButtonStyle.PRIMARY),)),
        Context.of("“I'll do it” makes it your promise for today. Not this one? /dare again "
                   "for another."))


async def take(deps: Deps, act: ActionInvocation) -> Reply:
    """The "I'll do it" button: the member's latest dare becomes a /who-next promise due
    today. Pressed twice, it is one promise."""
    if not act.value.isdecimal() or len(act.value) > 9:
        raise Refusal("That button doesn't look right any more. /dare gives you a fresh dare.")
    caller, seq = act.caller, int(act.value)
    last = await deps.repo.last_dare(caller.community, caller.member)
    if last is None or last.seq != seq:
        raise Refusal("That dare isn't your latest any more. /dare gives you a fresh one.")
    reply, new = await promise(deps, caller, last.text, None,
                               f"dare:{caller.member.key}:{seq}")
    if not new:
        raise Refusal(f"Already promised, and waiting for you in /asks: “{last.text}”")
    return reply


def _dare_line(d: CommunityDare) -> Text:
    return Text.of(f"{d.number}. ", d.text, f" ({d.area}, {d.level})")


async def _add(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    text = opts.get("text")
    if text is None:
        raise OptionError("What's the dare? Give its text.", "text", hint=f"Try: {ADD_EXAMPLE}")
    if len(text) < MIN_TEXT:
        raise OptionError(f"“{text}” is a bit short for a dare: say what to ask, in at least "
                          f"{MIN_TEXT} characters.", "text", hint=f"Try: {ADD_EXAMPLE}")
    if any(fold(d.text) == fold(text) for d in DECK):
        raise Refusal("That one's in the deck already, so everyone here can draw it.")
    area, level = opts.get("area", "other"), opts.get("level", "medium")
    status, added = await deps.repo.add_dare(inv.caller.community, text, area, level,
                                             deps.now(), MOST_DARES)
    if status == DareAdded.DUPLICATE:
        assert added is not None
        raise Refusal(f"Your community has that dare already: number {added.number}.")
    if status == DareAdded.FULL:
        raise Refusal(f"Your community has {MOST_DARES} dares of its own, as many as it can "
                      "have.", hint="Make room with /dare remove number:N (see /dare list).")
    assert added is not None
    return private_reply(
        Text.of(Strong(f"Dare {added.number} added: "), added.text,
                f" ({added.area}, {added.level})"),
        Context.of("It joins the deck for everyone here. See them all with /dare list."))


async def _list(deps: Deps, inv: Invocation, page: int) -> Reply:
    own = await deps.repo.community_dares(inv.caller.community)
    if not own:
        return private_reply(Text.of("No dares of your community's own yet: /dare draws from "
                                     f"our deck of {len(DECK)}."),
                             Context.of(f"Add one with {ADD_EXAMPLE}"))
    pages = (len(own) + PER_PAGE - 1) // PER_PAGE
    if page > pages:
        raise OptionError(f"There {'is' if pages == 1 else 'are'} {pages} "
                          f"page{'s' if pages > 1 else ''} of dares; {page} is past the end.",
                          "number")
    shown = own[(page - 1) * PER_PAGE: page * PER_PAGE]
    title = "Your community's dares" + (f" (page {page} of {pages})" if pages > 1 else "")
    more = (f" Next page: /dare list number:{page + 1}." if page < pages else "")
    return private_reply(
        Heading(title), *[_dare_line(d) for d in shown],
        Context.of(f"{len(own)} of at most {MOST_DARES}, drawn beside our {len(DECK)}. Remove "
                   f"one with /dare remove number:N.{more}"))


async def _remove(deps: Deps, inv: Invocation, number: int | None) -> Reply:
    if number is None:
        raise OptionError("Which dare? Give its number from /dare list.", "number",
                          hint="Try: /dare remove number:3")
    removed = await deps.repo.remove_dare(inv.caller.community, number)
    if removed is None:
        raise Refusal(f"There's no dare number {number} here. /dare list shows the numbers.")
    return private_reply(Text.of(Strong(f"Dare {removed.number} removed: "), removed.text),
                         Context.of("Promises made from it stay as they are."))


def dare_of_the_day(day: date, own: Sequence[CommunityDare]) -> Dare:
    """The check-in's dare on ``day``: the same for the whole community all day."""
    return of_the_day(community_deck(own), day)


def dare_blocks(day: date, own: Sequence[CommunityDare]) -> list[Block]:
    """Today's dare, as a check-in carries it."""
    picked = dare_of_the_day(day, own)
    return [Text.of(Strong("Today's dare: "), picked.text),
            Context.of("Up for it? /dare gives you one of your own, with a button that makes "
                       "it your promise.")]
