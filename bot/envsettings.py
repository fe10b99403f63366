"""Settings classes read from the environment and a ``.env`` file: the part of pydantic-settings
this bot uses, in a page of its own.

Why not pydantic-settings: importing it (and the pydantic it pulls in) took 0.1 s, half of the
terminal's start-up, for a dozen variables. The surface is the same, so a settings class reads
as it did:

    class Settings(BaseSettings):
        port: int = Field(3000, ge=1, le=65535)
        mode: Literal["socket", "http"] = "socket"
        token: str | None = None

        @field_validator("mode", mode="before")
        @classmethod
        def _lower(cls, v: object) -> object: ...

A field's variable is its name in capitals, matched without regard to case. A value comes from
the keyword arguments, else the environment, else the ``.env`` file in the working directory
(``_env_file=None``: none), else the field's default. Types: ``str``, ``int``, ``bool``,
``Literal[...]`` of strings, and any of them ``| None``. A validator runs ``before`` the type is
checked (it sees the raw value) or after (the default), in the order the fields are declared;
one taking a third argument gets ``info.data``, the fields validated so far. Every bad value is
collected, and the constructor raises ``SettingsError`` with one ``VARIABLE: what is wrong``
line each. ``model_fields``, ``model_fields_set`` and ``model_copy(update=...)`` work as in
pydantic.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

T = TypeVar("T")
S = TypeVar("S", bound="BaseSettings")
_MISSING: Any = object()


class SettingsError(ValueError):
    """Some variables are bad: ``problems`` holds one ``VARIABLE: what is wrong`` line each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class FieldInfo:
    default: Any = None
    ge: int | None = None
    le: int | None = None
    min_length: int | None = None


def Field(default: Any = None, *, ge: int | None = None, le: int | None = None,  # noqa: N802
          min_length: int | None = None) -> Any:
    """A field's default and its bounds (a number's ``ge``/``le``, a text's ``min_length``)."""
    return FieldInfo(default, ge, le, min_length)


@dataclass(frozen=True)
class ValidationInfo:
    data: dict[str, Any]  # the fields validated so far, by name


def field_validator(*names: str, mode: Literal["before", "after"] = "after"
                    ) -> Callable[[T], T]:
    """Marks a classmethod as the validator of ``names``."""
    def mark(method: T) -> T:
        method.__validates__ = (names, mode)  # type: ignore[attr-defined]
        return method
    return mark


@dataclass(frozen=True)
class _Spec:
    name: str
    kind: Any  # str, int, bool, or a tuple of the Literal's choices
    optional: bool
    info: FieldInfo


def _spec(name: str, hint: Any, default: Any) -> _Spec:
    info = default if isinstance(default, FieldInfo) else FieldInfo(default)
    args = typing.get_args(hint)
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        optional, hint = len(rest) < len(args), rest[0]
    if typing.get_origin(hint) is Literal:
        return _Spec(name, typing.get_args(hint), optional, info)
    if hint not in (str, int, bool):
        raise TypeError(f"settings field {name}: {hint!r} is not a type settings take")
    return _Spec(name, hint, optional, info)


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines as python-dotenv reads them, for what a .env of ours holds:
    ``export`` allowed, ``#`` comments (after a value too, with a space before), values in
    single quotes as written, in double quotes with ``\\n``-style escapes, and ``${NAME}`` /
    ``${NAME:-default}`` taken from the environment or an earlier line. Names in lower case;
    an absent file is no variables."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        quote = value[:1]
        if quote in ("'", '"') and quote in value[1:]:
            inner = value[1:value.index(quote, 1)] if quote == "'" else _double_quoted(value)
            found[name.strip().lower()] = _expand(inner, found)
            continue
        value = re.split(r"\s#", value, maxsplit=1)[0].rstrip()
        found[name.strip().lower()] = _expand(value, found)
    return found


def _double_quoted(value: str) -> str:
    """The text between a value's double quotes, escapes read (``\\"`` doesn't close it)."""
    out, i = [], 1
    while i < len(value) and value[i] != '"':
        if value[i] == "\\" and i + 1 < len(value):
            out.append(_ESCAPES.get(value[i + 1], "\\" + value[i + 1]))
            i += 2
            continue
        out.append(value[i])
        i += 1
    return "".join(out)


