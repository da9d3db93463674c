"""The postgres warehouse sink against the real PostgreSQL on 127.0.0.1:5432 (database ``test``).

Every test gets its own schema (``simpul_t_<random>``), dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import structlog.testing

from adapters.postgres_sink import PostgresSink, PostgresSinkConfig, migrations
from adapters.postgres_sink import sink as sink_module
from tests.helpers import example
from tests.unit.test_sqlite_store import env

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True, params=["arrays", "copy"])
def staging_way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs twice: with a write's candidates given to the merge as arrays (how small batches
    go) and staged by COPY (large ones). Processes a test starts use the default threshold."""
    monkeypatch.setattr(sink_module, "ARRAY_ROWS", 10**9 if request.param == "arrays" else -1)
    return str(request.param)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A unique schema name, dropped (with everything in it) after the test."""
    name = f"simpul_t_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await conn.close()


@pytest.fixture
async def sink(schema: str) -> AsyncIterator[PostgresSink]:
    """A started sink on the test schema."""
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema))
    await s.start()
    try:
        yield s
    finally:
        await s.close()


async def _fetch(schema: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(**PG)
    try:
        return list(await conn.fetch(sql.format(s=schema), *args))
    finally:
        await conn.close()


async def test_revision_rules_across_writes(sink: PostgresSink) -> None:
    """applied, duplicate, conflict, stale, newer applied: each as its own committed write."""
    statuses = []
    for e in (env("r1", 2), env("r1", 2), env("r1", 2, {"nama": "lain"}), env("r1", 1), env("r1", 3)):
        statuses += [r.status for r in await sink.write([e])]
    assert statuses == ["applied", "duplicate", "conflict", "stale", "applied"]
    row = await sink.get(env("r1").record_key)
    assert row is not None and row["revision"] == 3 and row["payload"] == {"nama": "Ormas A", "n": 3}
    counts = await sink.delivery_counts()
    assert counts[env("r1", 2).idempotency_key] == 3 and counts[env("r1", 1).idempotency_key] == 1
    assert await sink.applied_keys() == {env("r1", 2).idempotency_key, env("r1", 3).idempotency_key}


async def test_withdrawal_is_not_resurrected_by_an_older_upsert(sink: PostgresSink) -> None:
    """withdraw at 2, then upsert 1 arrives late: stale; upsert 3 re-activates."""
    await sink.write([env("w", 1)])
    assert [r.status for r in await sink.write([env("w", 2, op="withdraw")])] == ["applied"]
    assert [r.status for r in await sink.write([env("w", 1)])] == ["stale"]
    assert await sink.count(state="withdrawn") == 1
    await sink.write([env("w", 3)])
    row = await sink.get(env("w").record_key)
    assert row is not None and row["state"] == "active" and row["op"] == "upsert"


async def test_results_in_order_in_one_mixed_batch(sink: PostgresSink) -> None:
    """One write with repeats of a record: results follow input order, the newest stored."""
    batch = [env("a", 1), env("b", 1), env("a", 2), env("a", 1), env("b", 1), env("b", 1, {"x": 1})]
    assert [r.status for r in await sink.write(batch)] == [
        "applied", "applied", "applied", "stale", "duplicate", "conflict"]  # fmt: skip
    keys = [r.idempotency_key for r in await sink.write(batch[:2])]
    assert keys == [batch[0].idempotency_key, batch[1].idempotency_key]


async def test_a_failing_batch_stores_nothing(sink: PostgresSink, schema: str) -> None:
    """The applied_log insert fails after the records were upserted: the whole write rolls back. (The
    poison record is delivered twice, so that its duplicate needs an applied_log row.)"""
    poison = env("poison", 1)
    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute(
            f"CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.record_key = '{poison.record_key}' THEN RAISE EXCEPTION 'refused by test'; END IF; "
            f"RETURN NEW; END $$; CREATE TRIGGER refuse BEFORE INSERT ON {schema}.applied_log "
            f"FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()"
        )
    finally:
        await conn.close()
    good = env("g", 1)
    with pytest.raises(asyncpg.RaiseError):
        await sink.write([good, poison, poison])
    assert await sink.count() == 0 and await sink.delivery_counts() == {}
    assert [r.status for r in await sink.write([good])] == ["applied"]
    with pytest.raises(asyncpg.DataError):  # a revision beyond bigint fails before the statement runs
        await sink.write([env("g", 2), env("h", 2**63)])
    row = await sink.get(good.record_key)
    assert row is not None and row["revision"] == 1


async def test_typed_columns_for_consumers(sink: PostgresSink, schema: str) -> None:
    """province, kab_kota, period and status are queryable columns; the payload is JSONB, exact."""
    aid = env("bankeu-2024-PCN", 1, example("party_financial_aid"), schema="party_financial_aid", kode="32")
    ormas = env("skt-1", 1, example("ormas_registration"), schema="ormas_registration", kode="32.01.01")
    await sink.write([aid, ormas])
    sql = (
        "SELECT schema_name, province, kab_kota, period, period_start, period_end, status, "
        "payload->>'total_bantuan' AS total, received_at FROM {s}.records ORDER BY schema_name"
    )
    rows = await _fetch(schema, sql)
    assert [(r["schema_name"], r["province"], r["kab_kota"], r["period"], r["status"]) for r in rows] == [
        ("ormas_registration", "32", "32.01", None, "aktif"),
        ("party_financial_aid", "32", None, "2024", "diaudit_bpk"),
    ]
    assert rows[1]["total"] == "1851852000.00" and str(rows[1]["period_start"]) == "2024-01-01"
    assert rows[1]["received_at"].tzinfo is not None
    found = await _fetch(schema, "SELECT count(*) FROM {s}.records WHERE kode_wilayah LIKE '32.01%'")
    assert found[0][0] == 1


async def test_nul_character_in_a_payload_is_stored(sink: PostgresSink) -> None:
    """jsonb refuses \\u0000: the stored copy carries U+FFFD instead, the batch is not poisoned."""
    result = await sink.write([env("nul", 1, {"nama": "Ormas\x00A"}), env("ok", 1)])
    assert [r.status for r in result] == ["applied", "applied"]
    row = await sink.get(env("nul").record_key)
    assert row is not None and row["payload"]["nama"] == "Ormas\ufffdA"
    assert [r.status for r in await sink.write([env("nul", 1, {"nama": "Ormas\x00A"})])] == ["duplicate"]


async def test_concurrent_writers_on_overlapping_records(schema: str) -> None:
    """Eight writers send shuffled revisions 1..6 of the same 200 records at once: no deadlock, and every
    record ends at revision 6 with each revision applied at most once."""
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema, pool_max=8))
    await s.start()
    try:
        envs = [env(f"c{i}", rev) for i in range(200) for rev in range(1, 7)]
        rnd = random.Random(5)
        lanes = []
        for _ in range(8):
            lane = list(envs)
            rnd.shuffle(lane)
            lanes.append(lane)

        async def writer(lane: list[Any]) -> list[str]:
            out: list[str] = []
            for i in range(0, len(lane), 150):
                out += [r.status for r in await s.write(lane[i : i + 150])]
            return out

        results = await asyncio.wait_for(asyncio.gather(*(writer(lane) for lane in lanes)), 120)
        assert await s.count() == 200
        revisions = await _fetch(schema, "SELECT DISTINCT revision FROM {s}.records")
        assert [r[0] for r in revisions] == [6]
        applied = sum(status == "applied" for statuses in results for status in statuses)
        assert applied == len(await s.applied_keys()) <= len(envs)
        assert "conflict" not in {status for statuses in results for status in statuses}
        assert sum((await s.delivery_counts()).values()) == 8 * len(envs)
    finally:
        await s.close()


async def test_parallel_starts_migrate_once(schema: str) -> None:
    """Three sinks starting at once on a new schema: one set of tables, each migration recorded once."""
    sinks = [PostgresSink(PostgresSinkConfig(**PG, db_schema=schema)) for _ in range(3)]
    await asyncio.gather(*(s.start() for s in sinks))
    try:
        versions = await _fetch(schema, "SELECT version FROM {s}.schema_migrations")
        assert sorted(r[0] for r in versions) == [v for v, _ in migrations.MIGRATIONS] == [1, 2, 3, 4]
        await sinks[0].write([env("m", 1)])
        assert await sinks[2].count() == 1
    finally:
        for s in sinks:
            await s.close()


async def test_start_opens_and_rehearses_every_connection_and_writes_nothing(schema: str) -> None:
    """After ``start`` the pool holds ``pool_max`` connections, each with the merge already prepared
    (a first busy moment waits for none of that), and the rehearsal stored nothing."""
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema, pool_min=1, pool_max=3))
    await s.start()
    try:
        pool = s._pool
        assert (pool.get_size(), pool.get_idle_size()) == (3, 3)
        held = [await pool.acquire() for _ in range(3)]
        try:
            for conn in held:  # the server's view of each session: the merge is prepared there
                prepared = await conn.fetch("SELECT statement FROM pg_prepared_statements")
                assert s._sql.merge_arrays in [r["statement"] for r in prepared]
                assert not conn.is_in_transaction()
        finally:
            for conn in held:
                await pool.release(conn)
        assert await s.count() == 0
        assert await _fetch(schema, "SELECT * FROM {s}.applied_log") == []
        assert (await s.write([env("m", 1)]))[0].status == "applied"
    finally:
        await s.close()


async def test_a_warm_start_cut_short_leaves_a_working_sink(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm start is best effort: if a connection cannot be rehearsed (here: the rehearsal fails)
    the sink starts anyway, with a warning, and writes."""
    calls: list[object] = []

    async def refuse(self: PostgresSink, conn: object) -> None:
        calls.append(conn)
        raise asyncpg.TooManyConnectionsError("sorry, too many clients already")

    monkeypatch.setattr(PostgresSink, "_rehearse", refuse)
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema, pool_max=2))
    with structlog.testing.capture_logs() as logs:
        await s.start()
    try:
        assert calls and [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "warehouse_pool_not_warmed"
        ]
        assert (await s.write([env("m", 1)]))[0].status == "applied"
    finally:
        await s.close()


