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
    read_sample: SampleReader | None = None
    """Sources: read a raw sample (a file, a captured page, push, message, response or table export) the
    way the adapter reads its source, with the adapter's own code (``simpul mapping test|propose``)."""


# --- reading a raw sample as the adapter would (the kit's only reader) ---------------------------------


@dataclass(frozen=True)
class SkippedRow:
    """A part of a sample the adapter passed over: ``where`` (``sheet Mei, row 3``), ``why`` (``title``,
    ``blank``, ``footer``, ``signature``, ``header``, ``after_footer``, ...). Never a cell value."""

    where: str
    why: str


@dataclass
class SampleRead:
    """What an adapter made of a raw sample: the records exactly as it would offer them (raw dict, id,
    revision, op, reported_at), the rows it skipped and why, and ``settings``: the adapter config keys
    that shaped the read, as given or (without a config) as guessed from the sample, for a proposal."""

    records: list[SourceRecord]
    skipped: list[SkippedRow] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class SampleReader(Protocol):
    """``read_sample(config, data, name=..., make=...)``: ``config`` is the adapter's validated config, or
    None to read with settings guessed from the sample; ``name`` the sample's file name; ``make`` builds
    a ``SourceRecord`` like ``AdapterContext.record``. Raises ``ConfigError`` for an unreadable sample.
    The name ``live:N`` (with empty data) asks an adapter that can (sql_poll) for N records read from its
    configured source itself; others refuse it."""

    def __call__(
        self, config: Any, data: bytes, *, name: str, make: Callable[..., SourceRecord]
    ) -> SampleRead: ...
