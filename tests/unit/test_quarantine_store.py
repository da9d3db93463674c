"""The quarantine store: idempotent filing, filters, status marking and counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hub.quarantine.entry import QuarantineEntry, make_entry_id
from hub.quarantine.store import QuarantineStore

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
WIB = timezone(timedelta(hours=7))  # Western Indonesia Time


def entry(
    n: int,
    *,
    reason: str = "validation_failed",
    schema: str | None = "ormas",
    kode: str | None = "32.01.05",
    adapter: str = "http-bogor",
    at: datetime = T0,
) -> QuarantineEntry:
    """A quarantine entry whose id derives from ``n`` and the reason, as the hub derives it."""
    return QuarantineEntry(
        entry_id=make_entry_id("ingest", "sys-a", f"original-{n}".encode(), reason),
        stage="ingest",
        node="pusat",
        adapter=adapter,
        source_system="sys-a",
        schema_name=schema,
        schema_version="1.0",
        kode_wilayah=kode,
        reason=reason,
        message="field nama is missing",
        issues=[{"loc": "nama", "rule": "missing", "message": "required"}],
        preview={"nik": "32**********0001"},
        sealed_original="c2VhbGVk",
        quarantined_at=at,
    )


@pytest.fixture
def store(tmp_path: Path):
    """A fresh store in a temporary directory, closed afterwards."""
    s = QuarantineStore(tmp_path / "q.db")
    yield s
    s.close()


def test_add_is_idempotent_by_entry_id(store: QuarantineStore) -> None:
    """Re-adding an entry id neither duplicates it nor counts it as new."""
    assert store.add([entry(1), entry(2), entry(1)]) == 2
    assert store.add([entry(2), entry(3)]) == 1
    assert store.add([]) == 0
    assert store.count() == 3
    got = store.get(entry(1).entry_id)
    assert got == entry(1)
    assert store.get("missing") is None


def test_entries_survive_reopen(tmp_path: Path) -> None:
    """What ``add`` returned for is still there after closing and reopening."""
    first = QuarantineStore(tmp_path / "q.db")
    first.add([entry(1, at=T0 + timedelta(microseconds=1))])
    first.close()
    again = QuarantineStore(tmp_path / "q.db")
    try:
        assert again.list() == [entry(1, at=T0 + timedelta(microseconds=1))]
    finally:
        again.close()


def test_filters_by_schema_adapter_and_reason(store: QuarantineStore) -> None:
    """Schema, adapter and reason filters each narrow the listing."""
    store.add([
        entry(1),
        entry(2, schema="pengurus"),
        entry(3, reason="region_invalid"),
        entry(4, adapter="file-bandung"),
        entry(5, schema=None, reason="mapping_failed"),
    ])  # fmt: skip
    assert {e.entry_id for e in store.list(schema="pengurus")} == {entry(2, schema="pengurus").entry_id}
    assert store.count(schema="ormas") == 3
    assert [e.adapter for e in store.list(adapter="file-bandung")] == ["file-bandung"]
    assert store.count(reason="region_invalid") == 1
    assert store.count(schema="ormas", reason="validation_failed", adapter="http-bogor") == 1


def test_region_prefix_matches_whole_segments(store: QuarantineStore) -> None:
    """Prefix ``32`` matches ``32`` and ``32.01.05``, not ``33.01`` or ``320``; ``32.01`` narrows further."""
    store.add([
        entry(1, kode="32.01.05"),
        entry(2, kode="32"),
        entry(3, kode="32.71"),
        entry(4, kode="33.01"),
        entry(5, kode="320"),
        entry(6, kode=None),
    ])  # fmt: skip
    assert sorted(e.kode_wilayah or "" for e in store.list(region_prefix="32")) == ["32", "32.01.05", "32.71"]
    assert [e.kode_wilayah for e in store.list(region_prefix="32.01")] == ["32.01.05"]
    assert [e.kode_wilayah for e in store.list(region_prefix="32.01.")] == ["32.01.05"]
    assert store.count(region_prefix="3") == 0


def test_time_window_and_paging(store: QuarantineStore) -> None:
    """``since`` is inclusive, ``until`` exclusive, results come oldest first and page with limit/offset."""
    store.add([entry(i, at=T0 + timedelta(hours=i)) for i in range(5)])
    window = store.list(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert [e.quarantined_at for e in window] == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    # Another time zone for the bound gives the same instant.
    assert store.count(since=(T0 + timedelta(hours=4)).astimezone(WIB)) == 1
    page = store.list(limit=2, offset=2)
    assert [e.quarantined_at for e in page] == [T0 + timedelta(hours=2), T0 + timedelta(hours=3)]
    with pytest.raises(ValueError, match="timezone-aware"):
        store.list(since=datetime(2025, 1, 1))


def test_mark_changes_status_and_counts_attempts(store: QuarantineStore) -> None:
    """Marking hides an entry from the open listing; redrive stamps time and counts attempts."""
    store.add([entry(1), entry(2)])
    e1 = entry(1).entry_id
    assert store.mark(e1, "redriven", at=T0) is True
    assert store.count() == 1 and store.count(status="redriven") == 1 and store.count(status=None) == 2
    assert store.status_of(e1) == ("redriven", 1, T0)
    assert store.mark("unknown", "discarded") is False
    with pytest.raises(ValueError):
        store.mark(e1, "gone")  # type: ignore[arg-type]


def test_readd_reopens_a_redriven_entry_but_not_a_discarded_one(store: QuarantineStore) -> None:
    """The same original failing again after a redrive is open again; a discarded one stays discarded."""
    store.add([entry(1), entry(2)])
    store.mark(entry(1).entry_id, "redriven")
    store.mark(entry(2).entry_id, "discarded")
    assert store.add([entry(1), entry(2)]) == 0
    assert store.status_of(entry(1).entry_id)[:2] == ("open", 1)  # type: ignore[index]
    assert store.status_of(entry(2).entry_id)[0] == "discarded"  # type: ignore[index]


def test_counts_by_reason(store: QuarantineStore) -> None:
    """Counts per reason follow the status filter."""
    store.add([entry(1), entry(2), entry(3, reason="region_invalid"), entry(4, reason="revision_conflict")])
    store.mark(entry(4, reason="revision_conflict").entry_id, "discarded")
    assert store.counts_by_reason() == {"validation_failed": 2, "region_invalid": 1}
    assert store.counts_by_reason(status="discarded") == {"revision_conflict": 1}
    assert sum(store.counts_by_reason(status=None).values()) == 4
