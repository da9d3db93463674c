"""The one metrics container of a node. Prefix ``simpul_``, units in names, low-cardinality labels.

Labels are limited to adapter, schema, province, level and outcome: never ids. Each node (and each test)
gets its own ``Metrics`` with its own registry, so nothing leaks between them.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """All instruments of a node, on a private registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_in = Counter(
            "simpul_records_in", "Raw records offered by sources", ["adapter", "schema"], registry=r
        )
        self.records = Counter(
            "simpul_records",
            "Records by outcome at ingest: published, quarantined, rejected",
            ["adapter", "schema", "province", "outcome"],
            registry=r,
        )
        self.sink_records = Counter(
            "simpul_sink_records",
            "Records by outcome at a sink: applied, duplicate, stale, conflict, quarantined",
            ["adapter", "schema", "outcome"],
            registry=r,
        )
        self.publish_latency = Histogram(
            "simpul_publish_latency_seconds",
            "Time from publish to broker confirm, per AMQP message",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end_latency = Histogram(
            "simpul_end_to_end_latency_seconds",
            "Time from receipt at the first hub to the durable write at a sink",
            ["adapter"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_records = Histogram(
            "simpul_batch_records",
            "Records carried per AMQP message",
            buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000),
            registry=r,
        )
        self.pending_records = Gauge(
            "simpul_pending_records", "Records accepted and not yet confirmed by the broker", registry=r
        )
        self.broker_ready = Gauge(
            "simpul_broker_ready", "1 while connected and not blocked, else 0", registry=r
        )
        self.broker_blocked = Gauge(
            "simpul_broker_blocked", "1 while the broker blocks publishers (memory or disk alarm)", registry=r
        )
        self.inflight_confirms = Gauge(
            "simpul_inflight_confirms",
            "AMQP messages published and awaiting the broker's confirm",
            registry=r,
        )
        self.last_record = Gauge(
            "simpul_last_record_timestamp_seconds",
            "Unix time of the last record published, per adapter and province (for silence alerts)",
            ["adapter", "province"],
            registry=r,
        )
        self.quarantine_open = Gauge(
            "simpul_quarantine_open_records", "Open quarantine entries by reason", ["reason"], registry=r
        )
        self.adapter_up = Gauge(
            "simpul_adapter_up",
            "1 while a source adapter is running (not failed, stopped or paused)",
            ["adapter"],
            registry=r,
        )
        self.publish_errors = Counter(
            "simpul_publish_errors", "Failed publishes by kind", ["kind"], registry=r
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
