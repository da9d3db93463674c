"""HTTP ingest on the in-memory transport: status codes, error bodies, quarantine mode, no echoed values."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from hub.model import codec
from hub.node import Node
from hub.transport.memory import MemoryTransport
from tests.helpers import KEY_BOGOR, item, stall_publishes

NIK = "3201010101800099"
NAME = "Budi Santoso"


async def post(
    node: Node,
    schema: str,
    body: Any,
    *,
    key: str | None = KEY_BOGOR,
    query: str = "",
    raw: bytes | None = None,
    ctype: str = "application/json",
) -> tuple[int, dict[str, Any], str]:
    headers = {"Content-Type": ctype}
    if key:
        headers["X-API-Key"] = key
    data = raw if raw is not None else orjson.dumps(body)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{node.http_port}/v1/records/{schema}{query}", data=data, headers=headers
        ) as resp,
    ):
        text = await resp.text()
        return resp.status, (orjson.loads(text) if text else {}), text


def central(node: Node) -> list[dict[str, Any]]:
    transport = node.transport
    assert isinstance(transport, MemoryTransport)
    return [
        env
        for m in transport.published
        if m.exchange.endswith(".ingest")
        for env in codec.split_batch(m.body)
    ]


async def test_single_record_accepted_after_confirm(memory_node: Node) -> None:
    """One valid record answers 202 with its message id, and it is on the ingest exchange."""
    status, body, _ = await post(memory_node, "ormas_registration", item("ormas_registration", "SKT-1"))
    assert status == 202, body
    assert body["accepted"] == 1 and body["quarantined"] == 0
    envs = central(memory_node)
    assert [e["message_id"] for e in envs] == [body["results"][0]["message_id"]]
    assert envs[0]["kode_wilayah"] == "32.01.01"  # undotted input normalised


async def test_batch_json_and_ndjson(memory_node: Node) -> None:
    """A JSON array and NDJSON lines are both accepted record by record."""
    items = [item("ormas_registration", f"SKT-{i}") for i in range(5)]
    status, body, _ = await post(memory_node, "ormas_registration", items)
    assert status == 202 and body["accepted"] == 5
    ndjson = b"\n".join(orjson.dumps(i) for i in items[:3]) + b"\n"
    status, body, _ = await post(
        memory_node, "ormas_registration", None, raw=ndjson, ctype="application/x-ndjson"
    )
    assert status == 202 and body["accepted"] == 3


async def test_reject_mode_refuses_the_whole_batch_with_field_details(memory_node: Node) -> None:
    """One bad record in three: 422 naming index, field and rule; nothing is published."""
    bad = item("ormas_registration", "SKT-bad")
    bad["data"]["tanggal_terbit"] = "bukan tanggal"
    bad["data"]["pengurus"][0]["nama"] = NAME
    status, body, text = await post(
        memory_node,
        "ormas_registration",
        [item("ormas_registration", "A"), bad, item("ormas_registration", "B")],
    )
    assert status == 422
    assert [r["index"] for r in body["records"]] == [1]
    assert body["records"][0]["issues"][0]["loc"] == "data.tanggal_terbit"
    assert "bukan tanggal" not in text and NAME not in text
    assert central(memory_node) == []


@pytest.mark.parametrize(
    ("change", "loc", "rule"),
    [
        ({"kode_wilayah": "32.98.99"}, "data.kode_wilayah", "kode_wilayah_unknown"),
        ({"kode_wilayah": "32"}, "data.kode_wilayah", "region_level"),
        ({"kode_wilayah": "33.01.01"}, "data.kode_wilayah", "region_outside_office"),
        ({"kode_wilayah": 3201}, "data.kode_wilayah", None),
        ({"bidang_kegiatan": "bukan daftar"}, "data.bidang_kegiatan", "list_type"),
        ({"kolom_baru": 1}, "data.kolom_baru", "extra_forbidden"),
    ],
)
async def test_bad_input_cases(memory_node: Node, change: dict[str, Any], loc: str, rule: str | None) -> None:
    """Unknown region, wrong level, foreign region, wrong types, extra fields: 422 with loc and rule."""
    status, body, _ = await post(memory_node, "ormas_registration", item("ormas_registration", "X", **change))
    assert status == 422, body
    issue = body["records"][0]["issues"][0]
    assert issue["loc"] == loc
    if rule:
        assert issue["rule"] == rule


async def test_missing_field_and_invalid_nik_are_reported_without_values(memory_node: Node) -> None:
    """A missing field and a NIK with an impossible birth date: rules named, the NIK never echoed."""
    rec = item("ormas_registration", "X")
    del rec["data"]["nama"]
    rec["data"]["pengurus"][0]["nik_token"] = "3201017513800001"
    status, body, text = await post(memory_node, "ormas_registration", rec)
    assert status == 422
    rules = {(i["loc"], i["rule"]) for i in body["records"][0]["issues"]}
    assert ("data.nama", "missing") in rules
    assert ("data.pengurus.0.nik_token", "nik_birth_date") in rules
    assert "3201017513800001" not in text


async def test_quarantine_mode_publishes_good_and_quarantines_bad(memory_node: Node) -> None:
    """on_invalid=quarantine: 202, good published, bad filed in quarantine with the reason, masked."""
    bad = item("ormas_registration", "SKT-bad", kode_wilayah="32.98.99")
    bad["data"]["alamat_sekretariat"] = f"rumah {NAME} NIK {NIK}"
    status, body, _ = await post(
        memory_node,
        "ormas_registration",
        [item("ormas_registration", "ok"), bad],
        query="?on_invalid=quarantine",
    )
    assert status == 202
    assert (body["accepted"], body["quarantined"]) == (1, 1)
    assert body["results"][1]["reason"] == "validation_failed"
    for _ in range(100):
        if memory_node.quarantine_store.count() == 1:
            break
        await asyncio.sleep(0.02)
    entry = memory_node.quarantine_store.list()[0]
    assert entry.reason == "validation_failed" and entry.source_record_id == "SKT-bad"
    assert NIK not in entry.model_dump_json() and NAME not in entry.model_dump_json()


async def test_status_codes_for_auth_schema_body(memory_node: Node) -> None:
    """401 without key, 404 unknown schema, 400 malformed JSON (no content echoed), 415 bad type."""
    assert (await post(memory_node, "ormas_registration", {}, key=None))[0] == 401
    assert (await post(memory_node, "ormas_registration", {}, key="wrong"))[0] == 401
    assert (await post(memory_node, "no_such_schema", {}))[0] == 404
    status, body, text = await post(memory_node, "ormas_registration", None, raw=b'{"id": "rahasia", ')
    assert status == 400 and body["error"] == "bad_body" and "rahasia" not in text
    assert (await post(memory_node, "ormas_registration", None, raw=b"a,b", ctype="text/csv"))[0] == 415


async def test_oversized_body_is_413(memory_node: Node) -> None:
    """A body over max_body_bytes answers 413 with a JSON problem."""
    limit = memory_node.settings.http.max_body_bytes
    status, body, _ = await post(memory_node, "ormas_registration", None, raw=b"[" + b" " * limit + b"]")
    assert status == 413 and body["error"] == "body_too_large"


async def test_broker_unavailable_gives_503_with_retry_after(memory_node: Node) -> None:
    """While the broker is down: 503 and Retry-After, and nothing was accepted."""
    transport = memory_node.transport
    assert isinstance(transport, MemoryTransport)
    transport.set_ready(False)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{memory_node.http_port}/v1/records/ormas_registration",
            data=orjson.dumps(item("ormas_registration", "A")),
            headers={"Content-Type": "application/json", "X-API-Key": KEY_BOGOR},
        ) as resp,
    ):
        assert resp.status == 503
        assert int(resp.headers["Retry-After"]) > 0
    assert central(memory_node) == []


async def test_health_ready_metrics(memory_node: Node) -> None:
    """healthz is 200; readyz is 200 while ready and 503 when the broker is not; metrics expose counters."""
    base = f"http://127.0.0.1:{memory_node.http_port}"
    await post(memory_node, "ormas_registration", item("ormas_registration", "M1"))
    async with aiohttp.ClientSession() as http:
        assert (await http.get(f"{base}/healthz")).status == 200
        assert (await http.get(f"{base}/readyz")).status == 200
        text = await (await http.get(f"{base}/metrics")).text()
        assert 'simpul_records_total{adapter="http_ingest",outcome="published",province="32"' in text
        transport = memory_node.transport
        assert isinstance(transport, MemoryTransport)
        transport.set_ready(False)
        assert (await http.get(f"{base}/readyz")).status == 503


async def test_requests_beyond_the_concurrency_limit_get_503_at_once(tmp_path: Any) -> None:
    """With confirms stalled, 2 requests fill a limit of 2 and nobody may wait: the third is refused at
    once with Retry-After."""
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    settings = node_settings(tmp_path, http={"max_concurrent_requests": 2, "max_waiting_requests": 0})
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        held = [
            asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", f"H{i}")))
            for i in range(2)
        ]
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, body, _ = await post(node, "ormas_registration", item("ormas_registration", "H3"))
        assert (status, body["error"]) == (503, "busy") and loop.time() - started < 0.5
        gate.set()
        assert [(await t)[0] for t in held] == [202, 202]
        assert (await post(node, "ormas_registration", item("ormas_registration", "H3")))[0] == 202


async def _expecting(
    node: Node, body: bytes, key: str, *, send_body_on_continue: bool
) -> tuple[bytes, bytes]:
    """A raw HTTP/1.1 POST with ``Expect: 100-continue``: the headers, then the interim answer; the body is
    sent only after a ``100 Continue``. Returns (first answer, final answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", node.http_port)
    try:
        writer.write(
            b"POST /v1/records/ormas_registration HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            b"X-API-Key: " + key.encode() + b"\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        await writer.drain()
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        if not first.startswith(b"HTTP/1.1 100") or not send_body_on_continue:
            length = next(
                int(line.split(b":")[1])
                for line in first.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            return first, await asyncio.wait_for(reader.readexactly(length), 5)
        writer.write(body)
        await writer.drain()
        final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return first, final
    finally:
        writer.close()


async def test_expect_continue_lets_an_admitted_client_send_its_body(memory_node: Node) -> None:
    body = orjson.dumps(item("ormas_registration", "E-1"))
    first, final = await _expecting(memory_node, body, KEY_BOGOR, send_body_on_continue=True)
    assert first.startswith(b"HTTP/1.1 100 Continue")
    assert final.startswith(b"HTTP/1.1 202")
    assert len(central(memory_node)) == 1


async def test_expect_continue_refuses_an_unknown_key_before_the_body(memory_node: Node) -> None:
    first, _ = await _expecting(memory_node, b"{}" * 1000, "no-such-key", send_body_on_continue=True)
    assert first.startswith(b"HTTP/1.1 401")
    assert central(memory_node) == []


async def test_expect_continue_refuses_a_full_house_before_the_body(tmp_path: Any) -> None:
    """At the admission limit a client that asked to continue gets 503 + Retry-After without sending its
    body, and the connection is closed (it never sent the body it announced)."""
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    settings = node_settings(tmp_path, http={"max_concurrent_requests": 1, "max_waiting_requests": 0})
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        held = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "H1")))
        await asyncio.sleep(0.2)
        big = orjson.dumps([item("ormas_registration", f"B{i}") for i in range(200)])
        first, rest = await _expecting(node, big, KEY_BOGOR, send_body_on_continue=True)
        assert first.startswith(b"HTTP/1.1 503")
        assert b"retry-after: 1" in first.lower() and b"connection: close" in first.lower()
        assert b'"busy"' in rest
        gate.set()
        assert (await held)[0] == 202


