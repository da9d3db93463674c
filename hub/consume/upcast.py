"""Upcasting at the consumer: every envelope a sink receives is turned into the current schema version.

``upcast_for_sink`` is called by ``hub.consume.sink_worker.SinkWorker`` for each envelope before it is checked
and written. Envelopes already at the current version pass through untouched (the common case costs one dict
lookup and a tally: the worker counts a whole group in a ``VersionsSeen`` and adds it to the counter once per
label set). Older ones are upcast (``schemas.evolution``) and re-labelled with the
current version; ones that cannot be raise ``UpcastFailed`` and the worker quarantines the original envelope
with the reason. Every envelope counts in ``simpul_schema_versions_seen_total`` by schema, version as sent,
province, source adapter and outcome (``current``, ``upcast``, ``failed``).
"""

from __future__ import annotations

import weakref

import structlog
from prometheus_client import Counter

from hub.errors import RecordError
from hub.metrics import Metrics
from schemas import catalog
from schemas.envelope import Envelope
from schemas.evolution import upcast_payload
from schemas.registry import SchemaSpec

log = structlog.get_logger(__name__)
VERSIONS_SEEN = "simpul_schema_versions_seen"
_COUNTERS: weakref.WeakKeyDictionary[Metrics, Counter] = weakref.WeakKeyDictionary()


def versions_seen(metrics: Metrics) -> Counter:
    """The versions-seen counter on ``metrics``' registry (created on first use, one per registry)."""
    counter = _COUNTERS.get(metrics)
    if counter is None:
        counter = Counter(
            VERSIONS_SEEN,
            "Envelopes reaching a sink, by schema, version as sent, province, source adapter and outcome "
            "(current, upcast, failed); counted once per sink",
            ["schema", "version", "province", "adapter", "outcome"],
            registry=metrics.registry,
        )
        _COUNTERS[metrics] = counter
    return counter


class VersionsSeen:
    """A tally of ``simpul_schema_versions_seen`` over one group of envelopes: counted per record in a dict,
    added to the counter by ``flush`` with one label look-up per label set (a look-up costs ~5 us)."""

    def __init__(self, metrics: Metrics) -> None:
        self._counter = versions_seen(metrics)
        self._counts: dict[tuple[str, str, str, str, str], int] = {}
        self._current: dict[str, SchemaSpec] = {}

    def current(self, name: str) -> SchemaSpec:
        """The current spec of schema ``name``, looked up once per group (~1.3 us a look-up); raises
        ``UnknownSchema``."""
        spec = self._current.get(name)
        if spec is None:
            spec = self._current[name] = catalog.get(name)
        return spec

    def add(self, envelope: Envelope, outcome: str) -> None:
        self.add_json(
            envelope.schema_name,
            envelope.schema_version,
            envelope.kode_wilayah,
            envelope.source.adapter,
            outcome,
        )

    def add_json(self, schema_name: str, version: str, kode_wilayah: str, adapter: str, outcome: str) -> None:
        """``add`` from an envelope's JSON form (``hub.consume.checked``): the same labels."""
        key = (schema_name, version, kode_wilayah[:2], adapter, outcome)
        self._counts[key] = self._counts.get(key, 0) + 1

    def flush(self) -> None:
        counts, self._counts = self._counts, {}
        for labels, count in counts.items():
            self._counter.labels(*labels).inc(count)


def upcast_for_sink(envelope: Envelope, metrics: Metrics, seen: VersionsSeen | None = None) -> Envelope:
    """``envelope`` in the current version of its schema (the same object when it is current); raises a
    ``RecordError`` (``UpcastFailed``, ``UnknownSchema``) when it cannot be. Counted in ``seen`` if given
    (the caller flushes it), else in the counter at once."""
    tally = seen if seen is not None else VersionsSeen(metrics)
    try:
        return _upcast(envelope, tally)
    finally:
        if seen is None:
            tally.flush()


def _upcast(envelope: Envelope, seen: VersionsSeen) -> Envelope:
    current = seen.current(envelope.schema_name)
    if envelope.schema_version == current.version:
        seen.add(envelope, "current")
        return envelope
    try:
        spec, payload = upcast_payload(
            envelope.schema_name, envelope.schema_version, envelope.payload, catalog.REGISTRY
        )
    except RecordError as err:
        seen.add(envelope, "failed")
        log.warning(
            "record_not_upcast",
            schema=envelope.schema_name,
            version=envelope.schema_version,
            message_id=envelope.message_id,
            reason=err.reason,
        )
        raise
    seen.add(envelope, "upcast")
    return envelope.model_copy(update={"schema_version": spec.version, "payload": payload})
