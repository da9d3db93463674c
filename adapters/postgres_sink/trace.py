"""The applied-log lookup of ``simpul lineage`` on the PostgreSQL warehouse, shared by the sink and its
read-only reader."""

from __future__ import annotations

from typing import Any

import orjson


async def read_trace(pool: Any, schema: str, message_id: str) -> dict[str, Any] | None:
    """What the warehouse in ``schema`` knows of one delivered record, or None; the same shape as
    ``adapters.sqlite_sink.store.read_trace``. Scans the applied log."""
    row = await pool.fetchrow(
        f"SELECT a.idempotency_key, a.record_key, a.revision, a.first_applied_at, a.deliveries, "
        f"a.conflicts, a.last_status, a.trace::text AS trace, r.revision AS stored_revision, "
        f"r.state AS stored_state FROM {schema}.applied_log a LEFT JOIN {schema}.records r "
        f"ON r.record_key = a.record_key WHERE a.message_id = $1 LIMIT 1",
        message_id,
    )
    if row is None:
        return None
    first = row["first_applied_at"]
    return {
        "idempotency_key": row["idempotency_key"],
        "record_key": row["record_key"],
        "revision": row["revision"],
        "status": row["last_status"],
        "first_applied_at": first.isoformat() if first is not None else None,
        "deliveries": row["deliveries"],
        "conflicts": row["conflicts"],
        "stored_revision": row["stored_revision"],
        "stored_state": row["stored_state"],
        "trace": orjson.loads(row["trace"]) if row["trace"] else None,
    }
