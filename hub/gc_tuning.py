"""The cyclic garbage collector's settings for a running node.

A node's records are dicts, lists and strings freed by reference counting the moment they are done;
the cyclic collector finds almost nothing in them, yet it runs every 700 net allocations and, every
hundredth run, walks every live object, in-flight records included. Measured (bench/per_record.py,
20,000 records alive): payload validation 65 -> 19 us and the sink's checks 100 -> 39 us per record
with a first-generation threshold of 20,000 instead of 700. So once a node has started:

* ``gc.freeze()`` moves what start-up loaded (region index, schemas: ~80k objects that live as long as
  the process) out of the collector's sight;
* the first-generation threshold is raised to ``GEN0_THRESHOLD``: the collector still runs (cycles are
  still freed), far less often.

Why 100,000 and not 20,000 (as until issue 21): the collector counts allocations *minus* frees. A sink
group (up to 3,200 records, some 25 tracked objects each) or an ingest request keeps tens of thousands of
objects alive while it is worked on and frees them all when it is done, so at 20,000 the collector ran
several times inside every group and walked the group's live objects each time, to find nothing; above
the group's peak it runs only when objects really pile up. Measured with ``gc.callbacks`` in both nodes
of a 150,000-record ``bench.sustained`` run (2 processes): time in the collector after start-up 0.85 s
(sink) and 0.67 s (publisher) at 20,000, 0.07 s and 0.06 s at 100,000 (0.05 s each at 400,000): about
5 us of CPU per record less in each process. RSS stays flat (``bench.run_all`` memory figure).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 100_000


def settle_after_start() -> None:
    """Freeze start-up objects and space out collections (call once the node has started)."""
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