# This test's sink sessions (by the pool's application name) waiting on a lock: nothing else on the
# server, another process's warehouse included, is counted or ended.
_WAITING_WRITER = (
    "SELECT {what} FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = $1"
)


async def _blocked_write(sink: PostgresSink, schema: str, blocker: asyncpg.Connection) -> asyncio.Task[Any]:
    """A write of three records started while ``blocker`` holds the row lock of one of them (stored at
    revision 1): it waits in its merge, inside its transaction, until the lock goes."""
    await sink.write([env("held", 1)])
    await blocker.execute("BEGIN")
    await blocker.execute(
        f"SELECT 1 FROM {schema}.records WHERE record_key = $1 FOR UPDATE", env("held").record_key
    )
    task = asyncio.create_task(sink.write([env("x1", 1), env("held", 2), env("x2", 1)]))
    for _ in range(200):  # until the writer waits on the lock
        waiting = await blocker.fetchval(_WAITING_WRITER.format(what="count(*)"), f"simpul-{sink.name}")
        if waiting:
            return task
        await asyncio.sleep(0.02)
    raise AssertionError("the write never waited on the lock")


async def test_a_write_whose_connection_dies_leaves_nothing_and_the_next_writes(
    sink: PostgresSink, schema: str
) -> None:
    """The server ends the writer's session in the middle of its transaction: the write fails, nothing of
    it is stored, and the next write gets a working connection (the broken one is not given out again)."""
    blocker = await asyncpg.connect(**PG)
    try:
        task = await _blocked_write(sink, schema, blocker)
        await blocker.execute(_WAITING_WRITER.format(what="pg_terminate_backend(pid)"), f"simpul-{sink.name}")
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await task
        await blocker.execute("ROLLBACK")
    finally:
        await blocker.close()
    assert await sink.count() == 1
    statuses = [(await sink.write([env("after", 1)]))[0].status for _ in range(3)]
    assert statuses == ["applied", "duplicate", "duplicate"]
    row = await sink.get(env("held").record_key)
    assert row is not None and row["revision"] == 1


