"""promtool on what Simpul ships: /metrics of a live node, the alert rules and their unit tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aiohttp
import pytest

from hub.node import Node
from tests.helpers import item, until
from tests.ops.conftest import ROOT
from tests.unit.test_http_ingest import post

RULES = ROOT / "ops" / "prometheus" / "simpul-alerts.yml"
RULE_TESTS = ROOT / "ops" / "prometheus" / "tests" / "simpul-alerts.test.yml"
PROMETHEUS_EXAMPLE = ROOT / "ops" / "prometheus" / "prometheus.example.yml"

pytestmark = pytest.mark.ops


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command, capturing its output."""
    return subprocess.run(args, input=stdin, capture_output=True, timeout=120, check=False)


async def test_live_metrics_pass_promtool_check_metrics(ticking_node: Node, promtool: str) -> None:
    """A node with records flowing, a quarantine entry and a paused adapter: /metrics lints clean."""
    await until(lambda: ticking_node.runners[0].records_offered >= 10)
    bad = [item("ormas_registration", "Q1", kode_wilayah="32.98.99")]
    await post(ticking_node, "ormas_registration", bad, query="?on_invalid=quarantine")
    await until(lambda: ticking_node.quarantine_store.count() == 1)
    ticking_node.runners[0].pause()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{ticking_node.http_port}/metrics") as resp,
    ):
        body = await resp.read()
    text = body.decode()
    for family in (
        "simpul_records_total",
        "simpul_publish_latency_seconds_bucket",
        "simpul_end_to_end_latency_seconds_bucket",
        "simpul_quarantine_open_records",
        "simpul_queue_messages",
        "simpul_queue_consumers",
        "simpul_adapter_cursor_lag_seconds",
        "simpul_adapter_paused",
        "simpul_last_record_timestamp_seconds",
    ):
        assert f"\n{family}{{" in text or f"\n{family} " in text, family
    done = run(promtool, "check", "metrics", stdin=body)
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert done.stdout.decode().strip() == "" and done.stderr.decode().strip() == ""


def test_promtool_reports_a_bad_exposition(promtool: str) -> None:
    """The check bites: a counter without _total and without help is reported."""
    done = run(promtool, "check", "metrics", stdin=b"# TYPE simpul_things counter\nsimpul_things 1\n")
    assert done.returncode != 0
    assert "simpul_things" in (done.stdout + done.stderr).decode()


def test_alert_rules_pass_promtool_check_rules(promtool: str) -> None:
    """ops/prometheus/simpul-alerts.yml is valid and holds the expected alerts."""
    done = run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert "SUCCESS: 15 rules found" in done.stdout.decode()
    text = RULES.read_text()
    for alert in (
        "SimpulAdapterDown",
        "SimpulRegionSilent",
        "SimpulQuarantineGrowing",
        "SimpulBrokerBlocked",
        "SimpulPublishLatencyHigh",
        "SimpulQueueBacklogGrowing",
    ):
        assert f"alert: {alert}\n" in text


def test_alert_rules_pass_their_unit_tests(promtool: str) -> None:
    """promtool test rules: every alert fires when it should and stays quiet when it should not."""
    done = run(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert "SUCCESS" in done.stdout.decode()


def test_rule_unit_tests_bite(promtool: str, tmp_path: Path) -> None:
    """With a laxer silence threshold (48 h) the region test fails: the unit tests can fail."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "simpul-alerts.yml").write_text(RULES.read_text().replace("> 24 * 3600", "> 48 * 3600"))
    (tmp_path / "tests" / "t.yml").write_text(RULE_TESTS.read_text())
    done = run(promtool, "test", "rules", str(tmp_path / "tests" / "t.yml"))
    assert done.returncode != 0 and "SimpulRegionSilent" in done.stdout.decode() + done.stderr.decode()


def test_prometheus_example_config_is_valid(promtool: str) -> None:
    """The example scrape config (with the rules beside it) passes promtool check config."""
    done = run(promtool, "check", "config", str(PROMETHEUS_EXAMPLE))
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
