"""The cyclic garbage collector's settings for a running node.

A node's records are dicts, lists and strings freed by reference counting the moment they are done;
the cyclic collector finds almost nothing in them, yet it runs every 700 net allocations and, every
hundredth run, walks every live object, in-flight records included. Measured (bench/per_record.py,
20,000 records alive): payload validation 65 -> 19 us and the sink's checks 100 -> 39 us per record
with a first-generation threshold of 20,000 instead of 700. So once a node has started:

* ``gc.freeze()`` moves what start-up loaded (region index, schemas: ~80k objects that live as long as
  the process) out of the collector's sight;
* the first-generation threshold is raised to ``GEN0_THRESHOLD``: the collector still runs (cycles are
  still freed), ~30 times less often.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 20_000


def settle_after_start() -> None:
    """Freeze start-up objects and space out collections (call once the node has started)."""
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