async def test_a_cancelled_write_leaves_nothing_and_the_next_writes(sink: PostgresSink, schema: str) -> None:
    """A write cancelled while its transaction is open (a node stopping) rolls back whole; the connection
    goes back to the pool clean or closed, never in the middle of a transaction."""
    blocker = await asyncpg.connect(**PG)
    try:
        task = await _blocked_write(sink, schema, blocker)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await blocker.execute("ROLLBACK")  # the lock goes: a transaction left open would now go on
    finally:
        await blocker.close()
    await asyncio.sleep(0.2)
    assert await sink.count() == 1
    assert [r.status for r in await sink.write([env("x1", 1), env("held", 2)])] == ["applied", "applied"]
    in_transaction = await _fetch(
        schema,
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
        "AND state LIKE 'idle in transaction%'",
        f"simpul-{sink.name}",
    )
    assert in_transaction[0][0] == 0


async def test_write_returns_after_commit(sink: PostgresSink, schema: str) -> None:
    """Once write returns, another connection sees the rows (committed, not just sent)."""
    await sink.write([env(f"d{i}", 1) for i in range(50)])
    rows = await _fetch(schema, "SELECT count(*) FROM {s}.records")
    assert rows[0][0] == 50


async def test_adapter_contract_kit(schema: str) -> None:
    """The hub's sink contract kit passes against the reference rules, including after reopening."""
    from adapters.postgres_sink import PLUGIN
    from hub.testing.contract import check_sink_contract, example_envelopes

    envelopes = [*example_envelopes("party_financial_aid"), *example_envelopes("ormas_registration", 2)]
    report = await check_sink_contract(PLUGIN, {**PG, "db_schema": schema}, envelopes, durable=True)
    assert report.rounds["redelivery"] == ["duplicate"] * 5


