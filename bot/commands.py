"""The command catalogue: the single source that Discord registration, the Slack manifest,
the text grammar, modals and /help are built from.

``validate`` turns raw option values (strings from text, or typed values from Discord) into
clean, typed options, or raises ``OptionError`` with a friendly message naming the option.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from difflib import get_close_matches
from enum import StrEnum
from functools import cached_property

from bot.days import DAY_NAMES
from bot.errors import Refusal
from bot.ids import MemberRef

AREAS = ("work", "money", "creative", "social", "learning", "other")
DARE_LEVELS = ("easy", "medium", "hard")
EDIT_OUTCOMES = ("no", "yes", "pending")  # /edit's words for rejected, accepted and pending
DARE_MAX_TEXT = 300  # a dare becomes a promise's ask (at most 500)


class OptionType(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"
    DATE = "date"
    MEMBER = "member"
    CHANNEL = "channel"
    ZONE = "zone"


@dataclass(frozen=True)
class OptionSpec:
    name: str
    type: OptionType
    description: str
    required: bool = False
    max_length: int = 200
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[str, ...] = ()
    example: str = ""
    # For a value that is a phrase (``when:next friday``): whether some words read as one. The
    # text grammar then takes the longest run of unquoted words that does.
    phrase: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()
    admin_only: bool = False
    # False until a handler exists: /help lists only what works.
    available: bool = True
    # Whether its answer is normally posted for everyone (errors are always private): an
    # adapter that must show a placeholder before the answer is ready picks its visibility.
    public: bool = False
    # Values of the main option only admins may use, the rest being everyone's (/dare add): a
    # platform that must ask who is an admin (Slack) asks for these too.
    admin_actions: tuple[str, ...] = ()
    # For a form that starts filled in (``Reply.form_values``): the option the adapter fills
    # with the names of the fields it showed that came back empty (comma-separated, an
    # unticked yes/no one too), so that emptying a field clears it (/edit).
    clears: str | None = None
    # Its text replaces what is stored (/edit): words right after an unquoted text option's
    # value could be the rest of that value, so they are refused rather than taken as text.
    rewords: bool = False

    @property
    def main(self) -> OptionSpec | None:
        """The option that free text fills (the first one)."""
        return self.options[0] if self.options else None

    def option(self, name: str) -> OptionSpec | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None

    @cached_property
    def usage_hint(self) -> str:
        parts = []
        for i, opt in enumerate(self.options):
            sample = opt.example or opt.name
            if i == 0:
                parts.append(sample if opt.required else f"[{sample}]")
            else:
                parts.append(f"[{opt.name}:{sample}]")
        return " ".join(parts)

    @cached_property
    def usage(self) -> str:
        return f"Usage: /{self.name} {self.usage_hint}".rstrip()

    @property
    def needs_input(self) -> bool:
        return any(o.required for o in self.options)

    def asks_admin(self, text: str) -> bool:
        """Whether ``text`` (what follows the command) may need the caller's admin rights."""
        main, words = self.main, text.lower().split()
        if self.admin_only or main is None or not words or not self.admin_actions:
            return self.admin_only
        named = {f"{main.name}:{a}" for a in self.admin_actions}
        return words[0] in self.admin_actions or any(w in named for w in words)


def _when_phrase(text: str) -> bool:
    from bot.when import is_phrase  # bot.when imports this module: import it only when used
    return is_phrase(text)


ASK = OptionSpec("ask", OptionType.TEXT, "What you asked for", required=True, max_length=500,
                 example="asked for a raise")
WHO = OptionSpec("who", OptionType.TEXT, "Who you asked", max_length=100, example='"my boss"')
AREA = OptionSpec("area", OptionType.CHOICE, "Which part of life", choices=AREAS, example="work")
FEAR = OptionSpec("fear", OptionType.INT, "How scary it felt, 0 to 10", min_value=0, max_value=10,
                  example="7")
LESSON = OptionSpec("lesson", OptionType.TEXT, "What you learned", max_length=500,
                    example='"ask earlier"')
