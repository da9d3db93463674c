"""Reading the SQLite warehouse back (``hub.adapters.warehouse``): the feeds' ``SqliteReader`` and the
read-only ``ReadOnlyTrace`` of ``simpul lineage``, each over its own connection beside the writer.

``SqliteReader``: WAL mode, each query one statement and so one consistent snapshot. Positions are
``(change_seq, record_key)``; ``change_seq`` is unique, taken under the writer's lock in commit order, so
``change_seq > cursor`` alone is a stable keyset.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC
from pathlib import Path
from typing import Any

import orjson

from adapters.sqlite_sink.store import read_trace
from hub.adapters.warehouse import START, FeedRow, Position, ReportRow, ScanFilter, parse_instant
from hub.errors import SinkUnavailable

_COLUMNS = (
    "change_seq, record_key, schema_name, schema_version, kode_wilayah, revision, op, state, payload, "
    "envelope, applied_at"
)


class SqliteReader:
    """A ``WarehouseReader`` over the warehouse file at ``path`` (opened on first use)."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            if not self._path.exists():
                raise SinkUnavailable("the warehouse file does not exist yet (is the sink enabled?)")
            conn = sqlite3.connect(str(self._path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
            if "change_seq" not in columns:
                conn.close()
                raise SinkUnavailable("the warehouse has no change_seq yet: start the node's sink once")
            self._conn = conn
        return self._conn

    def _run(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._connection().execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise SinkUnavailable(f"warehouse read failed ({type(exc).__name__})") from None

    async def scan(self, where: ScanFilter, after: Position, limit: int) -> list[FeedRow]:
        if not where.classifications:
            return []
        sql = f"SELECT {_COLUMNS} FROM records WHERE schema_name = ? AND change_seq > ?"
        args: list[Any] = [where.schema, after.seq]
        marks = ", ".join("?" * len(where.classifications))
        sql += f" AND json_extract(envelope, '$.classification') IN ({marks})"
        args += where.classifications
        if where.changed_since is not None:
            # applied_at is ISO text in UTC, so text order is time order.
            sql += " AND applied_at >= ?"
            args.append(where.changed_since.astimezone(UTC).isoformat())
        if where.regions:
            either = " OR ".join("kode_wilayah = ? OR kode_wilayah LIKE ?" for _ in where.regions)
            sql += f" AND ({either})"
            for prefix in where.regions:
                args += [prefix, prefix + ".%"]
        sql += " ORDER BY change_seq LIMIT ?"
        args.append(limit)
        rows = await asyncio.to_thread(self._run, sql, args)
        return [_feed_row(r) for r in rows]

    async def tail(self, schema: str) -> Position:
        sql = "SELECT change_seq, record_key FROM records WHERE schema_name = ? "
        sql += "ORDER BY change_seq DESC LIMIT 1"
        rows = await asyncio.to_thread(self._run, sql, [schema])
        return Position(int(rows[0][0]), str(rows[0][1])) if rows else START

    async def report_rows(self, schema: str) -> list[ReportRow]:
        sql = (
            "SELECT r.record_key, r.kode_wilayah, r.payload, r.occurred_at, "
            "json_extract(r.envelope, '$.reported_at'), a.first "
            "FROM records r LEFT JOIN (SELECT record_key, MIN(first_applied_at) AS first FROM applied_log "
            "GROUP BY record_key) a ON a.record_key = r.record_key "
            "WHERE r.schema_name = ? AND r.state = 'active'"
        )
        rows = await asyncio.to_thread(self._run, sql, [schema])
        return [
            ReportRow(
                record_key=str(key),
                kode_wilayah=str(kode),
                payload=orjson.loads(payload),
                occurred_at=parse_instant(occurred),
                reported_at=parse_instant(reported),
                first_applied_at=parse_instant(first),
            )
            for key, kode, payload, occurred, reported, first in rows
        ]

    async def close(self) -> None:
        def _close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(_close)


def _feed_row(row: tuple[Any, ...]) -> FeedRow:
    seq, key, schema, version, kode, revision, op, state, payload, envelope, applied = row
    applied_at = parse_instant(applied)
    assert applied_at is not None  # NOT NULL in the table
    return FeedRow(
        position=Position(int(seq), str(key)),
        schema_name=str(schema),
        schema_version=str(version),
        kode_wilayah=str(kode),
        revision=int(revision),
        op=str(op),
        state=str(state),
        payload=orjson.loads(payload),
        envelope=orjson.loads(envelope),
        applied_at=applied_at,
    )


class ReadOnlyTrace:
    """A ``TraceReader`` over the warehouse file at ``path`` opened read-only (a running node may hold it);
    a connection per lookup, off the event loop."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self._path = path

    async def trace(self, message_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._trace, message_id)

    def _trace(self, message_id: str) -> dict[str, Any] | None:
        conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True)
        try:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(applied_log)")}
            if "message_id" not in columns:
                return None  # a warehouse from before lineage: nothing to find by message id
            return read_trace(conn, message_id)
        finally:
            conn.close()

    async def close(self) -> None:
        return None
