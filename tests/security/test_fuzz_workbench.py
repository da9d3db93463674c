"""Fuzzing the workbench's API on a node (schemathesis against the node's OpenAPI document, 25 examples per
operation): generated JSON and multipart bodies, odd parameters and other methods, with an act token.
Checks: never a 5xx; every status code is documented (other methods: 405); an error body never echoes a
16-digit number that was sent. ``/workbench/api/probe`` is left out: it would reach generated addresses."""

from __future__ import annotations

import asyncio
import re
import threading
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
from tests.helpers import TOKEN_ACT, node_settings

_SIXTEEN = re.compile(rb"(?<!\d)\d{16}(?!\d)")
SEEN: dict[int, int] = {}


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A memory-transport node serving HTTP from a background event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    tmp: Path = tmp_path_factory.mktemp("fuzz-workbench")
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


schema = (
    schemathesis.openapi.from_dict(openapi_document())
    .include(path_regex=r"^/workbench/api/")
    .exclude(path="/workbench/api/probe")
)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_workbench_api_survives_fuzzing(case: Any, node_url: str) -> None:
    """No 5xx, documented status codes, no echo of submitted 16-digit numbers."""
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "Authorization": f"Bearer {TOKEN_ACT}"}
    response = case.call(base_url=node_url)
    case.validate_response(response, checks=[not_a_server_error])
    SEEN[response.status_code] = SEEN.get(response.status_code, 0) + 1
    body = response.request.body if isinstance(response.request.body, bytes) else b""
    if response.status_code >= 400:
        echoed = set(_SIXTEEN.findall(body)) & set(_SIXTEEN.findall(response.content))
        assert not echoed, "an error body echoes a submitted 16-digit number"
    if case.method.upper() != case.operation.method.upper():  # schemathesis also probes other methods
        assert response.status_code == 405
        return
    documented = set(case.operation.definition.raw.get("responses", {}))
    assert str(response.status_code) in documented, f"{response.status_code} is not in the OpenAPI document"


def test_fuzzing_reached_the_handlers() -> None:
    """Generated requests got past the token into the handlers: some answered 200, some 400."""
    print(f"status codes seen: {dict(sorted(SEEN.items()))}")
    assert SEEN.get(200, 0) > 0 and SEEN.get(400, 0) > 0
