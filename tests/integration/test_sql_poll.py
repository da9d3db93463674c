"""sql_poll against the real PostgreSQL and MariaDB on this machine, and in a real node on RabbitMQ.

The table is ../shared/samples/bankeu_parpol.sql (``adapters.sql_poll.simulator``): on PostgreSQL in a
fresh schema per test, on MariaDB a uniquely named table in database ``test``; both dropped afterwards.
"""

from __future__ import annotations

import asyncio
import tomllib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiomysql
import asyncpg
import pytest

from adapters.postgres_sink import PLUGIN as POSTGRES_PLUGIN
from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
from adapters.sql_poll import PLUGIN as SQL_POLL_PLUGIN
from adapters.sql_poll.config import SqlPollConfig
from adapters.sql_poll.simulator import BankeuTable, generated_rows, wib_now
from adapters.sql_poll.source import SqlPollSource
from adapters.sql_poll.values import micros
from adapters.sqlite_sink.sink import SqliteSink
from hub.adapters import registry
from hub.adapters.model import AdapterContext
from hub.adapters.state import StateStore
from hub.errors import FatalError, SourceUnavailable
from hub.metrics import Metrics
from hub.node import Node
from schemas.envelope import SourceIdentity
from tests.helpers import node_settings, until

WIB = timezone(timedelta(hours=7))
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
MY = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "db": "test"}
MAPPING = Path(__file__).resolve().parents[1] / "fixtures" / "sql_poll" / "bankeu_parpol_mapping.toml"


@dataclass
class Db:
    """A live database with a fresh bankeu_parpol table and the config to poll it."""

    engine: str
    table: BankeuTable
    config: dict[str, Any]

    def source_config(self, **kw: Any) -> SqlPollConfig:
        return SqlPollConfig(**{**self.config, "settle_s": 0, "stop_when_idle": True, **kw})


