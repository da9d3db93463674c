"""The ledger: a total-queue checker in the style of Jepsen for Simpul's effectively-once promise.

Four sets of idempotency keys (one revision of one record each), kept while a scenario runs:

* **S** offered: what the fake sources handed to the hub (recorded by the sources themselves);
* **A** attempted: what the hub's publisher tried to publish to the ingest exchange;
* **C** confirmed: what the broker confirmed (the transport's ``publish`` returned normally);
* **P** applied: what the central warehouse applied after dedupe (``SqliteWarehouse.applied_keys``).

A and C come from wrapping the node's ``transport.publish`` (no hub code changes); "applied" events are
also counted live by wrapping the sink's ``write``, so a record applied twice (which the warehouse's
``applied_keys`` cannot show: it is a set) is seen. ``check`` reports

* lost = C - P, gaps = S - P, duplicates applied (keys applied more than once), unexpected = P - A;
* raw redeliveries (deliveries beyond the first per key, from ``delivery_counts``) and recovery time,

and ``assert_ok`` fails on any of the first four. A key that reached the sink but was *stale* (a newer
revision of its record was already stored) never appears in ``applied_keys``; it counts as
**superseded**, not lost, but only if the sink really saw it and a higher revision of the same record
was applied.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.model import codec
from hub.node import Node
from hub.transport.base import HeaderValue
from schemas.envelope import Envelope, make_idempotency_key, make_record_key


@dataclass(frozen=True)
class Key:
    """One revision of one record."""

    idempotency_key: str
    record_key: str
    revision: int


def key_for(schema: str, system: str, source_record_id: str, revision: int) -> Key:
    """The ledger key of a source record, computed the way the hub computes it."""
    record_key = make_record_key(schema, system, source_record_id)
    return Key(make_idempotency_key(record_key, revision), record_key, revision)


@dataclass
class Report:
    """What ``Ledger.check`` found; the first four must be empty/zero for a pass."""

    scenario: str
    offered: int
    attempted: int
    confirmed: int
    applied: int
    lost: set[str]
    gaps: set[str]
    duplicates_applied: int
    unexpected: set[str]
    superseded: int
    redeliveries: int
    recovery_s: float | None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.lost and not self.gaps and not self.unexpected and self.duplicates_applied == 0

    def summary(self) -> str:
        rec = "-" if self.recovery_s is None else f"{self.recovery_s:.2f}s"
        return (
            f"{self.scenario}: S={self.offered} A={self.attempted} C={self.confirmed} P={self.applied} "
            f"lost={len(self.lost)} gaps={len(self.gaps)} dup_applied={self.duplicates_applied} "
            f"unexpected={len(self.unexpected)} superseded={self.superseded} "
            f"redeliveries={self.redeliveries} recovery={rec}"
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "S": self.offered,
            "A": self.attempted,
            "C": self.confirmed,
            "P": self.applied,
            "lost": len(self.lost),
            "gaps": len(self.gaps),
            "duplicates_applied": self.duplicates_applied,
            "unexpected": len(self.unexpected),
            "redeliveries": self.redeliveries,
            "recovery_s": self.recovery_s,
            **self.notes,
        }


class Ledger:
    """Collects S, A, C and live apply counts; ``check`` compares them with the warehouse."""

    def __init__(self, scenario: str = "scenario") -> None:
        self.scenario = scenario
        self.keys: dict[str, Key] = {}
        self.offered: set[str] = set()
        self.attempted: set[str] = set()
        self.confirmed: set[str] = set()
        self.applied_events: Counter[str] = Counter()
        self.publish_errors: Counter[str] = Counter()
        self.confirm_times: list[float] = []
        self.apply_times: list[float] = []
        self.fault_at: float | None = None
        self.healed_at: float | None = None
        self.notes: dict[str, Any] = {}
        self.parked: set[str] = set()  # keys found in the dead queue (kept, not lost; reported)

    # -- recording -----------------------------------------------------------------------------------------

    def offer(self, keys: Iterable[Key]) -> None:
        """Record keys a fake source offered (S)."""
        for key in keys:
            self.keys.setdefault(key.idempotency_key, key)
            self.offered.add(key.idempotency_key)

    def fault(self) -> None:
        """Mark the moment a fault was injected."""
        self.fault_at = time.monotonic()

    def healed(self) -> None:
        """Mark the moment the fault was removed (recovery is measured from here)."""
        self.healed_at = time.monotonic()

    def watch(self, node: Node) -> None:
        """Wrap ``node.transport.publish`` (A and C) and ``node.sink.write`` (applied events).

        Call after constructing the node and before ``start`` (the sink must be passed to ``Node``).
        """
        self.watch_transport(node.transport, node.topology.ingest_exchange)
        if node.sink is not None:
            self.watch_sink(node.sink)

    def watch_transport(self, transport: Any, ingest_exchange: str) -> None:
        real = transport.publish

        async def publish(
            exchange: str,
            routing_key: str,
            body: bytes,
            *,
            message_id: str,
            headers: Mapping[str, HeaderValue] | None = None,
            content_type: str = "application/json",
        ) -> None:
            keys = self._keys_of(body) if exchange == ingest_exchange else []
            self.attempted.update(keys)
            try:
                await real(
                    exchange,
                    routing_key,
                    body,
                    message_id=message_id,
                    headers=headers,
                    content_type=content_type,
                )
            except BaseException as exc:
                self.publish_errors[type(exc).__name__] += 1
                raise
            if keys:
                self.confirmed.update(keys)
                self.confirm_times.append(time.monotonic())

        transport.publish = publish

    def watch_sink(self, sink: Any) -> None:
        real = sink.write

        async def write(envelopes: Sequence[Envelope]) -> Sequence[Any]:
            results: Sequence[Any] = await real(envelopes)
            self.record_results(envelopes, results)
            return results

        sink.write = write

    def record_results(self, envelopes: Sequence[Envelope], results: Sequence[Any]) -> None:
        """Count ``applied`` outcomes per key (called by the sink wrapper, or by a fault hook)."""
        now = time.monotonic()
        for env, result in zip(envelopes, results, strict=True):
            self.keys.setdefault(env.idempotency_key, Key(env.idempotency_key, env.record_key, env.revision))
            if result.status == "applied":
                self.applied_events[env.idempotency_key] += 1
                self.apply_times.append(now)

    def _keys_of(self, body: bytes) -> list[str]:
        keys = []
        for item in codec.split_batch(body):
            ik = str(item["idempotency_key"])
            self.keys.setdefault(ik, Key(ik, str(item["record_key"]), int(item["revision"])))
            keys.append(ik)
        return keys

    # -- checking ------------------------------------------------------------------------------------------

    def recovery_s(self) -> float | None:
        """Seconds from the fault's removal (or injection) to the first confirm and apply after it."""
        start = self.healed_at if self.healed_at is not None else self.fault_at
        if start is None:
            return None
        confirms = [t for t in self.confirm_times if t > start]
        applies = [t for t in self.apply_times if t > start]
        if not confirms and not applies:
            return None
        return max(min(confirms, default=start), min(applies, default=start)) - start

    def check(self, applied: set[str], deliveries: Mapping[str, int]) -> Report:
        """Compare the ledger with the warehouse's ``applied_keys()`` and ``delivery_counts()``."""
        best: dict[str, int] = {}
        for ik in applied:
            key = self.keys.get(ik)
            if key is not None:
                best[key.record_key] = max(best.get(key.record_key, -1), key.revision)

        def superseded(ik: str) -> bool:
            key = self.keys.get(ik)
            return key is not None and ik in deliveries and best.get(key.record_key, -1) > key.revision

        stale = {ik for ik in (self.offered | self.confirmed) if superseded(ik)} - set(applied)
        covered = set(applied) | stale | self.parked
        return Report(
            scenario=self.scenario,
            offered=len(self.offered),
            attempted=len(self.attempted),
            confirmed=len(self.confirmed),
            applied=len(applied),
            lost=self.confirmed - covered,
            gaps=self.offered - covered,
            duplicates_applied=sum(n - 1 for n in self.applied_events.values() if n > 1),
            unexpected=set(applied) - self.attempted,
            superseded=len(stale),
            redeliveries=sum(n - 1 for n in deliveries.values() if n > 1),
            recovery_s=self.recovery_s(),
            notes={**self.notes, **({"parked": len(self.parked)} if self.parked else {})},
        )


async def drained(
    check: Any, *, timeout: float = 30.0, settle_s: float = 0.5, interval: float = 0.05
) -> None:
    """Wait until ``check()`` holds and still holds ``settle_s`` later (queues drained, nothing moving)."""
    async with asyncio.timeout(timeout):
        while True:
            if check():
                await asyncio.sleep(settle_s)
                if check():
                    return
            await asyncio.sleep(interval)


RESULTS: list[Report] = []


def assert_ok(report: Report) -> None:
    """Fail on lost, gaps, duplicates applied or unexpected records; print the summary either way."""
    RESULTS.append(report)
    print("\n" + report.summary())
    assert not report.lost, f"lost (confirmed, never applied): {sorted(report.lost)[:5]}"
    assert not report.gaps, f"gaps (offered, never applied): {sorted(report.gaps)[:5]}"
    assert report.duplicates_applied == 0, f"{report.duplicates_applied} records applied more than once"
    assert not report.unexpected, f"unexpected (applied, never attempted): {sorted(report.unexpected)[:5]}"
