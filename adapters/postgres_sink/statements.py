"""The SQL of one ``write``, built once per schema. No statement's text depends on the batch (rows travel
by binary COPY into per-connection staging tables, or as arrays through ``unnest``), so asyncpg prepares
each once per connection.

The staging tables are temporary (one pair per connection, created when the pool opens it, see
``staging``) with ``ON COMMIT DELETE ROWS``: every commit empties them in place, without the catalog
churn of a ``TRUNCATE``, and a failed transaction leaves only rows that are invisible to the next one.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from adapters.postgres_sink.rows import COLUMNS

STAGE = "simpul_stage"
"""Temporary table of one batch's candidate rows: ``i`` (the candidate's number), ``top`` (the highest
revision of its key in the batch), then ``COLUMNS``."""
STAGE_LOG = "simpul_stage_log"
"""Temporary table of one batch's applied_log rows, one per idempotency key (``LOG_COLUMNS``)."""
STAGE_COLUMNS = ("i", "top", *(c for c, _ in COLUMNS))
LOG_COLUMNS = (
    ("idempotency_key", "text"), ("record_key", "text"), ("revision", "bigint"), ("applied", "boolean"),
    ("deliveries", "integer"), ("conflicts", "integer"), ("last_status", "text"), ("message_id", "text"),
    ("trace", "jsonb"),
)  # fmt: skip
REVISION = [c for c, _ in COLUMNS].index("revision")
"""Where ``revision`` sits in a row's values: a candidate staged with revision -1 only locks its row."""
WORK_MEM = "64MB"
"""For the merge's sort of the staged rows (3,200 rows of 1 KB are about 5 MB; 4 MB would spill)."""


@dataclass(frozen=True)
class Statements:
    """``staging`` (creates this connection's staging tables), ``merge`` (staged candidates into
    ``records``; reports the held keys with their rows and the candidates that did not apply),
    ``merge_arrays`` (the same merge, its candidates given as one array per staged column instead of
    staged: one round trip for a small batch, see ``sink.ARRAY_ROWS``), ``current`` (stored revision and
    hash), ``upsert`` (rows given as arrays, for the few a second pass writes) and ``log`` (staged
    applied_log rows into ``applied_log``). A write transaction opens with the module's ``begin``."""

    lock_class: int
    staging: str
    merge: str
    merge_arrays: str
    current: str
    upsert: str
    log: str


