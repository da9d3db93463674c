"""postgres sink, the pure parts: typed columns, jsonb-safe text, the decision rules and the SQL shape
(the revision rules against the real server are in tests/integration/test_postgres_sink.py)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import asyncpg
import pytest

from adapters.postgres_sink import PLUGIN, PostgresSinkConfig
from adapters.postgres_sink.batch import Batch, decide, log_rows
from adapters.postgres_sink.rows import COLUMNS, jsonb_text, kab_kota_of, prepare, trace_of
from adapters.postgres_sink.statements import LOG_COLUMNS, REVISION, STAGE_COLUMNS, begin, build
from adapters.sqlite_sink.rows import prepare as sqlite_prepare
from schemas.periods import period_of, status_of
from tests.helpers import example
from tests.unit.test_sqlite_store import env


def test_config_is_strict_and_described() -> None:
    """Unknown keys and unsafe schema names are refused; every field is described."""
    assert PLUGIN.name == "postgres" and PLUGIN.role == "sink"
    assert all(f.description for f in PostgresSinkConfig.model_fields.values())
    for bad in ({"surprise": 1}, {"db_schema": "simpul; DROP TABLE x"}, {"db_schema": "Simpul"}):
        with pytest.raises(ValueError):
            PostgresSinkConfig(user="u", database="d", **bad)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"periode_mulai": "2024-02-01", "periode_selesai": "2024-02-07"},
         ("2024-02-01/2024-02-07", date(2024, 2, 1), date(2024, 2, 7))),
        ({"periode_mulai": "2024-04-02", "periode_selesai": None}, ("2024-04-02/..", date(2024, 4, 2), None)),
        ({"tanggal_mulai": "2024-03-09", "tanggal_selesai": "2024-03-10"},
         ("2024-03-09/2024-03-10", date(2024, 3, 9), date(2024, 3, 10))),
        ({"tahun": 2024, "jenis_periode": "triwulan", "periode_ke": 1},
         ("2024-T1", date(2024, 1, 1), date(2024, 3, 31))),
        ({"tahun": 2024, "jenis_periode": "semester", "periode_ke": 2},
         ("2024-S2", date(2024, 7, 1), date(2024, 12, 31))),
        ({"tahun": 2024, "jenis_periode": "tahunan", "periode_ke": 1},
         ("2024", date(2024, 1, 1), date(2024, 12, 31))),
        ({"tahun_anggaran": 2023}, ("2023", date(2023, 1, 1), date(2023, 12, 31))),
        ({"nomor_laporan": "LK/117/I/2024"}, (None, None, None)),
        ({"periode_mulai": "bukan tanggal"}, (None, None, None)),
    ],
)  # fmt: skip
def test_period_of_payloads(payload: dict[str, Any], expected: tuple[Any, ...]) -> None:
    """Periods from date ranges, report periods and budget years; none otherwise."""
    assert period_of(payload) == expected


def test_period_and_status_of_every_example_payload() -> None:
    """Each schema's example yields the period and status a consumer expects (or none)."""
    got = {s: (period_of(example(s))[0], status_of(example(s))) for s in (
        "party_financial_aid", "periodic_report", "political_dynamics", "conflict_incident",
        "ormas_registration", "foreign_national_monitoring")}  # fmt: skip
    assert got["party_financial_aid"] == ("2024", "diaudit_bpk")
    assert got["periodic_report"][0] == "2024-T1"
    assert got["political_dynamics"][0] == "2024-02-01/2024-02-07"
    assert got["conflict_incident"] == (None, "proses")
    assert got["ormas_registration"] == (None, "aktif")
    assert got["foreign_national_monitoring"][0] is not None and got["foreign_national_monitoring"][1]


def test_kab_kota_of_codes() -> None:
    """A province has no kab/kota; anything below names its kab/kota."""
    assert kab_kota_of("32") is None and kab_kota_of("32.01") == "32.01"
    assert kab_kota_of("32.01.01.1010") == "32.01"


def test_nul_escapes_are_made_jsonb_safe_without_touching_literal_backslashes() -> None:
    """\\u0000 (refused by jsonb) becomes \\ufffd; an escaped backslash before 'u0000' is left alone."""
    assert jsonb_text('{"a":"x\\u0000y"}') == '{"a":"x\\ufffdy"}'
    assert jsonb_text('{"a":"\\\\u0000"}') == '{"a":"\\\\u0000"}'
    assert jsonb_text('{"a":"\\\\\\u0000"}') == '{"a":"\\\\\\ufffd"}'


