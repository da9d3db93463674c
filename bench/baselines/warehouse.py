"""The peers' own warehouse writer: the batched-upsert write path as Simpul had it on 2026-12-06, frozen.

A team without Simpul writes its own sink. What it would write is what Simpul's PostgreSQL warehouse did
before issue 21 (``adapters.postgres_sink`` at a114947): per batch, in one READ COMMITTED transaction,
an advisory lock per record key in ascending order, a read of the stored revisions and content hashes,
the revision rules decided in Python, one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE WHERE
revision <`` for the winners and one upsert of the delivery log. Same tables, same columns, same bytes.

It is frozen here, as the baselines' own code, so that making Simpul's warehouse faster does not make the
baselines faster too: the comparison in ``bench.run_all`` stays "Simpul against what you would build
without it". It imports nothing from ``adapters`` and nothing from ``hub``; do not "fix" it to follow
Simpul's sink.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson

from schemas.envelope import Envelope
from schemas.periods import period_of, status_of

# (column, SQL type) in write order; ``applied_at`` is the transaction's now().
COLUMNS = (
    ("record_key", "text"), ("schema_name", "text"), ("schema_version", "text"), ("source_system", "text"),
    ("source_record_id", "text"), ("kode_wilayah", "text"), ("province", "text"), ("kab_kota", "text"),
    ("period", "text"), ("period_start", "date"), ("period_end", "date"), ("status", "text"),
    ("revision", "bigint"), ("idempotency_key", "text"), ("message_id", "text"), ("op", "text"),
    ("state", "text"), ("content_hash", "text"), ("payload", "jsonb"), ("envelope", "jsonb"),
    ("occurred_at", "timestamptz"), ("received_at", "timestamptz"),
)  # fmt: skip

_DDL = """
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.records (
    record_key text PRIMARY KEY, schema_name text NOT NULL, schema_version text NOT NULL,
    source_system text NOT NULL, source_record_id text NOT NULL, kode_wilayah text NOT NULL,
    province text, kab_kota text, period text, period_start date, period_end date, status text,
    revision bigint NOT NULL, idempotency_key text NOT NULL, message_id text NOT NULL, op text NOT NULL,
    state text NOT NULL, content_hash text NOT NULL, payload jsonb NOT NULL, envelope jsonb NOT NULL,
    occurred_at timestamptz, received_at timestamptz NOT NULL, applied_at timestamptz NOT NULL,
    change_txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX IF NOT EXISTS records_schema_province ON {s}.records (schema_name, province);
CREATE INDEX IF NOT EXISTS records_kode_wilayah ON {s}.records (kode_wilayah text_pattern_ops);
CREATE INDEX IF NOT EXISTS records_schema_period ON {s}.records (schema_name, period_start);
CREATE INDEX IF NOT EXISTS records_schema_change ON {s}.records (schema_name, change_txid, record_key);
CREATE TABLE IF NOT EXISTS {s}.applied_log (
    idempotency_key text PRIMARY KEY, record_key text NOT NULL, revision bigint NOT NULL,
    first_applied_at timestamptz, last_delivered_at timestamptz NOT NULL, deliveries integer NOT NULL,
    conflicts integer NOT NULL, last_status text NOT NULL, message_id text, trace jsonb
);
"""


class BaselineWarehouse:
    """``start``, ``write(envelopes)`` (returns after COMMIT) and ``close`` over an asyncpg pool."""

    def __init__(self, pg: dict[str, Any], schema: str, pool_max: int = 4) -> None:
        self._pg = pg
        self._schema = schema
        self._pool_max = pool_max
        self._pool: Any = None
        self._sql = _statements(schema)

    async def start(self) -> None:
        self._pool = await asyncpg.create_pool(**self._pg, min_size=1, max_size=self._pool_max)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"baseline:{self._schema}")
            await conn.execute(_DDL.format(s=self._schema))

    async def write(self, envelopes: Sequence[Envelope]) -> list[str]:
        """Apply a batch in one transaction; the status of each envelope, in order."""
        rows = [_row(e) for e in envelopes]
        keys = sorted({r[0] for r in rows})
        sql = self._sql
        async with self._pool.acquire() as conn, conn.transaction(isolation="read_committed"):
            await conn.fetchval(sql["lock"], sql["lock_class"], [int(k[:8], 16) - 2**31 for k in keys])
            stored = await conn.fetch(sql["current"], keys)
            held = {r["record_key"]: (r["revision"], r["content_hash"]) for r in stored}
            statuses: list[str] = []
            winners: dict[str, tuple[Any, ...]] = {}
            for row in rows:
                key, revision, digest = row[0], row[12], row[17]
                status = _judge(held.get(key), revision, digest)
                if status == "applied":
                    held[key] = (revision, digest)
                    winners[key] = row
                statuses.append(status)
            if winners:  # the row minus its trailing trace: one array per column
                await conn.execute(sql["upsert"], *list(zip(*winners.values(), strict=True))[: len(COLUMNS)])
            await conn.execute(sql["log"], *_log_columns(rows, statuses))
        return statuses

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


def _judge(held: tuple[int, str] | None, revision: int, digest: str) -> str:
    if held is None or revision > held[0]:
        return "applied"
    if revision < held[0]:
        return "stale"
    return "duplicate" if digest == held[1] else "conflict"


def _row(e: Envelope) -> tuple[Any, ...]:
    """The row of one envelope: ``COLUMNS`` in order (canonical payload and its hash, envelope JSON, typed
    columns), then the delivery's lineage trace for the log."""
    payload_json = orjson.dumps(e.payload, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(e.op.encode() + b"\x00" + payload_json).hexdigest()
    parts = e.kode_wilayah.split(".")
    period, start, end = period_of(e.payload)
    source = e.source
    trace = orjson.dumps(
        {"schema": f"{e.schema_name}@{e.schema_version}", "system": source.system, "office": source.office,
         "adapter": source.adapter, "source_record_id": e.source_record_id, "kode_wilayah": e.kode_wilayah,
         "received_at": e.received_at.isoformat()}
    ).decode()  # fmt: skip
    return (
        e.record_key, e.schema_name, e.schema_version, e.source.system, e.source_record_id, e.kode_wilayah,
        parts[0], ".".join(parts[:2]) if len(parts) >= 2 else None, period, start, end,
        status_of(e.payload), e.revision, e.idempotency_key, e.message_id, e.op,
        "withdrawn" if e.op == "withdraw" else "active", digest, payload_json.decode(),
        e.model_dump_json(exclude={"payload"}), e.occurred_at, e.received_at, trace,
    )  # fmt: skip


def _log_columns(rows: list[tuple[Any, ...]], statuses: list[str]) -> tuple[list[Any], ...]:
    agg: dict[str, list[Any]] = {}
    for row, status in zip(rows, statuses, strict=True):
        entry = agg.setdefault(row[13], [row[0], row[12], False, 0, 0, "", row[14], row[22]])
        entry[2] = entry[2] or status == "applied"
        entry[3] += 1
        entry[4] += int(status == "conflict")
        entry[5] = status
    keys = list(agg)
    return (keys, *([agg[k][i] for k in keys] for i in range(8)))


def _statements(s: str) -> dict[str, Any]:
    names = ", ".join(c for c, _ in COLUMNS)
    arrays = ", ".join(f"${i + 1}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(COLUMNS))
    select = ", ".join(f"u.{c}::jsonb" if t == "jsonb" else f"u.{c}" for c, t in COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c, _ in COLUMNS if c != "record_key")
    return {
        "lock_class": zlib.crc32(f"baseline-records:{s}".encode()) - 2**31,
        "lock": "SELECT count(pg_advisory_xact_lock($1::int, k)) FROM "
        "(SELECT DISTINCT k FROM unnest($2::int[]) AS k ORDER BY k) AS ordered",
        "current": f"SELECT record_key, revision, content_hash FROM {s}.records "
        "WHERE record_key = ANY($1::text[])",
        "upsert": f"INSERT INTO {s}.records ({names}, applied_at) SELECT {select}, now() "
        f"FROM unnest({arrays}) AS u({names}) ON CONFLICT (record_key) DO UPDATE SET {updates}, "
        f"applied_at = excluded.applied_at, change_txid = pg_current_xact_id() "
        f"WHERE {s}.records.revision < excluded.revision",
        "log": f"""
INSERT INTO {s}.applied_log AS a (idempotency_key, record_key, revision, first_applied_at, last_delivered_at,
                                  deliveries, conflicts, last_status, message_id, trace)
SELECT k, rk, rev, CASE WHEN applied THEN now() END, now(), n, c, st, mid, tr::jsonb
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::int[], $6::int[], $7::text[],
            $8::text[], $9::text[]) AS u(k, rk, rev, applied, n, c, st, mid, tr)
ON CONFLICT (idempotency_key) DO UPDATE SET
    deliveries = a.deliveries + excluded.deliveries, conflicts = a.conflicts + excluded.conflicts,
    first_applied_at = COALESCE(a.first_applied_at, excluded.first_applied_at),
    last_delivered_at = excluded.last_delivered_at, last_status = excluded.last_status,
    message_id = COALESCE(a.message_id, excluded.message_id), trace = COALESCE(a.trace, excluded.trace)""",
    }
