"""Lineage of one record by its message id: where it came from, the levels it passed, whether it sits in
quarantine, and which sinks applied it. Served as ``GET /v1/admin/lineage/{message_id}`` and printed by
``simpul lineage MESSAGE_ID`` (``hub.cli.lineage``).

Sources of the answer, all read-only:

* the sinks that keep an applied log (the SQLite and PostgreSQL warehouses: ``trace(message_id)``), which
  hold per delivered revision the outcome, the origin (source system, office, adapter, schema and mapping
  version) and the hops of ``Envelope.lineage``;
* the node's quarantine store (entries carry the record's message id);
* sinks without an applied log (files, webhook, AMQP link) are listed as not able to tell.

Nothing here returns payload values: only identities, times, outcomes and reasons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from hub.quarantine.store import QuarantineStore

NOT_RECORDED = "not recorded"


async def trace_record(
    message_id: str,
    *,
    node: str,
    level: str,
    quarantine: QuarantineStore | None,
    sinks: Sequence[Any],
) -> dict[str, Any]:
    """The lineage of ``message_id`` at one node (see the module docstring for the shape's sources)."""
    sink_rows: list[dict[str, Any]] = []
    origin: dict[str, Any] | None = None
    hops: list[dict[str, Any]] = []
    for sink in sinks:
        name = str(getattr(sink, "name", type(sink).__name__))
        probe = getattr(sink, "trace", None)
        if not callable(probe):
            sink_rows.append({"sink": name, "status": NOT_RECORDED})
            continue
        found = await probe(message_id)
        if found is None:
            sink_rows.append({"sink": name, "status": "not seen"})
            continue
        sink_rows.append(
            {
                "sink": name,
                "status": found["status"],
                "revision": found["revision"],
                "first_applied_at": found["first_applied_at"],
                "deliveries": found["deliveries"],
                "stored_revision": found["stored_revision"],
                "stored_state": found["stored_state"],
            }
        )
        trace = found.get("trace")
        if origin is None and trace:
            origin = {k: v for k, v in trace.items() if k != "hops"} | {"revision": found["revision"]}
            hops = [{"node": h[0], "level": h[1], "at": h[2], "status": h[3]} for h in trace["hops"]]
    entries = await asyncio.to_thread(quarantine.by_message_id, message_id) if quarantine else []
    held = [
        {
            "entry_id": e.entry_id,
            "node": e.node,
            "stage": e.stage,
            "adapter": e.adapter,
            "reason": e.reason,
            "message": e.message,
            "status": status,
            "quarantined_at": e.quarantined_at.isoformat(),
        }
        for e, status in entries
    ]
    if origin is None and entries:
        e = entries[0][0]
        schema = e.schema_name if e.schema_version is None else f"{e.schema_name}@{e.schema_version}"
        origin = {
            "schema": schema,
            "system": e.source_system,
            "office": e.office,
            "adapter": e.adapter,
            "mapping_version": None,
            "source_record_id": e.source_record_id,
            "kode_wilayah": e.kode_wilayah,
            "received_at": None,
            "revision": e.revision,
        }
    return {
        "message_id": message_id,
        "node": node,
        "level": level,
        "found": origin is not None,
        "origin": origin,
        "hops": hops,
        "quarantine": held,
        "sinks": sink_rows,
    }


def lineage_lines(view: dict[str, Any]) -> list[str]:
    """``trace_record``'s answer as text: origin, then tables of hops, quarantine entries and sinks."""
    from hub.admin.client import table

    lines = [f"message {view['message_id']} at node {view['node']} (level {view['level']})"]
    origin = view["origin"]
    if origin is None:
        return [*lines, "not found: no sink applied it and it is not in this node's quarantine"]
    lines += [
        f"schema:          {origin.get('schema')}",
        f"source:          system {origin.get('system')}, office {origin.get('office')}, "
        f"adapter {origin.get('adapter')}",
        f"record:          id {origin.get('source_record_id')}, revision {origin.get('revision')}, "
        f"kode wilayah {origin.get('kode_wilayah')}",
        f"mapping version: {origin.get('mapping_version') or '-'}",
        f"received:        {origin.get('received_at') or '-'}",
    ]
    # How values were obtained (an unparseable value left unknown, a moved region accepted), as stored.
    lines += [f"note:            {n['loc']}: {n['rule']}: {n['detail']}" for n in origin.get("notes") or []]
    lines += ["", "HOPS"]
    arrived = next((s["first_applied_at"] for s in view["sinks"] if s.get("first_applied_at")), None)
    here = {
        "node": view["node"],
        "level": view["level"],
        "at": arrived or "-",
        "status": "diterapkan / applied",
    }
    if arrived is None and view["quarantine"]:
        first = view["quarantine"][0]
        here |= {"at": first["quarantined_at"], "status": "dikarantina / quarantined"}
    elif arrived is None:
        here["status"] = "belum diterapkan / not applied"
    lines.append(table([*view["hops"], here], ["node", "level", "at", "status"]))
    lines += ["", "QUARANTINE"]
    if view["quarantine"]:
        lines.append(
            table(view["quarantine"], ["entry_id", "stage", "adapter", "reason", "status", "quarantined_at"])
        )
    else:
        lines.append("not in quarantine")
    lines += ["", "SINKS"]
    lines.append(
        table(
            view["sinks"], ["sink", "status", "revision", "first_applied_at", "deliveries", "stored_revision"]
        )
    )
    return lines