def test_content_hash_matches_the_sqlite_warehouse() -> None:
    """Both warehouses agree on what 'the same content' is (same canonical payload, same hash)."""
    e = env("r1", 3, {"nama": "Ormas A", "jumlah": 7})
    row = prepare(e)
    assert row.content_hash == sqlite_prepare(e).content_hash
    assert len(row.values) == len(COLUMNS) and row.values[16] == "active"
    assert prepare(env("r1", 4, op="withdraw")).values[16] == "withdrawn"


def test_decide_follows_the_revision_rules_within_a_batch() -> None:
    """New: applied; same again: duplicate; other content: conflict; older: stale; newer: applied."""
    rows = [prepare(e) for e in (env("a", 2), env("a", 2), env("a", 2, {"x": 1}), env("a", 1), env("a", 3))]
    results, winners = decide(rows, {})
    assert [r.status for r in results] == ["applied", "duplicate", "conflict", "stale", "applied"]
    assert winners[rows[0].record_key].revision == 3


def test_decide_against_stored_state() -> None:
    """The stored revision and hash decide: equal hash duplicate, lower stale."""
    stored = prepare(env("a", 5))
    results, winners = decide(
        [prepare(env("a", 5)), prepare(env("a", 4))], {stored.record_key: (5, stored.content_hash)}
    )
    assert [r.status for r in results] == ["duplicate", "stale"] and winners == {}


def test_log_rows_are_aggregated_per_idempotency_key() -> None:
    """A key delivered three times in one batch is one log row (one upsert per key). The ledger by
    exception: the key this batch stores says its applying delivery itself, so its row counts the other
    two (one of them a conflict), and a key stored and delivered once has no row at all."""
    envs = (env("a", 1), env("a", 1), env("a", 1, {"y": 2}), env("b", 1))
    rows = [prepare(e) for e in envs]
    results, _ = decide(rows, {})
    asked: list[int] = []
    log = log_rows(rows, results, lambda n: asked.append(n) or trace_of(envs[n]))
    assert all(len(row) == len(LOG_COLUMNS) for row in log)
    keys, _record_keys, revisions, applied, counts, conflicts, last, mids, traces = map(
        list, zip(*log, strict=True)
    )
    assert keys == [rows[0].idempotency_key] and counts == [2] and conflicts == [1]
    assert applied == [False] and last == ["conflict"] and revisions == [1]
    assert mids == [rows[0].message_id] and '"hops":[]' in traces[0]  # lineage
    assert asked == [1]  # made once, for the first delivery the row keeps


def test_log_rows_keep_whole_entries_of_keys_no_records_row_holds() -> None:
    """A revision applied and superseded within the batch never reaches a records row, and a stale or
    conflicting delivery applies nothing: their entries are written whole, applying delivery included."""
    envs = [env("a", 1), env("a", 2), env("a", 1), env("b", 1)]
    rows = [prepare(e) for e in envs]
    a1, b1 = rows[0], rows[3]
    results, _ = decide(rows, {b1.record_key: (3, "other")})
    assert [r.status for r in results] == ["applied", "applied", "stale", "stale"]
    log = {row[0]: row for row in log_rows(rows, results, lambda n: trace_of(envs[n]))}
    assert set(log) == {a1.idempotency_key, b1.idempotency_key}  # a2 is stored: no row
    assert log[a1.idempotency_key][3:7] == (True, 2, 0, "stale")  # applied, deliveries, conflicts, last
    assert log[b1.idempotency_key][3:7] == (False, 1, 0, "stale")


def test_statements_are_schema_qualified_and_constant() -> None:
    """Every statement names the configured schema and takes its rows in ascending key order (the lock
    order that keeps concurrent writers from deadlocking)."""
    sql = build("kesbang")
    for statement in (sql.merge, sql.merge_arrays, sql.upsert):
        assert "INSERT INTO kesbang.records" in statement
        assert "kesbang.records.revision < excluded.revision" in statement
        assert 'record_key COLLATE "C"' in statement
    assert "kesbang.applied_log" in sql.log and 'ORDER BY idempotency_key COLLATE "C"' in sql.log
    assert sql.upsert.count("$") == len(COLUMNS) and "$" not in sql.merge + sql.log
    assert ("i", "top", *(c for c, _ in COLUMNS)) == STAGE_COLUMNS
    assert sql.merge_arrays.count("$") == len(STAGE_COLUMNS) and "pg_temp" not in sql.merge_arrays
    assert -(2**31) <= sql.lock_class < 2**31
    opening = begin(sql.lock_class, "lz4")
    assert opening.startswith("BEGIN ISOLATION LEVEL READ COMMITTED;") and "$" not in opening
    assert f"pg_advisory_xact_lock_shared({sql.lock_class}, 0)" in opening and "'lz4'" in opening
    with pytest.raises(ValueError):
        begin(sql.lock_class, "lz4'; DROP TABLE x; --")


