"""The central warehouse on PostgreSQL: idempotent, revision-aware, one transaction per ``write``.

Rules per record (``record_key``), the same as ``adapters.sqlite_sink.store``: a higher revision replaces
the row (``applied``); the same revision with the same content hash is a ``duplicate``; the same revision
with other content is a ``conflict`` (nothing changes; the sink worker quarantines it); a lower revision
is ``stale``. A withdrawal is stored as the row in state ``withdrawn`` at its revision, so an older upsert
arriving later cannot resurrect it. Results come back in input order; ``write`` returns after COMMIT.

The write path (``statements``): a transaction opened in one round trip (``statements.begin``); the
batch's candidate rows go by binary COPY into this connection's temporary staging table (a small batch,
up to ``ARRAY_ROWS``, goes as arrays in the merge's own round trip instead), and one merge statement
(``INSERT ... SELECT ... ORDER BY record_key ON CONFLICT DO UPDATE ... WHERE stored revision < new
revision``) writes them; the applied_log rows likewise, when a batch has any (the ledger by exception,
``migrations`` 4 and ``batch.log_rows``: a new record delivered once writes none). Nothing is read before the
merge: it skips and reports the keys already stored at a revision the batch cannot beat, reports the
candidates it did not write, and only those rows are read back (``batch.Batch``).

Concurrency: several consumers (processes) may write overlapping keys at once. The merge inserts, updates
or (``ON CONFLICT DO UPDATE`` does this even when its WHERE is false) locks the row of every key it
writes, in ascending key order, and holds it to COMMIT; a concurrent insert of the same key makes it wait
for that transaction's end. So a key is written by one transaction at a time, in the same order for
everyone (no deadlock), and the read after the merge sees exactly the row the merge decided against: a
record is applied once and classified as if the writers had run one after the other. A key the batch
cannot change is decided against the merge's snapshot and never locked (nothing of it is written). It
runs at READ COMMITTED on purpose: each statement sees every transaction that committed before it, where
REPEATABLE READ would fail on (or read a snapshot from before) a row another writer had just changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
import structlog

from adapters.postgres_sink import migrations, statements
from adapters.postgres_sink.batch import Batch, log_rows
from adapters.postgres_sink.config import PostgresSinkConfig
from adapters.postgres_sink.rows import prepare, prepare_checked, trace_of, trace_of_checked
from adapters.postgres_sink.trace import read_trace
from adapters.sqlite_sink.rows import PreparedRow
from adapters.sqlite_sink.store import ApplyResult
from hub.consume.checked import CheckedRecord
from hub.errors import FatalError, SinkUnavailable
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

ARRAY_ROWS = 128
"""Up to this many staged candidates, a write gives them to the merge as arrays (``merge_arrays``: one
round trip); above, by binary COPY into the staging table (two round trips, less work per row). A low
rate's small batches pay mostly round trips: see docs/performance.md."""
TEMP_BUFFERS = "32MB"
"""Per connection, for the staging tables (3,200 rows of 1 KB are about 7 MB with their applied_log
rows; the default 8 MB would make a larger batch spill to disk). Allocated only as used."""


