"""The text grammar shared by Slack and the terminal:

    /rejected asked for a raise who:"my boss" fear:7 private:true

Free text fills the command's main option; ``name:value`` pairs fill the others. Values may be
quoted with straight or curly double quotes. Errors are ``OptionError`` with a friendly message.
"""

from __future__ import annotations

import re

from bot.commands import CommandSpec, OptionError

_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201c"}
_NAME = re.compile(r"[A-Za-z][A-Za-z_-]*")
_SPACE = re.compile(r"\s*")  # \s is str.isspace() (Unicode white space)
_WORD = re.compile(r"\S+")


def _tokens(text: str) -> list[tuple[str | None, str, bool]]:
    """Split into (option name or None, value, was_quoted) tokens."""
    out: list[tuple[str | None, str, bool]] = []
    i, n = 0, len(text)
    while True:
        i = _SPACE.match(text, i).end()  # type: ignore[union-attr]  # \s* always matches
        if i >= n:
            break
        name = None
        m = _NAME.match(text, i)
        if m and m.end() < n and text[m.end()] == ":":
            after = m.end() + 1
            if after < n and not text[after].isspace() and not text.startswith("//", after):
                name, i = m.group(0).lower(), after
        if text[i] in _QUOTES:
            close = _QUOTES[text[i]]
            end = text.find(close, i + 1)
            if end == -1 and close == "\u201d":
                end = text.find('"', i + 1)
            if end == -1:
                what = f"the value of `{name}`" if name else "your text"
                raise OptionError(f"A quote in {what} is never closed. Add the closing \" "
                                  "or leave the quotes out.", name)
            out.append((name, text[i + 1:end], True))
            i = end + 1
            continue
        j = _WORD.match(text, i).end()  # type: ignore[union-attr]  # text[i] isn't space
        out.append((name, text[i:j], False))
        i = j
    return out


def parse(spec: CommandSpec, text: str) -> dict[str, str]:
    """Raw option strings for ``spec`` from the text after the command name."""
    options: dict[str, str] = {}
    free: list[str] = []
    for name, value, _quoted in _tokens(text):
        if name is None:
            free.append(value)
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
        options[main.name] = " ".join(free)
    return options
