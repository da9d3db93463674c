"""The standing contract test (issue 16): schemathesis drives a live node (in-memory transport, real HTTP)
with cases generated from the node's own OpenAPI document, over ingest, admin and feeds, and runs every
check: no server error, status codes, content types, headers and bodies as documented, auth enforced.
Bounded (a few examples per operation, a fixed seed) so it stays cheap; the SSE stream is left out."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from hub.catalog.openapi import openapi_document
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.management import ManagementClient
from hub.transport.memory import MemoryTransport
from tests.helpers import KEY_BOGOR, TOKEN_ACT, node_settings
from tests.integration.conftest import AMQP_BASE, MANAGEMENT_URL

pytestmark = pytest.mark.broker  # replays started through the admin API need a (fresh) vhost
FEED_TOKEN = "tok-contract"
EXAMPLES = 6  # per operation and phase: enough to cover each documented answer, cheap on 2 cores
SEED = 1616


class LiveNode:
    """A node serving HTTP from its own event loop in a background thread (schemathesis calls are
    blocking). Its records flow over the in-memory transport; replays the admin API starts (they always
    use the broker) go to a vhost of the real broker made for this run and deleted after it, never to the
    machine's default vhost."""

    def __init__(self, tmp: Path) -> None:
        self.vhost = f"simpul-contract-{uuid.uuid4().hex[:8]}"
        self.settings = node_settings(
            tmp,
            broker={"url": f"{AMQP_BASE}/{self.vhost}", "management_url": MANAGEMENT_URL},
            feeds={"consumers": {FEED_TOKEN: {"name": "contract-app", "clearance": "RAHASIA"}}},
            completeness={
                "obligations": [{"schema": "early_warning", "level": "kabkota", "period": "quarter"}]
            },
            feed={"stream": True},
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.node = Node(self.settings, transport=MemoryTransport(topology_for(self.settings)))

    def __enter__(self) -> LiveNode:
        self.thread.start()
        self._call(self._vhost(create=True))
        self._call(self.node.start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self._call(self.node.stop())
        finally:
            self._call(self._vhost(create=False))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    async def _vhost(self, *, create: bool) -> None:
        async with ManagementClient(MANAGEMENT_URL) as api:
            if create:
                await api.create_vhost(self.vhost, description="simpul contract test (deleted after it)")
                await api.set_permissions(self.vhost, "guest")
            else:
                await api.delete_vhost(self.vhost)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.node.http_port}"


@pytest.fixture(scope="module")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    with LiveNode(tmp_path_factory.mktemp("contract")) as live:
        yield live


# The valid credential of each security scheme; schemathesis also sends none and wrong ones (ignored_auth).
# Schema-valid payloads may still break a rule JSON Schema cannot say (the kode wilayah reference set, the
# office's region): ingest documents those as 422, which positive_data_acceptance is told to expect.
CONFIG = f"""
[auth.openapi.ingestBearer]
bearer = "{KEY_BOGOR}"
[auth.openapi.ingestApiKey]
api_key = "{KEY_BOGOR}"
[auth.openapi.adminToken]
bearer = "{TOKEN_ACT}"
[auth.openapi.feedBearer]
bearer = "{FEED_TOKEN}"

[[operations]]
include-path-regex = "^/v1/records/"
# NDJSON bodies are text the document cannot type line by line: a schema-valid string may be no JSON (400).
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "422", "429", "503"]
# Payloads are validated in pydantic's lax mode (a JSON number is taken for a date, a numeric string for
# a number): the hub accepts some bodies the stricter document calls invalid. Left to the payload schemas.
checks.negative_data_rejection.enabled = false

[[operations]]
include-path-regex = "^/v1/admin/replays$"
include-method = "POST"
# A well-formed start may still name a region or schema that does not exist: documented as 400.
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]
"""

# Config bodies (TOML) and NDJSON ingest bodies are text: sent the way plain-text bodies are.
schemathesis.serializer.alias("application/toml", "text/plain")
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

# Loaded eagerly from the document (schemathesis' lazy fixture loader reaches into pytest internals that
# pytest 9 no longer has); the live node's address is given to each call instead.
schema = (
    schemathesis.openapi.from_dict(openapi_document(), config=SchemathesisConfig.from_str(CONFIG))
    .include(path_regex="^/v1/(records|admin|feeds|completeness)")
    .exclude(path_regex="/live$")
)


CASES: Counter[str] = Counter()  # cases per operation, for the totals line and the floor below


@pytest.fixture(scope="module", autouse=True)
def totals() -> Iterator[None]:
    """Print the run's totals (``-s`` shows them) and insist the run was not empty."""
    yield
    print(f"\nschemathesis contract: {sum(CASES.values())} cases over {len(CASES)} operations")
    if CASES:
        assert min(CASES.values()) >= 2, CASES


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    # No shrinking: a failure is reported as found (with its curl line) instead of costing minutes.
    phases=[p for p in hypothesis.Phase if p not in (hypothesis.Phase.shrink, hypothesis.Phase.explain)],
)
@hypothesis.seed(SEED)
def test_api_matches_its_document(case: Any, live_node: LiveNode) -> None:
    CASES[case.operation.label] += 1
    case.call_and_validate(base_url=live_node.base_url)


