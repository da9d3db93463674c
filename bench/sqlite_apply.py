"""Throughput of ``SqliteWarehouse.apply`` in batches: inserts, a full redelivery, then newer revisions.

Run: ``.venv/bin/python bench/sqlite_apply.py [total] [batch]`` (defaults 50000 and 500). Envelopes are
built up front so only ``apply`` (serialisation, decisions, one fsynced commit per batch) is timed.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sqlite_sink import SqliteWarehouse
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)


def build(n: int, revision: int = 1) -> list[Envelope]:
    """``n`` distinct envelopes with a payload of realistic size (about 400 bytes of JSON)."""
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        kode = f"32.{i % 27 + 1:02d}.{i % 40 + 1:02d}"
        rk = make_record_key("ormas", "bench", f"rec-{i}")
        idem = make_idempotency_key(rk, revision)
        payload = {
            "nama": f"Organisasi Kemasyarakatan Nomor {i}",
            "alamat": {"jalan": f"Jl. Merdeka {i}", "kode_wilayah": kode, "kode_pos": "16111"},
            "bidang": ["sosial", "pendidikan"],
            "tanggal_berdiri": "2001-05-17",
            "jumlah_anggota": i % 1000 + revision,
            "status": "aktif",
            "npwp": None,
            "pengurus": [{"jabatan": "ketua", "nama": "X"}, {"jabatan": "sekretaris", "nama": "Y"}],
        }
        out.append(
            Envelope(
                message_id=make_message_id(idem),
                schema_name="ormas",
                schema_version="1.0",
                source_record_id=f"rec-{i}",
                revision=revision,
                record_key=rk,
                idempotency_key=idem,
                source=SourceIdentity(system="bench", office=kode, adapter="bench"),
                kode_wilayah=kode,
                region_ref="2024",
                reported_at=now,
                received_at=now,
                payload=payload,
            )
        )
    return out


def run(wh: SqliteWarehouse, envs: list[Envelope], batch: int) -> float:
    """Apply ``envs`` in batches; returns envelopes per second."""
    t0 = time.perf_counter()
    for i in range(0, len(envs), batch):
        wh.apply(envs[i : i + batch])
    return len(envs) / (time.perf_counter() - t0)


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    envs, newer = build(total), build(total, revision=2)
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        wh = SqliteWarehouse(Path(tmp) / "bench.db")
        try:
            inserts = run(wh, envs, batch)
            redelivery = run(wh, envs, batch)
            updates = run(wh, newer, batch)
            assert wh.count() == total and len(wh.applied_keys()) == 2 * total
        finally:
            wh.close()
    print(f"batch={batch} total={total} synchronous=FULL (one fsynced commit per batch)")
    print(f"inserts:    {inserts:,.0f} envelopes/s")
    print(f"duplicates: {redelivery:,.0f} envelopes/s")
    print(f"updates:    {updates:,.0f} envelopes/s (revision 2 of every record)")


if __name__ == "__main__":
    main()
