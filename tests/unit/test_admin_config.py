"""POST /v1/admin/config/validate: what `simpul check-config` says, as 200 or 400 with field details,
audited without the config text (it may hold secrets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from hub.admin.config_check import check_config_text
from hub.node import Node
from tests.helpers import TOKEN_READ

ROOT = Path(__file__).resolve().parents[2]


async def validate(node: Node, text: str, token: str | None = TOKEN_READ) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/toml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{node.http_port}/v1/admin/config/validate", data=text.encode(), headers=headers
        ) as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


async def test_valid_config_is_summarised_and_audited(memory_node: Node) -> None:
    """An example config validates (read role suffices); the audit log names who, the node and 'valid'."""
    text = (ROOT / "ops/examples/sitimdu_conflict.toml").read_text(encoding="utf-8")
    status, body = await validate(memory_node, text)
    assert status == 200, body
    assert body["valid"] is True and body["sources"] and body["level"]
    (latest,) = memory_node.audit.recent(1)
    assert (latest["actor"], latest["action"], latest["result"]) == ("ops-reader", "config.validate", "valid")
    assert latest["target"] == body["node"]


async def test_invalid_settings_give_400_with_every_field(memory_node: Node) -> None:
    """Two bad settings -> 400 naming both keys; the secret-looking value is not echoed or audited."""
    text = 'node = "Bad Name"\n[broker]\nheartbeat_s = 2\nurl = "amqp://u:s3cret-pw@h/"\n'
    status, body = await validate(memory_node, text)
    assert status == 400 and body["error"] == "invalid_config"
    locs = {p["loc"] for p in body["problems"]}
    assert {"node", "broker.heartbeat_s"} <= locs, body
    assert "s3cret-pw" not in orjson.dumps(body).decode()
    (latest,) = memory_node.audit.recent(1)
    assert latest["result"] == "invalid: 2 problem(s)" and "s3cret" not in orjson.dumps(latest).decode()


async def test_bad_toml_bad_adapter_and_no_token(memory_node: Node) -> None:
    """Broken TOML and an unknown adapter kind are 400 with a location; no token is 401."""
    status, body = await validate(memory_node, "node = \n")
    assert status == 400 and body["problems"][0]["loc"] == "$" and "TOML" in body["problems"][0]["message"]
    text = '[[sources]]\nname = "x"\nkind = "nope"\nschema = "early_warning"\nsystem = "s"\noffice = "32"\n'
    status, body = await validate(memory_node, text)
    assert status == 400 and body["problems"][0]["loc"] == "sources[x].kind", body
    assert (await validate(memory_node, "", token=None))[0] == 401


def test_check_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checked text is judged as written: a SIMPUL_* variable of the checking process does not mend
    or break it."""
    monkeypatch.setenv("SIMPUL_BROKER__HEARTBEAT_S", "2")
    assert check_config_text('node = "ok"\n').valid
    monkeypatch.setenv("SIMPUL_NODE", "fine")
    assert not check_config_text('node = "Not Fine"\n').valid


async def test_a_worker_process_leaves_quarantine_filing_to_the_node(tmp_path: Path) -> None:
    """quarantine_consumer = false (simpul-worker@): the entry stays in the queue for the node's store."""
    from hub.transport.factory import topology_for
    from hub.transport.memory import MemoryTransport
    from tests.helpers import item, node_settings
    from tests.unit.test_http_ingest import post

    settings = node_settings(tmp_path, quarantine_consumer=False)
    transport = MemoryTransport(topology_for(settings))
    async with Node(settings, transport=transport) as worker:
        assert "consumer:quarantine" not in worker.readiness()
        bad = item("ormas_registration", "W-1", kode_wilayah="32.98.99")
        status, _body, _ = await post(worker, "ormas_registration", bad, query="?on_invalid=quarantine")
        assert status == 202
        assert transport.depth(worker.topology.quarantine_queue) == 1
        assert worker.quarantine_store.count() == 0
