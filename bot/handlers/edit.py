"""/edit: change an entry. With nothing to change it lists the member's latest entries, each with
an Edit button that opens a form filled in with the entry as it is (the terminal says what to
type); with options it changes the latest entry, or the one ``entry`` names (its place, 1 the
latest, or ``#id`` from a button). The repository keeps every count in step and queues the
change to the entry's public posts (``PostKind.EDIT``); the reply says what changed."""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from bot import prompts
from bot.commands import EDIT_OUTCOMES, OptionError
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.attempts import VERBS, milestone_lines
from bot.handlers.cheer import cheer_button
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.models import EDITABLE, Attempt, EditResult, EditStatus, EntryEdit, News, Outcome
from bot.reply import (
    Action,
    Block,
    Button,
    Buttons,
    Context,
    Heading,
    Mention,
    Reply,
    Strong,
    Text,
    Visibility,
    private_reply,
)

PER_PAGE = 4  # a row of buttons each, and one for Earlier / More: Discord allows five
EDIT_ACTION, PAGE_ACTION = "edit", "edits"
OUTCOMES: dict[str, Outcome] = dict(zip(EDIT_OUTCOMES, (Outcome.REJECTED, Outcome.ACCEPTED,
                                                        Outcome.PENDING), strict=True))
WORDS = {v: k for k, v in OUTCOMES.items()}
CLEARABLE = ("who", "lesson", "area", "fear")
MAX_POSITION = 100_000
NOT_FOUND = "That entry isn't here any more; maybe it was undone. /edit lists your latest."


def entry_of(raw: str | None) -> tuple[int | None, int, str | None]:
    """Which entry ``entry`` names: (its id, None for a place), its place (1: the latest) and
    the version a form opened with (``#id@version``; None when typed)."""
    text = (raw or "1").strip()
    ident, _, seen = text.partition("@")
    if ident.startswith("#") and ident[1:].isdecimal() and len(ident) <= 13 and \
            (not seen or len(seen) == 8):
        return int(ident[1:]), 1, seen or None
    if text.isdecimal() and 1 <= int(text) <= MAX_POSITION:
        return None, int(text), None
    raise OptionError("Say which entry by its place: 1 is your latest, 2 the one before. "
                      "/edit lists them.", "entry")


def clears_of(raw: str | None, given: Options) -> tuple[frozenset[str], bool]:
    """The fields ``clear`` empties, and whether it unticks ``private`` (a form's empty
    checkbox). Refuses emptying what an entry can't be without, and a field both given and
    cleared."""
    names = {n.strip().lower() for n in (raw or "").replace(" ", ",").split(",") if n.strip()}
    kept = sorted(names & {"ask", "outcome"})
    if kept:  # emptied on a form: the message shows on that field
        raise OptionError("An entry keeps its ask and its outcome: give it new words, or "
                          "/undo removes your latest entry.", kept[0])
    unknown = names - set(CLEARABLE) - {"private"}
    if unknown:
        raise OptionError(f"I can't clear “{sorted(unknown)[0]}”. Clear any of: "
                          f"{', '.join(CLEARABLE)}.", "clear")
    both = sorted(n for n in names if given.get(n) is not None)
    if both:
        raise OptionError(f"You gave {both[0]} a value and cleared it too: pick one.", "clear")
    return frozenset(names - {"private"}), "private" in names


