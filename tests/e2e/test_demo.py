"""The demo end to end on the real RabbitMQ and PostgreSQL: every kind of source feeding one node.

http offices -> HTTP ingest, the SITIMDU simulator -> rest_poll, the early-warning simulator -> webhook,
a drop folder -> file_drop, a PostgreSQL table -> sql_poll; all into the SQLite warehouse, each checked
record by record against what its simulator served.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from hub.cli import main as simpul_main
from hub.demo import sql
from hub.demo.expect import KindExpect
from hub.demo.main import parse_only, run_demo
from hub.demo.rest import RestDemo
from hub.errors import ConfigError
from hub.transport.management import ManagementClient
from schemas.pii import NIK_PATTERN

MANAGEMENT = "http://guest:guest@127.0.0.1:15672"
BROKER = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
async def vhost() -> AsyncIterator[str]:
    """A vhost name for one demo run; deleted afterwards."""
    name = f"simpul-e2e-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        async with ManagementClient(MANAGEMENT) as mgmt:
            await mgmt.delete_vhost(name)


@pytest.fixture
def sync_vhost() -> Iterator[str]:
    """A vhost name for a demo run through the CLI (which runs its own event loop); deleted afterwards."""
    import asyncio

    name = f"simpul-e2e-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:

        async def delete() -> None:
            async with ManagementClient(MANAGEMENT) as mgmt:
                await mgmt.delete_vhost(name)

        asyncio.run(delete())


async def _demo(vhost: str, **kw: Any) -> int:
    args: dict[str, Any] = {"offices": 4, "records": 40, "bad_every": 7, "timeout": 60, "source_records": 60}
    return await run_demo(vhost=vhost, broker_url=BROKER, management_url=MANAGEMENT, **{**args, **kw})


def _row(out: str, kind: str) -> str:
    """The summary table's line of one kind."""
    lines = [line for line in out.splitlines() if re.match(rf"^  {kind}\s+(\d|-)", line)]
    assert len(lines) == 1, out
    return lines[0]


def _figures(line: str) -> list[int]:
    """offered, published, quarantined, applied, expected good, expected bad of a table line."""
    _kind, *counts, expected, _check = line.split(maxsplit=6)
    good, bad = expected.split("/")
    return [int(n.replace(",", "")) for n in (*counts, good, bad)]


@pytest.mark.broker
@pytest.mark.e2e
async def test_every_kind_at_once_passes_record_by_record(
    vhost: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """All five kinds in one node: exit 0, each kind's row ok with its figures, faults seen, no NIK shown."""
    code = await _demo(vhost)
    out, err = capsys.readouterr()
    assert code == 0, out
    assert "PASS: every good record applied exactly once" in out
    assert "missing/wrong/unexpected  0/0/0" in out and "skipped" not in out
    for kind in ("http", "rest", "webhook", "files", "sql"):
        offered, published, quarantined, applied, good, bad = _figures(_row(out, kind))
        assert _row(out, kind).rstrip().endswith("ok")
        assert good > 0 and bad > 0 and applied >= good, kind
        assert published + quarantined <= offered and quarantined >= bad, kind
    assert int(re.search(r"(\d+) answered 500", out)[1]) > 0  # type: ignore[index]
    assert int(re.search(r"(\d+) pages served twice", out)[1]) > 0  # type: ignore[index]
    assert "2 forged pushes refused (2 with 401)" in out
    assert "3 files in done/" in out
    assert not NIK_PATTERN.search(out + err), "a NIK-shaped number reached the demo's output"


@pytest.mark.broker
@pytest.mark.e2e
async def test_the_sql_schema_is_dropped_after_the_run(
    vhost: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's PostgreSQL schema (named in the summary) no longer exists afterwards."""
    code = await _demo(vhost, only="sql")
    out = capsys.readouterr().out
    assert code == 0, out
    schema = re.search(r"rows in (simpul_demo_[0-9a-f]+)\.bankeu_parpol", out)
    assert schema is not None and "schema dropped" in out
    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="test")
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema[1]
        )
    finally:
        await conn.close()
    assert found == 0