async def test_change_position_moves_with_every_applied_write(sink: PostgresSink, schema: str) -> None:
    """A row's change_txid is its last writer's transaction: a newer revision moves it past the others,
    a duplicate or stale write leaves it where it is."""
    await sink.write([env("p1", 1), env("p2", 1)])
    await sink.write([env("p3", 1)])

    async def positions() -> dict[str, int]:
        rows = await _fetch(schema, "SELECT source_record_id, change_txid::text::bigint FROM {s}.records")
        return {r[0]: r[1] for r in rows}

    first = await positions()
    assert first["p1"] == first["p2"] < first["p3"]
    await sink.write([env("p1", 1), env("p2", 0)])  # duplicate and stale: nothing moves
    assert await positions() == first
    await sink.write([env("p1", 2)])
    assert (await positions())["p1"] > first["p3"]


async def test_trace_for_lineage(sink: PostgresSink) -> None:
    """Migration 3: the applied log keeps message id and trace; trace() reports status and the stored
    revision, for a superseded revision too."""
    first, second = env("t1", 1), env("t1", 2, {"nama": "baru"})
    await sink.write([first])
    await sink.write([second, first])
    old = await sink.trace(first.message_id)
    assert old is not None and old["status"] == "stale" and old["deliveries"] == 2
    assert old["stored_revision"] == 2 and old["trace"]["system"] == "sys-a" and old["trace"]["hops"] == []
    assert old["first_applied_at"] is not None
    assert (await sink.trace(second.message_id))["status"] == "applied"  # type: ignore[index]
    assert await sink.trace("nope") is None


