"""The ledger lookup of ``simpul lineage`` on the PostgreSQL warehouse, shared by the sink and its
read-only reader."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from adapters.sqlite_sink.rows import trace_json_checked
from hub.consume.checked import CheckedRecord


async def read_trace(pool: Any, schema: str, message_id: str) -> dict[str, Any] | None:
    """What the warehouse in ``schema`` knows of one delivered record, or None; the same shape as
    ``adapters.sqlite_sink.store.read_trace``. Scans the ledger (``migrations`` 4: the records rows and
    the applied_log)."""
    row = await pool.fetchrow(
        f"SELECT l.idempotency_key, l.record_key, l.revision, l.first_applied_at, l.deliveries, "
        f"l.conflicts, l.last_status, l.trace::text AS trace, l.envelope::text AS envelope, "
        f"r.revision AS stored_revision, r.state AS stored_state FROM {schema}.ledger l "
        f"LEFT JOIN {schema}.records r ON r.record_key = l.record_key WHERE l.message_id = $1 LIMIT 1",
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
        "trace": _first_trace(row["envelope"], row["trace"]),
    }


def _first_trace(envelope: str | None, trace: str | None) -> dict[str, Any] | None:
    """The trace of a key's first delivery: derived from the envelope the ledger kept of its applying
    delivery (a records row, or one the trigger kept when it was superseded), by the function that
    made the trace when every delivery wrote one (``trace_json_checked``, so the two agree); else the
    trace stored with the entry (a key never applied, or superseded within its batch); else None."""
    if envelope is not None:
        data = orjson.loads(envelope)
        received = datetime.fromisoformat(data["received_at"])
        return dict(orjson.loads(trace_json_checked(CheckedRecord(data, received, None))))
    return dict(orjson.loads(trace)) if trace else None