def build(schema: str) -> Statements:
    """The statements for the (validated) ``schema``."""
    s = schema
    names = ", ".join(c for c, _ in COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c, _ in COLUMNS if c != "record_key")
    on_conflict = (
        f"ON CONFLICT (record_key) DO UPDATE SET {updates}, applied_at = excluded.applied_at, "
        f"change_txid = pg_current_xact_id() WHERE {s}.records.revision < excluded.revision"
    )
    # JSON is staged as text and parsed (::jsonb) by the merge. toast_tuple_target: a staged row is never
    # compressed (which costs more than the whole COPY) unless it is longer than a page.
    stage_cols = ", ".join(f"{c} {'text' if t == 'jsonb' else t}" for c, t in COLUMNS)
    log_cols = ", ".join(f"{c} {'text' if t == 'jsonb' else t}" for c, t in LOG_COLUMNS)
    staging = (
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (i integer NOT NULL, top bigint NOT NULL, {stage_cols}) "
        f"WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS; "
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_LOG} ({log_cols}) "
        f"WITH (toast_tuple_target = 8160) ON COMMIT DELETE ROWS"
    )
    lock_class = zlib.crc32(f"simpul-records:{s}".encode()) - 2**31
    # held: keys stored at a revision the batch cannot beat (as of the statement's snapshot); they are
    # left out of the insert (no JSON parsed, no lock: a redelivered batch costs little) and returned
    # with their revision and hash. ORDER BY: every writer locks the rows of its batch in the same
    # (ascending key) order, so two writers with overlapping keys queue on the first common key instead
    # of deadlocking. ON CONFLICT DO UPDATE locks a conflicting row even when its WHERE is false, so
    # after this statement every other key of the batch is locked (or inserted) by this transaction
    # until it ends. Also returned: the candidates that were not written (done = false), and every
    # lock-only candidate (revision -1) with whether it inserted.
    cast = ", ".join(f"{c}::jsonb" if t == "jsonb" else c for c, t in COLUMNS)

    def merge_from(stage: str) -> str:
        return f"""
held AS MATERIALIZED (
    SELECT s.i, r.revision, r.content_hash FROM {stage} AS s
    JOIN {s}.records AS r ON r.record_key = s.record_key WHERE r.revision >= s.top),
up AS (
    INSERT INTO {s}.records ({names}, applied_at)
    SELECT {cast}, now() FROM {stage} WHERE i NOT IN (SELECT i FROM held)
    ORDER BY record_key COLLATE "C"
    {on_conflict}
    RETURNING record_key)
SELECT i, done, NULL::bigint AS revision, NULL::text AS content_hash FROM (
    SELECT i, revision, record_key IN (SELECT record_key FROM up) AS done FROM {stage}
    WHERE i NOT IN (SELECT i FROM held)) AS c
WHERE revision < 0 OR NOT done
UNION ALL
SELECT i, NULL, revision, content_hash FROM held"""

    merge = "WITH " + merge_from(f"pg_temp.{STAGE}")
    # The same candidates as arrays: unnest makes the rows the staging table would hold (jsonb columns
    # as text, cast by the insert as there); MATERIALIZED, so the three readers share one unnest.
    staged_arrays = ", ".join(
        f"${i + 1}::{'text' if t == 'jsonb' else t}[]"
        for i, (_, t) in enumerate((("i", "integer"), ("top", "bigint"), *COLUMNS))
    )
    staged_names = ", ".join(STAGE_COLUMNS)
    merge_arrays = (
        f"WITH staged AS MATERIALIZED (SELECT * FROM unnest({staged_arrays}) AS u({staged_names})),"
        + merge_from("staged")
    )
    arrays = ", ".join(f"${i + 1}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(COLUMNS))
    select = ", ".join(f"u.{c}::jsonb" if t == "jsonb" else f"u.{c}" for c, t in COLUMNS)
    upsert = (
        f"INSERT INTO {s}.records ({names}, applied_at) SELECT {select}, now() FROM unnest({arrays}) "
        f'AS u({names}) ORDER BY u.record_key COLLATE "C" {on_conflict}'
    )
    log = f"""
INSERT INTO {s}.applied_log AS a (idempotency_key, record_key, revision, first_applied_at, last_delivered_at,
                                  deliveries, conflicts, last_status, message_id, trace)
SELECT idempotency_key, record_key, revision, CASE WHEN applied THEN now() END, now(), deliveries,
       conflicts, last_status, message_id, trace::jsonb
FROM pg_temp.{STAGE_LOG} ORDER BY idempotency_key COLLATE "C"
ON CONFLICT (idempotency_key) DO UPDATE SET
    deliveries = a.deliveries + excluded.deliveries,
    conflicts = a.conflicts + excluded.conflicts,
    first_applied_at = COALESCE(a.first_applied_at, excluded.first_applied_at),
    last_delivered_at = excluded.last_delivered_at,
    last_status = excluded.last_status,
    message_id = COALESCE(a.message_id, excluded.message_id),
    trace = COALESCE(a.trace, excluded.trace)"""
    current = f"SELECT record_key, revision, content_hash FROM {s}.records WHERE record_key = ANY($1::text[])"
    return Statements(lock_class, staging, merge, merge_arrays, current, upsert, log)


def begin(lock_class: int, compression: str) -> str:
    """The text that opens a write transaction, sent as one simple query (one round trip for BEGIN and
    the settings; it holds literals only: ``lock_class`` is an int, ``compression`` one of the server's
    own method names).

    Every writer transaction holds a shared advisory lock of ``lock_class`` from before its first write:
    the feed reader finds open writers by it (adapters.postgres_sink.reader). Shared, so writers never
    wait on it. Record keys need no advisory locks: the merge row-locks every key of the batch (see
    sink.py). ``compression``: how this transaction compresses long values (lz4 where the server has
    it: it cost a quarter of the merge's CPU less than pglz on 1 KB payloads, and reads back faster).
    Plan settings, for this transaction only: the held join must probe records_pkey however small the
    table was when the plan was cached (a hash join or a seq scan would read the whole table per batch),
    and with the disable costs that forces, JIT would compile the merge at every execution (200+ us a
    record, measured)."""
    if compression not in ("lz4", "pglz"):
        raise ValueError(f"unknown toast compression {compression!r}")
    return (
        f"BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock_shared({int(lock_class)}, 0), "
        f"set_config('work_mem', '{WORK_MEM}', true), "
        f"set_config('default_toast_compression', '{compression}', true), "
        "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), "
        "set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
    )
