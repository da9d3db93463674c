"""Throughput and CPU of ``PostgresSink.write`` on the local server: inserts, a redelivery, newer revisions.

Run: ``.venv/bin/python bench/postgres_sink.py [total] [batch ...] [--concurrent N] [--repeat R] [--kb K]``
(defaults 32000 records, batch 3200, payloads of about 1 KB of canonical JSON, best of 3). The envelopes
are built up front so only ``write`` is timed: row preparation (serialisation, content hash, typed
columns), the binary COPY of the batch into the connection's staging table, the merge, the applied_log
COPY and merge, and a COMMIT (durable: ``synchronous_commit`` is printed). Each run uses its own fresh
schema of database ``test``, dropped afterwards. ``--concurrent N`` also runs N writers at once on
disjoint records (competing consumers).

Besides the rates, per record and round: the CPU of this process (the sink: ``time.process_time``) and of
the PostgreSQL backends serving the sink's pool (``/proc/<pid>/stat`` of the sessions named
``simpul-bench``; the WAL writer and checkpointer are not counted). CPU times are less disturbed by other
load on the machine than the rates; each figure is the best of ``--repeat`` runs. The garbage collector
is set as a running node sets it (``hub.gc_tuning``).

``--prepare`` instead prints the cost of row preparation (``adapters.postgres_sink.rows.prepare``) and of
its parts, in microseconds per record (best of 3).
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
from schemas.envelope import (
    Envelope,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)

DSN = {"host": os.environ.get("PGHOST", "127.0.0.1"), "user": os.environ.get("PGUSER", "postgres"),
       "database": os.environ.get("PGDATABASE", "test")}  # fmt: skip
NAME = "bench"
ROUNDS = ("inserts", "duplicates", "updates")


def build(n: int, revision: int = 1, kb: float = 1.0) -> list[Envelope]:
    """``n`` distinct envelopes (validated) whose canonical payload JSON is about ``kb`` KB."""
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        kode = f"32.{i % 27 + 1:02d}.{i % 40 + 1:02d}"
        rk = make_record_key("ormas", "bench", f"rec-{i}")
        idem = make_idempotency_key(rk, revision)
        payload: dict[str, Any] = {
            "nama": f"Organisasi Kemasyarakatan Nomor {i}",
            "alamat": {"jalan": f"Jl. Merdeka {i}", "kode_wilayah": kode, "kode_pos": "16111"},
            "bidang": ["sosial", "pendidikan"],
            "tanggal_berdiri": "2001-05-17",
            "jumlah_anggota": i % 1000 + revision,
            "status": "aktif",
            "npwp": None,
            "pengurus": [{"jabatan": "ketua", "nama": "X"}, {"jabatan": "sekretaris", "nama": "Y"}],
            "tahun": 2024,
            "jenis_periode": "semester",
            "periode_ke": 1 + i % 2,
        }
        filler = max(0, int(kb * 1024) - 400)
        payload["kegiatan"] = [
            {
                "tanggal": f"2024-{m % 12 + 1:02d}-{m % 28 + 1:02d}",
                "uraian": f"Kegiatan sosial ke-{m} di {kode}",
            }
            for m in range(filler // 70)
        ]
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


def _backend_cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these server processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _pids(conn: asyncpg.Connection, schema: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2",
        f"simpul-{NAME}-{schema}",
        DSN["database"],
    )
    return [r[0] for r in rows]


async def run(
    sink: PostgresSink, envs: list[Envelope], batch: int, writers: int, pids: Callable[[], Any]
) -> tuple[float, float, float]:
    """Write ``envs`` in batches (``writers`` at once, each on its own slice): envelopes per second, sink
    CPU and PostgreSQL backend CPU in microseconds per envelope."""
    chunks = [envs[i : i + batch] for i in range(0, len(envs), batch)]

    async def writer(mine: list[list[Envelope]]) -> None:
        for chunk in mine:
            await sink.write(chunk)

    backends = await pids()
    gc.collect()
    pg0, cpu0, t0 = _backend_cpu(backends), time.process_time(), time.perf_counter()
    await asyncio.gather(*(writer(chunks[w::writers]) for w in range(writers)))
    wall, cpu, pg = time.perf_counter() - t0, time.process_time() - cpu0, _backend_cpu(backends) - pg0
    return len(envs) / wall, cpu / len(envs) * 1e6, pg / len(envs) * 1e6


async def one(total: int, batch: int, writers: int, kb: float) -> dict[str, tuple[float, float, float]]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = max(4, writers)
    config = PostgresSinkConfig(**DSN, db_schema=schema, pool_min=pool, pool_max=pool)
    sink = PostgresSink(config, name=f"{NAME}-{schema}")
    envs, newer = build(total, kb=kb), build(total, revision=2, kb=kb)
    await sink.start()
    admin = await asyncpg.connect(**DSN)
    out: dict[str, tuple[float, float, float]] = {}
    try:
        # One write per pool connection at once, before timing: each prepares its statements once.
        warm = build(pool, revision=0, kb=kb)
        await asyncio.gather(*(sink.write([e]) for e in warm))
        for name, batch_envs in zip(ROUNDS, (envs, envs, newer), strict=True):
            out[name] = await run(sink, batch_envs, batch, writers, lambda: _pids(admin, schema))
        assert await sink.count() == total and len(await sink.applied_keys()) == 2 * total + pool
    finally:
        await sink.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
    return out


def _best(runs: list[dict[str, tuple[float, float, float]]]) -> dict[str, tuple[float, float, float]]:
    return {
        name: (max(r[name][0] for r in runs), min(r[name][1] for r in runs), min(r[name][2] for r in runs))
        for name in ROUNDS
    }


async def report(total: int, batch: int, writers: int, repeat: int, kb: float) -> None:
    best = _best([await one(total, batch, writers, kb) for _ in range(repeat)])
    print(f"batch={batch} total={total} writers={writers}")
    print(f"  inserts:    {best['inserts'][0]:>8,.0f} envelopes/s")
    print(f"  duplicates: {best['duplicates'][0]:>8,.0f} envelopes/s")
    print(f"  updates:    {best['updates'][0]:>8,.0f} envelopes/s (revision 2 of every record)")
    for name in ROUNDS:
        _, sink_us, pg_us = best[name]
        print(f"  cpu {name + ':':<11} sink {sink_us:6.1f} us/record, postgres {pg_us:6.1f} us/record")


def prepare_parts(n: int, kb: float) -> None:
    """Row preparation and its parts, microseconds per record (best of 3)."""
    from adapters.postgres_sink.rows import jsonb_text, kab_kota_of, prepare
    from adapters.sqlite_sink import rows as shared
    from hub.quarantine.entry import province_of
    from schemas.periods import period_of, status_of

    envs = build(n, kb=kb)
    payloads = [shared.canonical_payload(e) for e in envs]
    envelope_json = getattr(shared, "envelope_json", lambda e: e.model_dump_json(exclude={"payload"}))
    parts: dict[str, Callable[[], Any]] = {
        "rows.prepare (all)": lambda: [prepare(e) for e in envs],
        "  serialise (shared with sqlite)": lambda: [shared.serialise(e) for e in envs],
        "    canonical payload JSON": lambda: [shared.canonical_payload(e) for e in envs],
        "    content hash": lambda: [
            shared.content_hash(e.op, p) for e, p in zip(envs, payloads, strict=True)
        ],
        "    envelope JSON": lambda: [envelope_json(e) for e in envs],
        "    trace JSON": lambda: [shared.trace_json(e) for e in envs],
        "  period_of + status_of": lambda: [(period_of(e.payload), status_of(e.payload)) for e in envs],
        "  province + kab_kota": lambda: [
            (province_of(e.kode_wilayah), kab_kota_of(e.kode_wilayah)) for e in envs
        ],
        "  jsonb_text (NUL check)": lambda: [jsonb_text(p.decode()) for p in payloads],
    }
    print(f"row preparation, {n} records, payload {sum(map(len, payloads)) / n:.0f} B of canonical JSON")
    for name, fn in parts.items():
        best = float("inf")
        for _ in range(3):
            gc.collect()
            t0 = time.process_time()
            fn()
            best = min(best, time.process_time() - t0)
        print(f"{name:<36} {best / n * 1e6:6.2f} us/record")


def _option(name: str, default: str) -> str:
    if name not in sys.argv:
        return default
    value = sys.argv[sys.argv.index(name) + 1]
    sys.argv.remove(name)
    sys.argv.remove(value)
    return value


async def main() -> None:
    from hub import gc_tuning

    gc_tuning.settle_after_start()  # as a running node: start-up objects frozen, collections spaced out
    writers = int(_option("--concurrent", "1"))
    repeat = int(_option("--repeat", "3"))
    kb = float(_option("--kb", "1"))
    prepare_only = "--prepare" in sys.argv
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    total = int(args[0]) if args else 32_000
    if prepare_only:
        prepare_parts(total, kb)
        return
    batches = [int(a) for a in args[1:]] or [3200]
    conn = await asyncpg.connect(**DSN)
    version = await conn.fetchval("SHOW server_version")
    sync = await conn.fetchval("SHOW synchronous_commit")
    fsync = await conn.fetchval("SHOW fsync")
    await conn.close()
    print(f"PostgreSQL {version} on {DSN['host']}: synchronous_commit={sync} fsync={fsync}")
    for batch in batches:
        await report(total, batch, 1, repeat, kb)
    if writers > 1:
        for batch in batches:
            await report(total, batch, writers, repeat, kb)


if __name__ == "__main__":
    asyncio.run(main())
