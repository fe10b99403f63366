"""What start-up leaves behind, set aside from the garbage collector; and a young generation
sized for a server.

A running bot holds a large heap made once at start-up (the libraries, the catalogue, the
platform clients' caches) and allocates a great deal per command (discord.py and bolt build
dozens of short-lived objects for every request). Each full collection walks the whole heap,
start-up's part included, though none of it ever becomes garbage. ``settle()``, called once
the bot is up, collects what start-up threw away and moves the rest into the permanent
generation (``gc.freeze``): later collections walk only what came after. On the Discord
benchmark (``benchmarks/discord_interactions.py``) that took our side's CPU a request down by
about a sixth. What start-up made and later drops is then never collected: a few objects, once.

It also makes the youngest generation larger (``YOUNG`` allocations between collections
rather than Python's 700). A command's objects are nearly all gone by the time it answers, so
fewer of them are caught alive and promoted, and the older generations fill, and are walked,
far less often: the collector's share of a Discord interaction fell from 160–210 µs to 35–70.
The cost is memory: at most ``YOUNG`` more container objects (a few MiB) before a
collection, and a reference cycle lives that much longer before it is freed.
"""

from __future__ import annotations

import gc

YOUNG = 10_000  # allocations (less deallocations) of container objects between collections
OLDER = 10  # collections of the generation below between collections of the next


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG, OLDER, OLDER)
