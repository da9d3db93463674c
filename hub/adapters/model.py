"""What an adapter is: a plugin declaring name, role, config model and factory; a source or sink contract.

A **source** yields ``SourceBatch`` es: records plus a ``commit`` callback that advances the source's own
state (cursor, processed file, webhook answer). The runner calls ``commit`` only after every record of the
batch was confirmed by the broker or confirmed into quarantine, so a crash never skips a record.

A **sink** is a ``hub.consume.sink.Sink``: ``write`` returns only after the data is durable and is idempotent.
A sink that keeps a warehouse may also offer how to read it back (``hub.adapters.warehouse``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from hub.adapters.state import StateStore
from hub.adapters.warehouse import TraceReader, WarehouseReader
from hub.consume.sink import Sink
from hub.metrics import Metrics
from hub.model.records import Mapper, SourceRecord, passthrough
from schemas.envelope import SourceIdentity

Role = Literal["source", "sink"]


async def _nothing() -> None:
    return None


@dataclass
class SourceBatch:
    """Records read together, and what to do once all of them are safe at the broker."""

    records: Sequence[SourceRecord]
    commit: Callable[[], Awaitable[None]] = _nothing


@dataclass
class AdapterContext:
    """What the hub hands an adapter instance.

    ``schema`` and ``identity`` are what a source puts on every ``SourceRecord`` it makes; ``state`` is
    where it keeps cursors (written only from ``SourceBatch.commit``); ``state_dir`` is a private folder;
    ``ready()`` says whether the hub can take records now (broker connected and unblocked), so a push
    source can answer 503 at once instead of queueing.
    """

    name: str
    schema: str
    identity: SourceIdentity
    state: StateStore
    state_dir: Path
    metrics: Metrics
    mapper: Mapper = passthrough
    ready: Callable[[], bool] = field(default=lambda: True)
    extras: dict[str, Any] = field(default_factory=dict)

    def record(self, raw: Mapping[str, Any], **meta: Any) -> SourceRecord:
        """A ``SourceRecord`` of this source for ``raw`` (``meta``: source_record_id, revision, op, ...)."""
        return SourceRecord(schema=self.schema, raw=raw, source=self.identity, **meta)


class SourceAdapter(Protocol):
    """A source: ``start``, then iterate ``read`` until it ends or ``stop`` is called."""

    async def start(self) -> None: ...

    def read(self) -> AsyncIterator[SourceBatch]: ...

    async def stop(self) -> None: ...


class SinkAdapter(Sink, Protocol):
    """A sink adapter: a ``Sink`` with a ``start``."""

    async def start(self) -> None: ...


@dataclass(frozen=True)
class AdapterPlugin:
    """How an adapter package declares itself (the object its ``simpul.adapters`` entry point names).

    ``config_model`` must forbid extra keys and describe every field; ``factory(config, context)`` builds
    the adapter from a validated config.

    A sink keeping a warehouse may offer, for the same validated config and the instance's private folder
    (``AdapterContext.state_dir``, where relative paths resolve): ``open_feed_reader(config, state_dir)``,
    a ``WarehouseReader`` for the feeds and completeness, and ``open_trace(config, state_dir, name)``, a
    read-only ``TraceReader`` for ``simpul lineage`` offline (None when there is nothing to read yet).
    Neither connects before first use.
    """

    name: str
    role: Role
    summary: str
    config_model: type[BaseModel]
    factory: Callable[[Any, AdapterContext], SourceAdapter | SinkAdapter]
    open_feed_reader: Callable[[Any, Path], WarehouseReader] | None = None
    open_trace: Callable[[Any, Path, str], TraceReader | None] | None = None
