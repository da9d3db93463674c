"""The sink seam: where consumed records are written durably and idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.envelope import Envelope

# What a sink reports per envelope. ``conflict`` means the same revision arrived with other content.
APPLIED, DUPLICATE, STALE, CONFLICT = "applied", "duplicate", "stale", "conflict"


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
