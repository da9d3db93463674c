"""A started node freezes its start-up objects and spaces out cyclic collections; cycles are still freed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from hub import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settle_freezes_and_raises_the_first_threshold(restored_gc: None) -> None:
    gc_tuning.settle_after_start()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == gc_tuning.GEN0_THRESHOLD


def test_cycles_are_still_collected_after_settling(restored_gc: None) -> None:
    gc_tuning.settle_after_start()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    kept = [[] for _ in range(gc_tuning.GEN0_THRESHOLD + 100)]  # net allocations trigger a collection
    assert gone() is None
    assert len(kept) > gc_tuning.GEN0_THRESHOLD
