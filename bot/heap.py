"""What start-up leaves behind, set aside from the garbage collector.

A running bot holds a large heap made once at start-up (the libraries, the catalogue, the
platform clients' caches) and allocates a great deal per command (discord.py builds several
objects for every interaction). Each full collection walks the whole heap, start-up's part
included, though none of it ever becomes garbage. ``settle()``, called once the bot is up,
collects what start-up threw away and moves the rest into the permanent generation
(``gc.freeze``): later collections walk only what came after. On the Discord benchmark
(``benchmarks/discord_interactions.py``) that took our side's CPU a request down by about a
sixth. What start-up made and later drops is then never collected: a few objects, once.
"""

from __future__ import annotations

import gc


def settle() -> None:
    gc.collect()
    gc.freeze()
