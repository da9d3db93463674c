"""The record-by-record check: the warehouse and the quarantine against every kind's ledger.

Per kind: every final revision must be the stored row (revision and state) and applied; every bad record
must be in quarantine under its source's adapter, its id and its reason (and field rule, where known);
nothing from the kind's adapters may be in quarantine that was not expected. Over all kinds: no revision
may have been applied that no source served, and the warehouse holds exactly the expected records.
The hub's own counters (offered, published, quarantined) are shown beside, never used for the verdict.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol, runtime_checkable

from hub.demo.expect import BadRecord, KindExpect
from hub.demo.report import KindFigures, Report
from hub.demo.sources import DemoSource
from hub.metrics import Metrics
from hub.quarantine.store import QuarantineStore
from schemas.envelope import make_record_key


@runtime_checkable
class Warehouse(Protocol):
    """What the check reads of the central warehouse (the ``sqlite`` sink's store offers it): the
    demo's sink comes from the registry like any other, so the demo imports no adapter package."""

    def count(self, schema_name: str | None = None, state: str | None = None) -> int: ...

    def get(self, record_key: str) -> dict[str, Any] | None: ...

    def applied_keys(self) -> set[str]: ...

    def delivery_counts(self) -> dict[str, int]: ...


def warehouse_of(sink: object) -> Warehouse:
    """The readable store behind the node's sink; ``TypeError`` if the sink keeps none (the demo's node
    writes to the ``sqlite`` warehouse, whose sink holds its store as ``store``)."""
    store = getattr(sink, "store", None)
    if not isinstance(store, Warehouse):
        raise TypeError(f"the demo needs the sqlite warehouse, not {type(sink).__name__}")
    return store


def settled(store: Warehouse, quarantine: QuarantineStore, ledgers: list[KindExpect]) -> bool:
    """A cheap test whether the full check is worth running: the counts have reached the expected."""
    rows = sum(len(ledger.final) for ledger in ledgers)
    bad = len({(b.adapter, b.rid, b.reason) for ledger in ledgers for b in ledger.bad})
    return store.count() >= rows and quarantine.count() >= bad


def check(
    store: Warehouse,
    quarantine: QuarantineStore,
    metrics: Metrics,
    sources: list[DemoSource],
    ledgers: list[KindExpect],
) -> Report:
    """Compare the centre with the ledgers (one per source, same order); figures and verdict."""
    report = Report(rows=store.count(), withdrawn=store.count(state="withdrawn"))
    applied = store.applied_keys()
    entries = quarantine.list(limit=quarantine.count() + 100)
    filed: dict[tuple[str, str, str], set[str]] = {}
    for e in entries:
        rules = {str(i.get("rule")) for i in e.issues}
        filed.setdefault((e.adapter, e.source_record_id or "", e.reason), set()).update(rules)
    offered = _by_adapter(metrics.records_in)
    published = _by_adapter(metrics.records, "published")
    quarantined = _by_adapter(metrics.records, "quarantined")
    allowed: set[str] = set()
    expected_bad: set[tuple[str, str, str]] = set()
    for source, ledger in zip(sources, ledgers, strict=True):
        figures = KindFigures(source.kind, source.title, problems=list(source.problems), notes=source.notes())
        adapters = ledger.adapters
        figures.offered = source.offered(sum(offered[a] for a in adapters))
        figures.published = sum(published[a] for a in adapters)
        figures.quarantined = sum(quarantined[a] for a in adapters)
        kind_allowed = ledger.allowed_keys()
        allowed |= kind_allowed
        figures.applied = len(applied & kind_allowed)
        figures.good, figures.bad = len(ledger.final), len(ledger.bad)
        _records(store, ledger, applied, figures)
        wanted = {(b.adapter, b.rid, b.reason) for b in ledger.bad}
        expected_bad |= wanted
        figures.bad_missing = sum(1 for b in ledger.bad if not _found(filed, b))
        figures.bad_unexpected = sum(1 for key in filed if key[0] in adapters and key not in wanted)
        report.kinds.append(figures)
        report.expected_rows += len(ledger.final)
    mine = {a for ledger in ledgers for a in ledger.adapters}
    report.stray_quarantine = sum(1 for key in filed if key[0] not in mine)
    report.unexpected = len(applied - allowed) + max(0, report.rows - report.expected_rows)
    report.duplicates = sum(n - 1 for n in store.delivery_counts().values() if n > 1)
    report.quarantine_entries = len(entries)
    report.reasons = dict(Counter(e.reason for e in entries))
    return report


def _records(store: Warehouse, ledger: KindExpect, applied: set[str], figures: KindFigures) -> None:
    """Missing and wrong records of one kind: the stored row must be the final revision, applied."""
    final_applied = ledger.final_keys() <= applied
    for record, (revision, state) in ledger.final.items():
        row = store.get(make_record_key(*record))
        if row is None:
            figures.missing += 1
        elif (row["revision"], row["state"]) != (revision, state):
            figures.wrong += 1
    if not final_applied and figures.missing == figures.wrong == 0:
        figures.problems.append("a final revision is stored but not logged as applied")


def _found(filed: dict[tuple[str, str, str], set[str]], bad: BadRecord) -> bool:
    """Whether ``bad`` is in quarantine by adapter, id and reason, with its field rule among the issues."""
    rules = filed.get((bad.adapter, bad.rid, bad.reason))
    return rules is not None and (bad.rule is None or bad.rule in rules)


def _by_adapter(family: Any, outcome: str | None = None) -> Counter[str]:
    """A counter family's totals per ``adapter`` label (optionally of one ``outcome``)."""
    totals: Counter[str] = Counter()
    for metric in family.collect():
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            if outcome is None or sample.labels.get("outcome") == outcome:
                totals[sample.labels["adapter"]] += int(sample.value)
    return totals
