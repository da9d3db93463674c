"""Fault points: named places in the hub where the fault suite can ``kill -9`` its own process.

``SIMPUL_FAULT_POINT="NAME:N"`` (several as ``"NAME:N,OTHER:M"``) makes the N-th call of
``reach("NAME")`` in this process send SIGKILL to the process itself: no ``finally``, no flush, no ack,
no commit runs afterwards, exactly as an operator's ``kill -9`` or the OOM killer would end it at that
line. ``tests/faults/test_process_kill.py`` runs ``simpul run`` with it and restarts the node on the same
state directory to check that nothing was lost or applied twice.

The variable is read once, at import. When it is unset (every production run) ``reach`` returns after one
truth test of an empty dict, and nothing else in the hub changes. A set but malformed value, or a name
that is not in ``POINTS``, raises ``ValueError`` at import: a typo must not silently test nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "SIMPUL_FAULT_POINT"

POINTS = {
    "publish_before_send": "publisher: a batch is about to go to the broker (nothing sent yet)",
    "publish_confirmed_unseen": "publisher: the broker confirmed a batch; no waiter or source learnt it",
    "source_confirmed_before_commit": "source runner: a batch is confirmed, its cursor not yet committed",
    "sink_before_commit": "sink worker: a group is decoded and checked; the sink has not written it",
    "sink_committed_before_ack": "sink worker: the sink committed a group; its deliveries are not acked",
    "level_forwarded_before_ack": "level worker: a group is forwarded upward and confirmed, not yet acked",
}


def parse(text: str) -> dict[str, int]:
    """``"NAME:N,OTHER:M"`` as ``{NAME: N, OTHER: M}``; raises ``ValueError`` naming what is wrong."""
    targets: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, count = part.partition(":")
        if name not in POINTS:
            raise ValueError(f"{ENV}: unknown fault point {name!r} (known: {', '.join(POINTS)})")
        if not sep or not count.isdigit() or int(count) < 1:
            raise ValueError(f"{ENV}: {name} needs a positive count, as in {name}:3")
        targets[name] = int(count)
    return targets


_targets = parse(os.environ.get(ENV, ""))
_counts: dict[str, int] = {}


def reach(name: str) -> None:
    """Count one pass of the fault point ``name``; SIGKILL this process on the configured pass."""
    if not _targets:
        return
    target = _targets.get(name)
    if target is None:
        return
    seen = _counts[name] = _counts.get(name, 0) + 1
    if seen == target:
        # Straight to the file descriptor: a buffered logger would never flush.
        os.write(2, f"fault point {name} reached {seen} times: SIGKILL\n".encode())
        os.kill(os.getpid(), signal.SIGKILL)
