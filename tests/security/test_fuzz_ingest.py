"""Fuzzing HTTP ingest against the node's own OpenAPI document (schemathesis, 50 examples per run).

A node on the in-memory transport runs in a thread; schemathesis takes the OpenAPI document (the one the
node serves at ``/v1/openapi.json``, checked equal), keeps the ingest operation and sends generated
requests (valid and invalid bodies, odd schema names and query values, other methods) with a valid API
key. Checks: never a 5xx; every status code of a POST is documented (other methods: 405); an error body
never echoes a 16-digit number that was sent.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from hub.catalog.openapi import openapi_document
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from tests.helpers import KEY_BOGOR, node_settings

_SIXTEEN = re.compile(rb"(?<!\d)\d{16}(?!\d)")


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A memory-transport node serving HTTP from a background event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    cfg = node_settings(tmp)
    node = Node(cfg, transport=MemoryTransport(topology_for(cfg)))
    asyncio.run_coroutine_threadsafe(node.start(), loop).result(30)
    try:
        yield f"http://127.0.0.1:{node.http_port}"
    finally:
        asyncio.run_coroutine_threadsafe(node.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx: Any, value: Any) -> bytes:
    """NDJSON bodies: one JSON value per line (the document allows NDJSON; fuzz it too)."""
    items = value if isinstance(value, list) else [value]
    return b"\n".join(json.dumps(item).encode() for item in items)  # big ints too (orjson refuses them)


# Loaded at import (schemathesis' lazy fixture loader does not work with pytest 9); the node fixture checks
# that it serves the same ingest operation at /v1/openapi.json.
DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT).include(path="/v1/records/{schema}")


def test_served_document_is_the_fuzzed_one(node_url: str) -> None:
    """The node serves the ingest operation that is fuzzed here."""
    with urllib.request.urlopen(f"{node_url}/v1/openapi.json", timeout=10) as resp:
        served = json.load(resp)
    assert served["paths"]["/v1/records/{schema}"] == DOCUMENT["paths"]["/v1/records/{schema}"]


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_ingest_survives_fuzzing(case: Any, node_url: str) -> None:
    """No 5xx, documented status codes, no echo of submitted 16-digit numbers."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "X-API-Key": KEY_BOGOR}  # a valid key: get past 401 into the body handling
    response = case.call(base_url=node_url)
    case.validate_response(response, checks=[not_a_server_error])
    SEEN[response.status_code] = SEEN.get(response.status_code, 0) + 1
    body = response.request.body if isinstance(response.request.body, bytes) else b""
    if response.status_code >= 400:
        echoed = set(_SIXTEEN.findall(body)) & set(_SIXTEEN.findall(response.content))
        assert not echoed, "an error body echoes a submitted 16-digit number"
    if case.method.upper() != "POST":  # schemathesis also probes undocumented methods
        assert response.status_code == 405
        return
    documented = set(case.operation.definition.raw.get("responses", {}))
    assert str(response.status_code) in documented, f"{response.status_code} is not in the OpenAPI document"


SEEN: dict[int, int] = {}


def test_fuzzing_reached_the_handler() -> None:
    """The generated requests got past authentication into validation (not all refused at the door)."""
    print(f"status codes seen: {dict(sorted(SEEN.items()))}")
    assert sum(SEEN.values()) >= 20 and (SEEN.get(202, 0) + SEEN.get(422, 0)) > 0