@pytest.fixture(params=["postgresql", "mysql"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[Db]:
    """The bankeu_parpol table on one engine, dropped afterwards."""
    engine: str = request.param
    tag = uuid.uuid4().hex[:10]
    if engine == "postgresql":
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"CREATE SCHEMA simpul_t_{tag}")
        table = BankeuTable(engine, conn, f"simpul_t_{tag}.bankeu_parpol")
        config = {"engine": engine, "user": "postgres", "database": "test", "table": table.table}
    else:
        conn = await aiomysql.connect(**MY, autocommit=True)
        table = BankeuTable(engine, conn, f"bankeu_{tag}")
        config = {"engine": engine, "user": "root", "database": "test", "table": table.table}
    config |= {"key_column": "id", "updated_at_column": "updated_at", "deleted_at_column": "deleted_at"}
    try:
        yield Db(engine, table, config)
    finally:
        if engine == "postgresql":
            await conn.execute(f"DROP SCHEMA simpul_t_{tag} CASCADE")
            await conn.close()
        else:
            await table.drop()
            conn.close()


def _ctx(tmp_path: Path, name: str = "bankeu-jabar") -> AdapterContext:
    return AdapterContext(
        name=name,
        schema="party_financial_aid",
        identity=SourceIdentity(system="bankeu-jabar", office="32", adapter=name),
        state=StateStore(tmp_path / "state.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


async def _poll(source: SqlPollSource, pages: int | None = None) -> list[list[Any]]:
    """Read (and commit) pages until the source is idle, or only ``pages`` of them."""
    out: list[list[Any]] = []
    gen = source.read()
    async for batch in gen:
        await batch.commit()
        out.append(list(batch.records))
        if pages is not None and len(out) == pages:
            await gen.aclose()
            break
    return out


async def test_sample_rows_come_out_exact(db: Db, tmp_path: Path) -> None:
    """The three sample rows: Decimal amounts, WIB-aware stamps, dates, the soft-deleted one withdrawn."""
    await db.table.seed(0)
    source = SqlPollSource(db.source_config(), _ctx(tmp_path))
    (page,) = await _poll(source)
    await source.stop()
    by_id = {r.source_record_id: r for r in page}
    first = by_id["1"].raw
    assert first["total_bantuan"] == Decimal("1851852000.00") and isinstance(
        first["nilai_per_suara"], Decimal
    )
    assert first["updated_at"] == datetime(2024, 7, 1, 10, 11, 12, tzinfo=WIB)
    assert str(first["tgl_pencairan"]) == "2024-05-17" and first["realisasi_pendpol"] == Decimal(
        "1111111200.00"
    )
    assert [by_id[k].op for k in ("1", "2", "3")] == ["upsert", "upsert", "withdraw"]
    assert by_id["3"].revision == micros(datetime(2024, 1, 5, 10, 0, tzinfo=WIB))  # deleted_at, the later
    assert [r.source_record_id for r in page] == [
        "3",
        "1",
        "2",
    ]  # by change time: the delete of 2024-01-05 first


async def test_ties_on_updated_at_across_pages_and_a_restart(db: Db, tmp_path: Path) -> None:
    """Seven rows with one updated_at, pages of three, a crash after page one: all seven exactly once."""
    stamp = datetime(2024, 8, 1, 9, 0, 0)
    await db.table.create()
    await db.table.insert([(*row[:12], stamp, None) for row in generated_rows(7)])
    ctx = _ctx(tmp_path)
    first = await _poll(SqlPollSource(db.source_config(batch_size=3), ctx), pages=1)
    rest = await _poll(SqlPollSource(db.source_config(batch_size=3), ctx))
    ids = [r.source_record_id for page in first + rest for r in page]
    assert ids == [str(i) for i in range(1, 8)] and [len(p) for p in first + rest] == [3, 3, 1]


async def test_only_changes_after_the_cursor_follow(db: Db, tmp_path: Path) -> None:
    """After a full read, an update and a soft delete come as exactly two records: upsert and withdraw."""
    await db.table.seed(5)
    ctx = _ctx(tmp_path)
    before = {r.source_record_id: r for p in await _poll(SqlPollSource(db.source_config(), ctx)) for r in p}
    assert len(before) == 8
    await db.table.update([4])
    await db.table.soft_delete([5])
    (page,) = await _poll(SqlPollSource(db.source_config(), ctx))
    assert [(r.source_record_id, r.op) for r in page] == [("4", "upsert"), ("5", "withdraw")]
    assert page[0].raw["jml_kursi"] == before["4"].raw["jml_kursi"] + 1
    assert all((r.revision or 0) > (before[r.source_record_id].revision or 0) for r in page)


async def test_one_connection_keeps_seeing_new_rows(db: Db, tmp_path: Path) -> None:
    """The same open connection sees rows inserted after its first poll (MySQL: autocommit, no stale
    REPEATABLE READ snapshot)."""
    await db.table.seed(0)
    source = SqlPollSource(db.source_config(), _ctx(tmp_path))
    assert sum(len(p) for p in await _poll(source)) == 3
    await db.table.insert([(*row[:12], wib_now() - timedelta(seconds=1), None) for row in generated_rows(2)])
    assert sum(len(p) for p in await _poll(source)) == 2
    await source.stop()


async def test_future_stamp_waits_and_does_not_push_the_cursor(db: Db, tmp_path: Path) -> None:
    """A row stamped tomorrow is not read (and the cursor stays), so a row changed now is still read."""
    await db.table.create()
    rows = generated_rows(2)
    await db.table.insert([(*rows[0][:12], wib_now() + timedelta(days=1), None)])
    ctx = _ctx(tmp_path)
    assert await _poll(SqlPollSource(db.source_config(), ctx)) == []
    await db.table.insert([(*rows[1][:12], wib_now() - timedelta(seconds=1), None)])
    (page,) = await _poll(SqlPollSource(db.source_config(), ctx))
    assert [r.source_record_id for r in page] == ["2"]
    settled = await _poll(SqlPollSource(db.source_config(settle_s=3600), _ctx(tmp_path / "other")))
    assert settled == []  # changed within the settle window: left for a later poll


async def test_row_without_updated_at_is_read(db: Db, tmp_path: Path) -> None:
    """A legacy row with NULL updated_at and NULL deleted_at is read on the first pass."""
    await db.table.create()
    await db.table.insert([(*generated_rows(1)[0][:12], None, None)])
    (page,) = await _poll(SqlPollSource(db.source_config(), _ctx(tmp_path)))
    assert page[0].source_record_id == "1" and page[0].op == "upsert"


async def test_query_mode(db: Db, tmp_path: Path) -> None:
    """A configured SELECT is polled like a table."""
    await db.table.seed(4)
    sql = f"SELECT * FROM {db.table.table} WHERE tahun_anggaran = '2024'"
    config = db.source_config(table=None, query=sql)
    ids = sorted(
        int(r.source_record_id) for p in await _poll(SqlPollSource(config, _ctx(tmp_path))) for r in p
    )
    assert ids == [1, 2]


async def test_config_problems_are_fatal(db: Db, tmp_path: Path) -> None:
    """An unknown table, column or database stops the adapter (FatalError), naming the problem."""
    await db.table.seed(0)
    for change in ({"table": f"{db.table.table}_missing"}, {"key_column": "no_such_column"},
                   {"database": "simpul_no_such_db"}):  # fmt: skip
        with pytest.raises(FatalError):
            await _poll(SqlPollSource(db.source_config(**change), _ctx(tmp_path)))


async def test_wrong_password_on_mariadb_is_fatal(tmp_path: Path) -> None:
    """MariaDB refuses root with a password (1045): fatal, not a retry loop."""
    config = SqlPollConfig(engine="mysql", user="root", password="salah", database="test", table="x",
                           key_column="id", updated_at_column="updated_at", stop_when_idle=True)  # fmt: skip
    with pytest.raises(FatalError, match="1045"):
        await _poll(SqlPollSource(config, _ctx(tmp_path)))


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
async def test_unreachable_database_is_retriable(engine: str, tmp_path: Path) -> None:
    """Nothing listening on the port: SourceUnavailable (the runner backs off)."""
    config = SqlPollConfig(engine=engine, port=1, user="u", database="d", table="x", key_column="id",
                           updated_at_column="updated_at", connect_timeout_s=2,
                           stop_when_idle=True)  # fmt: skip
    with pytest.raises(SourceUnavailable):
        await _poll(SqlPollSource(config, _ctx(tmp_path)))


async def test_timestamptz_column_on_postgres(tmp_path: Path) -> None:
    """An updated_at of type timestamptz is read aware and converted to WIB; the cursor works on it."""
    tag = uuid.uuid4().hex[:10]
    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute(f"CREATE TABLE simpul_tz_{tag} (id int PRIMARY KEY, updated_at timestamptz)")
        await conn.execute(f"INSERT INTO simpul_tz_{tag} VALUES (1, '2024-07-01 03:11:12+00'), (2, NULL)")
        config = SqlPollConfig(engine="postgresql", user="postgres", database="test",
                               table=f"simpul_tz_{tag}", key_column="id", updated_at_column="updated_at",
                               settle_s=0, stop_when_idle=True)  # fmt: skip
        ctx = _ctx(tmp_path)
        (page,) = await _poll(SqlPollSource(config, ctx))
        assert [r.source_record_id for r in page] == ["2", "1"]
        assert page[1].raw["updated_at"] == datetime(2024, 7, 1, 10, 11, 12, tzinfo=WIB)
        await conn.execute(
            f"UPDATE simpul_tz_{tag} SET updated_at = now() - interval '1 second' WHERE id = 2"
        )
        (again,) = await _poll(SqlPollSource(config, ctx))
        assert [r.source_record_id for r in again] == ["2"]
    finally:
        await conn.execute(f"DROP TABLE simpul_tz_{tag}")
        await conn.close()


# --- a node on the real broker -----------------------------------------------------------------------


async def _async_until(check: Callable[[], Awaitable[bool]], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 (the state lives in another database)
            await asyncio.sleep(0.05)


@pytest.mark.broker
async def test_node_restart_sends_only_changes(
    db: Db, tmp_path: Path, amqp_url: str, management_url: str
) -> None:
    """A node polls 43 rows into the SQLite and PostgreSQL warehouses; stopped, the table changes (3
    updates, 2 soft deletes, 2 inserts); a restarted node sends exactly those 7: no gaps, nothing twice."""
    registry.register(SQL_POLL_PLUGIN)
    registry.register(POSTGRES_PLUGIN)
    schema = f"simpul_w_{uuid.uuid4().hex[:10]}"
    poll = {**db.config, "settle_s": 0, "batch_size": 10, "stop_when_idle": True}
    source = {"name": "bankeu-jabar", "kind": "sql_poll", "schema": "party_financial_aid",
              "system": "bankeu-jabar", "office": "32", "config": poll,
              "mapping": tomllib.loads(MAPPING.read_text())}  # fmt: skip
    pg_sink = {"name": "warehouse-pg", "kind": "postgres", "config": {**PG, "db_schema": schema}}
    settings = node_settings(tmp_path, broker={"url": amqp_url, "management_url": management_url},
                             sources=[source], sinks=[pg_sink])  # fmt: skip
    reader = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema))
    await db.table.seed(40)
    try:
        async with Node(settings) as node:
            await reader.start()
            sqlite: Any = node.sink
            assert isinstance(sqlite, SqliteSink)
            await until(lambda: node.runners[0].state == "stopped" and sqlite.store.count() == 43, timeout=30)
            await _async_until(lambda: _count_is(reader, 43))
            assert node.runners[0].records_offered == 43
        await db.table.update([4, 5, 6])
        await db.table.soft_delete([7, 8])
        await db.table.insert([(*r[:3], f"NEW{i}", *r[4:12], wib_now() - timedelta(seconds=1), None)
                               for i, r in enumerate(generated_rows(2, seed=9))])  # fmt: skip
        async with Node(settings) as node:
            sqlite = node.sink
            assert isinstance(sqlite, SqliteSink)  # the default warehouse
            await until(lambda: node.runners[0].state == "stopped" and sqlite.store.count() == 45, timeout=30)
            assert node.runners[0].records_offered == 7
            await until(lambda: len(sqlite.store.applied_keys()) == 50, timeout=30)
            assert sqlite.store.count(state="withdrawn") == 3
            assert set(sqlite.store.delivery_counts().values()) == {1}  # not even a raw redelivery
            assert node.quarantine_store.count() == 0
        await _async_until(lambda: _count_is(reader, 45))
        await _async_until(lambda: _applied_is(reader, 50))
        assert await reader.count(state="withdrawn") == 3
        assert set((await reader.delivery_counts()).values()) == {1}
    finally:
        await reader.close()
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def _count_is(sink: PostgresSink, n: int) -> bool:
    return await sink.count() == n


async def _applied_is(sink: PostgresSink, n: int) -> bool:
    return len(await sink.applied_keys()) == n


async def test_adapter_contract_kit(db: Db) -> None:
    """The hub's source contract kit passes on both engines: 3 sample + 5 rows through a node (one of them a
    withdrawal), cursor state only in commits, nothing re-emitted once committed."""
    from hub.testing.contract import check_source_contract

    await db.table.seed(5)
    report = await check_source_contract(
        SQL_POLL_PLUGIN,
        {**db.config, "settle_s": 0, "stop_when_idle": True, "batch_size": 3},
        schema="party_financial_aid",
        expect_records=8,
        mapping=tomllib.loads(MAPPING.read_text()),
        system="bankeu-jabar",
        office="32",
    )
    assert report.records_read == 8 and report.reread == 0
