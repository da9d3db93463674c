"""The warehouse schema, created or upgraded at start, under an advisory lock so parallel starts agree.

``records`` holds one row per ``record_key`` (the winning revision) with typed columns consumers query
(schema, region, period, status, times) beside the JSONB payload. The ledger (the view ``ledger``) has one
row per idempotency key ever delivered, with delivery and conflict counts; since migration 4 it is the
records rows plus ``applied_log``, which holds only what those rows cannot say (see there). Migrations
are numbered and recorded in ``schema_migrations``; the pending ones run in one transaction.
"""

from __future__ import annotations

from typing import Any

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
CREATE TABLE {s}.records (
    record_key       text PRIMARY KEY,
    schema_name      text NOT NULL,
    schema_version   text NOT NULL,
    source_system    text NOT NULL,
    source_record_id text NOT NULL,
    kode_wilayah     text NOT NULL,
    province         text,
    kab_kota         text,
    period           text,
    period_start     date,
    period_end       date,
    status           text,
    revision         bigint NOT NULL,
    idempotency_key  text NOT NULL,
    message_id       text NOT NULL,
    op               text NOT NULL CHECK (op IN ('upsert', 'withdraw')),
    state            text NOT NULL CHECK (state IN ('active', 'withdrawn')),
    content_hash     text NOT NULL,
    payload          jsonb NOT NULL,
    envelope         jsonb NOT NULL,
    occurred_at      timestamptz,
    received_at      timestamptz NOT NULL,
    applied_at       timestamptz NOT NULL
);
CREATE INDEX records_schema_province ON {s}.records (schema_name, province);
CREATE INDEX records_kode_wilayah ON {s}.records (kode_wilayah text_pattern_ops);
CREATE INDEX records_schema_period ON {s}.records (schema_name, period_start);
CREATE TABLE {s}.applied_log (
    idempotency_key   text PRIMARY KEY,
    record_key        text NOT NULL,
    revision          bigint NOT NULL,
    first_applied_at  timestamptz,
    last_delivered_at timestamptz NOT NULL,
    deliveries        integer NOT NULL,
    conflicts         integer NOT NULL,
    last_status       text NOT NULL
);
""",
    ),
    (
        2,
        # The change position of a row is the id of the transaction that last wrote it. A feed reader
        # pages on (change_txid, record_key) and reads only rows whose transaction is older than its
        # snapshot's xmin (every such transaction has ended), so a writer that commits late can never
        # slip in behind a page already read (adapters.postgres_sink.reader).
        """
ALTER TABLE {s}.records ADD COLUMN change_txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX records_schema_change ON {s}.records (schema_name, change_txid, record_key);
""",
    ),
    (
        3,
        # Lineage (`simpul lineage`): the message id and a small trace (origin, hops) of the first delivery
        # of every idempotency key, so every revision can be traced, not only the stored one. No index:
        # a lookup scans the log, writes stay as cheap as before.
        """
ALTER TABLE {s}.applied_log ADD COLUMN message_id text, ADD COLUMN trace jsonb;
""",
    ),
    (
        4,
        # The ledger by exception (issue 21). A records row already says what its applied_log row said of
        # the delivery that applied it: key, revision, time, message id and, in its envelope, all the
        # trace holds. Writing that again for every record cost about a fifth of PostgreSQL's CPU per
        # record. The ledger (view ``ledger``: one row per idempotency key, applied_log's columns plus
        # ``envelope``, the applying delivery's, from which its trace is derived) is put together from:
        # * ``records``: the applying delivery of each revision stored there;
        # * ``superseded``: the applying delivery of each revision a newer one replaced, copied from the
        #   records row by the trigger as the row changes, under that row's lock (so exactly once, and
        #   no other writer ever waits on it: no unique index, nothing else writes it);
        # * ``applied_log``: for a key applied in one of those two, its other deliveries (duplicates,
        #   conflicts) if it had any; for any other key its whole entry, as before (never applied:
        #   stale or conflicting; applied and superseded within one batch, which no table row saw).
        # Rows written before this migration hold the applying delivery too; the UPDATE takes it out of
        # those of revisions still stored. A trigger writing into applied_log itself would deadlock: a
        # writer logs a stale delivery of a key without holding its records row.
        """
UPDATE {s}.applied_log a SET deliveries = a.deliveries - 1
FROM {s}.records r WHERE r.idempotency_key = a.idempotency_key;
CREATE TABLE {s}.superseded (
    idempotency_key text NOT NULL,
    record_key      text NOT NULL,
    revision        bigint NOT NULL,
    applied_at      timestamptz NOT NULL,
    message_id      text NOT NULL,
    envelope        jsonb NOT NULL
);
CREATE FUNCTION {s}.keep_superseded() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO {s}.superseded VALUES
        (OLD.idempotency_key, OLD.record_key, OLD.revision, OLD.applied_at, OLD.message_id, OLD.envelope);
    RETURN NEW;
END
$fn$;
CREATE TRIGGER keep_superseded BEFORE UPDATE ON {s}.records FOR EACH ROW
    WHEN (OLD.idempotency_key IS DISTINCT FROM NEW.idempotency_key)
    EXECUTE FUNCTION {s}.keep_superseded();
CREATE VIEW {s}.ledger AS
WITH applying AS (
    SELECT idempotency_key, record_key, revision, applied_at, message_id, envelope FROM {s}.records
    UNION ALL
    SELECT idempotency_key, record_key, revision, applied_at, message_id, envelope FROM {s}.superseded)
SELECT COALESCE(p.idempotency_key, a.idempotency_key) AS idempotency_key,
       COALESCE(p.record_key, a.record_key) AS record_key,
       COALESCE(p.revision, a.revision) AS revision,
       COALESCE(p.applied_at, a.first_applied_at) AS first_applied_at,
       GREATEST(p.applied_at, a.last_delivered_at) AS last_delivered_at,
       (p.idempotency_key IS NOT NULL)::int + COALESCE(a.deliveries, 0) AS deliveries,
       COALESCE(a.conflicts, 0) AS conflicts,
       COALESCE(a.last_status, 'applied') AS last_status,
       COALESCE(p.message_id, a.message_id) AS message_id,
       CASE WHEN p.idempotency_key IS NULL THEN a.trace END AS trace,
       p.envelope
FROM applying p FULL JOIN {s}.applied_log a ON a.idempotency_key = p.idempotency_key;
""",
    ),
]


async def migrate(conn: Any, schema: str) -> list[int]:
    """Bring ``schema`` up to date on ``conn`` (asyncpg); returns the versions applied now."""
    applied: list[int] = []
    async with conn.transaction():
        # One lock per schema: a second node starting at the same time waits, then finds the work done.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"simpul-migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")}
        for version, ddl in MIGRATIONS:
            if version in done:
                continue
            await conn.execute(ddl.format(s=schema))
            await conn.execute(f"INSERT INTO {schema}.schema_migrations (version) VALUES ($1)", version)
            applied.append(version)
    return applied
