"""The one metrics container of a node. Prefix ``simpul_``, units in names, low-cardinality labels.

Labels are limited to adapter, schema, province, level and outcome: never ids. Each node (and each test)
gets its own ``Metrics`` with its own registry, so nothing leaks between them.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import NamedTuple

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

log = structlog.get_logger(__name__)

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
        self.level_records = Counter(
            "simpul_level_records",
            "Records reaching a level worker, by outcome: forwarded, held, refused",
            ["level", "schema", "province", "outcome"],
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
        self.source_failures = Counter(
            "simpul_source_failures",
            "Source adapter runs that ended by an error, by adapter and kind: retriable (restarted after a "
            "back-off), unexpected (a bug or unknown failure; restarted after a capped back-off) or fatal "
            "(stopped until an operator restarts it)",
            ["adapter", "kind"],
            registry=r,
        )
        self.publish_errors = Counter(
            "simpul_publish_errors", "Failed publishes by kind", ["kind"], registry=r
        )
        # Operations (issue 5): broker-side queue figures, adapter pause/lag, scrape-time freshness.
        self.adapter_paused = Gauge(
            "simpul_adapter_paused",
            "1 while an operator has paused a source adapter (so a paused adapter is not 'down')",
            ["adapter"],
            registry=r,
        )
        self.adapter_cursor_lag = Gauge(
            "simpul_adapter_cursor_lag_seconds",
            "How far a source adapter's committed cursor is behind its source, where the adapter can tell",
            ["adapter"],
            registry=r,
        )
        self.queue_messages = Gauge(
            "simpul_queue_messages",
            "Messages in a broker queue (ready + unacknowledged), by the adapter consuming it",
            ["adapter"],
            registry=r,
        )
        self.queue_consumers = Gauge(
            "simpul_queue_consumers",
            "Consumers attached to a broker queue, by the adapter consuming it",
            ["adapter"],
            registry=r,
        )
        self.records_skipped = Counter(
            "simpul_records_skipped",
            "Raw rows a mapping's skip rule dropped (neither published nor quarantined), by adapter",
            ["adapter"],
            registry=r,
        )
        self.deprecated_records = Counter(
            "simpul_deprecated_version_records",
            "Records sent in a deprecated schema version, by schema version (name@version) and adapter",
            ["schema", "adapter"],
            registry=r,
        )
        self.reports_missing = Gauge(
            "simpul_reports_missing",
            "Regions whose report is missing for the newest period already due (completeness)",
            ["schema", "province"],
            registry=r,
        )
        self.quarantine_truncated = Counter(
            "simpul_quarantine_truncated_records",
            "Quarantine entries whose original was too large for one broker message: only its head is kept",
            ["adapter", "schema"],
            registry=r,
        )
        self.queue_stats_up = Gauge(
            "simpul_queue_stats_up",
            "1 if the last poll of the broker's queue figures (management API) succeeded, else 0",
            registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)


def observe_many(histogram: Histogram, amounts: Sequence[float]) -> None:
    """``histogram.observe(amount)`` for every amount (a labelled child, or a histogram without labels),
    counted in one pass: each amount's bucket is found by bisection and every bucket, and the sum, is
    incremented once per call instead of once per amount.

    prometheus_client has no batch form, and one ``observe`` per record cost ~2.5 us of the warehouse
    node's CPU (a linear scan of the bounds and two locked increments). This reads the histogram's own
    bounds and values (``_upper_bounds``, ``_buckets``, ``_sum``, as in prometheus_client 0.26);
    tests/unit/test_metrics.py compares the exposition with ``observe``'s, so a release that changes
    them fails there. Without them, each amount is observed as usual. No exemplars: the callers set none."""
    if not amounts:
        return
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for amount in amounts:
            histogram.observe(amount)
        return
    histogram._raise_if_not_observable()  # type: ignore[no-untyped-call]  # a labelled parent refuses
    counts = [0] * len(bounds)
    for amount in amounts:
        if amount == amount:  # NaN falls in no bucket (observe's ``amount <= bound`` is never true)
            counts[bisect_left(bounds, amount)] += 1
    total.inc(sum(amounts))
    for i, count in enumerate(counts):
        if count:
            buckets[i].inc(count)


class QueueStats(NamedTuple):
    """One broker queue's figures: messages (ready + unacknowledged) and consumers."""

    messages: int
    consumers: int


class QueueStatsPoller:
    """Queue figures fetched at scrape time and cached for ``ttl_s``, so scrapes never hammer the broker.

    Concurrent scrapes share one fetch; a fetch slower than ``timeout_s`` or failing yields None (the
    caller keeps the last figures and reports them stale). ``last`` is the last good answer.
    """

    def __init__(
        self,
        fetch: Callable[[], Awaitable[Mapping[str, QueueStats]]],
        *,
        ttl_s: float = 5.0,
        timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._at: float | None = None
        self._ok = False
        self.last: dict[str, QueueStats] | None = None
        self.fetches = 0

    async def get(self) -> dict[str, QueueStats] | None:
        """The cached figures if fresh, else fetch; None when the latest fetch failed."""
        async with self._lock:
            now = self._clock()
            if self._at is not None and now - self._at < self._ttl_s:
                return self.last if self._ok else None
            self._at = now
            self.fetches += 1
            try:
                async with asyncio.timeout(self._timeout_s):
                    self.last = dict(await self._fetch())
                self._ok = True
            except Exception as exc:  # the broker's API being down must not break /metrics
                self._ok = False
                log.warning("queue_stats_unavailable", error=type(exc).__name__, detail=str(exc))
                return None
            return self.last
