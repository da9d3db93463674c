"""sql_poll: config, the page query text, value conversion, error classes, and the cursor contract
(against an in-memory stand-in for the database; the real engines are in tests/integration)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymysql
import pytest

from adapters.sql_poll import PLUGIN, clients
from adapters.sql_poll.config import SqlPollConfig
from adapters.sql_poll.query import CHANGED, build
from adapters.sql_poll.source import SqlPollSource, dump_cursor, load_cursor
from adapters.sql_poll.values import convert, micros
from hub.adapters.model import AdapterContext
from hub.adapters.state import StateStore
from hub.errors import FatalError, SourceUnavailable
from hub.metrics import Metrics
from schemas.envelope import SourceIdentity

WIB = timezone(timedelta(hours=7))


def cfg(**kw: Any) -> SqlPollConfig:
    base: dict[str, Any] = {"engine": "postgresql", "user": "u", "database": "d", "table": "bankeu_parpol",
                            "key_column": "id", "updated_at_column": "updated_at",
                            "deleted_at_column": "deleted_at", "settle_s": 0,
                            "stop_when_idle": True}  # fmt: skip
    return SqlPollConfig(**{**base, **kw})


# --- config -------------------------------------------------------------------------------------------


def test_config_is_strict_and_described() -> None:
    """Extra keys, two sources, a non-SELECT query, odd identifiers and unknown zones are refused."""
    assert PLUGIN.name == "sql_poll" and PLUGIN.role == "source"
    assert all(f.description for f in SqlPollConfig.model_fields.values())
    for bad in ({"surprise": 1}, {"query": "SELECT 1"}, {"table": None, "query": "DELETE FROM x"},
                {"key_column": "id; DROP TABLE x"}, {"table": "a.b.c"}, {"source_timezone": "Mars/Olympus"},
                {"source_timezone": "auto"}):  # fmt: skip
        with pytest.raises(ValueError):
            cfg(**bad)
    assert cfg(source_timezone="WITA").tz.utcoffset(None) == timedelta(hours=8)
    assert cfg(engine="mysql").effective_port == 3306 and cfg().effective_port == 5432


# --- the query ----------------------------------------------------------------------------------------


def test_postgres_query_text() -> None:
    """PostgreSQL: quoted identifiers, the later of updated/deleted, tie on the key, $n placeholders."""
    q = build(cfg(settle_s=2))
    assert 'FROM "bankeu_parpol" AS src' in q.first
    assert (
        'GREATEST(COALESCE(src."updated_at", src."deleted_at"), COALESCE(src."deleted_at", src."updated_at"))'
        in q.first
    )
    assert "LOCALTIMESTAMP - INTERVAL '2000000 microseconds'" in q.first
    assert q.first.endswith(f'ORDER BY {CHANGED}, src."id" LIMIT $1')
    sql, params = q.params((datetime(2024, 7, 1), 7), 500)
    assert "> $1 OR (" in sql and 'src."id" > $2' in sql and sql.endswith("LIMIT $3")
    assert params == [datetime(2024, 7, 1), 7, 500]


def test_mysql_query_text_and_positional_params() -> None:
    """MySQL/MariaDB: backticks, NOW(6), %s placeholders with the change time given twice."""
    q = build(cfg(engine="mysql", table="kesbang.bankeu_parpol"))
    assert "FROM `kesbang`.`bankeu_parpol` AS src" in q.first and "NOW(6) - INTERVAL 0 MICROSECOND" in q.first
    sql, params = q.params((datetime(2024, 7, 1), 7), 100)
    assert sql.count("%s") == 4 and params == [datetime(2024, 7, 1), datetime(2024, 7, 1), 7, 100]


def test_query_mode_wraps_the_select_and_no_soft_delete() -> None:
    """A configured query becomes a subquery; without a soft-delete column only updated_at counts."""
    q = build(
        cfg(table=None, query="SELECT * FROM bankeu_parpol WHERE kode_prov = '32'", deleted_at_column=None)
    )
    assert "FROM (SELECT * FROM bankeu_parpol WHERE kode_prov = '32') AS src" in q.first
    assert (
        "GREATEST" not in q.first
        and "COALESCE(src.\"updated_at\", TIMESTAMP '1970-01-01 00:00:00')" in q.first
    )


# --- values -------------------------------------------------------------------------------------------


def test_decimals_stay_exact_and_floats_become_decimals() -> None:
    """numeric(16,2) stays Decimal('1851852000.00'); a float column becomes the Decimal of its repr."""
    assert convert(Decimal("1851852000.00"), WIB) == Decimal("1851852000.00")
    value = convert(0.1, WIB)
    assert isinstance(value, Decimal) and value == Decimal("0.1")


def test_timestamps_become_aware_in_the_source_zone() -> None:
    """A naive timestamp gets WIB; an aware one is converted to WIB; a date stays a date."""
    assert convert(datetime(2024, 7, 1, 10, 11, 12), WIB) == datetime(2024, 7, 1, 10, 11, 12, tzinfo=WIB)
    converted = convert(datetime(2024, 7, 1, 3, 11, 12, tzinfo=UTC), WIB)
    assert converted.utcoffset() == timedelta(hours=7) and converted.hour == 10
    assert convert(date(2024, 5, 17), WIB) == date(2024, 5, 17)
    assert (
        convert(timedelta(hours=14, minutes=30), WIB) == "14:30:00" and convert(time(8, 0), WIB) == "08:00:00"
    )
    assert convert(b"\x01\xff", WIB) == "01ff"


def test_revision_is_microseconds_of_the_change() -> None:
    """The default revision is exact microseconds since the epoch of the aware change time."""
    assert micros(datetime(1970, 1, 1, 7, 0, 0, 1, tzinfo=WIB)) == 1


def test_cursor_round_trip() -> None:
    """The stored cursor keeps naive/aware time and the key's type."""
    for cursor in ((datetime(2024, 7, 1, 10, 11, 12, 5), 3), (datetime(2024, 7, 1, tzinfo=UTC), "SKT-01")):
        assert load_cursor(dump_cursor(cursor)) == cursor
    assert load_cursor(None) is None


