"""Letting work under way finish, for a graceful stop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def finish_within(tasks: Iterable[asyncio.Task[Any]], timeout: float) -> int:
    """Wait up to ``timeout`` seconds for those of ``tasks`` still running; how many still are."""
    busy = [t for t in tasks if not t.done()]
    if not busy:
        return 0
    _, late = await asyncio.wait(busy, timeout=timeout)
    return len(late)
