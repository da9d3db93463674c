"""What a node shows operators: gauges refreshed at scrape time, queue figures, status and overview.

Kept apart from ``hub.node`` (which starts and stops things): this module only reads, and it reads
through narrow inputs (the transport's figures, a readiness callable, the quarantine counts, the source
runners, the queue roles), never the node itself. SQLite reads run in a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from hub.metrics import Metrics, QueueStats, QueueStatsPoller
from hub.transport.base import Transport
from schemas.regions import default_index

log = structlog.get_logger(__name__)


class QuarantineCounts(Protocol):
    """The quarantine store's counts (``hub.quarantine.store.QuarantineStore``); blocking calls."""

    def count(self) -> int: ...

    def counts_by_reason(self) -> dict[str, int]: ...


class RunnerView(Protocol):
    """What the observer reads of one source runner (``hub.adapters.runner.SourceRunner``)."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def paused(self) -> bool: ...

    @property
    def adapter(self) -> object: ...


@dataclass(frozen=True)
class ObserverInputs:
    """Everything a :class:`NodeObserver` reads, each a value or a callable asked at read time.

    ``quarantine`` returns the store (opened by the node's start); ``queue_roles`` maps each broker queue
    the node cares about to the ``adapter`` label its figures carry; ``refresh_extra`` sets further gauges
    before the overview is read (the feeds' reports owed).
    """

    node: str
    level: str
    metrics: Metrics
    transport: Transport
    readiness: Callable[[], Mapping[str, bool]]
    quarantine: Callable[[], QuarantineCounts]
    runners: Callable[[], Sequence[RunnerView]]
    queue_roles: Callable[[], Mapping[str, str]]
    refresh_extra: Callable[[Metrics], Awaitable[None]] | None = None


class NodeObserver:
    """Reads one node's state for metrics, the admin API and the status page."""

    def __init__(self, inputs: ObserverInputs) -> None:
        self._in = inputs
        self.queue_stats = QueueStatsPoller(self._fetch_queue_stats)

    async def _quarantine_counts(self) -> tuple[int, dict[str, int]]:
        store = self._in.quarantine()
        return await asyncio.to_thread(lambda: (store.count(), store.counts_by_reason()))

    async def status(self) -> dict[str, Any]:
        """A summary for operators: identity, readiness and quarantine counts."""
        open_count, by_reason = await self._quarantine_counts()
        return {
            "node": self._in.node,
            "level": self._in.level,
            "ready": dict(self._in.readiness()),
            "quarantine_open": open_count,
            "quarantine_by_reason": by_reason,
        }

    async def refresh_metrics(self) -> None:
        """Set the gauges that describe current state, just before a scrape."""
        m, transport = self._in.metrics, self._in.transport
        m.broker_ready.set(1 if transport.ready else 0)
        m.broker_blocked.set(1 if transport.blocked else 0)
        m.inflight_confirms.set(transport.inflight)
        _open, by_reason = await self._quarantine_counts()
        m.quarantine_open.clear()
        for reason, count in by_reason.items():
            m.quarantine_open.labels(reason=reason).set(count)
        for runner in self._in.runners():
            m.adapter_up.labels(adapter=runner.name).set(
                1 if runner.state in ("running", "backing_off") else 0
            )
            m.adapter_paused.labels(adapter=runner.name).set(1 if runner.paused else 0)
            lag = _cursor_lag(runner)
            if lag is not None:
                m.adapter_cursor_lag.labels(adapter=runner.name).set(lag)

    async def _fetch_queue_stats(self) -> dict[str, QueueStats]:
        """Depth and consumers of this node's queues, by role, as the transport reports them."""
        roles = self._in.queue_roles()
        stats = await self._in.transport.queue_stats(list(roles))
        return {role: stats[queue] for queue, role in roles.items() if queue in stats}

    async def refresh_broker_metrics(self) -> None:
        """Queue depth and consumer count from the broker, polled at scrape time (cached a few seconds)."""
        m = self._in.metrics
        stats = await self.queue_stats.get()
        m.queue_stats_up.set(0 if stats is None else 1)
        if stats is None:
            return  # keep the last figures; simpul_queue_stats_up says they are stale
        m.queue_messages.clear()
        m.queue_consumers.clear()
        for role, figures in stats.items():
            m.queue_messages.labels(adapter=role).set(figures.messages)
            m.queue_consumers.labels(adapter=role).set(figures.consumers)

    async def overview(self) -> dict[str, Any]:
        """What the status page shows: adapters, throughput totals, quarantine, and silence per province."""
        await self.refresh_metrics()
        await self.refresh_broker_metrics()
        if self._in.refresh_extra is not None:
            await self._in.refresh_extra(self._in.metrics)  # reports missing per province
        return {
            **(await self.status()),
            "totals": _totals(self._in.metrics),
            "provinces": _province_silence(self._in.metrics),
            "queues": {
                role: {"messages": s.messages, "consumers": s.consumers}
                for role, s in (self.queue_stats.last or {}).items()
            },
        }


def _cursor_lag(runner: RunnerView) -> float | None:
    """Seconds an adapter's committed cursor is behind its source, if the adapter can tell.

    An adapter tells by offering ``cursor_lag_seconds() -> float | None``; one that cannot (a push
    source, a source without a notion of "latest") simply does not have the method.
    """
    probe = getattr(runner.adapter, "cursor_lag_seconds", None)
    if not callable(probe):
        return None
    try:
        value = probe()
    except Exception:  # a broken probe must not break a scrape
        log.warning("cursor_lag_probe_failed", adapter=runner.name, exc_info=True)
        return None
    return float(value) if isinstance(value, int | float) else None


def _totals(metrics: Metrics) -> dict[str, float]:
    """Records so far by outcome, at ingest (published, quarantined, rejected) and at sinks (applied, ...)."""
    totals: dict[str, float] = {}
    for family, prefix in ((metrics.records, ""), (metrics.sink_records, "sink_")):
        for metric in family.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    key = prefix + sample.labels["outcome"]
                    totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def _province_silence(metrics: Metrics) -> list[dict[str, Any]]:
    """The 38 provinces with the time of their last published record (any adapter), or None, and the
    reports they owe for the newest due period (``None`` where no report obligation is declared)."""
    last: dict[str, float] = {}
    for metric in metrics.last_record.collect():
        for sample in metric.samples:
            province = sample.labels["province"]
            last[province] = max(last.get(province, 0.0), sample.value)
    missing: dict[str, int] = {}
    for metric in metrics.reports_missing.collect():
        for sample in metric.samples:
            province = sample.labels["province"]
            missing[province] = missing.get(province, 0) + int(sample.value)
    return [
        {
            "code": p.code,
            "name": p.name,
            "last_record": last.get(p.code),
            "reports_missing": missing.get(p.code),
        }
        for p in default_index().children(None)
    ]