# --- the mismatches the audit listed, each pinned on its own ---


def _call(live: LiveNode, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
    import requests

    headers.setdefault("Authorization", f"Bearer {TOKEN_ACT}")
    return requests.request(method, live.base_url + path, data=body, headers=headers, timeout=10)


def test_405_keeps_its_allow_header(live_node: LiveNode) -> None:
    answer = _call(live_node, "PUT", "/v1/admin/audit")
    assert answer.status_code == 405 and answer.json()["error"] == "method_not_allowed"
    assert set(answer.headers["Allow"].split(",")) == {"GET", "HEAD"}


def test_admin_lists_are_documented_as_arrays(live_node: LiveNode) -> None:
    doc = openapi_document()
    for path in ("/v1/admin/adapters", "/v1/admin/audit"):
        answer = _call(live_node, "GET", path)
        assert answer.status_code == 200 and isinstance(answer.json(), list)
        documented = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert documented["type"] == "array"


def test_lineage_404_is_a_problem(live_node: LiveNode) -> None:
    answer = _call(live_node, "GET", "/v1/admin/lineage/00000000-0000-0000-0000-000000000000")
    assert answer.status_code == 404 and set(answer.json()) == {"error", "message"}


def test_quarantine_status_filter_is_documented(live_node: LiveNode) -> None:
    answer = _call(live_node, "GET", "/v1/admin/quarantine?status=")
    assert answer.status_code == 400 and answer.json()["error"] == "bad_request"
    operation = openapi_document()["paths"]["/v1/admin/quarantine"]["get"]
    assert "400" in operation["responses"]
    status = next(p for p in operation["parameters"] if p["name"] == "status")
    assert status["schema"]["enum"] == ["open", "redriven", "discarded"]


@pytest.mark.parametrize("body", [b"", b"   \n"])
def test_config_validate_without_a_config_is_invalid(live_node: LiveNode, body: bytes) -> None:
    answer = _call(
        live_node, "POST", "/v1/admin/config/validate", body, **{"Content-Type": "application/toml"}
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_config"


def test_empty_array_on_ingest_is_a_documented_400(live_node: LiveNode) -> None:
    answer = _call(
        live_node, "POST", "/v1/records/ormas_registration", b"[]",
        **{"Authorization": "", "X-API-Key": KEY_BOGOR, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 400 and answer.json()["error"] == "bad_body"
    body = openapi_document()["paths"]["/v1/records/{schema}"]["post"]["requestBody"]
    array = body["content"]["application/json"]["schema"]["oneOf"][1]
    assert array["minItems"] == 1


@pytest.mark.parametrize(("query", "status"), [("", 422), ("?on_invalid=quarantine", 202)])
def test_an_out_of_region_record_gets_a_documented_answer(
    live_node: LiveNode, query: str, status: int
) -> None:
    """A record outside the API key's office (32.01): 422 (reject) or 202 with it quarantined, each
    exactly as the document describes."""
    import orjson

    from tests.helpers import item

    record = orjson.dumps(item("ormas_registration", "OOR-1", kode_wilayah="33.01"))
    headers = {"Authorization": "", "X-API-Key": KEY_BOGOR, "Content-Type": "application/json"}
    answer = _call(live_node, "POST", f"/v1/records/ormas_registration{query}", record, **headers)
    assert answer.status_code == status
    schema["/v1/records/{schema}"]["POST"].validate_response(answer)
    issues = answer.json()["records" if status == 422 else "results"][0]["issues"]
    assert [i["rule"] for i in issues] == ["region_outside_office"]
