"""/who-next, /asks and the resolve buttons."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot import prompts
from bot.errors import Refusal
from bot.handlers import Deps, Options
from bot.handlers.attempts import VERBS, celebration, rate_limited
from bot.handlers.cheer import cheer_button
from bot.handlers.edit import edit_button
from bot.handlers.pause import break_now, day_words
from bot.invocation import ActionInvocation, Caller, Invocation
from bot.models import (
    Attempt,
    Commitment,
    CommitmentStatus,
    NewCommitment,
    News,
    Outcome,
    PromiseEnd,
    ResolutionStatus,
)
from bot.reply import (
    Action,
    Block,
    Button,
    Buttons,
    ButtonStyle,
    Context,
    Heading,
    Mention,
    Reply,
    Strong,
    Text,
    Visibility,
)
from bot.when import due_date, end_of_day

# /asks shows this many items a page: each has a row of buttons, the page's Earlier / More
# buttons one more, and Discord allows five rows.
PER_PAGE = 4
# Button codes: r = rejected, a = accepted, w = still waiting, s = didn't ask.
OUTCOME_CODES: dict[str, PromiseEnd] = {"r": Outcome.REJECTED, "a": Outcome.ACCEPTED,
                                         "w": Outcome.PENDING, "s": CommitmentStatus.SKIPPED}


def describe_due(due: datetime, zone: ZoneInfo, now: datetime) -> str:
    local, today = due.astimezone(zone).date(), now.astimezone(zone).date()
    days = (local - today).days
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days < 0:
        return f"was due {local:%a} {local.day} {local:%b}"
    if days < 7:
        return local.strftime("%A")
    return f"{local:%a} {local.day} {local:%b %Y}"


async def who_next(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    return (await promise(deps, inv.caller, opts["ask"], opts.get("when"), inv.request_id))[0]


async def promise(deps: Deps, caller: Caller, ask: str, when: str | None,
                  request_id: str | None) -> tuple[Reply, bool]:
    """A /who-next promise of ``ask`` (due ``when``, or today), and whether it is new: False
    when ``request_id`` made it before (nothing new was written)."""
    zone = await deps.member_zone(caller)
    now = deps.now()
    today = now.astimezone(zone).date()
    day = due_date(when, today)
    due = end_of_day(day, zone)
    commitment, dup = await deps.repo.add_commitment(NewCommitment(
        community=caller.community, member=caller.member, member_name=caller.name,
        ask=ask, due_at=due, at=now, request_id=request_id,
        max_per_hour=deps.max_logs_per_hour, zone=zone.key,
        channel_id=caller.channel.id if caller.channel else None))
    if commitment is None:
        raise await rate_limited(deps, caller)
    info = await deps.repo.member(caller.community, caller.member)
    cheer = prompts.COMMITMENT_CHEERS[0]  # promises no follow-up on its day
    if info is not None and not info.reminders:  # no follow-up will come
        after = ("Your reminders are off, so I won't check in: it waits in /asks, or log it "
                 "with /rejected or /accepted when it's done.")
    elif (away := await break_now(deps, caller.community, caller.member, now, today)) \
            and day <= away.last_day:  # its follow-up waits for the break's end
        after = (f"You're on a break until {day_words(away.last_day, today)}, so I'll check in "
                 "the day after. Done sooner? Log it with /rejected or /accepted, or resolve "
                 "it from /asks.")
    else:
        cheer = prompts.pick(prompts.COMMITMENT_CHEERS, commitment.id)
        after = "When it's done, log it with /rejected or /accepted, or resolve it from /asks."
    return Reply((
        Text.of(Mention(caller.member, caller.name), " is going to ask: ", Strong(commitment.ask)),
        Text.of(f"Due {describe_due(due, zone, now)}. ", cheer),
        Context.of(after),
    )), not dup


def resolve_buttons(kind: str, item_id: int, waiting: bool) -> Buttons:
    def b(label: str, code: str, style: ButtonStyle = ButtonStyle.DEFAULT) -> Button:
        return Button(label, Action("resolve", f"{kind}{item_id}:{code}"), style)
    buttons = [b("Rejected", "r", ButtonStyle.PRIMARY), b("Accepted", "a", ButtonStyle.PRIMARY),
               b("Still waiting", "w")]
    if not waiting:
        buttons.append(b("Didn't ask", "s"))
    return Buttons(tuple(buttons))


def promise_due(c: Commitment, zone: ZoneInfo, now: datetime) -> str:
    """When ``c`` is due, on the day of the zone it was made in (a promise made for Friday
    stays Friday), naming that zone when it isn't the member's ``zone`` now."""
    made_in = ZoneInfo(c.zone) if c.zone else zone
    due = describe_due(c.due_at, made_in, now)
    due = due if due.startswith("was due") else f"due {due}"
    return due if made_in.key == zone.key else f"{due}, {made_in.key} time"


def commitment_blocks(c: Commitment, zone: ZoneInfo, now: datetime) -> list[Block]:
    return [Text.of("Promise: ", Strong(c.ask), f" ({promise_due(c, zone, now)})"),
            resolve_buttons("c", c.id, waiting=False)]


def pending_blocks(a: Attempt) -> list[Block]:
    buttons = resolve_buttons("a", a.id, waiting=True)
    return [Text.of("Waiting to hear: ", Strong(a.ask)),
            Buttons((*buttons.buttons, edit_button(a.id)))]


async def asks(deps: Deps, inv: Invocation, opts: Options) -> Reply:
    return await asks_page(deps, inv.caller, 0)


async def asks_more(deps: Deps, act: ActionInvocation) -> Reply:
    """The Earlier / More buttons under /asks: that page, in place of the one pressed."""
    if not act.value.isdecimal() or len(act.value) > 6:
        raise Refusal("That button doesn't look right any more. Try /asks for a fresh list.")
    return await asks_page(deps, act.caller, int(act.value), replace=True)


async def asks_page(deps: Deps, caller: Caller, page: int, replace: bool = False) -> Reply:
    """One page of the member's open items, PER_PAGE at a time: only that page is read."""
    found = await deps.repo.open_page(caller.community, caller.member, PER_PAGE, page * PER_PAGE)
    if found.total and not (found.commitments or found.pending):  # sorted out meanwhile
        page = (found.total - 1) // PER_PAGE
        found = await deps.repo.open_page(caller.community, caller.member, PER_PAGE,
                                          page * PER_PAGE)
    if not (found.commitments or found.pending):
        return Reply((Text.of("Nothing open right now. "
                              "Promise your next ask with /who-next, or log one you made."),),
                     Visibility.PRIVATE, replace_original=replace)
    zone, now = await deps.member_zone(caller), deps.now()
    first = page * PER_PAGE + 1
    shown = len(found.commitments) + len(found.pending)
    title = "Your open asks" if found.total <= PER_PAGE else \
        f"Your open asks ({first}–{first + shown - 1} of {found.total})"
    blocks: list[Block] = [Heading(title)]
    for c in found.commitments:
        blocks += commitment_blocks(c, zone, now)
    for a in found.pending:
        blocks += pending_blocks(a)
    nav = []
    if page > 0:
        nav.append(Button("‹ Earlier", Action("asks", str(page - 1))))
    if first + shown - 1 < found.total:
        nav.append(Button("More ›", Action("asks", str(page + 1))))
    if nav:
        blocks.append(Buttons(tuple(nav)))
    return Reply(tuple(blocks), Visibility.PRIVATE, replace_original=replace)


