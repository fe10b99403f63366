"""The text grammar shared by Slack and the terminal:

    /rejected asked for a raise who:"my boss" fear:7 private:true

Free text fills the command's main option; ``name:value`` pairs fill the others, in any order.

Quotes. A value that starts with a quote right after ``name:`` runs to its matching close:
``who:"my boss"``, ``who:'my mom'``, ``who:“Big Sam”``, ``who:‘Jo’``, ``who:„Oma“``. A double
quote (" “ ” „) is closed by the next double quote. A single quote (' ‘ ’) is closed by a single
quote at the end of a word, so an apostrophe inside a word is a letter (``who:'my mom's boss'``,
``who:'O'Neil'``); when more than one could close it (``who:'my parents' house'``) that is an
error asking for double quotes, never a guess. Unquoted, apostrophes are letters
(``who:O'Neil``, ``lesson:'90s``). In free text, quotes and apostrophes stay as typed (it's,
rock 'n' roll, '90s, said "no"); a double-quoted stretch there is text even if it holds
``name:``, and free text that is just one double-quoted stretch loses its quotes.

Empty options. ``who:`` with no value (at the end, before a space, or ``who:""``) is an error
naming it, when ``who`` is one of the command's options. Any other word with a colon and nothing
after it (``re: the lease``), a time (``10:30``) and a link are free text; ``colour:blue`` names
an option the command lacks, which ``validate`` reports.

Phrases. An option with a ``phrase`` predicate (``when``) takes the unquoted words after its
first one for as long as they continue a valid phrase, the longest that reads:
``/who-next call mom when:next friday`` and ``/who-next when:in 2 weeks call mom`` both work.

Errors are ``OptionError`` with a friendly message naming the option.
"""

from __future__ import annotations

import itertools
import re

from bot.commands import CommandSpec, OptionError, OptionType

_DOUBLE = "\"\u201c\u201d\u201e\u201f"
_SINGLE = "'\u2018\u2019\u201a\u201b"
_CLOSES = {'"': '"', "\u201c": "\u201d", "\u201d": "\u201d", "\u201e": "\u201c",
           "\u201f": "\u201d", "'": "'", "\u2018": "\u2019", "\u2019": "\u2019",
           "\u201a": "\u2018", "\u201b": "\u2019"}
_AFTER_CLOSE = ",.;!?)]}"  # what may follow a closing single quote besides space
_NAME = re.compile(r"[A-Za-z][A-Za-z_-]*")
_SPACE = re.compile(r"\s*")  # \s is str.isspace() (Unicode white space)
_WORD = re.compile(r"\S+")
_GAP = re.compile(r"\s+")
_DECADE = re.compile(r"\d\ds(?!\S)")  # '90s: an apostrophe, not a quote
MAX_PHRASE_WORDS = 6