# --- errors -------------------------------------------------------------------------------------------


def test_error_classes() -> None:
    """Auth/unknown table/syntax are fatal; lost connections and timeouts are retriable; no values leak."""
    import asyncpg

    assert isinstance(clients._pg_error(asyncpg.InvalidPasswordError("password failed")), FatalError)
    assert isinstance(clients._pg_error(asyncpg.UndefinedTableError("relation x")), FatalError)
    assert isinstance(clients._pg_error(ConnectionRefusedError()), SourceUnavailable)
    assert isinstance(clients._pg_error(TimeoutError()), SourceUnavailable)
    leak = clients._pg_error(asyncpg.DataError('invalid input syntax: "3201010101800099"'))
    assert isinstance(leak, SourceUnavailable) and "3201" not in str(leak)
    assert isinstance(clients._mysql_error(pymysql.err.OperationalError(1045, "Access denied")), FatalError)
    assert isinstance(clients._mysql_error(pymysql.err.ProgrammingError(1146, "no table")), FatalError)
    assert isinstance(clients._mysql_error(pymysql.err.OperationalError(2003, "refused")), SourceUnavailable)
    assert isinstance(clients._mysql_error(pymysql.err.OperationalError(2013, "lost")), SourceUnavailable)


# --- the cursor contract, on a stand-in database -------------------------------------------------------


class FakeDb:
    """Applies the page query's semantics (change time, key, limit) to rows in memory."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.fetches = 0
        self.fail_next = 0

    async def fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        self.fetches += 1
        if self.fail_next:
            self.fail_next -= 1
            raise SourceUnavailable("connection lost")
        limit = params[-1]
        after = None if len(params) == 1 else (params[0], params[1])
        out = []
        for row in self.rows:
            stamps = [s for s in (row["updated_at"], row.get("deleted_at")) if s is not None]
            changed = max(stamps) if stamps else datetime(1970, 1, 1)
            if after is None or (changed, row["id"]) > after:
                out.append({**row, CHANGED: changed})
        out.sort(key=lambda r: (r[CHANGED], r["id"]))
        return out[:limit]

    async def close(self) -> None:
        return None


def _ctx(tmp_path: Path) -> AdapterContext:
    return AdapterContext(
        name="bankeu-jabar",
        schema="party_financial_aid",
        identity=SourceIdentity(system="bankeu-jabar", office="32", adapter="bankeu-jabar"),
        state=StateStore(tmp_path / "state.sqlite3"),
        state_dir=tmp_path,
        metrics=Metrics(),
    )


def _row(i: int, updated: datetime | None, deleted: datetime | None = None) -> dict[str, Any]:
    return {"id": i, "tahun_anggaran": "2024", "total_bantuan": Decimal("961346400.00"),
            "updated_at": updated, "deleted_at": deleted}  # fmt: skip


async def _poll(source: SqlPollSource, commit: bool = True) -> list[list[Any]]:
    pages: list[list[Any]] = []
    async for batch in source.read():
        pages.append(list(batch.records))
        if commit:
            await batch.commit()
    return pages


@pytest.fixture
def fake_db(monkeypatch: pytest.MonkeyPatch) -> FakeDb:
    db = FakeDb([])

    async def connect(_config: SqlPollConfig) -> FakeDb:
        return db

    monkeypatch.setattr(clients, "connect", connect)
    return db


async def test_ties_across_a_page_boundary_are_neither_skipped_nor_repeated(
    tmp_path: Path, fake_db: FakeDb
) -> None:
    """Five rows with one updated_at, pages of two: all five once, in key order."""
    t = datetime(2024, 7, 1, 10, 0, 0)
    fake_db.rows = [_row(i, t) for i in (5, 3, 1, 4, 2)]
    pages = await _poll(SqlPollSource(cfg(batch_size=2), _ctx(tmp_path)))
    assert [[r.source_record_id for r in p] for p in pages] == [["1", "2"], ["3", "4"], ["5"]]


async def test_cursor_survives_a_restart_and_only_new_changes_follow(tmp_path: Path, fake_db: FakeDb) -> None:
    """A second source on the same state reads only rows changed after the committed cursor."""
    t = datetime(2024, 7, 1, 10, 0, 0)
    fake_db.rows = [_row(1, t), _row(2, t + timedelta(seconds=1))]
    ctx = _ctx(tmp_path)
    assert sum(len(p) for p in await _poll(SqlPollSource(cfg(), ctx))) == 2
    fake_db.rows[0]["updated_at"] = t + timedelta(minutes=5)
    pages = await _poll(SqlPollSource(cfg(), ctx))
    assert [[r.source_record_id for r in p] for p in pages] == [["1"]]


async def test_uncommitted_page_is_read_again(tmp_path: Path, fake_db: FakeDb) -> None:
    """Without a commit (broker never confirmed) the cursor does not move: a restart re-reads the page."""
    fake_db.rows = [_row(1, datetime(2024, 7, 1))]
    ctx = _ctx(tmp_path)
    first = SqlPollSource(cfg(), ctx)
    gen = first.read()
    await gen.__anext__()
    await gen.aclose()
    pages = await _poll(SqlPollSource(cfg(), ctx))
    assert [r.source_record_id for r in pages[0]] == ["1"]


async def test_soft_delete_is_a_withdrawal_with_a_higher_revision(tmp_path: Path, fake_db: FakeDb) -> None:
    """deleted_at set (updated_at untouched) -> op=withdraw, revision from deleted_at, above the upsert's."""
    updated, deleted = datetime(2023, 8, 1, 9, 0), datetime(2024, 1, 5, 10, 0)
    fake_db.rows = [_row(3, updated)]
    ctx = _ctx(tmp_path)
    (first,) = await _poll(SqlPollSource(cfg(), ctx))
    fake_db.rows[0]["deleted_at"] = deleted
    (second,) = await _poll(SqlPollSource(cfg(), ctx))
    assert first[0].op == "upsert" and second[0].op == "withdraw"
    assert second[0].revision == micros(deleted.replace(tzinfo=WIB)) > (first[0].revision or 0)
    assert second[0].reported_at == deleted.replace(tzinfo=WIB)


