"""The Grafana dashboard: valid JSON, datasource as a variable, and every query names a real metric."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from hub.metrics import Metrics
from tests.ops.conftest import ROOT

DASHBOARD = ROOT / "ops" / "grafana" / "simpul-overview.json"
# Series Prometheus itself provides (not from a node).
BUILTIN = {"up", "ALERTS"}
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "count", "rate", "increase", "by", "without", "on", "and", "or", "unless",
    "histogram_quantile", "time", "sort_desc", "max_over_time", "label_values", "le", "offset",
}  # fmt: skip


def exposed_names() -> set[str]:
    """Every series name a node's registry can expose (counters' _total, histograms' _bucket ...)."""
    names: set[str] = set()
    for metric in Metrics().registry.collect():
        if metric.type == "counter":
            names |= {f"{metric.name}_total", f"{metric.name}_created"}
        elif metric.type == "histogram":
            names |= {f"{metric.name}_{s}" for s in ("bucket", "sum", "count", "created")}
        else:
            names.add(metric.name)
    return names


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """All panels, rows' nested panels included."""
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def metric_names(expr: str) -> set[str]:
    """Identifiers in a PromQL expression that are series names (not functions, labels or keywords)."""
    expr = re.sub(r'"[^"]*"', '""', expr)  # drop string literals
    expr = re.sub(r"\{[^}]*\}", "{}", expr)  # drop label matchers
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # drop grouping labels
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # drop ranges
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {w for w in words if w not in PROMQL_WORDS}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    """The dashboard as loaded from JSON."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def test_dashboard_has_a_datasource_variable_used_everywhere(dashboard: dict[str, Any]) -> None:
    """A datasource-type variable exists; every panel and query uses it, none names a fixed datasource."""
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert "__inputs" not in dashboard and "${DS_" not in DASHBOARD.read_text()


def test_dashboard_structure_imports(dashboard: dict[str, Any]) -> None:
    """Fields Grafana's import needs: uid, title, schemaVersion, unique panel ids, grid positions."""
    assert dashboard["uid"] == "simpul-overview" and dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)) and len(ids) >= 15
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


def test_every_query_names_metrics_a_node_exposes(dashboard: dict[str, Any]) -> None:
    """Each series a panel queries is one the hub's registry exposes; the key families all appear."""
    known = exposed_names() | BUILTIN
    used: set[str] = set()
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            names = metric_names(target["expr"])
            assert names, target["expr"]
            assert names <= known, (panel["title"], names - known)
            used |= names
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            series = re.sub(r",\s*[A-Za-z_]+\s*\)$", ")", variable["definition"])  # label_values(s, label)
            assert metric_names(series) <= known
    for family in (
        "simpul_records_total",
        "simpul_publish_latency_seconds_bucket",
        "simpul_queue_messages",
        "simpul_queue_consumers",
        "simpul_adapter_up",
        "simpul_adapter_cursor_lag_seconds",
        "simpul_quarantine_open_records",
        "simpul_last_record_timestamp_seconds",
        "simpul_broker_blocked",
    ):
        assert family in used, family


def test_name_extraction_catches_unknown_metrics() -> None:
    """The check can fail: a misspelt series name is found and is not a known one."""
    names = metric_names('sum by (adapter) (rate(simpul_record_total{outcome="published"}[5m]))')
    assert names == {"simpul_record_total"}
    assert not names <= exposed_names()


def test_every_alert_has_a_runbook_section() -> None:
    """Each alert's runbook anchor is a heading in docs/operations.md."""
    rules = (ROOT / "ops" / "prometheus" / "simpul-alerts.yml").read_text()
    alerts = re.findall(r"- alert: (\w+)", rules)
    anchors = re.findall(r'runbook: "docs/operations\.md#(\w+)"', rules)
    assert len(alerts) == len(anchors) == 15
    headings = {
        line[4:].strip().lower()
        for line in (ROOT / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("### ")
    }
    assert [a.lower() for a in alerts] == anchors
    assert set(anchors) <= headings, set(anchors) - headings
