"""Real ``kill -9`` of a hub process at chosen points, then a restart on the same state directory.

The node runs as ``simpul run --config FILE`` (a file_drop source reading CSV exports, the SQLite
warehouse on its central queue) in a fresh vhost of the main broker. ``SIMPUL_FAULT_POINT=NAME:N`` makes
the process SIGKILL itself the N-th time it reaches that point (``hub/faultpoints.py``): before a publish
is sent, after the broker confirmed it but before anyone in the hub saw the confirm, between the confirm of
a source batch and its cursor commit, and in the sink worker before and after the warehouse commit. The
test checks the exit status really is -9, starts the node again without the fault, waits until the inbox
is empty and everything is applied, stops it gracefully and checks the ledger from durable observations
only (``tests/faults/outside.py``: a tap queue on the ingest exchange, the node's state database, the
warehouse file).

The production warehouse is PostgreSQL, so the sink-side fault points and the kills from outside run a
second time with the node configured as an operator would run it there: ``[sink]`` off and a ``[[sinks]]``
entry of kind ``postgres`` (its own queue bound with ``#``) writing into a fresh schema, whose ledger view
the test reads instead of the SQLite file (``outside.PostgresWarehouse``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.file_drop.simulator import ormas_rows, write_ormas_csv
from adapters.sqlite_sink.sink import SqliteSink
from adapters.sqlite_sink.store import SqliteWarehouse
from hub.demo.levels_broker import fresh_vhosts, put_shovel
from hub.demo.levels_plan import LevelNode
from hub.demo.levels_plan import node_settings as levels_settings
from hub.node import Node
from hub.settings import load_settings
from hub.transport.management import ManagementClient
from tests.faults import outside
from tests.faults.ledger import Key, Report, assert_ok, key_for
from tests.helpers import KEY_BOGOR, OFFICE_BOGOR

pytestmark = [pytest.mark.broker, pytest.mark.slow]
FIXTURES = Path(__file__).parents[1] / "fixtures" / "file_drop"
ADAPTER, SYSTEM = "ormas-bogor", "ormas-register-bogor"
MAIN_AMQP, MAIN_MGMT = "amqp://guest:guest@127.0.0.1:5672", "http://guest:guest@127.0.0.1:15672"
FILES, ROWS, BATCH = 4, 250, 50
PG_SINK = "warehouse-pg"


@pytest.fixture
async def pg_warehouse() -> AsyncIterator[outside.PostgresWarehouse]:
    """A fresh schema per test, migrated and instrumented before the node starts, dropped afterwards."""
    schema = f"faults_{uuid.uuid4().hex[:10]}"
    pg = outside.PostgresWarehouse(schema, host="127.0.0.1", user="postgres", database="test")
    async with pg as warehouse:
        yield warehouse


def _config(
    tmp_path: Path, amqp_url: str, management_url: str, inbox: Path,
    pg: outside.PostgresWarehouse | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The node's configuration; with ``pg``, its warehouse is that PostgreSQL schema instead of SQLite."""
    config = _sqlite_config(tmp_path, amqp_url, management_url, inbox)
    if pg is not None:
        # Only configuration, as a user would switch: no SQLite warehouse, one postgres [[sinks]] entry.
        config["sink"] = {"enabled": False}
        config["sinks"] = [{"name": PG_SINK, "kind": "postgres", "config": pg.sink_config()}]
    return config


