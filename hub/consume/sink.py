"""The sink seam: where consumed records are written durably and idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

from hub.consume.checked import CheckedRecord
from schemas.envelope import Envelope

# What a sink reports per envelope. ``conflict`` means the same revision arrived with other content.
APPLIED, DUPLICATE, STALE, CONFLICT = "applied", "duplicate", "stale", "conflict"
ApplyStatus = Literal["applied", "duplicate", "stale", "conflict"]


def judge(held: tuple[int, str] | None, revision: int, content_hash: str) -> ApplyStatus:
    """The rule every sink applies to a record against what it holds (``(revision, content hash)``):
    nothing held or a higher revision -> applied; a lower one -> stale; the same revision with the same
    content -> duplicate, with other content -> conflict."""
    if held is None or revision > held[0]:
        return "applied"
    if revision < held[0]:
        return "stale"
    return "duplicate" if content_hash == held[1] else "conflict"


class SinkResult(Protocol):
    """The outcome of writing one envelope."""

    @property
    def idempotency_key(self) -> str: ...

    @property
    def status(self) -> str: ...


class Sink(Protocol):
    """A durable, idempotent writer. ``write`` returns only after the data is committed.

    Results come in the order of ``envelopes``; re-writing an envelope is a ``duplicate``, an older
    revision after a newer one is ``stale``, and neither changes what is stored.
    """

    name: str

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[SinkResult]: ...

    async def close(self) -> None: ...


@runtime_checkable
class CheckedSink(Sink, Protocol):
    """A sink that stores envelopes as JSON and so takes them as JSON too: ``write_checked`` is ``write``
    for ``CheckedRecord``s (``hub.consume.checked``), the same rules and results, without an ``Envelope``
    model built per record. The sink worker uses it when a sink has it."""

    async def write_checked(self, records: Sequence[CheckedRecord]) -> Sequence[SinkResult]: ...
