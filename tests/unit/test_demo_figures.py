"""The demo's own output (issue 16): the progress line stops at 100 %, the summary explains its numbers,
and a run leaves no temporary folder or vhost behind unless ``--keep``."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.demo import levels
from hub.demo.progress import Progress
from hub.demo.report import KindFigures, Report, render
from hub.transport.management import ManagementClient

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
BROKER = "amqp://guest:guest@127.0.0.1:5672/"


def test_progress_never_passes_100_percent(capsys: pytest.CaptureFixture[str]) -> None:
    """More confirmations than planned (re-offers after faults): the figure and bar stop at the total."""
    progress = Progress(10183, "flowing ")
    progress.counts = {"http": 7200, "rest": 3041}  # 10241, as the audit saw
    progress.show(force=True)
    line = capsys.readouterr().err
    done, total = map(int, re.search(r"\] (\d+)/(\d+)", line).groups())  # type: ignore[union-attr]
    assert done == total == 10183 and "100%" in line and "58 more: repeats" in line
    assert "#" * 30 in line


def test_summary_explains_its_own_numbers() -> None:
    """applied > rows, quarantined > entries, applied > expected good: the summary says why, with the
    run's own figures."""
    report = Report(rows=8292, quarantine_entries=415, expected_rows=8292, vhost="v")
    report.kinds = [
        KindFigures("http", "offices", offered=7700, published=7616, quarantined=427, applied=9054,
                    good=7000, bad=415),
    ]  # fmt: skip
    text = " ".join(render(report).split())
    assert "Reading the figures:" in text
    assert "applied (9,054) counts revisions" in text and "warehouse rows (8,292, one per record)" in text
    assert "expected good records (7,000, counted by their final revision)" in text
    assert "quarantined (427) counts confirmations" in text and "holds 415 entries" in text


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.broker
async def test_levels_demo_removes_its_folder_and_vhosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """After the run (here with the levels' traffic stubbed out) the state folder and all four vhosts are
    gone; with keep they stay."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    seen: list[Path] = []

    async def fake_run(nodes: Any, state: Path, **_kw: Any) -> Any:
        (state / "warehouse.sqlite3").write_bytes(b"x")
        seen.append(state)
        return type("R", (), {"ok": True})()

    monkeypatch.setattr(levels, "run_levels", fake_run)
    monkeypatch.setattr(levels, "render_report", lambda report, nodes: "summary")
    prefix = f"simpul-t{uuid.uuid4().hex[:6]}"
    kw: dict[str, Any] = {
        "broker_url": BROKER,
        "management_url": MANAGEMENT,
        "per_office": 1,
        "timeout": 5,
        "prefix": prefix,
    }
    assert await levels.run_levels_demo(**kw) == 0
    assert _listing(tmp_path) == []
    async with ManagementClient(MANAGEMENT) as api:
        vhosts = {v["name"] for v in await api.request("GET", "/vhosts")}
    assert not {v for v in vhosts if v.startswith(prefix)}
    assert "removed:" in capsys.readouterr().out
    try:
        assert await levels.run_levels_demo(**kw, keep=True) == 0
        assert _listing(tmp_path) == [seen[1].name]
        async with ManagementClient(MANAGEMENT) as api:
            vhosts = {v["name"] for v in await api.request("GET", "/vhosts")}
        assert len({v for v in vhosts if v.startswith(prefix)}) == 4
    finally:
        nodes = levels.single_broker_layout(BROKER, MANAGEMENT, prefix)
        await levels.drop_vhosts(nodes)