def _sqlite_config(tmp_path: Path, amqp_url: str, management_url: str, inbox: Path) -> dict[str, Any]:
    mapping = tomllib.loads((FIXTURES / "ormas_mapping.toml").read_text(encoding="utf-8"))
    return {
        "node": "kab-bogor-proc",
        "dev_mode": True,
        "state_dir": str(tmp_path / "state"),
        "log_level": "warning",
        "log_format": "json",
        "shutdown_timeout_s": 5.0,
        "broker": {"url": amqp_url, "management_url": management_url, "publish_timeout_s": 5.0,
                   "heartbeat_s": 5},
        "http": {"port": 0, "api_keys": {KEY_BOGOR: {"system": "sitimdu-bogor", "office": OFFICE_BOGOR}}},
        "batch": {"linger_ms": 1},
        "sink": {"sqlite_path": str(tmp_path / "warehouse.sqlite3"), "linger_ms": 1},
        "sources": [{
            "name": ADAPTER, "kind": "file_drop", "schema": "ormas_registration", "system": SYSTEM,
            "office": OFFICE_BOGOR,
            "config": {"path": str(inbox), "settle_s": 0, "poll_interval_s": 0.2, "stop_when_idle": True,
                       "batch_size": BATCH, "id_columns": ["no_skt_sk_ahu"]},
            "mapping": mapping,
        }],
    }  # fmt: skip


def _drop_files(inbox: Path) -> list[outside.DropFile]:
    """FILES register exports of ROWS rows each, with fixed modification times (the rows' revision)."""
    inbox.mkdir(parents=True)
    files = []
    for f in range(FILES):
        rows = ormas_rows(ROWS, seed=f + 1, start=1 + f * ROWS)
        path = write_ormas_csv(inbox, f"ormas_{f}.csv", rows)
        stamp = 1_750_000_000 + f
        os.utime(path, (stamp, stamp))
        keys = [key_for("ormas_registration", SYSTEM, r.nomor, stamp * 1000) for r in rows]
        files.append(outside.drop_file(path, keys))
    return files


POINTS = [
    # (fault point, pass that kills): mid-stream for 1,000 rows in 50-row batches.
    ("publish_before_send", 40),
    ("publish_confirmed_unseen", 40),
    ("source_confirmed_before_commit", 7),
    ("sink_before_commit", 6),
    ("sink_committed_before_ack", 6),
]
PG_POINTS = [p for p in POINTS if p[0].startswith("sink_")]


def _text(path: Path) -> str:
    return path.read_text(errors="replace")


def _waiting(inbox: Path) -> bool:
    """Files still in the inbox (each is moved to done/ after its last batch's commit)."""
    return any(inbox.glob("*.csv"))


@dataclass
class Outcome:
    """What a kill-and-restart run observed (see ``_kill_and_restart``)."""

    at_kill: outside.WarehouseView
    acked_at_kill: set[str]
    routed_at_kill: int
    recovery_s: float | None
    done_s: float


async def _kill_and_restart(
    config: Path, log: Path, fault: str, *, warehouse: outside.WarehouseReader, state_db: Path,
    files: list[outside.DropFile], amqp_url: str, inbox: Path, offered: int,
) -> Outcome:  # fmt: skip
    """Run the node until the fault point kills it (exit -9), note what was durable then, restart it
    without the fault, wait until the inbox is empty and ``offered`` records are applied, stop it."""
    point, _, nth = fault.partition(":")
    first = outside.HubProcess(config, log, fault=fault)
    second = outside.HubProcess(config, log)
    try:
        await first.start()
        status = await first.wait(timeout=120)
        assert status == -signal.SIGKILL, f"exit {status}, expected the fault point's SIGKILL\n{first.tail()}"
        assert f"fault point {point} reached {nth} times" in _text(log)
        at_kill = await warehouse.read()
        acked_at_kill = outside.acked_to_source(state_db, ADAPTER, files)
        routed_at_kill = await outside.tap_depth(amqp_url)
        assert len(at_kill.applied) < offered, "the kill must fall mid-stream"
        await second.start()
        recovery: float | None = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = await warehouse.applied_count()
            if recovery is None and now > len(at_kill.applied):
                recovery = time.monotonic() - second.started_at
            if now >= offered and not _waiting(inbox):
                break
            assert second.proc is not None and second.proc.returncode is None, second.tail()
            await asyncio.sleep(0.1)
        done_s = time.monotonic() - second.started_at
        await asyncio.sleep(1.0)  # let a last (duplicate) redelivery land before the graceful stop
        assert await second.stop() == 0, second.tail()
    finally:
        await first.kill()
        await second.kill()
    return Outcome(at_kill, acked_at_kill, routed_at_kill, recovery, round(done_s, 1))