async def test_repeated_keys_in_one_batch_against_stored_rows(sink: PostgresSink) -> None:
    """A batch repeating keys (stored and new ones, withdrawals, same revision with other content) gives
    the reference rules' results (``decide`` over the stored rows) and stores each key's winner."""
    from adapters.postgres_sink.batch import decide
    from adapters.postgres_sink.rows import prepare

    await sink.write([env("s", 2), env("t", 5)])
    batch = [
        env("s", 2), env("n", 1), env("s", 3, {"v": "a"}), env("s", 3, {"v": "b"}), env("n", 1),
        env("s", 1), env("t", 5, op="withdraw"), env("t", 4), env("n", 2, op="withdraw"), env("s", 4),
        env("s", 4), env("t", 5), env("u", 1),
    ]  # fmt: skip
    stored = {r.record_key: (r.revision, r.content_hash) for r in map(prepare, (env("s", 2), env("t", 5)))}
    expected, _ = decide([prepare(e) for e in batch], stored)
    got = await sink.write(batch)
    assert got == expected
    assert [r.status for r in got] == [
        "duplicate", "applied", "applied", "conflict", "duplicate", "stale", "conflict", "stale", "applied",
        "applied", "duplicate", "duplicate", "applied"]  # fmt: skip
    assert {k: ((await sink.get(env(k).record_key)) or {}).get("revision") for k in "sntu"} == {
        "s": 4, "n": 2, "t": 5, "u": 1}  # fmt: skip
    n_row, s_row = await sink.get(env("n").record_key), await sink.get(env("s").record_key)
    assert (
        n_row is not None
        and n_row["state"] == "withdrawn"
        and n_row["idempotency_key"] == batch[8].idempotency_key
    )
    assert s_row is not None and s_row["payload"] == {"nama": "Ormas A", "n": 4}
    counts = await sink.delivery_counts()
    assert counts[batch[1].idempotency_key] == 2 and counts[batch[9].idempotency_key] == 2
    assert batch[2].idempotency_key in await sink.applied_keys()
    # Again: everything is now a duplicate, stale or conflict, and nothing moves.
    again = await sink.write(batch)
    assert "applied" not in {r.status for r in again}
    assert (await sink.get(env("s").record_key)) == s_row


async def test_staging_survives_failed_transactions(schema: str) -> None:
    """One connection, three failed writes (COPY refused by the server, the merge refused by a trigger,
    the applied_log merge refused by a trigger): each rolls back whole, the staging tables stay usable and
    carry nothing of a failed batch into the next one."""
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema, pool_min=1, pool_max=1))
    await s.start()
    try:
        poison_rec, poison_log = env("poison-rec", 1), env("poison-log", 1)
        conn = await asyncpg.connect(**PG)
        try:
            for table, key in (("records", poison_rec.record_key), ("applied_log", poison_log.record_key)):
                await conn.execute(
                    f"CREATE FUNCTION {schema}.refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN IF NEW.record_key = '{key}' THEN RAISE EXCEPTION 'refused by test'; END IF; "
                    f"RETURN NEW; END $$; CREATE TRIGGER refuse BEFORE INSERT ON {schema}.{table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {schema}.refuse_{table}()"
                )
        finally:
            await conn.close()
        nul_text = env("bad\x00id", 1)  # text columns refuse NUL: the server fails the COPY itself
        with pytest.raises(asyncpg.PostgresError):
            await s.write([env("a", 1), nul_text])
        for poison in (poison_rec, poison_log):  # delivered twice: its duplicate needs an applied_log row
            with pytest.raises(asyncpg.RaiseError):
                await s.write([env("a", 1), env("b", 1), poison, env("a", 2), poison])
        assert await s.count() == 0 and await s.delivery_counts() == {}
        async with s._pool.acquire() as c:
            staged = await c.fetchval("SELECT count(*) FROM pg_temp.simpul_stage")
            staged += await c.fetchval("SELECT count(*) FROM pg_temp.simpul_stage_log")
        assert staged == 0
        assert [r.status for r in await s.write([env("b", 1), env("a", 1)])] == ["applied", "applied"]
        assert await s.count() == 2 and set((await s.delivery_counts()).values()) == {1}
    finally:
        await s.close()


