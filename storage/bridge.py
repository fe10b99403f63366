"""Plain functions that await: how the repository's units, written once as synchronous code
for both backends, run on asyncpg.

``await run(fn, *args)`` calls ``fn`` in a greenlet of its own (the ``greenlet`` package: a
stack that can be suspended and resumed). Whenever ``fn`` (or anything it calls) needs a
result from the driver, it calls ``wait(awaitable)``: that suspends ``fn``, hands the awaitable
to ``run``, which awaits it on the event loop as an ordinary coroutine would, and resumes
``fn`` with the result (or raises the exception in it). So a unit is one hop from the event
loop's point of view, with one await per statement and no thread.

This is the technique SQLAlchemy's asyncio extension uses under ``run_sync``; we keep our own
few lines of it so that the PostgreSQL backend needs only the driver (a pool, prepared
statements, nothing in between), which is what makes it cheap enough per command.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")


class _Unit(greenlet):  # type: ignore[misc]  # greenlet's class is untyped
    """The greenlet a unit runs in (``wait`` checks it is in one)."""


async def run(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)``, with each ``wait(awaitable)`` inside it awaited here."""
    unit = _Unit(fn, getcurrent())
    unit.gr_context = contextvars.copy_context()
    sent = unit.switch(*args)
    while not unit.dead:
        try:
            value = await sent
        except BaseException as err:  # noqa: BLE001 - handed to the unit, which decides
            sent = unit.throw(err)
        else:
            sent = unit.switch(value)
    result: T = sent
    return result


def wait(awaitable: Awaitable[T]) -> T:
    """The result of ``awaitable``, from inside a function ``run`` is running."""
    current = getcurrent()
    if not isinstance(current, _Unit):
        if hasattr(awaitable, "close"):
            awaitable.close()  # a coroutine that will never run: no "never awaited" warning
        raise RuntimeError("wait() outside storage.bridge.run()")
    result: T = current.parent.switch(awaitable)
    return result