async def _report(
    scenario: str, amqp_url: str, offered: list[Key], files: list[outside.DropFile], state_db: Path,
    warehouse: outside.WarehouseReader, outcome: Outcome, inbox: Path,
) -> Report:  # fmt: skip
    """The ledger report, and the checks every kill scenario shares."""
    routed = await outside.drain_tap(amqp_url)
    acked = outside.acked_to_source(state_db, ADAPTER, files)
    view = await warehouse.read()
    report = outside.check(scenario, offered, routed, acked, view, recovery_s=outcome.recovery_s)
    report.notes.update(
        applied_at_kill=len(outcome.at_kill.applied),
        acked_to_source_at_kill=len(outcome.acked_at_kill),
        routed_at_kill=outcome.routed_at_kill,
        restart_to_done_s=outcome.done_s,
    )
    assert acked == {k.idempotency_key for k in offered}, "every file must be committed in the end"
    assert report.notes["acked_not_routed"] == 0, "the source was told of records the broker never had"
    assert outcome.acked_at_kill <= set(routed)
    assert len(list((inbox / "done").iterdir())) == FILES
    return report


@pytest.mark.parametrize(("point", "nth"), POINTS, ids=[p for p, _ in POINTS])
@pytest.mark.fault("SIMPUL_FAULT_POINT=NAME:N: the simpul run process SIGKILLs itself there; restarted")
async def test_hub_process_killed_at_a_fault_point(
    tmp_path: Path, amqp_url: str, management_url: str, point: str, nth: int
) -> None:
    """kill -9 at the point, restart on the same state: every row applied once, nothing lost."""
    await _killed_at_a_fault_point(tmp_path, amqp_url, management_url, point, nth)


@pytest.mark.parametrize(("point", "nth"), PG_POINTS, ids=[p for p, _ in PG_POINTS])
@pytest.mark.fault("SIMPUL_FAULT_POINT=NAME:N in the sink worker of a postgres [[sinks]] entry; restarted")
async def test_hub_process_killed_at_a_fault_point_postgres(
    tmp_path: Path, amqp_url: str, management_url: str, pg_warehouse: outside.PostgresWarehouse,
    point: str, nth: int,
) -> None:  # fmt: skip
    """The sink worker of the PostgreSQL warehouse dies before / after its COMMIT: every row applied
    once, nothing lost."""
    await _killed_at_a_fault_point(tmp_path, amqp_url, management_url, point, nth, pg_warehouse)


async def _killed_at_a_fault_point(
    tmp_path: Path, amqp_url: str, management_url: str, point: str, nth: int,
    pg: outside.PostgresWarehouse | None = None,
) -> None:  # fmt: skip
    """One fault-point scenario, into the SQLite warehouse or (``pg``) that PostgreSQL schema."""
    inbox = tmp_path / "inbox"
    files = _drop_files(inbox)
    offered: list[Key] = [k for f in files for k in f.keys]
    config = outside.write_config(
        tmp_path / "node.toml", _config(tmp_path, amqp_url, management_url, inbox, pg)
    )
    warehouse = _reader(tmp_path, pg)
    state_db = tmp_path / "state" / "sources.sqlite3"
    await outside.install_tap(amqp_url, "simpul.ingest")
    outcome = await _kill_and_restart(
        config, tmp_path / "node.log", f"{point}:{nth}", warehouse=warehouse, state_db=state_db,
        files=files, amqp_url=amqp_url, inbox=inbox, offered=len(offered),
    )  # fmt: skip
    report = await _report(
        f"hub process kill -9: {point}{_engine(pg)}", amqp_url, offered, files, state_db, warehouse, outcome,
        inbox,
    )  # fmt: skip
    if point in ("publish_confirmed_unseen", "source_confirmed_before_commit"):
        # The confirmed batch was not committed, so it was read and published again after the restart.
        assert report.notes["routed_copies"] > len(offered)
    if point == "sink_committed_before_ack":
        assert report.redeliveries > 0  # the committed, unacked group came again and was recognised
    assert_ok(report)