def _competition_envs() -> list[Any]:
    """60 records, revisions 1..4, each in two contents."""
    return [env(f"k{i}", rev, {"v": v, "rev": rev}) for i in range(60) for rev in range(1, 5) for v in "ab"]


def _lanes(n: int, seed: int) -> list[list[int]]:
    """Per writer, indexes into ``_competition_envs``: most of them, some twice, shuffled."""
    rnd = random.Random(seed)
    total = len(_competition_envs())
    lanes = []
    for _ in range(n):
        mine = [i for i in range(total) if rnd.random() < 0.7] + rnd.sample(range(total), 60)
        rnd.shuffle(mine)
        lanes.append(mine)
    return lanes


async def _check_competition(seen: list[tuple[Any, str]], sink: PostgresSink) -> None:
    """Every (record, revision) applied at most once; a duplicate always carries the applied content and
    a conflict other content; a stale one always has a higher revision applied; each record ends at the
    highest applied revision with that content; the applied_log counts every delivery."""
    applied: dict[tuple[str, int], str] = {}
    for e, status in seen:
        if status == "applied":
            assert (e.record_key, e.revision) not in applied  # applied once
            applied[(e.record_key, e.revision)] = e.payload["v"]
    top: dict[str, tuple[int, str]] = {}
    for (key, rev), v in applied.items():
        top[key] = max(top.get(key, (0, "")), (rev, v))
    for e, status in seen:
        won = applied.get((e.record_key, e.revision))
        if status == "duplicate":
            assert won == e.payload["v"]
        elif status == "conflict":
            assert won is not None and won != e.payload["v"]
        elif status == "stale":
            assert top[e.record_key][0] > e.revision
    for key, (rev, v) in top.items():
        row = await sink.get(key)
        assert row is not None and row["revision"] == rev and row["payload"]["v"] == v
    assert await sink.count() == len(top) == 60
    assert sum((await sink.delivery_counts()).values()) == len(seen)
    assert await sink.applied_keys() == {e.idempotency_key for e, status in seen if status == "applied"}


async def test_competing_writers_classify_as_one_after_another(schema: str) -> None:
    """Six sinks (own pools) write the same 60 records at once: revisions 1..4 in two contents each,
    shuffled, keys repeated within batches of 97. The outcome is one the writers could have had one
    after the other (``_check_competition``), and no deadlock."""
    sinks = [PostgresSink(PostgresSinkConfig(**PG, db_schema=schema, pool_max=2)) for _ in range(6)]
    await asyncio.gather(*(s.start() for s in sinks))
    try:
        envs = _competition_envs()

        async def lane(s: PostgresSink, mine: list[int]) -> list[tuple[Any, str]]:
            out: list[tuple[Any, str]] = []
            for i in range(0, len(mine), 97):
                chunk = [envs[n] for n in mine[i : i + 97]]
                out += zip(chunk, [r.status for r in await s.write(chunk)], strict=True)
            return out

        lanes = _lanes(len(sinks), 21)
        done = await asyncio.wait_for(
            asyncio.gather(*(lane(s, m) for s, m in zip(sinks, lanes, strict=True))), 120
        )
        await _check_competition([pair for lane_ in done for pair in lane_], sinks[0])
    finally:
        for s in sinks:
            await s.close()


_LANE_PROCESS = """
import asyncio, json, sys
from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
from tests.integration.test_postgres_sink import PG, _competition_envs

async def main():
    envs, mine = _competition_envs(), json.loads(sys.stdin.read())
    sink = PostgresSink(PostgresSinkConfig(**PG, db_schema=sys.argv[1], pool_max=2))
    await sink.start()
    out = []
    for i in range(0, len(mine), 97):
        out += [r.status for r in await sink.write([envs[n] for n in mine[i : i + 97]])]
    await sink.close()
    print("STATUSES " + json.dumps(out))

asyncio.run(main())
"""


