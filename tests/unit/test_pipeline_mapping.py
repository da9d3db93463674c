"""The pipeline with declarative mappings: skipped rows, mapping_failed entries listing the schema's
issues, notes in the envelope, successor regions in the office check, the quarantine preview."""

from __future__ import annotations

from typing import Any

import orjson
from structlog.testing import capture_logs

from hub.mapping import compile_mapping
from hub.model.records import SourceRecord
from hub.node import Node
from hub.transport.memory import MemoryTransport
from schemas.envelope import SourceIdentity
from tests.helpers import until
from tests.unit.test_http_ingest import central

FIELDS: dict[str, Any] = {
    "sumber_id": "id",
    "waktu_laporan": {"path": "waktu", "parse": "datetime", "tz": "WIT"},
    "waktu_kejadian": {"path": "kejadian", "parse": "datetime", "tz": "WIT", "on_unparseable": "unknown"},
    "kode_wilayah": {"region": {"kabkota": "kab"}},
    "aspek": {"const": "sosial"},
    "jenis_athg": {"const": "ancaman"},
    "judul": "judul",
    "uraian": {"path": "uraian", "pii": "redact"},
    "sumber": {"path": "sumber", "map": {"fkdm": "fkdm", "*": "masyarakat"}},
}
SKIP = [{"reason": "test submission", "when": {"path": "judul", "matches": "^test"}}]


def _mapper(**top: Any) -> Any:
    return compile_mapping({"version": "form/1", "id": "id", "fields": FIELDS, "skip": SKIP, **top})


def _row(rid: str, **changes: str) -> dict[str, str]:
    row = {
        "id": rid,
        "waktu": "10/02/2024 21.14",
        "kejadian": "10/02/2024 20.00",
        "kab": "Kota Sorong",
        "judul": "Penolakan pembangunan",
        "uraian": "Warga berkumpul, hubungi 081234567890",
        "sumber": "FKDM",
    }
    return {**row, **changes}


def _records(office: str, *rows: dict[str, str]) -> list[SourceRecord]:
    source = SourceIdentity(system="form-fkdm", office=office, adapter="form")
    return [SourceRecord("early_warning", row, source, revision=1) for row in rows]


def _entries(node: Node) -> list[dict[str, Any]]:
    transport = node.transport
    assert isinstance(transport, MemoryTransport)
    return [orjson.loads(m.body) for m in transport.published if m.exchange.endswith(".quarantine")]


async def test_skipped_rows_are_counted_logged_and_neither_published_nor_quarantined(
    memory_node: Node,
) -> None:
    rows = [
        _row("1"),
        _row("2", judul="TEST - abaikan"),
        _row("3", kab="Antah Berantah"),
        _row("4", judul="tes"),
    ]
    with capture_logs() as logs:
        outcomes = await memory_node.pipeline.offer_many(_records("92", *rows), _mapper())
    assert [o.status for o in outcomes] == ["published", "skipped", "quarantined", "published"]
    assert outcomes[1].error == {"reason": "skipped", "message": "test submission"}
    assert len(central(memory_node)) == 2 and len(_entries(memory_node)) == 1
    metrics = memory_node.metrics.render().decode()
    assert 'simpul_records_skipped_total{adapter="form"} 1.0' in metrics
    (line,) = [e for e in logs if e["event"] == "records_skipped"]
    assert line["records"] == 1 and line["reasons"] == {"test submission": 1} and "TEST" not in str(line)


async def test_offer_one_skipped_row(memory_node: Node) -> None:
    (record,) = _records("92", _row("9", judul="test"))
    outcome = await memory_node.pipeline.offer(record, _mapper())
    assert outcome.status == "skipped" and central(memory_node) == []


async def test_successor_region_is_accepted_with_its_true_code_and_a_note(memory_node: Node) -> None:
    """Papua Barat's office (92) reports Kota Sorong and Raja Ampat, split off into Papua Barat Daya (96)."""
    rows = [_row("1"), _row("2", kab="Raja Ampat")]
    outcomes = await memory_node.pipeline.offer_many(_records("92", *rows), _mapper())
    assert [o.status for o in outcomes] == ["published", "published"]
    envelopes = central(memory_node)
    assert [e["kode_wilayah"] for e in envelopes] == ["96.71", "96.03"]
    note = envelopes[0]["notes"][0]
    assert note["rule"] == "region_successor"
    assert note["detail"].startswith("96.71 Kota Sorong (formerly 92.71")
    assert "UU 29/2022" in note["detail"]
    assert "2022-12-08" in note["detail"] and "Papua Barat Daya" in note["detail"]
    # The central consumer's identity check accepts them too: both applied at the warehouse, none held.
    labels = 'adapter="sqlite_warehouse",outcome="applied",schema="early_warning"'
    applied = f"simpul_sink_records_total{{{labels}}} 2.0"
    await until(lambda: applied in memory_node.metrics.render().decode())
    assert _entries(memory_node) == []


