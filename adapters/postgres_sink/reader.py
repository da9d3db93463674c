"""Reading the PostgreSQL warehouse back (``hub.adapters.warehouse``), over its own asyncpg pool: the
feeds' pages and completeness rows, and the applied-log lookup of ``simpul lineage``.

Positions are ``(change_txid, record_key)``: the id of the transaction that last wrote the row. Several
sink connections write at once and commit in any order, so a plain sequence would let a slow transaction
commit a *lower* number after a reader has paged past it. Every query therefore reads only rows below a
*horizon*: the lowest id among the transactions that were in progress at its snapshot and are warehouse
writers, or that ended since (they might have been writers; their rows are not in the snapshot). Any
transaction that has not written yet will get an id above the snapshot, so rows can never slip in behind
a position already returned.

A warehouse writer is recognised by the transaction-scoped advisory locks of the sink's lock class that
it takes before its first write (``adapters.postgres_sink.statements``), read from ``pg_locks`` (visible
to every role). Other transactions on the server, however long, do not hold the feed back; an open sink
transaction does, until it ends (a moment: one batch).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import orjson

from adapters.postgres_sink import migrations, statements
from adapters.postgres_sink.config import PostgresSinkConfig
from adapters.postgres_sink.trace import read_trace
from hub.adapters.warehouse import START, FeedRow, Position, ReportRow, ScanFilter, parse_instant
from hub.errors import ConfigError, SinkUnavailable

# {lock_class} is the sink's advisory lock class as an oid. xids in pg_locks are 32 bits, hence the modulo.
_HORIZON = """
WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
writers AS MATERIALIZED (
    SELECT t.transactionid::text AS xid32
    FROM pg_locks a
    JOIN pg_locks t ON t.virtualtransaction = a.virtualtransaction AND t.locktype = 'transactionid'
                   AND t.mode = 'ExclusiveLock' AND t.granted
    WHERE a.locktype = 'advisory' AND a.classid = {lock_class}::oid AND a.objsubid = 2),
horizon AS MATERIALIZED (
    SELECT LEAST(pg_snapshot_xmax(snap.s), (
        SELECT min(x) FROM pg_snapshot_xip(snap.s) AS x
        WHERE pg_xact_status(x) IS DISTINCT FROM 'in progress'
           OR (x::text::numeric % 4294967296)::text IN (SELECT xid32 FROM writers))) AS h
    FROM snap)
"""
_VISIBLE = "change_txid < (SELECT h FROM horizon)"


class PostgresReader:
    """A ``WarehouseReader`` and ``TraceReader`` over the warehouse of ``config`` (pool opened, schema
    migrated, on first use); ``name`` is the sink instance it reads (lineage) and names its connections."""

    def __init__(self, config: PostgresSinkConfig, name: str = "feeds") -> None:
        self.name = name
        self._config = config
        self._s = config.db_schema
        lock_class = statements.build(config.db_schema).lock_class % 2**32
        self._with = _HORIZON.format(lock_class=lock_class)
        self._pool: Any = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> Any:
        async with self._lock:
            if self._pool is None:
                import asyncpg

                cfg = self._config
                try:
                    pool = await asyncpg.create_pool(
                        host=cfg.host,
                        port=cfg.port,
                        user=cfg.user,
                        password=cfg.password.get_secret_value() or None,
                        database=cfg.database,
                        min_size=1,
                        max_size=max(2, cfg.pool_max),
                        timeout=cfg.connect_timeout_s,
                        command_timeout=cfg.command_timeout_s,
                        server_settings={"application_name": f"simpul-{self.name}-reader"},
                    )
                    async with pool.acquire() as conn:  # the sink migrates too; idempotent either way
                        await migrations.migrate(conn, self._s)
                except (asyncpg.InvalidPasswordError, asyncpg.InvalidCatalogNameError) as exc:
                    raise ConfigError(f"warehouse refused the feeds ({type(exc).__name__})") from None
                except (OSError, asyncpg.PostgresError) as exc:
                    raise SinkUnavailable(f"warehouse unreachable ({type(exc).__name__})") from None
                self._pool = pool
            return self._pool

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        import asyncpg

        pool = await self._get_pool()
        try:
            return list(await pool.fetch(sql, *args))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise SinkUnavailable(f"warehouse read failed ({type(exc).__name__})") from None

    async def scan(self, where: ScanFilter, after: Position, limit: int) -> list[FeedRow]:
        if not where.classifications:
            return []
        regions = list(where.regions) or None
        likes = [r + ".%" for r in where.regions] or None
        sql = f"""{self._with}
SELECT change_txid::text AS seq, record_key, schema_name, schema_version, kode_wilayah, revision, op, state,
       payload::text AS payload, envelope::text AS envelope, applied_at
FROM {self._s}.records
WHERE schema_name = $1 AND {_VISIBLE}
  AND (change_txid, record_key) > ($2::text::xid8, $3::text)
  AND envelope->>'classification' = ANY($4::text[])
  AND ($5::timestamptz IS NULL OR applied_at >= $5)
  AND ($6::text[] IS NULL OR kode_wilayah = ANY($6::text[]) OR kode_wilayah LIKE ANY($7::text[]))
ORDER BY change_txid, record_key
LIMIT $8"""
        rows = await self._fetch(
            sql,
            where.schema,
            str(after.seq),
            after.record_key,
            list(where.classifications),
            where.changed_since,
            regions,
            likes,
            limit,
        )
        return [_feed_row(r) for r in rows]

    async def tail(self, schema: str) -> Position:
        sql = self._with + (
            f"SELECT change_txid::text, record_key FROM {self._s}.records "
            f"WHERE schema_name = $1 AND {_VISIBLE} ORDER BY change_txid DESC, record_key DESC LIMIT 1"
        )
        rows = await self._fetch(sql, schema)
        return Position(int(rows[0][0]), str(rows[0][1])) if rows else START

    async def report_rows(self, schema: str) -> list[ReportRow]:
        sql = f"""
SELECT r.record_key, r.kode_wilayah, r.payload::text AS payload, r.occurred_at,
       r.envelope->>'reported_at' AS reported_at, a.first
FROM {self._s}.records r
LEFT JOIN (SELECT record_key, min(first_applied_at) AS first FROM {self._s}.ledger GROUP BY record_key) a
       ON a.record_key = r.record_key
WHERE r.schema_name = $1 AND r.state = 'active'"""
        rows = await self._fetch(sql, schema)
        return [
            ReportRow(
                record_key=r["record_key"],
                kode_wilayah=r["kode_wilayah"],
                payload=orjson.loads(r["payload"]),
                occurred_at=r["occurred_at"],
                reported_at=parse_instant(r["reported_at"]),
                first_applied_at=r["first"],
            )
            for r in rows
        ]

    async def trace(self, message_id: str) -> dict[str, Any] | None:
        """The applied-log entry of one delivered record (``simpul lineage``), or None."""
        import asyncpg

        pool = await self._get_pool()
        try:
            return await read_trace(pool, self._s, message_id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise SinkUnavailable(f"warehouse read failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        async with self._lock:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None


def _feed_row(r: Any) -> FeedRow:
    applied_at: datetime = r["applied_at"]
    return FeedRow(
        position=Position(int(r["seq"]), r["record_key"]),
        schema_name=r["schema_name"],
        schema_version=r["schema_version"],
        kode_wilayah=r["kode_wilayah"],
        revision=int(r["revision"]),
        op=r["op"],
        state=r["state"],
        payload=orjson.loads(r["payload"]),
        envelope=orjson.loads(r["envelope"]),
        applied_at=applied_at,
    )
