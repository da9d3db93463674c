"""Fault-suite fixtures: the broker fixtures of the integration tests, the ``slow`` gate, the results table.

Scenarios marked ``slow`` run only with ``SIMPUL_SLOW=1`` (``ops/scripts/faults.sh`` sets it); the
default test command skips them. Every ledger report is collected; with ``SIMPUL_FAULTS_RESULTS=<file>``
the reports are written there as JSON lines for ``tests/faults/run.py`` to print as a table.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog

from hub.transport.management import ManagementClient, ManagementError
from tests.cluster_node import (  # noqa: F401  (the 3-node clusters' fixtures)
    cluster,
    fresh_vhost,
    netns_cluster,
    netns_vhost,
)
from tests.faults.ledger import RESULTS
from tests.faults.own_node import OWN_MGMT, arabbit, rabbit
from tests.integration.conftest import (  # noqa: F401  (fixtures, re-exported for this package)
    TcpProxy,
    amqp_url,
    broker_vhost,
    management,
    management_url,
    tcp_proxy,
)

SLOW = os.environ.get("SIMPUL_SLOW") == "1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a fault scenario taking minutes; runs with SIMPUL_SLOW=1")
    config.addinivalue_line("markers", "fault(how): how a scenario injects its fault (for the results table)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SLOW:
        return
    # Deselected, not skipped: the slow set is a separate run (ops/scripts/faults.sh), not a gap.
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        items[:] = [item for item in items if "slow" not in item.keywords]
        config.hook.pytest_deselected(items=slow)


@pytest.fixture(autouse=True)
def _quiet_logs() -> None:
    """Per-record info lines would swamp the output of scenarios with thousands of records."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


@pytest.fixture(autouse=True)
def _record_results(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each scenario, append its ledger reports (and how the fault was injected) to the results."""
    before = len(RESULTS)
    yield
    path = os.environ.get("SIMPUL_FAULTS_RESULTS")
    if not path:
        return
    marker = request.node.get_closest_marker("fault")
    how = marker.args[0] if marker else ""
    with open(path, "a", encoding="utf-8") as out:
        for report in RESULTS[before:]:
            row = report.as_row()
            row["how"] = row.get("how", how)
            row["ok"] = report.ok
            row["test"] = request.node.name
            out.write(json.dumps(row, default=str) + "\n")


@pytest.fixture(scope="session")
def own_broker() -> Iterator[None]:
    """Our own RabbitMQ node for broker-level faults; stopped at the end of the session."""
    rabbit("start")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            rabbit("stop")


@pytest.fixture
async def own_vhost(own_broker: None) -> AsyncIterator[str]:
    """A fresh vhost on our own node; alarms and timeouts reset, and the node running, afterwards."""
    vhost = f"simpul-fault-{uuid.uuid4().hex[:10]}"
    async with ManagementClient(OWN_MGMT) as api:
        await api.create_vhost(vhost, description="simpul fault suite")
        await api.set_permissions(vhost, "guest")
    try:
        yield vhost
    finally:
        await arabbit("start")
        await arabbit("ctl", "set_vm_memory_high_watermark", "0.4")
        await arabbit("ctl", "set_disk_free_limit", "50MB")
        await arabbit(
            "ctl", "eval", "application:set_env(rabbit, consumer_timeout, 1800000), "
            "application:set_env(rabbit, channel_tick_interval, 60000)."
        )  # fmt: skip
        async with ManagementClient(OWN_MGMT) as api:
            with contextlib.suppress(ManagementError):
                await api.delete_vhost(vhost)
