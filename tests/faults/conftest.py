"""Fault-suite fixtures: the broker fixtures of the integration tests, the ``slow`` gate, the results table.

Scenarios marked ``slow`` run only with ``SIMPUL_SLOW=1`` (``ops/scripts/faults.sh`` sets it); the
default test command skips them. Every ledger report is collected; with ``SIMPUL_FAULTS_RESULTS=<file>``
the reports are written there as JSON lines for ``tests/faults/run.py`` to print as a table.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from tests.faults.ledger import RESULTS
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
