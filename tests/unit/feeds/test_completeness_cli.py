"""``simpul completeness``: the table per province, the region list and JSON, from a config's warehouse."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from adapters.sqlite_sink import SqliteWarehouse
from hub.cli.root import main
from tests.unit.feeds.builders import report_env

WIT = timezone(timedelta(hours=9))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    wh = SqliteWarehouse(tmp_path / "wh.db")
    wh.apply(
        [
            report_env("91.03", reported_at=datetime(2024, 4, 15, 23, 30, tzinfo=WIT)),
            report_env("91.05", reported_at=datetime(2024, 4, 16, 0, 30, tzinfo=WIT)),
        ]
    )
    wh.close()
    path = tmp_path / "pusat.toml"
    path.write_text(
        f'dev_mode = true\n[sink]\nsqlite_path = "{tmp_path / "wh.db"}"\n'
        '[[completeness.obligations]]\nschema = "periodic_report"\nlevel = "kabkota"\nperiod = "quarter"\n'
        'due_days = 15\nprovinces = ["91", "96"]\n'
    )
    return path


def test_table_and_missing_regions(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One row per province with its zone and counts, the totals, then the regions asked for."""
    args = ["completeness", "--config", str(config), "--schema", "periodic_report", "--period", "2024-Q1"]
    code = main([*args, "--regions", "late"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "periodic_report 2024-Q1: owed by every kabkota, due 15 days after the period"
    assert out[1].split() == ["PROVINCE", "NAME", "ZONE", "REGIONS", "REPORTED", "LATE", "MISSING", "PENDING"]
    assert out[2].split() == ["91", "Papua", "WIT", "9", "1", "1", "7", "0"]
    assert out[3].split()[:2] == ["96", "Papua"] and out[3].split()[-5:] == ["6", "0", "0", "6", "0"]
    assert out[4] == "total: 15 regions, 1 reported, 1 late, 13 missing, 0 pending"
    assert out[6].split()[0] == "91.05" and out[6].split()[-3:-1] == ["late", "2024-04-16T00:30:00+09:00"]


def test_json_and_errors(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the API's document; an unknown obligation or a bad period is an error exit."""
    args = ["completeness", "--config", str(config), "--schema", "periodic_report", "--period", "2024-Q1"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["totals"] == {"reported": 1, "late": 1, "missing": 13, "pending": 0, "regions": 15}
    assert main(["completeness", "--config", str(config), "--schema", "early_warning"]) == 1
    assert (
        main(["completeness", "--config", str(config), "--schema", "periodic_report", "--period", "Q1"]) == 2
    )