def _merge_report(
    batch: Batch, stored: dict[str, tuple[int, str]], snapshot: dict[str, tuple[int, str]]
) -> list[tuple[int, bool | None, int | None, str | None]]:
    """What the merge statement reports for ``batch``: keys whose row in the statement's ``snapshot`` is
    at least as new as the batch's highest revision are held (with that row); of the others, a single
    candidate that was not written (``stored``, the row at lock time, is at least as new) and every
    lock-only candidate with whether it inserted."""
    report: list[tuple[int, bool | None, int | None, str | None]] = []
    for n, staged in enumerate(batch.staged()):
        top, key, revision = staged[1], str(staged[2]), staged[2 + REVISION]
        seen, held = snapshot.get(key), stored.get(key)
        if seen is not None and seen[0] >= top:  # type: ignore[operator]
            report.append((n, None, *seen))
        elif revision < 0:  # type: ignore[operator]
            report.append((n, held is None, None, None))
        elif held is not None and held[0] >= revision:  # type: ignore[operator]
            report.append((n, False, None, None))
    return report


@pytest.mark.parametrize("seed", range(60))
def test_batch_decides_as_the_reference_rules(seed: int) -> None:
    """Random batches (keys repeated, revisions out of order, same revision with other content,
    withdrawals) against random stored rows, some of them changed between the merge's snapshot and its
    locks: the merge-report path gives the results of ``decide``, and the second pass writes exactly
    the winners of repeated keys."""
    rnd = random.Random(seed)
    envs = [
        env(f"k{rnd.randrange(6)}", rnd.randrange(1, 5), {"v": rnd.randrange(2)},
            op=rnd.choice(["upsert", "upsert", "withdraw"]))
        for _ in range(rnd.randrange(1, 25))
    ]  # fmt: skip
    rows = [prepare(e) for e in envs]
    hashes = [prepare(env("x", 1, {"v": v})).content_hash for v in range(2)]
    stored: dict[str, tuple[int, str]] = {}  # the rows when the merge locks them
    snapshot: dict[str, tuple[int, str]] = {}  # the same rows, or older ones, when the merge started
    for r in rows:
        if rnd.random() < 0.4:
            stored[r.record_key] = (rnd.randrange(0, 5), rnd.choice(hashes))
            if rnd.random() < 0.7:
                revision = rnd.randrange(0, stored[r.record_key][0] + 1)
                same = revision == stored[r.record_key][0]
                snapshot[r.record_key] = stored[r.record_key] if same else (revision, rnd.choice(hashes))
    batch = Batch(rows)
    reread = set(batch.report(_merge_report(batch, stored, snapshot)))
    results, second = batch.decide({k: v for k, v in stored.items() if k in reread})
    # A held key is decided against the snapshot's row (the batch changes nothing there); any other
    # against the row the merge locked.
    held = set(batch.held)
    expected, winners = decide(rows, {k: snapshot[k] if k in held else v for k, v in stored.items()})
    assert results == expected
    repeated = {k for k, idx in batch.keys.items() if len(idx) > 1}
    assert {r.record_key: r for r in second} == {k: w for k, w in winners.items() if k in repeated}
    assert reread <= set(stored) and not reread & held  # only rows the merge locked are read back
    assert all(status != "applied" for r, status in zip(rows, expected, strict=True) if r.record_key in held)


def test_batch_refuses_a_revision_postgres_cannot_store() -> None:
    """Negative revisions (-1 marks a lock-only row) and revisions beyond bigint fail before any I/O."""
    for revision in (-1, 2**63):
        e = env("r", 1).model_copy(update={"revision": revision})
        with pytest.raises(asyncpg.DataError):
            Batch([prepare(e)])