async def test_competing_consumer_processes(schema: str) -> None:
    """The same as separate processes (competing consumers of one queue): three Python processes, each
    with its own sink, write overlapping shuffled lanes at once; the outcome passes the same checks."""
    lanes = _lanes(3, 7)

    async def run(mine: list[int]) -> list[str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _LANE_PROCESS, schema, cwd=ROOT,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate(json.dumps(mine).encode())
        assert proc.returncode == 0
        line = next(x for x in out.decode().splitlines() if x.startswith("STATUSES "))
        return list(json.loads(line.removeprefix("STATUSES ")))

    statuses = await asyncio.wait_for(asyncio.gather(*(run(m) for m in lanes)), 180)
    envs = _competition_envs()
    seen = [
        (envs[n], st)
        for mine, got in zip(lanes, statuses, strict=True)
        for n, st in zip(mine, got, strict=True)
    ]
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema))
    await s.start()
    try:
        await _check_competition(seen, s)
    finally:
        await s.close()


async def test_write_checked_stores_what_write_stores(schema: str) -> None:
    """The sink worker's path for verified records (``write_checked``, the envelope as JSON, no model)
    leaves the same rows, ledger entries and results as ``write`` with the models, in real
    PostgreSQL: every catalogue example with lineage at two offsets and notes, then a redelivery, a newer
    revision and a conflict."""
    from hub.consume.checked import checked_form
    from schemas.envelope import Envelope
    from tests.unit.test_checked_record import _items

    items = [i for i in _items() if checked_form(i) is not None]
    assert len(items) >= 8
    later = [{**i, "revision": i["revision"] + 1} for i in items[:2]]
    other = [{**items[2], "payload": {**items[2]["payload"], "catatan_uji": "isi lain"}}]  # same revision
    tables: list[tuple[list[Any], list[Any], list[str]]] = []
    for way in ("model", "checked"):
        s = PostgresSink(PostgresSinkConfig(**PG, db_schema=f"{schema}_{way}"))
        await s.start()
        statuses: list[str] = []
        try:
            for batch in (items, items, later, other):
                forms = [checked_form(i) for i in batch]
                assert all(f is not None for f in forms)
                if way == "model":
                    results = await s.write([Envelope.model_validate(i) for i in batch])
                else:
                    results = await s.write_checked(forms)  # type: ignore[arg-type]
                statuses += [r.status for r in results]
        finally:
            await s.close()
        rows = await _fetch(
            f"{schema}_{way}",
            "SELECT * FROM {s}.records ORDER BY record_key",
        )
        log = await _fetch(
            f"{schema}_{way}",
            "SELECT idempotency_key, record_key, revision, deliveries, conflicts, last_status, message_id, "
            "trace, envelope FROM {s}.ledger ORDER BY idempotency_key",
        )
        tables.append(([_comparable(r) for r in rows], [tuple(r) for r in log], statuses))
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema}_{way} CASCADE")
        await conn.close()
    (rows_m, log_m, st_m), (rows_c, log_c, st_c) = tables
    assert st_c == st_m and st_m.count("applied") == len(items) + 2
    assert st_m.count("duplicate") == len(items) and st_m[-1] == "conflict"
    assert rows_c == rows_m and len(rows_m) == len(items)
    assert log_c == log_m


def _comparable(row: asyncpg.Record) -> dict[str, Any]:
    """A stored row without what depends on when or by which transaction it was written."""
    return {k: v for k, v in dict(row).items() if k not in ("applied_at", "change_txid", "change_seq")}