PRIVATE = OptionSpec("private", OptionType.BOOL, "Count it, but keep the text to yourself",
                     example="true")

LOG_OPTIONS = (ASK, WHO, AREA, FEAR, LESSON, PRIVATE)

CATALOGUE: tuple[CommandSpec, ...] = (
    CommandSpec("rejected", "Log an ask that got a no. Every no counts!", LOG_OPTIONS, public=True),
    CommandSpec("accepted", "Log an ask that got a yes.", LOG_OPTIONS, public=True),
    CommandSpec("pending", "Log an ask still waiting for an answer.",
                (ASK, WHO, AREA, FEAR, PRIVATE), public=True),
    CommandSpec("who-next", "Promise an ask you will make, and by when.", (
        OptionSpec("ask", OptionType.TEXT, "The ask you will make", required=True,
                   max_length=500, example="ask Sam for an intro"),
        OptionSpec("when", OptionType.TEXT,
                   "today, friday, next friday, in 2 weeks, end of month or 31 Jan",
                   max_length=40, example="friday", phrase=_when_phrase),
    ), public=True),
    CommandSpec("asks", "Your open promises and pending asks, with buttons to resolve them."),
    CommandSpec("dare", "A suggested ask to try, with a button to promise it. Admins add the "
                "community's own.", (
        OptionSpec("action", OptionType.CHOICE, "Admins: add, list or remove the community's "
                   "own dares (none: get a dare)", choices=("add", "list", "remove"),
                   example="add"),
        OptionSpec("area", OptionType.CHOICE, "Which part of life", choices=AREAS,
                   example="work"),
        OptionSpec("level", OptionType.CHOICE, "easy, medium or hard", choices=DARE_LEVELS,
                   example="hard"),
        OptionSpec("text", OptionType.TEXT, "The new dare (with add)", max_length=DARE_MAX_TEXT,
                   example='"Ask a neighbour to swap a skill"'),
        OptionSpec("number", OptionType.INT, "With remove: which dare (see /dare list). With "
                   "list: which page", min_value=1, max_value=9999, example="3"),
    ), admin_actions=("add", "list", "remove")),
    CommandSpec("leaderboard", "Who's making the most asks.", (
        OptionSpec("period", OptionType.CHOICE, "week, month, all or season",
                   choices=("week", "month", "all", "season"), example="week"),
        OptionSpec("by", OptionType.CHOICE, "attempts or rejections",
                   choices=("attempts", "rejections"), example="attempts"),
    ), public=True),
    CommandSpec("stats", "Your numbers, or another member's.", (
        OptionSpec("member", OptionType.MEMBER, "Whose stats (default: yours)", max_length=100,
                   example="@sam"),
    ), public=True),
    CommandSpec("goal", "Set a rejection goal.", (
        OptionSpec("target", OptionType.TEXT, "How many no's to collect, or off", max_length=10,
                   example="100"),
        OptionSpec("by", OptionType.DATE, "By when (YYYY-MM-DD)", example="2027-06-30"),
        OptionSpec("since", OptionType.TEXT, "Count no's since a day (YYYY-MM-DD), or start for "
                   "all", max_length=20, example="start"),
    )),
    CommandSpec("timezone", "Set your time zone, or see it.", (
        OptionSpec("zone", OptionType.ZONE, "An IANA zone like Europe/Berlin (none: show yours)",
                   max_length=64, example="Europe/Berlin"),
    )),
    CommandSpec("checkin", "Admins: schedule the group check-ins.", (
        OptionSpec("action", OptionType.CHOICE, "set, off, show or preview", required=True,
                   choices=("set", "off", "show", "preview"), example="set"),
        OptionSpec("time", OptionType.TEXT, "Local time, 24-hour HH:MM", max_length=20,
                   example="09:00"),
        OptionSpec("days", OptionType.TEXT, "daily, weekdays or mon,wed,fri", max_length=60,
                   example="weekdays"),
        OptionSpec("zone", OptionType.ZONE, "An IANA zone", max_length=64, example="Europe/Berlin"),
        OptionSpec("channel", OptionType.CHANNEL, "Where to post (default: here)", max_length=100,
                   example="#asks"),
        OptionSpec("recap", OptionType.CHOICE, "Weekday of the weekly recap, or off",
                   choices=(*DAY_NAMES, "off"), example="monday"),
        OptionSpec("dare", OptionType.CHOICE, "Today's dare in each check-in: on or off",
                   choices=("on", "off"), example="on"),
    ), admin_only=True),
    CommandSpec("season", "A season of asks with champions at the end; admins start and end it.", (
        OptionSpec("action", OptionType.CHOICE, "start, end or history (none: the season now)",
                   choices=("start", "end", "history"), example="start"),
        OptionSpec("name", OptionType.TEXT, "With start: the new season's name", max_length=60,
                   example='"Q1 push"'),
        OptionSpec("end", OptionType.DATE, "With start: its last day (YYYY-MM-DD, within a year)",
                   example="2027-03-31"),
    ), public=True, admin_actions=("start", "end")),
    CommandSpec("reminders", "Let the bot DM you follow-ups, or not.", (
        OptionSpec("state", OptionType.CHOICE, "on or off (none: show which)",
                   choices=("on", "off"), example="on"),
    )),
    CommandSpec("remind", "A DM nudge at your own time, on days you haven't logged an ask yet.", (
        OptionSpec("time", OptionType.TEXT, "Your local time, 24-hour HH:MM, or off (none: show "
                   "yours)", max_length=20, example="18:00"),
        OptionSpec("days", OptionType.TEXT, "daily, weekdays, weekends or mon,wed,fri",
                   max_length=60, example="weekdays"),
    )),
    CommandSpec("pause", "Take a break: your streaks hold and follow-ups wait till you're back.", (
        OptionSpec("until", OptionType.TEXT, "The last day of your break (friday, in 2 weeks, "
                   "2027-01-10), or off to end it", max_length=40, example="friday",
                   phrase=_when_phrase),
        OptionSpec("reason", OptionType.TEXT, "Why, if you like (only you see it)",
                   max_length=200, example='"family trip"'),
    )),
    CommandSpec("edit", "Change an entry: your latest, or one you pick from the list /edit shows.", (
        OptionSpec("ask", OptionType.TEXT, "What you asked for, reworded", max_length=500,
                   example="asked for a 10% raise"),
        OptionSpec("outcome", OptionType.CHOICE, "no, yes or pending",
                   choices=EDIT_OUTCOMES, example="yes"),
        OptionSpec("who", OptionType.TEXT, "Who you asked", max_length=100, example='"my boss"'),
        OptionSpec("lesson", OptionType.TEXT, "What you learned", max_length=500,
                   example='"ask earlier"'),
        OptionSpec("private", OptionType.BOOL, "Keep the text to yourself", example="true"),
        OptionSpec("area", OptionType.CHOICE, "Which part of life", choices=AREAS,
                   example="work"),
        OptionSpec("fear", OptionType.INT, "How scary it felt, 0 to 10", min_value=0,
                   max_value=10, example="7"),
        OptionSpec("entry", OptionType.TEXT, "Which entry: 1 is your latest, 2 the one before "
                   "(see /edit)", max_length=30, example="2"),
        OptionSpec("clear", OptionType.TEXT, "Fields to empty: who, lesson, area or fear",
                   max_length=60, example="who,lesson"),
    ), clears="clear", rewords=True),
    CommandSpec("undo", "Remove your most recent entry."),
    CommandSpec("export", "Your data here, as a CSV file, just for you."),
    CommandSpec("forget-me", "Delete everything the bot holds about you here."),
    CommandSpec("help", "What Who's Next is for, and every command.", (
        OptionSpec("command", OptionType.TEXT, "A command to explain, like rejected",
                   max_length=40, example="rejected"),)),
)