@pytest.mark.fault("kill -9 of the simpul run process from outside, 3 times mid-stream, wherever it is")
async def test_hub_process_killed_from_outside_three_times(
    tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """SIGKILL sent by the test (no fault point: the process may be anywhere, a publish in flight
    included) at three moments, a restart after each: every row applied once, nothing lost."""
    await _killed_from_outside_three_times(tmp_path, amqp_url, management_url)


@pytest.mark.fault("kill -9 of the simpul run process from outside, 3 times mid-stream; postgres [[sinks]]")
async def test_hub_process_killed_from_outside_three_times_postgres(
    tmp_path: Path, amqp_url: str, management_url: str, pg_warehouse: outside.PostgresWarehouse
) -> None:
    """As above, the node writing into the PostgreSQL warehouse: every row applied once, nothing lost."""
    await _killed_from_outside_three_times(tmp_path, amqp_url, management_url, pg_warehouse)


async def _killed_from_outside_three_times(
    tmp_path: Path, amqp_url: str, management_url: str, pg: outside.PostgresWarehouse | None = None
) -> None:
    """Three kills from outside and a last run, into the SQLite warehouse or (``pg``) that schema."""
    inbox = tmp_path / "inbox"
    files = _drop_files(inbox)
    offered: list[Key] = [k for f in files for k in f.keys]
    config = outside.write_config(
        tmp_path / "node.toml", _config(tmp_path, amqp_url, management_url, inbox, pg)
    )
    warehouse = _reader(tmp_path, pg)
    state_db = tmp_path / "state" / "sources.sqlite3"
    await outside.install_tap(amqp_url, "simpul.ingest")
    log = tmp_path / "node.log"
    procs: list[outside.HubProcess] = []
    at_kills: list[int] = []
    try:
        for threshold in (150, 450, 750):
            proc = outside.HubProcess(config, log)
            procs.append(proc)
            await proc.start()
            deadline = time.monotonic() + 60
            while await warehouse.applied_count() < threshold:
                assert time.monotonic() < deadline, f"never reached {threshold} applied\n{proc.tail()}"
                assert proc.proc is not None and proc.proc.returncode is None, proc.tail()
                await asyncio.sleep(0.02)
            assert proc.proc is not None
            proc.proc.send_signal(signal.SIGKILL)
            assert await proc.wait(timeout=30) == -signal.SIGKILL
            at_kills.append(await warehouse.applied_count())
        last = outside.HubProcess(config, log)
        procs.append(last)
        await last.start()
        recovery: float | None = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = await warehouse.applied_count()
            if recovery is None and now > at_kills[-1]:
                recovery = time.monotonic() - last.started_at
            if now >= len(offered) and not _waiting(inbox):
                break
            await asyncio.sleep(0.1)
        done_s = time.monotonic() - last.started_at
        await asyncio.sleep(1.0)
        assert await last.stop() == 0, last.tail()
    finally:
        for proc in procs:
            await proc.kill()
    outcome = Outcome(outside.WarehouseView(), set(), 0, recovery, round(done_s, 1))
    report = await _report(
        f"hub process kill -9 from outside, x3{_engine(pg)}", amqp_url, offered, files, state_db, warehouse,
        outcome, inbox,
    )  # fmt: skip
    for key in ("applied_at_kill", "acked_to_source_at_kill", "routed_at_kill"):
        report.notes.pop(key)
    report.notes["applied_at_kills"] = at_kills
    assert_ok(report)


def _reader(tmp_path: Path, pg: outside.PostgresWarehouse | None) -> outside.WarehouseReader:
    return pg if pg is not None else outside.SqliteWarehouseReader(tmp_path / "warehouse.sqlite3")


def _engine(pg: outside.PostgresWarehouse | None) -> str:
    """The scenario name's suffix: the SQLite rows keep their names, the PostgreSQL ones are told apart."""
    return "" if pg is None else " (PostgreSQL warehouse)"


LEVEL_POINTS = [("level_forwarded_before_ack", 5), ("publish_confirmed_unseen", 40)]


@pytest.mark.parametrize(("point", "nth"), LEVEL_POINTS, ids=[p for p, _ in LEVEL_POINTS])
@pytest.mark.fault("SIMPUL_FAULT_POINT in a kab/kota simpul run process (LevelWorker, shovel to provinsi)")
async def test_level_process_killed_at_a_fault_point(
    tmp_path: Path, broker_vhost: str, management_url: str, point: str, nth: int
) -> None:
    """A kab/kota node process (file_drop source, LevelWorker, rendered uplink shovel to jabar, jabar's
    to pusat) dies at the point and restarts: every row reaches pusat once, with both hops."""
    prefix = broker_vhost  # the kab/kota node's own vhost; jabar and pusat get two more
    nodes = [
        LevelNode("pusat", "pusat", None, MAIN_AMQP, MAIN_MGMT, f"{prefix}-pusat"),
        LevelNode("jabar", "provinsi", "32", MAIN_AMQP, MAIN_MGMT, f"{prefix}-jabar", "pusat"),
        LevelNode("kab-bogor", "kabkota", "32.01", MAIN_AMQP, MAIN_MGMT, broker_vhost, "jabar"),
    ]
    _, jabar_ln, kab_ln = nodes
    await fresh_vhosts(nodes[:2])
    inbox = tmp_path / "inbox"
    files = _drop_files(inbox)
    offered: list[Key] = [k for f in files for k in f.keys]
    amqp_url = kab_ln.url()
    kab_cfg = _config(tmp_path, amqp_url, management_url, inbox)
    kab_cfg.update(
        node="kab-bogor", level="kabkota", region="32.01",
        uplink={"enabled": True, "parent_uri": jabar_ln.url(), "hold_classifications": ["SANGAT_RAHASIA"]},
    )  # fmt: skip
    kab_cfg["sink"] = {**kab_cfg["sink"], "enabled": False}
    config = outside.write_config(tmp_path / "node.toml", kab_cfg)
    state_db = tmp_path / "state" / "sources.sqlite3"
    await outside.install_tap(amqp_url, "simpul.ingest")
    levels = tmp_path / "levels"
    up = {n.name: levels_settings(n, nodes, levels) for n in nodes[:2]}
    warehouse = Path(up["pusat"].sink.sqlite_path)
    try:
        async with Node(up["pusat"], sink=SqliteSink(warehouse)), Node(up["jabar"]):
            await put_shovel(jabar_ln, up["jabar"])
            await put_shovel(kab_ln, load_settings(None, **kab_cfg))
            reader = outside.SqliteWarehouseReader(warehouse)
            outcome = await _kill_and_restart(
                config, tmp_path / "node.log", f"{point}:{nth}", warehouse=reader, state_db=state_db,
                files=files, amqp_url=amqp_url, inbox=inbox, offered=len(offered),
            )  # fmt: skip
            report = await _report(
                f"level process kill -9: {point}", amqp_url, offered, files, state_db, reader, outcome,
                inbox,
            )  # fmt: skip
            store = SqliteWarehouse(warehouse)
            try:
                hops = Counter(
                    tuple(h["node"] for h in (store.get(k.record_key) or {"envelope": {}})["envelope"]
                          .get("lineage", []))
                    for k in offered
                )  # fmt: skip
            finally:
                store.close()
    finally:
        for n in nodes[:2]:
            async with ManagementClient(n.management) as api:
                with contextlib.suppress(Exception):
                    await api.delete_vhost(n.vhost)
    assert hops == {("kab-bogor", "jabar"): len(offered)}, hops
    if point == "level_forwarded_before_ack":
        assert report.redeliveries > 0  # the forwarded, unacked group was forwarded again: duplicates
    assert_ok(report)