class PostgresSink:
    """A ``hub.consume.sink.Sink`` over an asyncpg pool. ``start`` connects, migrates and opens (and
    rehearses) the pool's connections; ``close`` closes."""

    def __init__(self, config: PostgresSinkConfig, name: str = "postgres_warehouse") -> None:
        self.name = name
        self._config = config
        self._schema = config.db_schema
        self._pool: Any = None
        self._compression = "pglz"
        self._sql = statements.build(config.db_schema)
        self._begin = statements.begin(self._sql.lock_class, self._compression)

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
                server_settings={"application_name": f"simpul-{self.name}", "temp_buffers": TEMP_BUFFERS},
                init=self._open_connection,
                reset=_reset,
            )
            async with self._pool.acquire() as conn:
                applied = await migrations.migrate(conn, self._schema)
                methods = await conn.fetchval(
                    "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
                )
                self._compression = "lz4" if "lz4" in (methods or ()) else "pglz"
                self._begin = statements.begin(self._sql.lock_class, self._compression)
            await self._open_all(max(cfg.pool_min, cfg.pool_max))
        except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError,
                asyncpg.InvalidCatalogNameError, asyncpg.InsufficientPrivilegeError) as exc:  # fmt: skip
            raise FatalError(f"postgres warehouse refused us ({type(exc).__name__}: {exc})") from None
        log.info("warehouse_ready", sink=self.name, schema=self._schema, migrations_applied=applied)

    async def _open_all(self, size: int) -> None:
        """Open the pool's connections up to ``size`` now, each with its staging tables (``init``).

        Otherwise the pool starts with ``pool_min`` and opens the rest when concurrent writes first
        need them: TCP, authentication, the staging tables' DDL and (``_rehearse``) the first merge's
        preparation on a fresh server process, paid by the records of the first busy moment after a
        start (four concurrent first writes took 88-100 ms, 15-20 ms once warmed; docs/performance.md,
        eighth round). Idle connections above ``pool_min`` still close after asyncpg's inactivity limit
        (300 s).

        Best effort: a server that refuses more connections now (``max_connections``) leaves the pool
        as it would have been, with a warning; the writes open what they need later, as before."""
        held = []
        try:
            for _ in range(size):
                held.append(await self._pool.acquire())
            for conn in held:
                await self._rehearse(conn)
        except Exception as exc:  # the pool stays usable; only the warm start is cut short
            log.warning(
                "warehouse_pool_not_warmed",
                sink=self.name,
                opened=len(held),
                wanted=size,
                error=type(exc).__name__,
                detail=str(exc),
            )
        finally:
            for conn in held:
                await self._pool.release(conn)

    async def _rehearse(self, conn: Any) -> None:
        """Run the small batch's merge over no rows in a transaction rolled back: the connection's
        server process loads the tables' and indexes' descriptions and asyncpg prepares the statement,
        once, before a record waits for it. Nothing is written."""
        await conn.execute(self._begin)
        try:
            await conn.fetch(self._sql.merge_arrays, *([] for _ in statements.STAGE_COLUMNS))
        finally:
            await _rollback(conn)

    async def _open_connection(self, conn: Any) -> None:
        """Each new connection of the pool gets its staging tables, outside any write transaction (so a
        failed write cannot roll them back)."""
        await conn.execute(self._sql.staging)

    async def write(self, envelopes: Sequence[Envelope]) -> list[ApplyResult]:
        """Apply a batch in one transaction; see the module docstring for the rules."""
        # A payload that cannot be serialised fails before any I/O.
        return await self._apply([prepare(e) for e in envelopes], lambda n: trace_of(envelopes[n]))

    async def write_checked(self, records: Sequence[CheckedRecord]) -> list[ApplyResult]:
        """``write`` for envelopes in their JSON form (``hub.consume.sink.CheckedSink``): the sink worker
        hands verified records over without building a model for each."""
        return await self._apply(
            [prepare_checked(r) for r in records], lambda n: trace_of_checked(records[n])
        )

    async def _apply(self, rows: list[PreparedRow], trace: Callable[[int], str]) -> list[ApplyResult]:
        """Write ``rows``; ``trace(n)`` is the lineage record of row ``n``, asked for only if that row's
        delivery gets an applied_log row."""
        if not rows:
            return []
        if self._pool is None:
            raise RuntimeError("PostgresSink.write before start")
        batch = Batch(rows)
        async with self._pool.acquire() as conn:
            # BEGIN and the transaction's settings in one round trip; COMMIT, or ROLLBACK on any failure
            # (``_rollback``), by hand: asyncpg's transaction() would cost a round trip of its own.
            try:
                await conn.execute(self._begin)
                results = await self._merge(conn, batch, rows, trace)
                await conn.execute("COMMIT")
            except BaseException:
                await _rollback(conn)
                raise
        return results

    async def _merge(
        self, conn: Any, batch: Batch, rows: list[PreparedRow], trace: Callable[[int], str]
    ) -> list[ApplyResult]:
        """The statements of one write, inside its transaction; returns the results."""
        sql = self._sql
        staged = batch.staged()
        if len(staged) <= ARRAY_ROWS:  # one round trip; COPY takes two, and is cheaper only for many rows
            unwritten = await conn.fetch(sql.merge_arrays, *zip(*staged, strict=True))
        else:
            await conn.copy_records_to_table(
                statements.STAGE, schema_name="pg_temp", columns=statements.STAGE_COLUMNS, records=staged
            )
            unwritten = await conn.fetch(sql.merge)
        reread = batch.report(unwritten)
        stored = await conn.fetch(sql.current, reread) if reread else []
        results, second = batch.decide({r["record_key"]: (r["revision"], r["content_hash"]) for r in stored})
        if second:
            # Lock-only candidates (a key repeated in the batch) whose winner is now known; their rows
            # are locked by this transaction, so this writes every one of them.
            status = await conn.execute(sql.upsert, *zip(*(w.values for w in second), strict=True))
            if status != f"INSERT 0 {len(second)}":
                raise SinkUnavailable(f"warehouse wrote {status} of {len(second)} locked rows")
        logged = log_rows(rows, results, trace)
        if logged:  # none when every record was new and delivered once: the usual batch
            await conn.copy_records_to_table(
                statements.STAGE_LOG, schema_name="pg_temp", columns=_LOG_NAMES, records=logged
            )
            await conn.execute(sql.log)
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
        sql = f"SELECT idempotency_key FROM {self._schema}.ledger WHERE first_applied_at IS NOT NULL"
        return {r[0] for r in await self._pool.fetch(sql)}

    async def delivery_counts(self) -> dict[str, int]:
        """Raw deliveries per idempotency key, whatever their outcome."""
        rows = await self._pool.fetch(f"SELECT idempotency_key, deliveries FROM {self._schema}.ledger")
        return {r[0]: r[1] for r in rows}

    async def close(self) -> None:
        """Close the pool (committed writes are already durable)."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


_LOG_NAMES = tuple(c for c, _ in statements.LOG_COLUMNS)


async def _rollback(conn: Any) -> None:
    """Ends a failed write's transaction. A connection that cannot (broken, or busy with a cancelled
    statement) is closed: the pool opens another, and the server rolls back what it held."""
    if conn.is_closed():
        return
    try:
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
    except Exception:  # the caller raises the write's own error
        conn.terminate()
    except BaseException:
        conn.terminate()
        raise


async def _reset(conn: Any) -> None:
    """What the pool does to a connection given back: roll back a transaction left open, if any.

    asyncpg's default reset (unlock advisory locks, close cursors, unlisten, reset settings) is a round
    trip per write that finds nothing to undo here: writes take transaction-scoped locks and settings
    only (``statements.begin``), and the sink opens no cursor and listens to nothing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")
