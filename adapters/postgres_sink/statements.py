"""The SQL of one ``write``, built once per schema. Every statement's text is constant whatever the batch
size (rows travel as arrays through ``unnest``), so asyncpg prepares each once per connection."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from adapters.postgres_sink.rows import COLUMNS


@dataclass(frozen=True)
class Statements:
    """``lock`` (advisory locks per record key, ascending), ``current`` (stored revision and hash),
    ``upsert`` (winning rows) and ``log`` (delivery counts per idempotency key)."""

    lock_class: int
    lock: str
    current: str
    upsert: str
    log: str


def lock_id(record_key: str) -> int:
    """A signed 32-bit number from the key's leading hex (the two-int advisory lock form takes int4)."""
    return int(record_key[:8], 16) - 2**31


def build(schema: str) -> Statements:
    """The statements for the (validated) ``schema``."""
    s = schema
    names = ", ".join(c for c, _ in COLUMNS)
    arrays = ", ".join(f"${i + 1}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(COLUMNS))
    select = ", ".join(f"u.{c}::jsonb" if t == "jsonb" else f"u.{c}" for c, t in COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c, _ in COLUMNS if c != "record_key")
    upsert = (
        f"INSERT INTO {s}.records ({names}, applied_at) SELECT {select}, now() FROM unnest({arrays}) "
        f"AS u({names}) ON CONFLICT (record_key) DO UPDATE SET {updates}, "
        f"applied_at = excluded.applied_at, change_txid = pg_current_xact_id() "
        f"WHERE {s}.records.revision < excluded.revision"
    )
    log = f"""
INSERT INTO {s}.applied_log AS a (idempotency_key, record_key, revision, first_applied_at, last_delivered_at,
                                  deliveries, conflicts, last_status, message_id, trace)
SELECT k, rk, rev, CASE WHEN applied THEN now() END, now(), n, c, st, mid, tr::jsonb
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::int[], $6::int[], $7::text[],
            $8::text[], $9::text[])
     AS u(k, rk, rev, applied, n, c, st, mid, tr)
ON CONFLICT (idempotency_key) DO UPDATE SET
    deliveries = a.deliveries + excluded.deliveries,
    conflicts = a.conflicts + excluded.conflicts,
    first_applied_at = COALESCE(a.first_applied_at, excluded.first_applied_at),
    last_delivered_at = excluded.last_delivered_at,
    last_status = excluded.last_status,
    message_id = COALESCE(a.message_id, excluded.message_id),
    trace = COALESCE(a.trace, excluded.trace)"""
    # The sorted DISTINCT subquery fixes the order in which locks are taken: two writers with
    # overlapping keys queue on the first common key instead of deadlocking.
    lock = (
        "SELECT count(pg_advisory_xact_lock($1::int, k)) FROM "
        "(SELECT DISTINCT k FROM unnest($2::int[]) AS k ORDER BY k) AS ordered"
    )
    current = f"SELECT record_key, revision, content_hash FROM {s}.records WHERE record_key = ANY($1::text[])"
    lock_class = zlib.crc32(f"simpul-records:{s}".encode()) - 2**31
    return Statements(lock_class, lock, current, upsert, log)