async def test_region_outside_office_names_the_resolved_code(memory_node: Node) -> None:
    mapper = _mapper(fields={**FIELDS, "kode_wilayah": {"region": {"code": "kode", "within": "none"}}})
    (record,) = _records("92", _row("1", kode="32.01"))
    outcome = await memory_node.pipeline.offer(record, mapper)
    assert outcome.status == "quarantined" and outcome.error is not None
    (issue,) = outcome.error["issues"]
    assert issue["rule"] == "region_outside_office"
    assert issue["message"].startswith("resolved to 32.01 Kabupaten Bogor (province 32 Jawa Barat)")
    assert "32.01" in outcome.error["message"]


async def test_region_unknown_names_the_current_province_of_a_moved_region(memory_node: Node) -> None:
    """Papua's office (91) naming Kota Sorong (moved from Papua Barat): the message says where it is now."""
    (record,) = _records("91", _row("1"))
    outcome = await memory_node.pipeline.offer(record, _mapper())
    assert outcome.status == "quarantined" and outcome.error is not None
    (issue,) = outcome.error["issues"]
    assert issue["rule"] == "region_unknown" and "96 Papua Barat Daya" in issue["message"]


async def test_unparseable_value_left_unknown_keeps_its_raw_text_in_the_envelope_notes(
    memory_node: Node,
) -> None:
    (record,) = _records("92", _row("1", kejadian="kemarin malam"))
    outcome = await memory_node.pipeline.offer(record, _mapper())
    assert outcome.status == "published"
    (envelope,) = central(memory_node)
    assert envelope["payload"].get("waktu_kejadian") is None
    unparseable = [n for n in envelope["notes"] if n["rule"] == "value_unparseable"]
    assert unparseable == [
        {
            "loc": "waktu_kejadian",
            "rule": "value_unparseable",
            "detail": "date_format; left unknown; raw text: kemarin malam",
        }
    ]


async def test_notes_about_personal_fields_are_masked(memory_node: Node) -> None:
    """A note's raw text under a schema PII path (uraian) is never kept, whatever the mapping says."""
    fields = {
        **FIELDS,
        "uraian": {"path": "uraian", "parse": "int", "on_unparseable": "unknown", "default": "-"},
    }
    (record,) = _records("92", _row("1", uraian="Budi 3201 0101"))
    outcome = await memory_node.pipeline.offer(record, _mapper(fields=fields))
    assert outcome.status == "published"
    (envelope,) = central(memory_node)
    (note,) = [n for n in envelope["notes"] if n["loc"] == "uraian"]
    assert note["detail"].endswith("raw text: ***") and "Budi" not in orjson.dumps(envelope["notes"]).decode()


async def test_envelope_without_notes_has_no_notes_key(memory_node: Node) -> None:
    """Unchanged bytes for records without notes (their signatures and hashes stay as before)."""
    fields = {**FIELDS, "kode_wilayah": {"region": {"kabkota": "kab"}}}
    (record,) = _records("92", _row("1", kab="Manokwari"))
    assert (await memory_node.pipeline.offer(record, _mapper(fields=fields))).status == "published"
    (envelope,) = central(memory_node)
    assert envelope["kode_wilayah"] == "92.02" and "notes" not in envelope


async def test_mapping_failed_entry_lists_the_schemas_issues_too(memory_node: Node) -> None:
    """A mapping issue (sumber unmapped) and the schema's (jenis_athg, judul missing) in one entry; the
    field the mapping already reported is not repeated."""
    fields = {k: v for k, v in FIELDS.items() if k not in ("jenis_athg", "judul")}
    fields["sumber"] = {"path": "sumber", "map": {"fkdm": "fkdm"}}
    (record,) = _records("92", _row("1", sumber="warga"))
    outcome = await memory_node.pipeline.offer(record, _mapper(fields=fields))
    assert outcome.status == "quarantined" and outcome.error is not None
    assert outcome.error["reason"] == "mapping_failed"
    found = sorted((i["loc"], i["rule"]) for i in outcome.error["issues"])
    assert found == [("data.jenis_athg", "missing"), ("data.judul", "missing"), ("sumber", "value_unmapped")]
    (entry,) = _entries(memory_node)
    assert len(entry["issues"]) == 3


async def test_quarantine_preview_shows_free_text_redacted_not_masked(memory_node: Node) -> None:
    """The stored preview keeps free text masked; the operator's as-stored view shows it redacted."""
    (record,) = _records(
        "92", _row("1", kab="Antah Berantah", uraian="Pak X (3201010101800099) 081234567890")
    )
    assert (await memory_node.pipeline.offer(record, _mapper())).status == "quarantined"
    (entry,) = _entries(memory_node)
    assert entry["preview"]["uraian"] == "***"
    view = await memory_node.redriver.as_stored(entry["entry_id"])
    assert view["uraian"] == "Pak X ([NIK]) [TELEPON]"
