"""The out-of-process ledger (tests/faults/outside.py) must see what it claims to: loss, a second apply,
a record applied that never went through the ingest exchange, and a source told too early."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

from tests.faults import outside
from tests.faults.ledger import key_for

KEYS = [key_for("ormas_registration", "sys", f"R-{i}", 1) for i in range(4)]
IKS = [k.idempotency_key for k in KEYS]


def _view(applied: list[str], applications: int | None = None) -> outside.WarehouseView:
    return outside.WarehouseView(
        set(applied), {k: 1 for k in applied}, len(applied) if applications is None else applications
    )


def test_a_clean_run_passes() -> None:
    report = outside.check("clean", KEYS, Counter(IKS), set(IKS), _view(IKS), None)
    assert report.ok and report.notes["acked_not_routed"] == 0


def test_routed_but_never_applied_is_lost() -> None:
    report = outside.check("lost", KEYS, Counter(IKS), set(IKS[:2]), _view(IKS[:3]), None)
    assert report.lost == {IKS[3]} and report.gaps == {IKS[3]} and not report.ok


def test_a_second_application_is_counted_by_the_warehouse_counter() -> None:
    report = outside.check("dup", KEYS, Counter(IKS), set(IKS), _view(IKS, applications=5), None)
    assert report.duplicates_applied == 1 and not report.ok


def test_applied_without_passing_the_ingest_exchange_is_unexpected() -> None:
    report = outside.check("unexpected", KEYS[:3], Counter(IKS[:3]), set(IKS[:3]), _view(IKS), None)
    assert report.unexpected == {IKS[3]} and not report.ok


def test_a_source_acked_for_an_unrouted_record_is_reported() -> None:
    report = outside.check("early", KEYS, Counter(IKS[:3]), set(IKS), _view(IKS), None)
    assert report.notes["acked_not_routed"] == 1


def test_the_config_writer_round_trips_through_tomllib(tmp_path: Path) -> None:
    config = {
        "node": "n", "dev_mode": True, "ratio": 0.5, "broker": {"url": "amqp://g:g@h:1/%2F"},
        "sources": [{"name": "a", "mapping": {"map": {"re:^ahu-": "x", "*": "y"}, "split": [",", ";"]}}],
        "text": 'quote " back\\slash \u00e9 \n',
    }  # fmt: skip
    path = outside.write_config(tmp_path / "c.toml", config)
    assert tomllib.loads(path.read_text()) == config
