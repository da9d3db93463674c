"""Hostile input (issue 16): every refusal is a 4xx in our JSON error shape, nothing the caller sent is
echoed or logged, and what is accepted is what every warehouse can store."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import structlog

from hub.logging import configure_logging
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from tests.helpers import KEY_BOGOR, TOKEN_ACT, item, node_settings
from tests.unit.test_http_ingest import central, post

NIK = "3201010101800099"
SIXTEEN_DIGITS = re.compile(r"\d{16}")


def assert_problem(status: int, body: Any, expected: int) -> None:
    """Our error shape: a JSON object with ``error`` and ``message``, and the expected status."""
    assert status == expected, body
    assert isinstance(body, dict) and isinstance(body.get("error"), str), body
    assert isinstance(body.get("message"), str), body


async def raw_exchange(node: Node, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes as a request and read the answer (status, headers, body) until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", node.http_port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


# --- 1. admin bodies ---


@pytest.fixture
async def stream_node(tmp_path: Path) -> AsyncIterator[Node]:
    """A memory node configured with a feed stream, so ``/v1/admin/replays`` reads its body (a replay
    itself needs the broker; refused bodies never get that far)."""
    # Nothing listens on port 1: a replay started by mistake fails instead of reaching a real broker.
    settings = node_settings(
        tmp_path, feed={"stream": True}, broker={"url": "amqp://guest:guest@127.0.0.1:1/"}
    )
    async with Node(settings, transport=MemoryTransport(topology_for(settings))) as node:
        yield node


@pytest.mark.parametrize("body", [b"", b"{not json", b"[1, 2", b"\xff\xfe", b"null", b"[]", b'"text"'])
@pytest.mark.parametrize(
    "path",
    ["/v1/admin/replays", "/v1/admin/quarantine/redrive", "/v1/admin/quarantine/some-entry/redrive"],
)
async def test_admin_bodies_that_are_not_json_objects_get_400(
    stream_node: Node, path: str, body: bytes
) -> None:
    """Empty, malformed, non-UTF-8 or non-object bodies: 400 in the JSON error shape, never a 500.
    (An empty body is allowed where the body is optional: bulk redrive then matches every open entry, a
    single redrive re-offers the entry unchanged (404 here: no such entry).)"""
    headers = {"Authorization": f"Bearer {TOKEN_ACT}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{stream_node.http_port}{path}", data=body, headers=headers) as resp,
    ):
        answer = orjson.loads(await resp.read())
    optional = path != "/v1/admin/replays"
    if body == b"" and optional:
        assert resp.status in (200, 404), answer
        assert "error" not in answer or answer["error"] == "not_found"
        return
    assert_problem(resp.status, answer, 400)


# --- 2. aiohttp's own parser errors ---


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\x01{NIK}\r\n\r\n".encode(), id="control-byte"
        ),
        pytest.param(
            f"GET /healthz?q={NIK}{'9' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), id="long-line"
        ),
        pytest.param(
            f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: {NIK}{'a' * 9000}\r\n\r\n".encode(),
            id="long-header",
        ),
        pytest.param(f"G\x01T /{NIK} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), id="bad-method"),
    ],
)
async def test_parser_errors_answer_json_and_log_redacted(
    memory_node: Node, request_bytes: bytes, capsys: pytest.CaptureFixture[str], caplog: Any
) -> None:
    """A request aiohttp's parser refuses: a 4xx JSON problem body that repeats none of the request; the
    log line is structured JSON and holds no 16-digit run; aiohttp's stdlib logger says nothing."""
    configure_logging("debug", "json")
    try:
        capsys.readouterr()
        status, headers, body = await raw_exchange(memory_node, request_bytes)
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
    assert 400 <= status < 500
    assert headers.get("content-type", "").startswith("application/json")
    assert_problem(status, orjson.loads(body), status)
    assert not SIXTEEN_DIGITS.search(body.decode("latin-1"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "the refusal is logged"
    for line in lines:
        event = orjson.loads(line)  # every line is JSON
        assert not SIXTEEN_DIGITS.search(line), event
    assert not [r for r in caplog.records if r.name.startswith("aiohttp")], "no raw aiohttp traceback"


async def test_unhandled_error_is_a_json_500_with_a_redacted_log(
    memory_node: Node, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A handler that raises something unexpected: JSON 500, traceback in the structured log, redacted."""

    def boom() -> dict[str, Any]:
        raise RuntimeError(f"broken while reading {NIK}")

    monkeypatch.setattr(memory_node.observer, "status", boom)
    configure_logging("info", "json")
    try:
        capsys.readouterr()
        status, _headers, body = await raw_exchange(
            memory_node,
            f"GET /v1/admin/status?x={NIK} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN_ACT}\r\n"
            "Connection: close\r\n\r\n".encode(),
        )
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
    assert_problem(status, orjson.loads(body), 500)
    assert "RuntimeError" in err and not SIXTEEN_DIGITS.search(err)


# --- 3. caller-chosen names ---


async def test_422_masks_key_names_the_caller_chose(memory_node: Node) -> None:
    """Unknown keys, at the top of an item and inside ``data``, are named masked in the 422 body."""
    inner = item("ormas_registration", "SKT-1")
    inner["data"][f"unknown_field_{NIK}"] = 1
    top = item("ormas_registration", "SKT-2")
    top[NIK] = "x"
    top["k" * 500] = 1
    status, body, text = await post(memory_node, "ormas_registration", [inner, top])
    assert_problem(status, body, 422)
    assert NIK not in text and not SIXTEEN_DIGITS.search(text)
    locs = [i["loc"] for r in body["records"] for i in r["issues"]]
    assert "data.unknown_field_[NIK]" in locs and "[NIK]" in locs, locs
    assert all(len(loc) <= 80 for loc in locs), locs


@pytest.mark.parametrize("schema", [f"nope_{NIK}", NIK, "x" * 400])
async def test_unknown_schema_does_not_repeat_the_path(memory_node: Node, schema: str) -> None:
    status, body, text = await post(memory_node, schema, item("ormas_registration", "SKT-1"))
    assert_problem(status, body, 404)
    assert body["error"] == "unknown_schema"
    assert not SIXTEEN_DIGITS.search(text) and "x" * 100 not in text


async def test_admin_not_found_messages_do_not_repeat_a_nik(memory_node: Node) -> None:
    """Path segments echoed in admin 404s (entry id, adapter name) are redacted."""
    headers = {"Authorization": f"Bearer {TOKEN_ACT}"}
    async with aiohttp.ClientSession() as http:
        for path in (f"/v1/admin/quarantine/{NIK}", f"/v1/admin/adapters/{NIK}/pause"):
            method = http.post if path.endswith("pause") else http.get
            async with method(f"http://127.0.0.1:{memory_node.http_port}{path}", headers=headers) as resp:
                text = await resp.text()
                assert_problem(resp.status, orjson.loads(text), 404)
                assert not SIXTEEN_DIGITS.search(text), text


# --- 4. text PostgreSQL cannot hold ---


@pytest.mark.parametrize(
    ("where", "loc"),
    [("nama", "data.nama"), ("id", "id"), ("pengurus", "data.pengurus.0.jabatan")],
)
async def test_nul_is_refused_at_ingest_naming_the_field(memory_node: Node, where: str, loc: str) -> None:
    """U+0000 anywhere a sender writes text: 422 naming the field; nothing is published."""
    record = item("ormas_registration", "SKT-nul")
    if where == "id":
        record["id"] = "SKT\x00nul"
    elif where == "pengurus":
        record["data"]["pengurus"][0]["jabatan"] = "Ketua\x00"
    else:
        record["data"]["nama"] = "Ormas\x00Baru"
    status, body, _ = await post(memory_node, "ormas_registration", record)
    assert_problem(status, body, 422)
    issues = body["records"][0]["issues"]
    assert [i["loc"] for i in issues] == [loc] and issues[0]["rule"] == "unstorable_text"
    assert central(memory_node) == []


async def test_nul_in_quarantine_mode_is_quarantined_not_published(memory_node: Node) -> None:
    record = item("ormas_registration", "SKT-nul")
    record["data"]["nama"] = "Ormas\x00Baru"
    good = item("ormas_registration", "SKT-ok")
    status, body, _ = await post(
        memory_node, "ormas_registration", [record, good], query="?on_invalid=quarantine"
    )
    assert status == 202 and body["accepted"] == 1 and body["quarantined"] == 1, body
    assert [e["source_record_id"] for e in central(memory_node)] == ["SKT-ok"]


async def test_escaped_backslash_u0000_text_is_accepted(memory_node: Node) -> None:
    """The six characters backslash-u-0-0-0-0 are ordinary text (the cheap byte search's false hit)."""
    record = item("ormas_registration", "SKT-text")
    record["data"]["nama"] = "Ormas \\u0000 Baru"
    status, body, _ = await post(memory_node, "ormas_registration", record)
    assert status == 202, body


async def test_lone_surrogate_is_refused(memory_node: Node) -> None:
    """A lone surrogate escape is not text: refused as a 400 body error (orjson refuses it)."""
    record = orjson.dumps(item("ormas_registration", "SKT-s")).replace(b"SKT-s", b"SKT-\\ud800")
    status, body, _ = await post(memory_node, "ormas_registration", None, raw=record)
    assert 400 <= status < 500 and status != 413
    assert_problem(status, body, status)


def test_lone_surrogate_from_another_source_is_named() -> None:
    """Sources other than HTTP (a CSV read with surrogateescape) hand Python strings to the validator:
    the envelope check names the field instead of failing to serialise."""
    from hub.ingest.issues import unstorable

    refusal = unstorable({"payload": {"uraian": "ab\udcff"}, "source_record_id": "r1"})
    assert refusal is not None and [i.loc for i in refusal.issues] == ["data.uraian"]
    assert unstorable({"payload": {"uraian": "plain"}, "source_record_id": "r1"}) is None


# --- 5. Expect: 100-continue over the limit ---


async def test_expect_continue_over_the_limit_is_refused_before_the_body(memory_node: Node) -> None:
    """A declared Content-Length over the body limit: 413 at once (no ``100 Continue``), the connection
    closed, the body never sent."""
    limit = memory_node.settings.http.max_body_bytes
    head = (
        f"POST /v1/records/ormas_registration HTTP/1.1\r\nHost: x\r\nX-API-Key: {KEY_BOGOR}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {limit + 1}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", memory_node.http_port)
    try:
        writer.write(head)
        await writer.drain()
        first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        length = next(
            int(line.split(b":")[1])
            for line in first.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        body = orjson.loads(await asyncio.wait_for(reader.readexactly(length), 5))
    finally:
        writer.close()
    assert first.startswith(b"HTTP/1.1 413"), first
    assert b"connection: close" in first.lower()
    assert body["error"] == "body_too_large"
    assert central(memory_node) == []


async def test_other_server_errors_are_logged_structured(
    capsys: pytest.CaptureFixture[str], caplog: Any
) -> None:
    """A handler that returns nothing (behind our middleware, as every node route is): a JSON 500 and a
    structured log line; aiohttp's own error log lines go through structlog, redacted."""
    from aiohttp import web

    from hub.http.server import JsonErrorHandler, JsonErrorRunner
    from hub.responses import error_middleware

    async def forgetful(_request: web.Request) -> Any:
        return None

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/x/{anything}", forgetful)
    runner = JsonErrorRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    configure_logging("info", "json")
    try:
        capsys.readouterr()
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/x/{NIK}") as resp:
            status, body = resp.status, await resp.read()
        JsonErrorHandler.log_exception(
            None,  # type: ignore[arg-type]
            f"Error handling request from {NIK}",
            exc_info=RuntimeError(f"broken at {NIK}"),
        )
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        await runner.cleanup()
    assert_problem(status, orjson.loads(body), 500)
    events = [orjson.loads(line)["event"] for line in err.splitlines() if line.strip()]
    assert events == ["http_handler_returned_no_response", "http_server_error"], err
    assert "RuntimeError" in err and not SIXTEEN_DIGITS.search(err)
    assert not [r for r in caplog.records if r.name.startswith("aiohttp")]