def _log_every_delivery(
    rows: list[Any], results: list[Any], trace: Callable[[int], str]
) -> list[tuple[Any, ...]]:
    """The applied_log rows as the writer made them before migration 4: every key of the batch, its
    applying delivery included (``batch.log_rows`` before the ledger by exception)."""
    agg: dict[str, list[Any]] = {}
    for n, (row, result) in enumerate(zip(rows, results, strict=True)):
        entry = agg.get(row.idempotency_key)
        if entry is None:
            agg[row.idempotency_key] = entry = [
                row.idempotency_key, row.record_key, row.revision, False, 0, 0, "", row.message_id, trace(n)
            ]  # fmt: skip
        entry[3] = entry[3] or result.status == "applied"
        entry[4] += 1
        entry[5] += result.status == "conflict"
        entry[6] = result.status
    return [tuple(e) for e in agg.values()]


def _ledger_batches() -> list[list[Any]]:
    """Eight batches over 12 records: revisions 1..3 in two contents, out of order, keys repeated within
    a batch (a revision applied and superseded in one batch), redeliveries, conflicts, stale ones, and
    withdrawals; every delivery with its own hop (and most with a note), so a trace tells which delivery
    it came from."""
    from schemas.envelope import Hop, Note

    rnd = random.Random(21)
    batches: list[list[Any]] = []
    n = 0
    for _ in range(8):
        batch = []
        for _ in range(rnd.randint(5, 30)):
            i, rev, v = rnd.randrange(12), rnd.randint(1, 3), rnd.choice("ab")
            e = env(f"l{i}", rev, {"v": v}, op="withdraw" if rnd.random() < 0.1 else "upsert")
            n += 1
            hop = Hop(
                node=f"kabkota-{n}",
                level="kabkota",
                at=datetime(2025, 1, 2, 3, tzinfo=UTC) + timedelta(seconds=n),
            )
            notes = [Note(loc="v", rule="value_unparseable", detail=f"delivery {n}")] if n % 3 else []
            batch.append(e.model_copy(update={"lineage": [hop], "notes": notes}))
        batches.append(batch)
    return batches


@pytest.mark.parametrize("before_migration", [0, 4])
async def test_ledger_by_exception_tells_what_logging_every_delivery_told(
    schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before_migration: int
) -> None:
    """The ledger of migration 4 (records rows, superseded revisions, applied_log of the rest) answers
    exactly as the SQLite warehouse, which logs every delivery: per message id the outcome, deliveries,
    conflicts, stored revision and the first delivery's trace; every key's delivery count; the applied
    keys. Also across the migration itself: the first ``before_migration`` batches are written by the
    writer before it, at schema version 3, then the sink restarts, migrates and writes the rest."""
    from adapters.postgres_sink import sink as sink_module
    from adapters.sqlite_sink import SqliteWarehouse

    batches = _ledger_batches()
    reference = SqliteWarehouse(tmp_path / "reference.db")
    expected = [[r.status for r in reference.apply(b)] for b in batches]
    assert {"applied", "duplicate", "conflict", "stale"} <= {st for sts in expected for st in sts}

    with monkeypatch.context() as m:
        m.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:3])
        m.setattr(sink_module, "log_rows", _log_every_delivery)
        old = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema))
        await old.start()
        try:
            got = [[r.status for r in await old.write(b)] for b in batches[:before_migration]]
        finally:
            await old.close()
    s = PostgresSink(PostgresSinkConfig(**PG, db_schema=schema))
    await s.start()
    try:
        got += [[r.status for r in await s.write(b)] for b in batches[before_migration:]]
        assert got == expected
        assert await s.delivery_counts() == reference.delivery_counts()
        assert await s.applied_keys() == reference.applied_keys()
        superseded = await _fetch(schema, "SELECT count(*) FROM {s}.superseded")
        assert superseded[0][0] > 0  # the trigger had revisions to keep
        for mid in {e.message_id for b in batches for e in b}:
            mine, theirs = await s.trace(mid), reference.trace(mid)
            assert mine is not None and theirs is not None
            assert (mine.pop("first_applied_at") is None) == (theirs.pop("first_applied_at") is None)
            assert mine == theirs
    finally:
        await s.close()
        reference.close()