async def test_a_request_beyond_the_limit_waits_for_a_place_instead_of_503(tmp_path: Any) -> None:
    """With a line to wait in, the request beyond the limit is held (its body unread) and answered 202
    once a place frees; a request beyond the line is refused at once with a Retry-After."""
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    http = {"max_concurrent_requests": 1, "max_waiting_requests": 1, "max_wait_s": 30}
    settings = node_settings(tmp_path, http=http)
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        first = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "W1")))
        await asyncio.sleep(0.2)
        waiting = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "W2")))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        status, body, _ = await post(node, "ormas_registration", item("ormas_registration", "W3"))
        assert (status, body["error"]) == (503, "busy")
        gate.set()
        assert (await first)[0] == 202 and (await waiting)[0] == 202
        assert sorted(e["source_record_id"] for e in central(node)) == ["W1", "W2"]


async def test_a_wait_that_runs_out_is_answered_503(tmp_path: Any) -> None:
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    http = {"max_concurrent_requests": 1, "max_waiting_requests": 4, "max_wait_s": 0.3}
    settings = node_settings(tmp_path, http=http)
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        held = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "T1")))
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        started = loop.time()
        status, body, _ = await post(node, "ormas_registration", item("ormas_registration", "T2"))
        assert (status, body["error"]) == (503, "busy") and 0.25 < loop.time() - started < 2
        gate.set()
        assert (await held)[0] == 202
        # The place is free again, and the line empty: the next request goes straight in.
        assert (await post(node, "ormas_registration", item("ormas_registration", "T3")))[0] == 202