class _Reader:
    def __init__(self, spec: CommandSpec, text: str):
        self.spec, self.text, self.n = spec, text, len(text)

    def option_at(self, i: int) -> tuple[str, int] | None:
        """The ``name:`` starting at ``i`` if it opens an option: (name, index after the colon)."""
        text = self.text
        m = _NAME.match(text, i)
        if not m or m.end() >= self.n or text[m.end()] != ":":
            return None
        name, after = m.group(0).lower(), m.end() + 1
        if text.startswith("//", after):  # a link
            return None
        if self.spec.option(name) is not None:
            return name, after
        # Not an option of this command: text, unless a value follows (validate names it).
        return (name, after) if after < self.n and not text[after].isspace() else None

    def empty(self, name: str) -> OptionError:
        opt = self.spec.option(name)
        sample = opt.example if opt and opt.example else "…"
        if " " in sample and sample[0] not in _DOUBLE:
            sample = f'"{sample}"'
        return OptionError(f"`{name}:` has no value. Put it right after the colon, like "
                           f"{name}:{sample}, or leave {name}: out.", name)

    def double_close(self, start: int) -> int | None:
        """Where the double quote at ``start`` is closed."""
        for k in range(start + 1, self.n):
            if self.text[k] in _DOUBLE:
                return k
        return None

    def single_closes(self, start: int) -> list[int]:
        """Every single quote that could close the one at ``start``: one that ends a word,
        before the next option."""
        text, stop = self.text, self.n
        for gap in _GAP.finditer(text, start):
            if self.option_at(gap.end()):
                stop = gap.start()
                break
        return [k for k in range(start + 1, stop) if text[k] in _SINGLE
                and not text[k - 1].isspace()
                and (k + 1 == self.n or text[k + 1].isspace() or text[k + 1] in _AFTER_CLOSE)]

    def word_end(self, i: int) -> int:
        return _WORD.match(self.text, i).end()  # type: ignore[union-attr]  # text[i] isn't space

    def value(self, name: str, after: int) -> tuple[str, int]:
        """The value of ``name:`` whose first character is at ``after``, and where it ends."""
        text, ch = self.text, self.text[after]
        if ch in _DOUBLE:
            end = self.double_close(after)
            if end is None:
                raise self.unclosed(name, ch)
            return text[after + 1:end], end + 1
        if ch in _SINGLE:
            closes = self.single_closes(after)
            if len(closes) == 1:
                return text[after + 1:closes[0]], closes[0] + 1
            if len(closes) > 1:
                raise OptionError(
                    f"I can't tell where `{name}` ends: more than one {_CLOSES[ch]} could close it. "
                    f"Put it in double quotes instead, like {name}:\"my parents' house\".", name)
            if not _DECADE.match(text, after + 1):
                raise self.unclosed(name, ch)
        return self.phrase(name, after)

    def unclosed(self, name: str, opening: str) -> OptionError:
        return OptionError(f"A quote in `{name}` is never closed. Add the closing "
                           f"{_CLOSES[opening]} at the end of it, or leave the quotes out.", name)

    def phrase(self, name: str, after: int) -> tuple[str, int]:
        """An unquoted value: one word, or for a phrase option the longest run of words that
        reads as a phrase."""
        end = self.word_end(after)
        opt = self.spec.option(name)
        if opt is None or opt.phrase is None:
            return self.text[after:end], end
        words, ends = [self.text[after:end]], [end]
        while len(words) < MAX_PHRASE_WORDS:
            i = _SPACE.match(self.text, ends[-1]).end()  # type: ignore[union-attr]
            if i >= self.n or self.text[i] in _DOUBLE + _SINGLE or self.option_at(i):
                break
            ends.append(self.word_end(i))
            words.append(self.text[i:ends[-1]])
        readable = [k for k in range(len(words)) if opt.phrase(" ".join(words[:k + 1]))]
        # None reads, and the words after it would be this same option again (the command's
        # text): all of them are the value, so the error quotes what was typed.
        best = max(readable, default=len(words) - 1 if self.spec.main is opt else 0)
        return " ".join(words[:best + 1]), ends[best]

    def free(self, i: int) -> tuple[str, int, bool]:
        """A piece of free text at ``i``: (as typed, where it ends, whether it is one quoted
        stretch). A double-quoted stretch runs to its close, spaces and all."""
        if self.text[i] in _DOUBLE and (close := self.double_close(i)) is not None:
            end = close + 1
            whole = end >= self.n or self.text[end].isspace()
            if not whole:
                end = self.word_end(end)
            return self.text[i:end], end, whole
        end = self.word_end(i)
        return self.text[i:end], end, False

    def tokens(self) -> list[tuple[str | None, str, bool]]:
        """(option name or None for free text, value, whether it is one quoted stretch)."""
        out: list[tuple[str | None, str, bool]] = []
        text, i = self.text, 0
        while True:
            i = _SPACE.match(text, i).end()  # type: ignore[union-attr]  # \s* always matches
            if i >= self.n:
                return out
            found = self.option_at(i)
            if found is None:
                piece, i, quoted = self.free(i)
                out.append((None, piece, quoted))
                continue
            name, after = found
            if after >= self.n or text[after].isspace():
                raise self.empty(name)
            value, i = self.value(name, after)
            if not value.strip():
                raise self.empty(name)
            out.append((name, value, text[after] in _DOUBLE + _SINGLE))


def _check_not_a_value_cut_short(spec: CommandSpec, tokens: list[tuple[str | None, str, bool]],
                                 k: int) -> None:
    """For a command whose text replaces what is stored: free text right after an unquoted
    text option's value (``lesson:be bolder next time``) is refused, as it reads like the rest
    of that value."""
    name, value, quoted = tokens[k - 1]
    opt = spec.option(name) if name else None
    # Only an option whose values have words (its example is quoted: who:"my boss"), not one
    # naming an entry or fields (entry:2 new words rewords entry 2).
    if (opt is None or quoted or opt.type is not OptionType.TEXT or opt.phrase is not None
            or not opt.example.startswith(tuple(_DOUBLE))):
        return
    rest = " ".join(v for _, v, _ in itertools.takewhile(lambda t: t[0] is None, tokens[k:]))
    raise OptionError(f"Is “{rest}” part of `{name}`? A value of several words goes in quotes, "
                      f"like {name}:\"{value} {rest}\". New words for the entry go first, "
                      f"before any option.", name)


def parse(spec: CommandSpec, text: str) -> dict[str, str]:
    """Raw option strings for ``spec`` from the text after the command name."""
    options: dict[str, str] = {}
    free: list[tuple[str, bool]] = []
    tokens = _Reader(spec, text).tokens()
    for k, (name, value, quoted) in enumerate(tokens):
        if name is None:
            if spec.rewords and k:
                _check_not_a_value_cut_short(spec, tokens, k)
            free.append((value, quoted))
            continue
        if name in options:
            raise OptionError(f"`{name}` is given twice. Keep just one.", name)
        options[name] = value
    if free:
        main = spec.main
        if main is None:
            raise OptionError(f"/{spec.name} takes no text; just send /{spec.name}.")
        if main.name in options:
            raise OptionError(f"`{main.name}` is given twice: once as text and once as "
                              f"`{main.name}:`. Keep just one.", main.name)
        if len(free) == 1 and free[0][1]:
            options[main.name] = free[0][0][1:-1]
        else:
            options[main.name] = " ".join(piece for piece, _ in free)
    return options
