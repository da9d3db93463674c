"""The central warehouse on PostgreSQL: idempotent, revision-aware, one transaction per ``write``.

Rules per record (``record_key``), the same as ``adapters.sqlite_sink.store``: a higher revision replaces
the row (``applied``); the same revision with the same content hash is a ``duplicate``; the same revision
with other content is a ``conflict`` (nothing changes; the sink worker quarantines it); a lower revision
is ``stale``. A withdrawal is stored as the row in state ``withdrawn`` at its revision, so an older upsert
arriving later cannot resurrect it. Results come back in input order; ``write`` returns after COMMIT.

Concurrency: several consumers may write at once. Each transaction first takes a transaction-scoped
advisory lock per record key, in ascending order (so two writers cannot deadlock), then reads the current
revisions and decides. It runs at READ COMMITTED on purpose: the read after the locks sees every
transaction that held them, where REPEATABLE READ would read a snapshot from before the wait. The upsert
also keeps a ``WHERE revision < excluded.revision`` guard as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import structlog

from adapters.postgres_sink import migrations, statements
from adapters.postgres_sink.config import PostgresSinkConfig
from adapters.postgres_sink.rows import prepare
from adapters.postgres_sink.trace import read_trace
from adapters.sqlite_sink.rows import PreparedRow
from adapters.sqlite_sink.store import ApplyResult
from hub.consume.sink import judge
from hub.errors import FatalError
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)


class PostgresSink:
    """A ``hub.consume.sink.Sink`` over an asyncpg pool. ``start`` connects and migrates; ``close`` closes."""

    def __init__(self, config: PostgresSinkConfig, name: str = "postgres_warehouse") -> None:
        self.name = name
        self._config = config
        self._schema = config.db_schema
        self._pool: Any = None
        self._sql = statements.build(config.db_schema)

    async def start(self) -> None:
        """Open the pool and create or upgrade the schema; auth or rights problems are fatal."""
        import asyncpg

        cfg = self._config
        try:
            self._pool = await asyncpg.create_pool(
                host=cfg.host,
                port=cfg.port,
                user=cfg.user,
                password=cfg.password.get_secret_value() or None,
                database=cfg.database,
                min_size=cfg.pool_min,
                max_size=max(cfg.pool_min, cfg.pool_max),
                timeout=cfg.connect_timeout_s,
                command_timeout=cfg.command_timeout_s,
                server_settings={"application_name": f"simpul-{self.name}"},
            )
            async with self._pool.acquire() as conn:
                applied = await migrations.migrate(conn, self._schema)
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError,
                asyncpg.InvalidCatalogNameError, asyncpg.InsufficientPrivilegeError) as exc:  # fmt: skip
            raise FatalError(f"postgres warehouse refused us ({type(exc).__name__}: {exc})") from None
        log.info("warehouse_ready", sink=self.name, schema=self._schema, migrations_applied=applied)

    async def write(self, envelopes: Sequence[Envelope]) -> list[ApplyResult]:
        """Apply a batch in one transaction; see the module docstring for the rules."""
        if not envelopes:
            return []
        if self._pool is None:
            raise RuntimeError("PostgresSink.write before start")
        rows = [prepare(e) for e in envelopes]  # a payload that cannot be serialised fails before any I/O
        keys = sorted({r.record_key for r in rows})
        sql = self._sql
        async with self._pool.acquire() as conn, conn.transaction(isolation="read_committed"):
            await conn.fetchval(sql.lock, sql.lock_class, [statements.lock_id(k) for k in keys])
            stored = await conn.fetch(sql.current, keys)
            results, winners = _decide(
                rows, {r["record_key"]: (r["revision"], r["content_hash"]) for r in stored}
            )
            if winners:
                # Column-wise arrays for unnest: one statement for the whole batch.
                await conn.execute(sql.upsert, *zip(*(w.values for w in winners.values()), strict=True))
            await conn.execute(sql.log, *_log_columns(rows, results))
        return results

    async def count(self, schema_name: str | None = None, state: str | None = None) -> int:
        """How many records are stored, optionally of one schema and/or one state."""
        sql = f"SELECT count(*) FROM {self._schema}.records WHERE ($1::text IS NULL OR schema_name = $1) "
        sql += "AND ($2::text IS NULL OR state = $2)"
        return int(await self._pool.fetchval(sql, schema_name, state))

    async def get(self, record_key: str) -> dict[str, Any] | None:
        """The stored row of one record (``payload`` and ``envelope`` decoded), or None."""
        row = await self._pool.fetchrow(
            f"SELECT * FROM {self._schema}.records WHERE record_key = $1", record_key
        )
        if row is None:
            return None
        out = dict(row.items())
        out["payload"], out["envelope"] = orjson.loads(out["payload"]), orjson.loads(out["envelope"])
        return out

    async def trace(self, message_id: str) -> dict[str, Any] | None:
        """What this warehouse knows of one delivered record (``simpul lineage``), or None
        (``adapters.postgres_sink.trace``)."""
        return await read_trace(self._pool, self._schema, message_id)

    async def applied_keys(self) -> set[str]:
        """Every idempotency key applied at least once (for end-to-end ledger checks)."""
        sql = f"SELECT idempotency_key FROM {self._schema}.applied_log WHERE first_applied_at IS NOT NULL"
        return {r[0] for r in await self._pool.fetch(sql)}

    async def delivery_counts(self) -> dict[str, int]:
        """Raw deliveries per idempotency key, whatever their outcome."""
        rows = await self._pool.fetch(f"SELECT idempotency_key, deliveries FROM {self._schema}.applied_log")
        return {r[0]: r[1] for r in rows}

    async def close(self) -> None:
        """Close the pool (committed writes are already durable)."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def _decide(
    rows: list[PreparedRow], current: dict[str, tuple[int, str]]
) -> tuple[list[ApplyResult], dict[str, PreparedRow]]:
    """Classify each row against the stored state, updated as the batch goes (a record may repeat)."""
    results: list[ApplyResult] = []
    winners: dict[str, PreparedRow] = {}
    for r in rows:
        status = judge(current.get(r.record_key), r.revision, r.content_hash)
        if status == "applied":
            current[r.record_key] = (r.revision, r.content_hash)
            winners[r.record_key] = r
        results.append(ApplyResult(r.idempotency_key, r.record_key, status))
    return results, winners


def _log_columns(rows: list[PreparedRow], results: list[ApplyResult]) -> tuple[list[Any], ...]:
    """applied_log rows aggregated per idempotency key (a key may repeat within a batch; one upsert per
    key and statement is all PostgreSQL allows)."""
    agg: dict[str, list[Any]] = {}
    for row, result in zip(rows, results, strict=True):
        entry = agg.setdefault(
            row.idempotency_key, [row.record_key, row.revision, False, 0, 0, "", row.message_id, row.trace]
        )
        entry[2] = entry[2] or result.status == "applied"
        entry[3] += 1
        entry[4] += int(result.status == "conflict")
        entry[5] = result.status
    keys = list(agg)
    return (keys, *([agg[k][i] for k in keys] for i in range(8)))
