"""The files sink: NDJSON/CSV lines, dedupe on redelivery, revisions, rotation, fsync, crash repair."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from adapters.files_sink import PLUGIN, FilesSink, FilesSinkConfig
from adapters.files_sink.columns import META_COLUMNS, payload_columns
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.state import StateStore
from hub.metrics import Metrics
from hub.model.records import SourceRecord
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from tests.helpers import example, node_settings, until

T0 = datetime(2024, 3, 6, 3, 0, tzinfo=UTC)  # 10:00 WIB


def envelope(rid: str, revision: int = 1, op: str = "upsert", **changes: Any) -> Envelope:
    """A research_permit envelope with the real identity rules; ``changes`` alter the payload."""
    record_key = make_record_key("research_permit", "sicantik-bogor", rid)
    idem = make_idempotency_key(record_key, revision)
    payload = example("research_permit") | {"nomor_skp": rid} | changes
    return Envelope(
        message_id=make_message_id(idem),
        schema_name="research_permit",
        schema_version="1.0.0",
        op=op,  # type: ignore[arg-type]
        source_record_id=rid,
        revision=revision,
        record_key=record_key,
        idempotency_key=idem,
        source=SourceIdentity(system="sicantik-bogor", office="32.01", adapter="skp"),
        kode_wilayah="32.01",
        region_ref="Kepmendagri 300.2.2-2138/2025",
        reported_at=T0,
        received_at=T0,
        payload=payload,
    )


class Clock:
    """A settable clock for day rotation."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _sink(tmp_path: Path, clock: Clock | None = None, **changes: Any) -> FilesSink:
    config = FilesSinkConfig.model_validate({"directory": tmp_path / "out", **changes})
    context = AdapterContext(
        name="arsip",
        schema="*",
        identity=SourceIdentity(system="kab-bogor", office="pusat", adapter="arsip"),
        state=StateStore(tmp_path / "s.sqlite3"),
        state_dir=tmp_path / "state",
        metrics=Metrics(),
    )
    return FilesSink(config, context, now=clock or Clock())


def _files(tmp_path: Path, suffix: str = ".ndjson") -> list[Path]:
    return sorted((tmp_path / "out" / "research_permit").glob(f"*{suffix}"))


def _lines(tmp_path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for f in _files(tmp_path) for line in f.read_bytes().splitlines()]


async def test_each_applied_envelope_is_one_ndjson_line(tmp_path: Path) -> None:
    """Three records: three lines holding the whole envelopes, in a file named by schema, day and seq."""
    sink = _sink(tmp_path)
    await sink.start()
    envs = [envelope(f"070/{i}/Kesbangpol/2024") for i in range(3)]
    results = await sink.write(envs)
    assert [r.status for r in results] == ["applied"] * 3
    assert [f.name for f in _files(tmp_path)] == ["research_permit.2024-03-06.0001.ndjson"]
    lines = _lines(tmp_path)
    assert [Envelope.model_validate(line) for line in lines] == envs
    await sink.close()


async def test_redelivery_is_a_duplicate_and_not_written_twice_even_after_a_restart(tmp_path: Path) -> None:
    """The same envelopes again (same sink, then a new sink on the same index): duplicates, no new lines."""
    sink = _sink(tmp_path)
    await sink.start()
    envs = [envelope("A1"), envelope("A2")]
    await sink.write(envs)
    again = await sink.write(envs)
    await sink.close()
    restarted = _sink(tmp_path)
    await restarted.start()
    after_restart = await restarted.write(envs)
    assert [r.status for r in [*again, *after_restart]] == ["duplicate"] * 4
    assert len(_lines(tmp_path)) == 2 and restarted.index.written_count() == 2
    await restarted.close()


async def test_newer_revision_and_withdrawal_are_appended_stale_and_conflict_are_not(tmp_path: Path) -> None:
    """rev 2 and a withdraw at rev 3 become new lines; a late rev 1 is stale; rev 3 changed is a conflict."""
    sink = _sink(tmp_path)
    await sink.start()
    await sink.write([envelope("B1", 1)])
    results = await sink.write(
        [
            envelope("B1", 2, status="diterbitkan"),
            envelope("B1", 3, op="withdraw", status="dicabut"),
            envelope("B1", 1),
            envelope("B1", 3, op="withdraw", status="ditolak"),
        ]
    )
    assert [r.status for r in results] == ["applied", "applied", "stale", "conflict"]
    lines = _lines(tmp_path)
    assert [(line["revision"], line["op"]) for line in lines] == [
        (1, "upsert"),
        (2, "upsert"),
        (3, "withdraw"),
    ]
    await sink.close()