_BY_NAME = {c.name: c for c in CATALOGUE}


def get_command(name: str) -> CommandSpec | None:
    return _BY_NAME.get(name.lower().lstrip("/"))


def available_commands() -> tuple[CommandSpec, ...]:
    return tuple(c for c in CATALOGUE if c.available)


def suggest_command(name: str) -> str | None:
    match = get_close_matches(name.lower().lstrip("/"), [c.name for c in available_commands()],
                              n=1, cutoff=0.6)
    return match[0] if match else None


class OptionError(Refusal, ValueError):
    """A bad option value. ``str(err)`` is the friendly message for the member; without a
    ``hint`` of its own, ``App`` adds the command's usage."""

    def __init__(self, message: str, option: str | None = None, hint: str | None = None):
        super().__init__(message, hint=hint, option=option)


# Bidirectional overrides and isolates, zero-width characters and other invisible formatting.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
YES_WORDS = frozenset({"true", "yes", "y", "1", "on"})  # a yes/no option's yes, typed
_FALSE = {"false", "no", "n", "0", "off"}


def clean_text(value: str) -> str:
    """Neutralise control characters and direction overrides; fold runs of white space."""
    value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value)
    if not value.isprintable():  # printable text has none of these: the usual case, at once
        value = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Zl", "Zp")
                        else ch for ch in value)
    return " ".join(value.split())


