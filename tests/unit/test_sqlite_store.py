"""The SQLite warehouse: revision rules, batches, rollback, durability and delivery counting."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.sqlite_sink import SqliteWarehouse
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def env(
    rid: str = "r1",
    revision: int = 1,
    payload: dict[str, Any] | None = None,
    *,
    op: str = "upsert",
    schema: str = "ormas",
    kode: str = "32.01.05",
) -> Envelope:
    """An envelope built with the real identity rules of ``schemas.envelope``."""
    record_key = make_record_key(schema, "sys-a", rid)
    idem = make_idempotency_key(record_key, revision)
    return Envelope(
        message_id=make_message_id(idem),
        schema_name=schema,
        schema_version="1.0",
        op=op,  # type: ignore[arg-type]
        source_record_id=rid,
        revision=revision,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system="sys-a", office=kode, adapter="test"),
        kode_wilayah=kode,
        region_ref="2024",
        reported_at=T0,
        received_at=T0,
        payload={"nama": "Ormas A", "n": revision} if payload is None else payload,
    )


@pytest.fixture
def wh(tmp_path: Path):
    """A fresh warehouse in a temporary directory, closed afterwards."""
    store = SqliteWarehouse(tmp_path / "wh.db")
    yield store
    store.close()


def statuses(results) -> list[str]:
    """Just the statuses of a result list."""
    return [r.status for r in results]


def test_insert_stores_active_row_with_metadata(wh: SqliteWarehouse) -> None:
    """A new record is applied and stored active, with its payload and envelope metadata."""
    e = env(payload={"b": 2, "a": {"y": 1, "x": [1, 2]}})
    [res] = wh.apply([e])
    assert (res.status, res.record_key, res.idempotency_key) == ("applied", e.record_key, e.idempotency_key)
    row = wh.get(e.record_key)
    assert row is not None
    assert row["state"] == "active" and row["revision"] == 1 and row["province"] == "32"
    assert row["payload"] == {"b": 2, "a": {"y": 1, "x": [1, 2]}}
    assert "payload" not in row["envelope"] and row["envelope"]["message_id"] == e.message_id
    assert row["received_at"] == "2025-01-02T03:04:05+00:00"


def test_duplicate_is_not_reapplied(wh: SqliteWarehouse) -> None:
    """The same revision with the same content is a duplicate and changes nothing."""
    e = env()
    wh.apply([e])
    applied_at = wh.get(e.record_key)["applied_at"]  # type: ignore[index]
    assert statuses(wh.apply([env()])) == ["duplicate"]
    assert wh.get(e.record_key)["applied_at"] == applied_at  # type: ignore[index]
    assert wh.count() == 1


def test_newer_revision_wins(wh: SqliteWarehouse) -> None:
    """A higher revision replaces the stored row."""
    wh.apply([env(revision=1)])
    assert statuses(wh.apply([env(revision=2)])) == ["applied"]
    row = wh.get(env().record_key)
    assert row is not None and row["revision"] == 2 and row["payload"]["n"] == 2


def test_older_revision_after_newer_is_stale(wh: SqliteWarehouse) -> None:
    """An older revision redelivered after a newer one is stale and the newer row stays."""
    wh.apply([env(revision=1)])
    wh.apply([env(revision=3)])
    assert statuses(wh.apply([env(revision=2), env(revision=1)])) == ["stale", "stale"]
    row = wh.get(env().record_key)
    assert row is not None and row["revision"] == 3 and row["payload"]["n"] == 3


def test_withdrawal_is_not_resurrected_by_older_upsert(wh: SqliteWarehouse) -> None:
    """A withdraw marks the record withdrawn at its revision; an older upsert arriving later is stale."""
    wh.apply([env(revision=1)])
    assert statuses(wh.apply([env(revision=2, op="withdraw", payload={})])) == ["applied"]
    assert statuses(wh.apply([env(revision=1)])) == ["stale"]
    row = wh.get(env().record_key)
    assert row is not None and (row["state"], row["revision"], row["op"]) == ("withdrawn", 2, "withdraw")
    assert wh.count(state="withdrawn") == 1 and wh.count(state="active") == 0


def test_withdrawal_before_any_upsert_is_a_tombstone(wh: SqliteWarehouse) -> None:
    """A withdraw for an unknown record is stored withdrawn, so an older upsert cannot create it."""
    assert statuses(wh.apply([env(revision=5, op="withdraw", payload={})])) == ["applied"]
    assert statuses(wh.apply([env(revision=4)])) == ["stale"]
    assert wh.get(env().record_key)["state"] == "withdrawn"  # type: ignore[index]


def test_same_revision_different_content_is_conflict(wh: SqliteWarehouse) -> None:
    """Two contents claiming one revision: the second is a conflict and the first stays."""
    wh.apply([env(payload={"nama": "A"})])
    assert statuses(wh.apply([env(payload={"nama": "B"})])) == ["conflict"]
    # A withdraw at the same revision differs by op, so it conflicts too.
    assert statuses(wh.apply([env(op="withdraw", payload={"nama": "A"})])) == ["conflict"]
    row = wh.get(env().record_key)
    assert row is not None and row["payload"] == {"nama": "A"} and row["state"] == "active"


def test_key_order_does_not_change_content_hash(wh: SqliteWarehouse) -> None:
    """The content hash is over canonical JSON: the same payload with keys reordered is a duplicate."""
    wh.apply([env(payload={"a": 1, "b": {"c": 1, "d": 2}})])
    assert statuses(wh.apply([env(payload={"b": {"d": 2, "c": 1}, "a": 1})])) == ["duplicate"]


def test_python_and_json_forms_of_a_payload_hash_alike(wh: SqliteWarehouse) -> None:
    """A payload holding a date equals its JSON-parsed form (a string), and huge integers still store."""
    from datetime import date
    from decimal import Decimal

    wh.apply([env(payload={"tgl": date(2001, 5, 17), "uang": Decimal("1500.50"), "big": 2**70})])
    parsed = {"tgl": "2001-05-17", "uang": "1500.50", "big": 2**70}
    assert statuses(wh.apply([env(payload=parsed)])) == ["duplicate"]
    assert wh.get(env().record_key)["payload"] == parsed  # type: ignore[index]


def test_same_record_twice_in_one_batch_is_handled_in_order(wh: SqliteWarehouse) -> None:
    """Repeats inside a batch are classified against the state left by the earlier ones."""
    batch = [env(revision=1), env(revision=2), env(revision=2), env(revision=1), env("r2", 1)]
    batch.append(env(revision=2, payload={"other": True}))
    assert statuses(wh.apply(batch)) == ["applied", "applied", "duplicate", "stale", "applied", "conflict"]
    row = wh.get(env().record_key)
    assert row is not None and row["revision"] == 2 and row["payload"] == {"nama": "Ormas A", "n": 2}
    assert wh.count() == 2
    expected = {
        env(revision=1).idempotency_key,
        env(revision=2).idempotency_key,
        env("r2", 1).idempotency_key,
    }
    assert wh.applied_keys() == expected


def test_error_mid_batch_rolls_back_everything(tmp_path: Path) -> None:
    """If a write fails mid-batch, nothing of the batch is stored and the error propagates."""
    path = tmp_path / "wh.db"
    wh = SqliteWarehouse(path)
    wh.apply([env("keep", 1)])
    with sqlite3.connect(path) as other:  # a trigger makes the third insert fail inside the transaction
        other.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON records WHEN NEW.source_record_id = 'bad' "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        )
    other.close()
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        wh.apply([env("a", 1), env("keep", 2), env("bad", 1), env("c", 1)])
    assert wh.count() == 1
    assert wh.get(env("keep").record_key)["revision"] == 1  # type: ignore[index]
    assert wh.applied_keys() == {env("keep", 1).idempotency_key}
    assert wh.delivery_counts() == {env("keep", 1).idempotency_key: 1}
    # The connection is usable again after the rollback.
    assert statuses(wh.apply([env("a", 1)])) == ["applied"]
    wh.close()


def test_unserialisable_payload_fails_before_writing(wh: SqliteWarehouse) -> None:
    """A payload that is not JSON-able raises and leaves the batch unapplied."""
    with pytest.raises(Exception, match="serialize"):
        wh.apply([env("a", 1), env("b", 1, payload={"x": object()})])
    assert wh.count() == 0 and wh.applied_keys() == set()


def test_committed_batch_survives_reopen(tmp_path: Path) -> None:
    """A batch that ``apply`` returned for is there after closing and reopening the database."""
    path = tmp_path / "wh.db"
    wh = SqliteWarehouse(path)
    wh.apply([env("a", 1), env("b", 2), env("c", 3, op="withdraw", payload={})])
    wh.close()
    again = SqliteWarehouse(path)
    try:
        assert again.count() == 3 and again.count(state="withdrawn") == 1
        assert again.get(env("b").record_key)["revision"] == 2  # type: ignore[index]
        assert statuses(again.apply([env("a", 1)])) == ["duplicate"]
        mode = again._conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = again._conn.execute("PRAGMA synchronous").fetchone()[0]
        assert (mode, sync) == ("wal", 2)  # 2 = FULL
    finally:
        again.close()


def test_counts_and_delivery_counters(wh: SqliteWarehouse) -> None:
    """Counts filter by schema and state; delivery counters count every raw delivery per key."""
    wh.apply([env("a", 1), env("b", 1, schema="pengurus"), env("c", 1, op="withdraw", payload={})])
    wh.apply(
        [env("a", 1), env("a", 1), env("a", 2), env("a", 1), env("b", 1, payload={"x": 1}, schema="pengurus")]
    )
    assert wh.count() == 3
    assert wh.count(schema_name="ormas") == 2 and wh.count(schema_name="pengurus") == 1
    assert wh.count(schema_name="ormas", state="active") == 1
    assert wh.count(schema_name="nothing") == 0
    counts = wh.delivery_counts()
    assert counts[env("a", 1).idempotency_key] == 4  # applied, duplicate x2, stale
    assert counts[env("a", 2).idempotency_key] == 1
    assert counts[env("b", 1, schema="pengurus").idempotency_key] == 2  # applied, conflict
    assert sum(counts.values()) == 8 and len(wh.applied_keys()) == 4


def test_stale_first_delivery_is_counted_but_not_applied(wh: SqliteWarehouse) -> None:
    """An older revision that arrives only after a newer one is counted as delivered, never as applied."""
    wh.apply([env(revision=2)])
    wh.apply([env(revision=1)])
    assert env(revision=1).idempotency_key not in wh.applied_keys()
    assert wh.delivery_counts()[env(revision=1).idempotency_key] == 1


def test_empty_batch_and_missing_record(wh: SqliteWarehouse) -> None:
    """An empty batch is a no-op and an unknown record key reads as None."""
    assert wh.apply([]) == []
    assert wh.get("nope") is None and wh.count() == 0


def test_calls_from_worker_threads_are_serialised(wh: SqliteWarehouse) -> None:
    """Batches applied from several threads at once (as via asyncio.to_thread) each apply exactly once."""
    from concurrent.futures import ThreadPoolExecutor

    batches = [[env(f"t{t}-{i}", 1) for i in range(50)] for t in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(wh.apply, batches + batches))
    flat = [r.status for rs in results for r in rs]
    assert flat.count("applied") == 400 and flat.count("duplicate") == 400
    assert wh.count() == 400 and set(wh.delivery_counts().values()) == {2}
