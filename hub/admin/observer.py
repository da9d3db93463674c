"""What a node shows operators: gauges refreshed at scrape time, queue figures, status and overview.

Kept apart from ``hub.node`` (which starts and stops things): this module only reads the node's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from hub.metrics import Metrics, QueueStats, QueueStatsPoller
from hub.transport.management import ManagementClient
from hub.transport.memory import MemoryTransport
from hub.transport.topology import sink_queue
from schemas.regions import default_index

if TYPE_CHECKING:
    from hub.node import Node

log = structlog.get_logger(__name__)


class NodeObserver:
    """Reads one node's state for metrics, the admin API and the status page."""

    def __init__(self, node: Node) -> None:
        self._node = node
        self._management: ManagementClient | None = None
        self.queue_stats = QueueStatsPoller(self._fetch_queue_stats)

    async def close(self) -> None:
        if self._management is not None:
            await self._management.close()

    def status(self) -> dict[str, Any]:
        """A summary for operators: identity, readiness and quarantine counts."""
        return {
            "node": self._node.settings.node,
            "level": self._node.settings.level,
            "ready": self._node.readiness(),
            "quarantine_open": self._node.quarantine_store.count(),
            "quarantine_by_reason": self._node.quarantine_store.counts_by_reason(),
        }

    def refresh_metrics(self) -> None:
        """Set the gauges that describe current state, just before a scrape."""
        m = self._node.metrics
        m.broker_ready.set(1 if self._node.transport.ready else 0)
        m.broker_blocked.set(1 if getattr(self._node.transport, "blocked", False) else 0)
        m.inflight_confirms.set(getattr(self._node.transport, "inflight", 0))
        m.quarantine_open.clear()
        for reason, count in self._node.quarantine_store.counts_by_reason().items():
            m.quarantine_open.labels(reason=reason).set(count)
        for runner in self._node.runners:
            m.adapter_up.labels(adapter=runner.name).set(
                1 if runner.state in ("running", "backing_off") else 0
            )
            m.adapter_paused.labels(adapter=runner.name).set(1 if runner.paused else 0)
            lag = self._cursor_lag(runner.name)
            if lag is not None:
                m.adapter_cursor_lag.labels(adapter=runner.name).set(lag)

    def _cursor_lag(self, name: str) -> float | None:
        """Seconds an adapter's committed cursor is behind its source, if the adapter can tell.

        An adapter tells by offering ``cursor_lag_seconds() -> float | None``; one that cannot (a push
        source, a source without a notion of "latest") simply does not have the method.
        """
        probe = getattr(self._node._adapters.get(name), "cursor_lag_seconds", None)
        if not callable(probe):
            return None
        try:
            value = probe()
        except Exception:  # a broken probe must not break a scrape
            log.warning("cursor_lag_probe_failed", adapter=name, exc_info=True)
            return None
        return float(value) if isinstance(value, int | float) else None

    def queue_roles(self) -> dict[str, str]:
        """Broker queue name -> the ``adapter`` label its figures carry (whoever consumes the queue)."""
        t = self._node.topology
        roles = {
            t.central_queue: self._node._sink.name if self._node._sink is not None else "central",
            t.quarantine_queue: "quarantine",
            t.dead_queue: "dead_letter",
        }
        for entry in self._node.settings.sinks:
            if entry.enabled:
                roles[sink_queue(t.prefix, entry.name)] = entry.name
        return roles

    async def _fetch_queue_stats(self) -> dict[str, QueueStats]:
        """Depth and consumers of this node's queues: the broker's management API, or the memory broker."""
        roles = self.queue_roles()
        if isinstance(self._node.transport, MemoryTransport):
            consumers = [c for c in self._node.transport._consumers if c.active]
            return {
                role: QueueStats(self._node.transport.depth(q), sum(1 for c in consumers if c.queue == q))
                for q, role in roles.items()
            }
        if self._management is None:
            self._management = ManagementClient(self._node.settings.broker.management_url, timeout=2.0)
        vhost = str(getattr(self._node.transport, "vhost", "/"))
        stats: dict[str, QueueStats] = {}
        for queue in await self._management.list_queues(vhost):
            role = roles.get(str(queue.get("name")))
            if role is not None:
                stats[role] = QueueStats(int(queue.get("messages") or 0), int(queue.get("consumers") or 0))
        return stats

    async def refresh_broker_metrics(self) -> None:
        """Queue depth and consumer count from the broker, polled at scrape time (cached a few seconds)."""
        m = self._node.metrics
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
        self.refresh_metrics()
        await self.refresh_broker_metrics()
        await self._node.feeds.refresh_metrics(self._node.metrics)  # reports missing per province
        return {
            **self.status(),
            "quarantine_by_reason": self._node.quarantine_store.counts_by_reason(),
            "totals": _totals(self._node.metrics),
            "provinces": _province_silence(self._node.metrics),
            "queues": {
                role: {"messages": s.messages, "consumers": s.consumers}
                for role, s in (self.queue_stats.last or {}).items()
            },
        }


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
