"""A replay started through the admin API of a real node (real stream, real broker): 202 with a job that
runs in the background, its progress readable by the read role, refused for the read role and for bad
input, and recorded in the admin audit log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hub.node import Node
from hub.transport.management import ManagementClient
from tests.helpers import TOKEN_READ, item, node_settings
from tests.unit.test_admin import admin
from tests.unit.test_http_ingest import post

pytestmark = pytest.mark.broker


async def test_an_operator_replays_a_window_to_a_consumer(
    tmp_path: Path, amqp_url: str, management_url: str, broker_vhost: str
) -> None:
    settings = node_settings(
        tmp_path, broker={"url": amqp_url, "management_url": management_url}, feed={"stream": True}
    )
    async with Node(settings) as node:
        assert (
            await post(node, "ormas_registration", [item("ormas_registration", f"R{i}") for i in range(40)])
        )[0] == 202
        body: dict[str, Any] = {"to": "bi-dashboard", "since": "first", "schema": "ormas_registration"}
        assert (await admin(node, "POST", "/v1/admin/replays", token=TOKEN_READ, body=body))[0] == 403
        bad = {"to": "Bad Name!", "since": "first"}
        assert (await admin(node, "POST", "/v1/admin/replays", body=bad))[0] == 400
        status, job = await admin(node, "POST", "/v1/admin/replays", body=body)
        assert status == 202 and job["state"] == "running" and job["requested_by"] == "ops-jabar"
        path = f"/v1/admin/replays/{job['job_id']}"

        seen: dict[str, Any] = job
        for _ in range(150):  # up to 15 s
            if seen["state"] != "running":
                break
            await asyncio.sleep(0.1)
            seen = (await admin(node, "GET", path, token=TOKEN_READ))[1]
        assert seen["state"] == "done", seen
        assert seen["records_matched"] == 40 and seen["messages_published"] >= 1
        async with ManagementClient(management_url) as api:
            queue = await api.get_queue(broker_vhost, "simpul.replay.bi-dashboard")
        assert queue is not None
        listed = (await admin(node, "GET", "/v1/admin/replays", token=TOKEN_READ))[1]["replays"]
        assert [j["job_id"] for j in listed] == [job["job_id"]]
        actions = [(e["action"], e["result"]) for e in node.audit.recent()]
        assert ("replay.start", "started") in actions and any(
            a == "replay.start" and r.startswith("refused") for a, r in actions
        )
