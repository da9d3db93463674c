"""Upcasting at the consumer: every envelope a sink receives is turned into the current schema version.

``upcast_for_sink`` is called by ``hub.consume.sink_worker.SinkWorker`` for each envelope before it is checked
and written. Envelopes already at the current version pass through untouched (the common case costs one dict
lookup and a counter increment). Older ones are upcast (``schemas.evolution``) and re-labelled with the
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


def upcast_for_sink(envelope: Envelope, metrics: Metrics) -> Envelope:
    """``envelope`` in the current version of its schema; raises a ``RecordError`` (``UpcastFailed``,
    ``UnknownSchema``) when it cannot be."""
    counter = versions_seen(metrics)
    labels = {
        "schema": envelope.schema_name,
        "version": envelope.schema_version,
        "province": envelope.kode_wilayah[:2],
        "adapter": envelope.source.adapter,
    }
    current = catalog.get(envelope.schema_name)
    if envelope.schema_version == current.version:
        counter.labels(**labels, outcome="current").inc()
        return envelope
    try:
        spec, payload = upcast_payload(
            envelope.schema_name, envelope.schema_version, envelope.payload, catalog.REGISTRY
        )
    except RecordError as err:
        counter.labels(**labels, outcome="failed").inc()
        log.warning(
            "record_not_upcast",
            schema=envelope.schema_name,
            version=envelope.schema_version,
            message_id=envelope.message_id,
            reason=err.reason,
        )
        raise
    counter.labels(**labels, outcome="upcast").inc()
    return envelope.model_copy(update={"schema_version": spec.version, "payload": payload})