async def test_csv_has_metadata_and_the_payloads_top_level_scalars(tmp_path: Path) -> None:
    """CSV: a header, then one row per line; nested fields (pemohon, lokasi) are not columns."""
    sink = _sink(tmp_path, formats=["ndjson", "csv"], csv_delimiter=";")
    await sink.start()
    await sink.write([envelope("C1", judul='Studi; Partisipasi, "Pemilih" Pemula'), envelope("C2")])
    (path,) = _files(tmp_path, ".csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter=";"))
    assert rows[0] == [*META_COLUMNS, *payload_columns("research_permit")]
    assert "pemohon" not in rows[0] and "lokasi" not in rows[0] and "nomor_skp" in rows[0]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["judul"] == 'Studi; Partisipasi, "Pemilih" Pemula' and first["revision"] == "1"
    assert first["op"] == "upsert" and first["kode_wilayah"] == "32.01" and len(rows) == 3
    assert len(_lines(tmp_path)) == 2  # the NDJSON file got the same two lines
    await sink.close()


async def test_size_rotation_keeps_files_under_the_cap(tmp_path: Path) -> None:
    """With rotate_bytes 4 KiB, 12 envelopes spread over several files, each under the cap, none lost."""
    sink = _sink(tmp_path, rotate_bytes=4096)
    await sink.start()
    await sink.write([envelope(f"D{i}") for i in range(8)])
    await sink.write([envelope(f"D{i}") for i in range(8, 12)])
    files = _files(tmp_path)
    assert len(files) > 2 and all(f.stat().st_size <= 4096 for f in files)
    assert [f.name.split(".")[2] for f in files] == [f"{i:04d}" for i in range(1, len(files) + 1)]
    assert sorted(line["source_record_id"] for line in _lines(tmp_path)) == sorted(f"D{i}" for i in range(12))
    await sink.close()


async def test_day_rotation_uses_the_configured_time_zone(tmp_path: Path) -> None:
    """23:30 WIB and 00:30 WIB the next day land in files of two days (UTC would call both the 6th)."""
    clock = Clock(datetime(2024, 3, 6, 16, 30, tzinfo=UTC))  # 23:30 WIB
    sink = _sink(tmp_path, clock, formats=["csv"])
    await sink.start()
    await sink.write([envelope("E1")])
    clock.now += timedelta(hours=1)  # 00:30 WIB on the 7th
    await sink.write([envelope("E2")])
    files = _files(tmp_path, ".csv")
    assert [f.name for f in files] == [
        "research_permit.2024-03-06.0001.csv",
        "research_permit.2024-03-07.0001.csv",
    ]
    assert all(f.read_text().startswith("op,revision") for f in files)
    await sink.close()


async def test_lines_are_fsynced_before_write_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every written file (and a new file's folder) is fsynced within the write."""
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    sink = _sink(tmp_path, formats=["ndjson", "csv"])
    await sink.start()
    await sink.write([envelope("F1")])
    assert len(calls) >= 4  # two files, and the schema folder for each new file
    calls.clear()
    await sink.write([envelope("F2")])
    assert len(calls) == 2
    await sink.close()


async def test_crash_between_fsync_and_index_commit_leaves_no_duplicate_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines written but not committed are cut off when the redelivered batch is written again."""
    sink = _sink(tmp_path)
    await sink.start()
    await sink.write([envelope("G1")])
    real_commit = sink.index.commit

    def crash(*_args: Any) -> None:
        raise OSError("power lost")

    monkeypatch.setattr(sink.index, "commit", crash)
    with pytest.raises(OSError, match="power lost"):
        await sink.write([envelope("G2"), envelope("G3")])
    assert len(_lines(tmp_path)) == 3  # the tail is on disk, but not committed
    monkeypatch.setattr(sink.index, "commit", real_commit)
    results = await sink.write([envelope("G2"), envelope("G3")])
    assert [r.status for r in results] == ["applied", "applied"]
    assert [line["source_record_id"] for line in _lines(tmp_path)] == ["G1", "G2", "G3"]
    await sink.close()


async def test_start_repairs_tails_and_sets_aside_uncommitted_files(tmp_path: Path) -> None:
    """A torn tail is cut back at start; a file the index never committed is renamed, not deleted."""
    sink = _sink(tmp_path)
    await sink.start()
    await sink.write([envelope("H1")])
    await sink.close()
    (path,) = _files(tmp_path)
    with path.open("ab") as handle:
        handle.write(b'{"torn":')
    stray = path.with_name("research_permit.2024-03-07.0001.ndjson")
    stray.write_bytes(b'{"uncommitted": true}\n')
    restarted = _sink(tmp_path)
    await restarted.start()
    assert [line["source_record_id"] for line in _lines(tmp_path)] == ["H1"]
    assert not stray.exists() and stray.with_name(stray.name + ".uncommitted").exists()
    await restarted.close()


async def test_a_file_moved_away_is_not_recreated_with_padding(tmp_path: Path) -> None:
    """An archiver moved the current file away: the next line starts a new file, no zero bytes."""
    sink = _sink(tmp_path)
    await sink.start()
    await sink.write([envelope("M1")])
    (first,) = _files(tmp_path)
    first.rename(tmp_path / "archived.ndjson")
    await sink.write([envelope("M2")])
    (second,) = _files(tmp_path)
    assert second.name.endswith(".0002.ndjson") and b"\0" not in second.read_bytes()
    assert [line["source_record_id"] for line in _lines(tmp_path)] == ["M2"]
    await sink.close()


def test_config_is_checked() -> None:
    """Repeated formats, unknown zones and unknown keys are refused; every field is described."""
    for bad in ({"formats": ["csv", "csv"]}, {"timezone": "WIB"}, {"fsync": False}, {"formats": []}):
        with pytest.raises(ValidationError):
            FilesSinkConfig.model_validate({"directory": "/tmp/x", **bad})
    assert all(f.description for f in FilesSinkConfig.model_fields.values())


async def test_configured_as_a_node_sink_it_receives_the_bound_records(tmp_path: Path) -> None:
    """A [[sinks]] entry of kind files_sink gets its queue's records as files (memory broker)."""
    registry.register(PLUGIN)
    out = tmp_path / "arsip"
    settings = node_settings(
        tmp_path,
        sinks=[
            {
                "name": "arsip",
                "kind": "files_sink",
                "bindings": ["research_permit.#"],
                "config": {"directory": str(out)},
            }
        ],
    )
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    ident = SourceIdentity(system="sicantik-bogor", office="32.01", adapter="t")
    async with node:
        for i in range(3):
            data = example("research_permit") | {"nomor_skp": f"070/{i}/Kesbangpol/2024"}
            record = SourceRecord("research_permit", data, ident, source_record_id=f"S{i}", revision=1)
            await node.pipeline.publish(record, node.pipeline.prepare(record))
        files = lambda: list(out.glob("research_permit/*.ndjson"))  # noqa: E731
        await until(lambda: files() and len(files()[0].read_bytes().splitlines()) == 3)
    lines = [orjson.loads(x) for x in files()[0].read_bytes().splitlines()]
    assert sorted(line["source_record_id"] for line in lines) == ["S0", "S1", "S2"]
    assert all("3201010101800099" not in str(line) for line in lines)  # the NIK arrived as a token


async def test_files_sink_passes_the_sink_contract_kit(tmp_path: Path) -> None:
    """The kit's revision rules (duplicate, newer, stale, conflict) hold, also after reopening."""
    from hub.testing.contract import check_sink_contract, example_envelopes

    envelopes = example_envelopes("research_permit", 3) + example_envelopes("ormas_registration", 2)
    report = await check_sink_contract(PLUGIN, {"directory": str(tmp_path / "kit")}, envelopes, durable=True)
    assert report.rounds["redelivery"] == ["duplicate"] * 5
    assert report.rounds["redelivery after reopening"] == ["duplicate"] * 5