async def test_expect_continue_waits_for_a_place_before_the_100(tmp_path: Any) -> None:
    """A client that asked to continue is held before the 100 (it has not sent its body) and told to
    continue once a place frees; its records are then published."""
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    http = {"max_concurrent_requests": 1, "max_waiting_requests": 4, "max_wait_s": 30}
    settings = node_settings(tmp_path, http=http)
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        held = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "C1")))
        await asyncio.sleep(0.2)
        body = orjson.dumps([item("ormas_registration", f"C{i}") for i in range(2, 12)])
        expecting = asyncio.create_task(_expecting(node, body, KEY_BOGOR, send_body_on_continue=True))
        await asyncio.sleep(0.3)
        assert not expecting.done()  # no 100 yet: the body stays with the client
        gate.set()
        first, final = await expecting
        assert first.startswith(b"HTTP/1.1 100 Continue") and final.startswith(b"HTTP/1.1 202")
        assert (await held)[0] == 202
        assert len(central(node)) == 11


async def test_a_waiting_client_that_goes_away_gives_up_its_place(tmp_path: Any) -> None:
    """Clients that disconnect while waiting leave no place taken: afterwards requests go straight in."""
    from hub.transport.factory import topology_for
    from tests.helpers import node_settings

    http = {"max_concurrent_requests": 1, "max_waiting_requests": 8, "max_wait_s": 30}
    settings = node_settings(tmp_path, http=http)
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as node:
        gate = stall_publishes(transport)
        held = asyncio.create_task(post(node, "ormas_registration", item("ormas_registration", "G1")))
        await asyncio.sleep(0.2)
        body = orjson.dumps(item("ormas_registration", "G2"))
        gone = [
            asyncio.create_task(_expecting(node, body, KEY_BOGOR, send_body_on_continue=True))
            for _ in range(3)
        ]
        await asyncio.sleep(0.3)
        for task in gone:
            task.cancel()
        await asyncio.gather(*gone, return_exceptions=True)
        await asyncio.sleep(0.2)
        gate.set()
        assert (await held)[0] == 202
        for i in range(3):  # one at a time: each finds the place free and the line empty
            assert (await post(node, "ormas_registration", item("ormas_registration", f"G{i + 3}")))[0] == 202
