"""``bot.heap.settle``: start-up's heap set aside, a larger young generation, and the collector
still collecting what comes after."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_settle_freezes_startup_and_widens_the_young_generation(restored_gc: None) -> None:
    heap.settle()
    assert gc.get_threshold() == (heap.YOUNG, heap.OLDER, heap.OLDER)
    assert gc.get_freeze_count() > 0


def test_cycles_made_after_settling_are_still_collected_on_their_own(restored_gc: None) -> None:
    heap.settle()
    assert gc.isenabled()
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    assert gone() is not None  # a cycle: reference counting alone never frees it
    kept = [[] for _ in range(2 * heap.YOUNG)]  # enough new containers for a collection to run
    assert gone() is None
    assert len(kept) == 2 * heap.YOUNG
