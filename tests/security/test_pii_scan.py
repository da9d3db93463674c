"""The PII scan: representative flows with personal data, everything they leave behind scanned for NIKs and
names. Captured: every structlog event (raw event dicts, *before* the NIK-redacting processor, so the
safety net cannot hide a leak), every HTTP response body (ingest 202/400/413/422, admin quarantine views,
metrics), and the bytes of the quarantine, evidence and admin-audit databases. Zero hits allowed.

What is scanned for: any 16-digit run (alone or grouped in fours by spaces, dots or dashes) that is not
part of a longer hexadecimal token (hashes and ids), every NIK the flows sent, and the names they sent.
The warehouse is not scanned: it holds names by design (NIKs there are tokens; checked separately).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import structlog

from adapters.sqlite_sink.sink import SqliteSink
from hub.node import Node
from tests.helpers import KEY_BOGOR, TOKEN_ACT, TOKEN_READ, example, until
from tests.security.test_node_trust import inject, node, now_envelope

__all__ = ["node"]  # the strict node fixture (signatures and broker users required)

NIKS = ["3201010101800099", "3201054506750099", "3273014105900002", "3201026512880003"]
NAMES = ["Dedi Suryadi", "Iis Rohayati", "Budi Santoso", "Siti Aminah", "Rahmat Hidayat", "Yohanes Wenda"]
_DIGITS16 = re.compile(r"(?<![0-9A-Fa-f])\d{16}(?![0-9A-Fa-f])|\d{4}([ .-])\d{4}\1\d{4}\1\d{4}")


def hits(text: str) -> list[str]:
    """Every NIK-shaped run, sent NIK and sent name in ``text``."""
    found = [m.group(0) for m in _DIGITS16.finditer(text)]
    found += [nik for nik in NIKS if nik in text]
    found += [name for name in NAMES if name.lower() in text.lower()]
    return found


def ormas(rid: str, **changes: Any) -> dict[str, Any]:
    data = example("ormas_registration") | changes
    return {"id": rid, "revision": 1, "data": data}


def conflict(rid: str, kronologi: str, **changes: Any) -> dict[str, Any]:
    data = example("conflict_incident") | {"kronologi": kronologi} | changes
    return {"id": rid, "revision": 1, "data": data}


GOOD = [
    ormas("G-ORMAS-1"),
    conflict("G-KONFLIK-1", "Sdr. Budi Santoso (NIK 3273014105900002) melapor, HP 0812-3456-7890."),
]
BAD = [
    # a clear NIK where a token belongs, a name beside it, and a broken date
    ormas(
        "B-ORMAS-1",
        tanggal_terbit="12/06/2021",
        pengurus=[{"jabatan": "ketua", "nama": "Siti Aminah", "nik_token": "3201026512880003"}],
    ),
    # a NIK-ish value of the wrong length, a name in a field that does not exist
    ormas(
        "B-ORMAS-2", pengurus=[{"jabatan": "ketua", "nama": "Rahmat Hidayat", "nik_token": "320102651288000"}]
    ),
    conflict("B-KONFLIK-1", "Yohanes Wenda, NIK 3201 0265 1288 0003, terluka", skala="sangat_besar_sekali"),
    {"id": "B-ITEM-1", "revision": "satu", "nik": "3201026512880003", "nama": "Siti Aminah", "data": {}},
]


async def call(
    bodies: list[str],
    node: Node,
    method: str,
    path: str,
    *,
    data: Any = None,
    key: str | None = None,
    token: str | None = None,
    raw: bytes | None = None,
) -> Any:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-Key"] = key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = raw if raw is not None else (orjson.dumps(data) if data is not None else None)
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, f"http://127.0.0.1:{node.http_port}{path}", data=body, headers=headers) as r,
    ):
        text = await r.text()
        bodies.append(f"{method} {path} -> {r.status}: {text}")
        return r.status, (orjson.loads(text) if text and text[0] in "[{" else text)


def read_all(directory: Path, pattern: str) -> bytes:
    return b"".join(p.read_bytes() for p in directory.glob(pattern))


def files(state: Path) -> Iterator[tuple[str, bytes]]:
    for name in ("quarantine.sqlite3", "evidence.sqlite3", "admin-audit.sqlite3"):
        for path in state.glob(name + "*"):  # the database and its WAL
            yield path.name, path.read_bytes()


async def test_nothing_personal_leaks(node: Node, tmp_path: Path) -> None:
    """Good and bad records with NIKs and names, both ingest modes, admin views, a consume-stage quarantine:
    zero NIKs and names in logs, HTTP bodies, quarantine, evidence and audit stores."""
    bodies: list[str] = []
    with structlog.testing.capture_logs() as events:
        assert (
            await call(bodies, node, "POST", "/v1/records/ormas_registration", data=[GOOD[0]], key=KEY_BOGOR)
        )[0] == 202
        assert (
            await call(bodies, node, "POST", "/v1/records/conflict_incident", data=[GOOD[1]], key=KEY_BOGOR)
        )[0] == 202
        assert (await call(bodies, node, "POST", "/v1/records/ormas_registration", data=BAD, key=KEY_BOGOR))[
            0
        ] == 422
        status, answer = await call(
            bodies,
            node,
            "POST",
            "/v1/records/ormas_registration?on_invalid=quarantine",
            data=BAD,
            key=KEY_BOGOR,
        )
        assert status == 202 and answer["quarantined"] == 4
        broken = b'[{"id": "X", "nik": "3201026512880003", "nama": "Siti Aminah"'
        assert (
            await call(bodies, node, "POST", "/v1/records/ormas_registration", raw=broken, key=KEY_BOGOR)
        )[0] == 400
        # a rogue, unsigned envelope on the bus carrying a NIK and a name: quarantined at the consumer
        rogue = now_envelope("ROGUE-1").model_dump(mode="json")
        rogue["payload"]["kronologi"] = "Yohanes Wenda NIK 3201026512880003"
        rogue["payload"]["pihak_terlibat"] = [{"nama": "Siti Aminah", "nik": "3201026512880003"}]
        await inject(node, rogue)
        await until(lambda: node.quarantine_store.count() == 5)
        sink = node.sink
        assert isinstance(sink, SqliteSink)
        await until(lambda: sink.store.count() == 2)
        status, listing = await call(bodies, node, "GET", "/v1/admin/quarantine?limit=50", token=TOKEN_READ)
        assert status == 200
        for entry in listing["entries"] if isinstance(listing, dict) else listing:
            await call(bodies, node, "GET", f"/v1/admin/quarantine/{entry['entry_id']}", token=TOKEN_READ)
        await call(bodies, node, "GET", "/v1/admin/audit", token=TOKEN_ACT)
        await call(bodies, node, "GET", "/metrics")
    evidence = node.evidence
    assert evidence is not None
    await until(lambda: evidence.count() == 11)
    decisions = [d for d, _ in evidence.decisions()]
    assert sorted(set(decisions)) == ["accepted", "quarantined", "quarantined_at_ingest", "refused_at_ingest"]
    assert (decisions.count("refused_at_ingest"), decisions.count("quarantined_at_ingest")) == (4, 4)
    leaks: dict[str, list[str]] = {}
    for i, event in enumerate(events):
        if found := hits(repr(event)):
            leaks[f"log event {i} ({event.get('event')})"] = found
    for body in bodies:
        if found := hits(body):
            leaks[body[:80]] = found
    for name, blob in files(node.settings.state_dir):
        if found := hits(blob.decode("latin-1")):
            leaks[name] = found
    assert leaks == {}
    kinds = {(e["event"], e.get("stage")) for e in events}  # the flows really ran and were captured
    assert {
        ("records_published", None),
        ("record_quarantined", "ingest"),
        ("record_quarantined", "consume"),
    } <= kinds
    assert len(bodies) >= 8
    warehouse = read_all(tmp_path, "warehouse.sqlite3*")
    assert b"Dedi Suryadi" in warehouse  # names are there by design (the flow really reached the sink)
    assert [nik for nik in NIKS if nik.encode() in warehouse] == []  # NIKs never: tokens and redaction


async def test_an_operator_sees_free_text_as_stored_on_request(node: Node) -> None:
    """The stored preview keeps free text masked (it may name people); the act role can see it the way
    the sink would store it (NIK redacted, audited); the read role cannot."""
    bodies: list[str] = []
    rogue = now_envelope("ROGUE-2").model_dump(mode="json")
    rogue["payload"]["kronologi"] = "Warga melapor, NIK 3201026512880003, telp 081234567890"
    await inject(node, rogue)
    await until(lambda: node.quarantine_store.count() == 1)
    status, listing = await call(bodies, node, "GET", "/v1/admin/quarantine?limit=5", token=TOKEN_READ)
    assert status == 200
    entry = listing["entries"][0]
    assert "Warga melapor" not in str(entry)  # the stored preview: free text masked
    path = f"/v1/admin/quarantine/{entry['entry_id']}/as-stored"
    assert (await call(bodies, node, "GET", path, token=TOKEN_READ))[0] == 403
    status, view = await call(bodies, node, "GET", path, token=TOKEN_ACT)
    assert status == 200
    text = view["as_stored"]["payload"]["kronologi"]
    assert text.startswith("Warga melapor") and "3201026512880003" not in text and "081234567890" not in text
    audit = node.audit.recent(5)
    assert any(a["action"] == "quarantine.view_as_stored" for a in audit)