@pytest.mark.broker
@pytest.mark.e2e
async def test_unreachable_postgresql_skips_sql_with_a_clear_line(
    vhost: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing listening on the PostgreSQL port, sql is skipped (said so) and the rest still passes."""
    monkeypatch.setitem(sql.PG, "port", 1)  # nothing listens on port 1
    code = await _demo(vhost, only="rest,sql")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "skipped: PostgreSQL not reachable or not usable at 127.0.0.1:1 " in _row(out, "sql")
    assert _row(out, "rest").rstrip().endswith("ok")


@pytest.mark.broker
@pytest.mark.e2e
async def test_a_ledger_the_centre_does_not_match_fails_the_run(
    vhost: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record never served, a wrong field rule and a served record left out: exit 1, each one counted."""
    served = RestDemo.expected

    def wrong(self: RestDemo) -> KindExpect:
        ledger = served(self)
        ledger.serve(("conflict_incident", "sitimdu-bogor", "999999"), 1)  # never served by the app
        one = sorted(ledger.bad, key=lambda b: b.rid)[0]
        ledger.bad.remove(one)
        ledger.quarantined(one.adapter, one.rid, one.reason, "no_such_rule")
        dropped = sorted(ledger.final)[0]  # applied at the centre, but no longer in the ledger
        del ledger.final[dropped]
        ledger.revisions = {r for r in ledger.revisions if r[0] != dropped}
        return ledger

    monkeypatch.setattr(RestDemo, "expected", wrong)
    code = await _demo(vhost, only="rest", timeout=5)  # it will not settle: do not wait long for it
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FAIL: 1 missing, 1 bad not quarantined" in _row(out, "rest")
    assert re.search(r"missing/wrong/unexpected  1/0/[1-9]", out), out
    assert out.rstrip().endswith("(see the figures above)")


@pytest.mark.broker
@pytest.mark.e2e
def test_only_runs_the_named_kinds_through_the_cli(
    sync_vhost: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simpul demo --only files,webhook`` runs those two kinds and no other, and exits 0."""
    argv = [
        "demo",
        "--part",
        "flow",
        "--vhost",
        sync_vhost,
        "--only",
        "webhook,files",
        "--source-records",
        "40",
    ]
    assert simpul_main(argv) == 0
    out = capsys.readouterr().out
    assert _row(out, "webhook").rstrip().endswith("ok") and _row(out, "files").rstrip().endswith("ok")
    assert not re.search(r"^  (http|rest|sql)\s", out, re.M)


def test_unknown_kinds_are_refused_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown kind in --only is a config error (exit 2) naming the known kinds; nothing is contacted."""
    assert simpul_main(["demo", "--only", "http,ftp", "--management-url", "http://127.0.0.1:1"]) == 2
    assert "unknown source kinds ['ftp']" in capsys.readouterr().err
    assert parse_only("sql, http") == ["http", "sql"] and parse_only(None)[0] == "http"
    with pytest.raises(ConfigError):
        parse_only(",")


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.broker
@pytest.mark.e2e
async def test_the_demo_leaves_no_folder_or_vhost_behind(
    vhost: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --keep the run's simpul-demo-* folder and its vhost are gone when it returns; the summary
    says so and explains its figures."""
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    code = await _demo(vhost, only="http", offices=1, records=20)
    out = capsys.readouterr().out
    assert code == 0, out
    assert _listing(tmp_path) == [] and f"removed: the state folder {tmp_path}/simpul-demo-" in out
    async with ManagementClient(MANAGEMENT) as mgmt:
        assert await mgmt.request("GET", f"/vhosts/{vhost}", ok_missing=True) is None
    assert "Reading the figures:" in out