def _coerce(spec: OptionSpec, raw: object) -> object:
    name = spec.name
    if spec.type is OptionType.MEMBER and isinstance(raw, MemberRef):
        return raw
    if isinstance(raw, bool) and spec.type is OptionType.BOOL:
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and spec.type is OptionType.INT:
        value = raw
    else:
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise OptionError(f"`{name}` got a value of the wrong kind.", name)
        text = clean_text(str(raw))
        if not text:
            raise OptionError(f"`{name}` is empty. Give it a value, like `{name}:{spec.example}`.",
                              name)
        if len(text) > spec.max_length:
            raise OptionError(f"`{name}` is {len(text)} characters long; the most is "
                              f"{spec.max_length}. Could you shorten it?", name)
        if spec.type in (OptionType.TEXT, OptionType.MEMBER, OptionType.CHANNEL, OptionType.ZONE):
            return text
        if spec.type is OptionType.BOOL:
            low = text.lower()
            if low in YES_WORDS:
                return True
            if low in _FALSE:
                return False
            raise OptionError(f"`{name}` takes true or false, not “{text}”.", name)
        if spec.type is OptionType.CHOICE:
            low = text.lower()
            if low in spec.choices:
                return low
            close = get_close_matches(low, spec.choices, n=1, cutoff=0.6)
            did = f" Did you mean `{close[0]}`?" if close else ""
            raise OptionError(f"`{name}` can be {', '.join(spec.choices)}, not “{text}”.{did}",
                              name)
        if spec.type is OptionType.DATE:
            try:
                return date.fromisoformat(text)
            except ValueError:
                raise OptionError(f"`{name}` takes a date like {spec.example}, not “{text}”.",
                                  name) from None
        try:
            value = int(text)
        except ValueError:
            raise OptionError(f"`{name}` takes a whole number, not “{text}”.", name) from None
    lo, hi = spec.min_value, spec.max_value
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise OptionError(f"`{name}` goes from {lo} to {hi}; {value} is out of range.", name)
    return value


def validate(spec: CommandSpec, raw: Mapping[str, object]) -> dict[str, object]:
    """Check every option of one command. Raises OptionError on the first problem found."""
    unknown = [k for k in raw if spec.option(k) is None]
    if unknown:
        known = ", ".join(o.name for o in spec.options) or "none"
        close = get_close_matches(unknown[0], [o.name for o in spec.options], n=1, cutoff=0.6)
        did = f" Did you mean `{close[0]}`?" if close else ""
        raise OptionError(f"/{spec.name} has no option `{unknown[0]}`.{did} Its options: {known}.",
                          unknown[0])
    out: dict[str, object] = {}
    for opt in spec.options:
        if opt.name in raw and raw[opt.name] is not None:
            out[opt.name] = _coerce(opt, raw[opt.name])
        elif opt.required:
            raise OptionError(f"/{spec.name} needs `{opt.name}`: {opt.description.lower()}.",
                              opt.name, hint=f"Try: /{spec.name} {spec.usage_hint}")
    return out