async def edit(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    caller = inv.caller
    attempt_id, position, seen = entry_of(opts.get("entry"))
    cleared, unticked = clears_of(opts.get("clear"), opts)
    private = opts.get("private")
    if private is None and unticked:
        private = False
    change = EntryEdit(ask=opts.get("ask"), outcome=OUTCOMES.get(opts.get("outcome") or ""),
                       who=opts.get("who"), lesson=opts.get("lesson"), area=opts.get("area"),
                       fear=opts.get("fear"), private=private, clear=cleared, seen=seen)
    if replace(change, seen=None) == EntryEdit():  # nothing to change: the list, or the entry
        if opts.get("entry") is None:
            return await entries_page(deps, caller, 0)
        entry = await deps.repo.entry(caller.community, caller.member, attempt_id, position)
        if entry is None:
            raise missing(attempt_id, position)
        zone = await deps.member_zone(caller)
        return private_reply(*entry_blocks(entry, position if attempt_id is None else None,
                                           zone),
                             Context.of("Say what to change, like ",
                                        f"/edit entry:{opts['entry']} outcome:yes"))
    result = await deps.repo.edit_attempt(caller.community, caller.member, attempt_id,
                                          position, change, deps.now(), inv.request_id)
    if result.status == EditStatus.NOT_FOUND:
        raise missing(attempt_id, position)
    if result.status == EditStatus.STALE:
        raise Refusal("That entry changed since the form opened (maybe from /asks), so I left "
                      "it as it is now. Press Edit again to start from there.")
    return edited_reply(result)


def missing(attempt_id: int | None, position: int) -> Refusal:
    """No such entry: one named by a button (gone since), or a place past the oldest."""
    return Refusal(NOT_FOUND if attempt_id is not None else
                   f"You have no entry {position} here: /edit lists yours, 1 being the latest.")


def edited_reply(result: EditResult) -> Reply:
    after = result.after
    if result.status == EditStatus.UNCHANGED or after is None or result.before is None:
        return private_reply(Text.of("That's how it reads already, so nothing changed."))
    before = result.before
    blocks: list[Block] = [Text.of("Updated: ", Strong(after.ask.rstrip()))]
    lines = [line for line in (change_line(f, before, after) for f in EDITABLE) if line]
    if lines:
        blocks.append(Context.of(" · ".join(lines)))
    t = result.totals
    if t is not None and after.outcome != before.outcome:
        blocks.append(Context.of(f"{prompts.attempts_word(t.attempts)} · "
                                 f"{prompts.rejections_word(t.rejected)} · "
                                 f"{prompts.yes_word(t.accepted)}"))
        milestones = milestone_lines(after.outcome, t, result.celebrated, result.goal_reached,
                                     counted_ask=False)
        if milestones:
            blocks.append(Text.of(Strong("Milestone! "), " ".join(milestones)))
    hidden = after.private and not before.private
    if result.posts_queued:
        blocks.append(Context.of(
            "I'm changing its post in the channel to hide the text. Anything you typed there "
            "yourself stays as you sent it: delete it there if you like." if hidden else
            "I'm updating its post in the channel to match."))
    elif hidden and after.channel_id is None:  # logged before the bot kept track of posts
        blocks.append(Context.of("I can't reach its post from before I kept track of them: "
                                 "delete it in the channel if you'd like it gone."))
    return private_reply(*blocks)


def change_line(name: str, before: Attempt, after: Attempt) -> str | None:
    old, new = getattr(before, name), getattr(after, name)
    if old == new:
        return None
    if name == "ask":
        return "new wording"
    if name == "private":
        return "now private" if new else "now shown to the group"
    if name == "outcome":
        return f"outcome: {WORDS[old]} → {WORDS[new]}"
    return f"{name}: {'-' if old is None else old} → {'cleared' if new is None else new}"


def outcome_word(a: Attempt) -> str:
    return {Outcome.REJECTED: "No", Outcome.ACCEPTED: "Yes", Outcome.PENDING: "Waiting"}[
        a.outcome]


def entry_blocks(a: Attempt, place: int | None, zone: ZoneInfo) -> list[Block]:
    """One entry of the list: its place, outcome, day and text (and what else it has), and
    its Edit button."""
    day = a.created_at.astimezone(zone)
    extras = [x for x in (f"entry {place}" if place else None,
                          f"who: {a.who}" if a.who else None, a.area,
                          f"fear {a.fear}/10" if a.fear is not None else None,
                          "private" if a.private else None,
                          "edited" if a.edited_at else None) if x]
    return [Text.of(f"{outcome_word(a)} · {day:%a} {day.day} {day:%b}: ", Strong(a.ask),
                    f" ({', '.join(extras)})" if extras else ""),
            Buttons((edit_button(a.id),))]


def edit_button(attempt_id: int) -> Button:
    return Button("Edit", Action(EDIT_ACTION, str(attempt_id)))


async def entries_page(deps: Deps, caller: Caller, page: int, replace: bool = False) -> Reply:
    """One page of the member's latest entries, newest first: only that page is read."""
    found = await deps.repo.entry_page(caller.community, caller.member, PER_PAGE,
                                       page * PER_PAGE)
    if found.total and not found.entries:  # fewer now: the last page there is
        page = (found.total - 1) // PER_PAGE
        found = await deps.repo.entry_page(caller.community, caller.member, PER_PAGE,
                                           page * PER_PAGE)
    if not found.entries:
        return Reply((Text.of("Nothing to edit yet. Log an ask with /rejected, /accepted or "
                              "/pending, and it shows up here."),),
                     Visibility.PRIVATE, replace_original=replace)
    zone = await deps.member_zone(caller)
    first = page * PER_PAGE + 1
    last = first + len(found.entries) - 1
    blocks: list[Block] = [Heading("Your latest entries" if found.total <= PER_PAGE else
                                   f"Your entries ({first}–{last} of {found.total})")]
    for place, entry in enumerate(found.entries, first):
        blocks += entry_blocks(entry, place, zone)
    nav = []
    if page > 0:
        nav.append(Button("‹ Newer", Action(PAGE_ACTION, str(page - 1))))
    if last < found.total:
        nav.append(Button("Older ›", Action(PAGE_ACTION, str(page + 1))))
    if nav:
        blocks.append(Buttons(tuple(nav)))
    blocks.append(Context.of("Or type it: /edit entry:2 outcome:yes changes your second latest."))
    return Reply(tuple(blocks), Visibility.PRIVATE, replace_original=replace)


async def entries_more(deps: Deps, act: ActionInvocation) -> Reply:
    """Newer / Older under the list: that page, in place of the one pressed."""
    if not act.value.isdecimal() or len(act.value) > 6:
        raise Refusal("That button doesn't look right any more. Try /edit for a fresh list.")
    return await entries_page(deps, act.caller, int(act.value), replace=True)


async def edit_form(deps: Deps, act: ActionInvocation) -> Reply:
    """An Edit button: the form filled in with the entry as it is, where the platform has
    forms; else (the terminal) the entry and the command to type."""
    if not act.value.isdecimal() or len(act.value) > 12:
        raise Refusal("That button doesn't look right any more. Try /edit for a fresh list.")
    caller = act.caller
    entry = await deps.repo.entry(caller.community, caller.member, int(act.value))
    if entry is None:
        raise Refusal(NOT_FOUND)
    values = {"ask": entry.ask, "outcome": WORDS[entry.outcome], "who": entry.who,
              "lesson": entry.lesson, "area": entry.area,
              "fear": None if entry.fear is None else str(entry.fear),
              "private": "true" if entry.private else "false"}
    return Reply((Text.of("Change it with ", Strong(f"/edit entry:#{entry.id}"),
                          " and only what changes, like outcome:yes or who:\"my boss\"."),),
                 Visibility.PRIVATE, form="edit",
                 form_values=tuple((k, v) for k, v in values.items() if v is not None),
                 form_fixed=(("entry", f"#{entry.id}@{entry.version}"),))


def edited_post(news: News) -> Reply:
    """An entry's public post as it is after an /edit: who, the outcome, the text unless it is
    private now, marked edited, with its Cheer button and count."""
    a = news.attempt
    return Reply((
        Text.of(Mention(a.member, news.name), " kept a promise and" if a.kept_promise else "",
                f" {VERBS[a.outcome]}",
                *((" on a private ask.",) if a.private else (": ", Strong(a.ask)))),
        Context.of("(edited)"),
        Buttons((cheer_button(a.id, news.cheers),)),
    ))