async def test_raw_values_are_exact_and_aware(tmp_path: Path, fake_db: FakeDb) -> None:
    """The raw record carries Decimal amounts and WIB-aware stamps; the original is exact JSON."""
    fake_db.rows = [_row(2, datetime(2024, 7, 2, 8, 0, 0))]
    (page,) = await _poll(SqlPollSource(cfg(), _ctx(tmp_path)))
    raw = page[0].raw
    assert raw["total_bantuan"] == Decimal("961346400.00") and CHANGED not in raw
    assert raw["updated_at"] == datetime(2024, 7, 2, 8, 0, tzinfo=WIB)
    assert b'"total_bantuan":"961346400.00"' in (page[0].original or b"")
    assert b'"updated_at":"2024-07-02T08:00:00+07:00"' in (page[0].original or b"")


async def test_null_updated_at_is_read_not_lost(tmp_path: Path, fake_db: FakeDb) -> None:
    """A row with no stamp at all (legacy data) is read on the first pass, with revision 0: the query's
    epoch fallback read in WIB lies before 1970, and a negative revision is refused by every mapping."""
    fake_db.rows = [_row(9, None)]
    (page,) = await _poll(SqlPollSource(cfg(), _ctx(tmp_path)))
    assert micros(datetime(1970, 1, 1, tzinfo=WIB)) < 0
    assert page[0].source_record_id == "9" and page[0].revision == 0 and page[0].reported_at is None


async def test_revision_column_is_used_when_configured(tmp_path: Path, fake_db: FakeDb) -> None:
    """revision_column takes the row's integer version; a non-integer leaves it to the mapping (None)."""
    fake_db.rows = [
        {**_row(1, datetime(2024, 7, 1)), "versi": 4},
        {**_row(2, datetime(2024, 7, 2)), "versi": "x"},
    ]
    (page,) = await _poll(SqlPollSource(cfg(revision_column="versi"), _ctx(tmp_path)))
    assert [r.revision for r in page] == [4, None]


async def test_idle_source_waits_and_a_stop_ends_it(tmp_path: Path, fake_db: FakeDb) -> None:
    """Without stop_when_idle the source polls again after poll_interval_s; stop() ends the loop."""
    import asyncio

    source = SqlPollSource(cfg(stop_when_idle=False, poll_interval_s=0.01), _ctx(tmp_path))
    task = asyncio.create_task(_poll(source))
    await asyncio.sleep(0.1)
    assert fake_db.fetches >= 3
    await source.stop()
    assert await asyncio.wait_for(task, 1) == []


async def test_lost_connection_surfaces_as_retriable(tmp_path: Path, fake_db: FakeDb) -> None:
    """A failed page is SourceUnavailable (the runner backs off and re-reads from the stored cursor)."""
    fake_db.rows = [_row(1, datetime(2024, 7, 1))]
    fake_db.fail_next = 1
    with pytest.raises(SourceUnavailable):
        await _poll(SqlPollSource(cfg(), _ctx(tmp_path)))
    assert len((await _poll(SqlPollSource(cfg(), _ctx(tmp_path))))[0]) == 1