async def resolve(deps: Deps, act: ActionInvocation) -> Reply:
    kind, rest = act.value[:1], act.value[1:]
    ident, _, code = rest.partition(":")
    outcome = OUTCOME_CODES.get(code)
    if kind not in ("a", "c") or not ident.isdecimal() or outcome is None:
        raise Refusal("That button doesn't look right any more. Try /asks for a fresh list.")
    caller, now = act.caller, deps.now()
    if kind == "a":
        if outcome is CommitmentStatus.SKIPPED:
            raise Refusal("That ask was already made, so it can't be skipped.")
        if outcome is Outcome.PENDING:
            return Reply((Text.of("Still waiting: fine. It stays in /asks until you hear back."),),
                         Visibility.PRIVATE)
        res = await deps.repo.resolve_attempt(
            caller.community, caller.member, int(ident), outcome, now,
            pressed_in=caller.channel.id if caller.channel else None)
    else:
        res = await deps.repo.resolve_commitment(
            caller.community, caller.member, int(ident), outcome, now, deps.default_timezone,
            pressed_in=caller.channel.id if caller.channel else None)
    if res.status == ResolutionStatus.NOT_FOUND:
        raise Refusal("I can't find that ask any more; maybe it was undone.")
    if res.status == ResolutionStatus.NOT_OWNER:
        raise Refusal("Only the person who made that ask can resolve it. "
                      "You can cheer them on instead!")
    if res.status == ResolutionStatus.ALREADY:
        raise Refusal(f"Already sorted: “{res.ask}”. Nothing changed.")
    if outcome is CommitmentStatus.SKIPPED:
        return Reply((Text.of("No ask this time, and that's okay. ",
                              "What's one small ask you could make today?"),),
                     Visibility.PRIVATE, replace_original=True)
    assert res.attempt is not None
    word = "a no" if outcome == Outcome.REJECTED else "a yes"
    counts = Context.of(prompts.rejections_word(res.attempt.totals.rejected), " · ",
                        prompts.yes_word(res.attempt.totals.accepted))
    if kind == "a":
        if res.private:  # a private ask stays private: only its member hears
            return Reply((Text.of(f"Marked as {word}: ", Strong(res.ask), ". It was already "
                                  "counted as an ask; thanks for closing the loop."), counts),
                         Visibility.PRIVATE, replace_original=True)
        # Heard back: the group hears it, as it would from /rejected or /accepted.
        return celebration(caller.member, caller.name, outcome, res.ask, False, res.attempt,
                           heard_back=True)
    if res.announced_in is not None:  # kept from a DM: the group hears in the promise's channel
        return Reply((Text.of(f"Logged as {word}: ", Strong(res.ask), ". Promise kept! I'm "
                              "telling the group in the channel you made it in."), counts),
                     Visibility.PRIVATE, replace_original=True)
    # A kept promise is a new attempt: celebrate it publicly, here.
    return celebration(caller.member, caller.name, outcome, res.ask, False, res.attempt)


def news_reply(news: News) -> Reply:
    """What the group sees when a promise made in its channel was kept from a DM."""
    a = news.attempt
    line = prompts.pick(prompts.REJECTED_CHEERS if a.outcome == Outcome.REJECTED
                        else prompts.ACCEPTED_CHEERS, a.id)
    told = (" on a private ask.",) if a.private else (": ", Strong(a.ask))  # made so by /edit
    return Reply((Text.of(Mention(a.member, news.name), " kept a promise and ",
                          VERBS[a.outcome], *told),
                  Text.of(line),
                  Buttons((cheer_button(a.id),))))
