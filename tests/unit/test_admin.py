"""The admin API: roles, quarantine listing without personal data, edit-and-redrive, bulk redrive, audit."""

from __future__ import annotations

import threading
from typing import Any

import aiohttp
import orjson

from adapters.sqlite_sink.sink import SqliteSink
from hub.admin.audit import AdminAudit
from hub.node import Node
from hub.quarantine.store import QuarantineStore
from schemas.envelope import make_record_key
from tests.helpers import TOKEN_ACT, TOKEN_READ, item, until
from tests.unit.test_http_ingest import post

NIK = "3201010101800099"


async def admin(
    node: Node, method: str, path: str, token: str | None = TOKEN_ACT, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method,
            f"http://127.0.0.1:{node.http_port}{path}",
            headers=headers,
            data=orjson.dumps(body) if body is not None else None,
        ) as resp,
    ):
        return resp.status, orjson.loads(await resp.read() or b"null")


async def _quarantine_two(node: Node) -> list[str]:
    """Send two records with an unknown region in quarantine mode; return their entry ids."""
    bad = [item("ormas_registration", f"Q{i}", kode_wilayah="32.98.99") for i in range(2)]
    bad[0]["data"]["pengurus"][0]["nama"] = "Budi Santoso"
    status, _body, _ = await post(node, "ormas_registration", bad, query="?on_invalid=quarantine")
    assert status == 202
    await until(lambda: node.quarantine_store.count() == 2)
    return sorted(e.entry_id for e in node.quarantine_store.list())


async def test_roles_are_enforced(memory_node: Node) -> None:
    """No token: 401; a read token may list but not act (403)."""
    assert (await admin(memory_node, "GET", "/v1/admin/quarantine", token=None))[0] == 401
    assert (await admin(memory_node, "GET", "/v1/admin/quarantine", token=TOKEN_READ))[0] == 200
    status, body = await admin(memory_node, "POST", "/v1/admin/quarantine/x/redrive", token=TOKEN_READ)
    assert status == 403 and body["error"] == "forbidden"


async def test_listing_shows_reasons_but_no_personal_data(memory_node: Node) -> None:
    """Entries list with reason and issues; no sealed original, no name, no NIK."""
    await _quarantine_two(memory_node)
    status, body = await admin(
        memory_node, "GET", "/v1/admin/quarantine?reason=validation_failed", token=TOKEN_READ
    )
    assert status == 200 and body["total"] == 2
    text = orjson.dumps(body).decode()
    assert "sealed_original" not in text and "Budi Santoso" not in text and NIK not in text
    assert body["entries"][0]["issues"][0]["rule"] == "kode_wilayah_unknown"
    assert (await admin(memory_node, "GET", "/v1/admin/quarantine?region=33", token=TOKEN_READ))[1][
        "total"
    ] == 0


async def test_edit_and_redrive_lands_the_record_and_is_audited(memory_node: Node) -> None:
    """Original fetched (act role), corrected, redriven: published, applied, entry redriven, audited."""
    entry_id = (await _quarantine_two(memory_node))[0]
    status, body = await admin(memory_node, "GET", f"/v1/admin/quarantine/{entry_id}/original")
    assert status == 200
    fixed = body["original"]
    fixed["data"]["kode_wilayah"] = "32.01.01"
    status, result = await admin(
        memory_node, "POST", f"/v1/admin/quarantine/{entry_id}/redrive", body={"replacement": fixed}
    )
    assert status == 200 and result["status"] == "published", result
    sink = memory_node.sink
    assert isinstance(sink, SqliteSink)
    key = make_record_key("ormas_registration", "sitimdu-bogor", fixed["id"])
    await until(lambda: sink.store.get(key) is not None)
    assert memory_node.quarantine_store.status_of(entry_id)[0] == "redriven"  # type: ignore[index]
    status, _ = await admin(memory_node, "POST", f"/v1/admin/quarantine/{entry_id}/redrive")
    assert status == 409
    audit = (await admin(memory_node, "GET", "/v1/admin/audit", token=TOKEN_READ))[1]
    actions = [(a["actor"], a["action"], a["result"]) for a in audit]
    assert ("ops-jabar", "quarantine.redrive", "published") in actions
    assert ("ops-jabar", "quarantine.view_original", "ok") in actions
    assert NIK not in orjson.dumps(audit).decode()


async def test_unchanged_redrive_fails_again_and_stays_open(memory_node: Node) -> None:
    """Redriving the same bad bytes quarantines again under the same entry, which stays open."""
    entry_id = (await _quarantine_two(memory_node))[0]
    status, result = await admin(memory_node, "POST", f"/v1/admin/quarantine/{entry_id}/redrive")
    assert status == 200 and result["status"] == "quarantined" and result["new_entry_id"] == entry_id
    assert memory_node.quarantine_store.status_of(entry_id)[0] == "open"  # type: ignore[index]


async def test_bulk_redrive_by_filter_and_discard(memory_node: Node) -> None:
    """Bulk redrive touches only matching open entries; discard closes one."""
    first, _second = await _quarantine_two(memory_node)
    status, body = await admin(memory_node, "POST", f"/v1/admin/quarantine/{first}/discard")
    assert status == 200
    status, body = await admin(
        memory_node, "POST", "/v1/admin/quarantine/redrive", body={"reason": "validation_failed"}
    )
    assert status == 200 and body["matched"] == 1 and body["outcomes"] == {"quarantined": 1}
    assert memory_node.quarantine_store.status_of(first)[0] == "discarded"  # type: ignore[index]
    status, body = await admin(memory_node, "GET", "/v1/admin/quarantine/nope")
    assert status == 404


async def test_admin_store_calls_run_off_the_event_loop(memory_node: Node, monkeypatch: Any) -> None:
    """Every SQLite read or write the admin handlers, the status page's overview and the scrape make
    (quarantine store, audit log) runs in a worker thread, never on the event loop's thread."""
    entry_id = (await _quarantine_two(memory_node))[0]
    loop_thread = threading.get_ident()
    calls: list[tuple[str, bool]] = []

    def spy(cls: Any, name: str) -> None:
        real = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append((f"{cls.__name__}.{name}", threading.get_ident() == loop_thread))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    for name in ("list", "count", "counts_by_reason", "status_of", "get", "mark"):
        spy(QuarantineStore, name)
    for name in ("record", "recent"):
        spy(AdminAudit, name)
    for path in (
        "/v1/admin/status",
        "/v1/admin/overview",
        "/v1/admin/quarantine",
        f"/v1/admin/quarantine/{entry_id}",
        "/v1/admin/audit",
    ):
        assert (await admin(memory_node, "GET", path, token=TOKEN_READ))[0] == 200, path
    assert (await admin(memory_node, "POST", f"/v1/admin/quarantine/{entry_id}/discard"))[0] == 200
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{memory_node.http_port}/metrics") as resp,
    ):
        assert resp.status == 200
    called = {name for name, _ in calls}
    assert {
        "QuarantineStore.list",
        "QuarantineStore.count",
        "QuarantineStore.counts_by_reason",
        "QuarantineStore.status_of",
        "QuarantineStore.mark",
        "AdminAudit.record",
        "AdminAudit.recent",
    } <= called
    on_loop = sorted({name for name, on in calls if on})
    assert on_loop == [], f"blocking store calls on the event loop: {on_loop}"