def _expand(value: str, earlier: Mapping[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        found = os.environ.get(name, earlier.get(name.lower()))
        return found if found else (default or "")
    return _REFERENCE.sub(one, value) if "${" in value else value


def _coerce(spec: _Spec, value: Any) -> Any:
    """The value as the field's type, or ValueError with what's wrong."""
    if value is None:
        if spec.optional:
            return None
        raise ValueError("must be set")
    kind, info = spec.kind, spec.info
    if isinstance(kind, tuple):
        if value not in kind:
            raise ValueError(f"should be {_either(kind)}, not “{str(value)[:40]}”")
        return value
    if kind is bool:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"should be true or false, not “{str(value)[:40]}”")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError("should be a whole number")
        if not isinstance(value, int):
            text = str(value).strip()
            if not re.fullmatch(r"-?[0-9]{1,12}", text):
                raise ValueError(f"should be a whole number, not “{text[:40]}”")
            value = int(text)
        if info.ge is not None and value < info.ge:
            raise ValueError(f"should be at least {info.ge}, not {value}")
        if info.le is not None and value > info.le:
            raise ValueError(f"should be at most {info.le}, not {value}")
        return value
    value = str(value)
    if info.min_length is not None and len(value) < info.min_length:
        raise ValueError("should not be empty")
    return value


def _either(choices: tuple[Any, ...]) -> str:
    words = [str(c) for c in choices]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


class BaseSettings:
    """Declare fields as class annotations with defaults; see the module's docstring."""

    model_config: ClassVar[Mapping[str, Any]] = {}
    model_fields: ClassVar[dict[str, FieldInfo]] = {}
    model_fields_set: frozenset[str]  # the fields given (arguments, environment, .env)
    _specs: ClassVar[tuple[_Spec, ...]] = ()
    _validators: ClassVar[dict[tuple[str, str], list[Callable[..., Any]]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(cls)
        specs = [_spec(name, hint, cls.__dict__.get(name, _MISSING))
                 for name, hint in hints.items()
                 if not name.startswith("_") and typing.get_origin(hint) is not ClassVar
                 and name not in ("model_config", "model_fields", "model_fields_set")]
        cls._specs = tuple(specs)
        cls.model_fields = {s.name: s.info for s in specs}
        cls._validators = {}
        for attr in vars(cls).values():
            # the mark is on the classmethod, or on its function (decorators in either order)
            marked = getattr(attr, "__validates__", None) or getattr(
                getattr(attr, "__func__", None), "__validates__", None)
            names, mode = marked if marked is not None else ((), "")
            for name in names:
                cls._validators.setdefault((name, mode), []).append(attr.__get__(None, cls))

    def __init__(self, _env_file: str | Path | None = _MISSING, **values: Any) -> None:
        env_file = self.model_config.get("env_file") if _env_file is _MISSING else _env_file
        dotenv = read_env_file(Path(env_file)) if env_file else {}
        environ = {k.lower(): v for k, v in os.environ.items()}
        data: dict[str, Any] = {}
        problems: list[str] = []
        given: set[str] = set()
        for spec in self._specs:
            var = spec.name.lower()
            if spec.name in values:
                value = values[spec.name]
            elif var in environ:
                value = environ[var]
            elif var in dotenv:
                value = dotenv[var]
            else:
                value = _MISSING
            try:
                if value is _MISSING:
                    default = spec.info.default
                    data[spec.name] = default if default is not _MISSING else _coerce(spec, None)
                    continue
                given.add(spec.name)
                info = ValidationInfo(dict(data))
                for check in self._validators.get((spec.name, "before"), ()):
                    value = _call(check, value, info)
                value = _coerce(spec, value)
                for check in self._validators.get((spec.name, "after"), ()):
                    value = _call(check, value, info)
                data[spec.name] = value
            except ValueError as err:
                problems.append(f"{spec.name.upper()}: {err}")
        if problems:
            raise SettingsError(problems)
        self.__dict__.update(data)
        self.__dict__["model_fields_set"] = frozenset(given)

    @classmethod
    def model_construct(cls: type[S], **values: Any) -> S:
        """The defaults and ``values``, read from nowhere and not validated (as in pydantic)."""
        made = object.__new__(cls)
        made.__dict__.update({s.name: s.info.default for s in cls._specs}, **values)
        made.__dict__["model_fields_set"] = frozenset(values)
        return made

    def model_copy(self: S, *, update: Mapping[str, Any] | None = None) -> S:
        """A copy with ``update`` applied as it is (not validated, as in pydantic)."""
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__, **(update or {}))
        return copy

    def __repr__(self) -> str:
        shown = ", ".join(f"{s.name}={'***' if _secret(s.name) else getattr(self, s.name)!r}"
                          for s in self._specs)
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]


def _secret(name: str) -> bool:
    return name.endswith(("token", "secret"))


def _call(check: Callable[..., Any], value: Any, info: ValidationInfo) -> Any:
    code = getattr(getattr(check, "__func__", check), "__code__", None)
    takes_info = code is not None and code.co_argcount >= 3  # (cls, value, info)
    return check(value, info) if takes_info else check(value)
