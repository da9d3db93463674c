"""The peers' frozen warehouse writer (``bench.baselines.warehouse``) against the real PostgreSQL.

The baselines of ``bench.run_all`` stand for what a team would build without Simpul; their sink is the
write path Simpul had before issue 21, kept as their own code. These tests pin that it still does that
work (revision rules, one row per record, a delivery log with traces) and that it leans on nothing of
Simpul's warehouse, so speeding up ``adapters.postgres_sink`` cannot move the baselines.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bench.baselines.common import Records, envelope
from bench.baselines.warehouse import BaselineWarehouse

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}


@pytest.fixture
async def warehouse() -> AsyncIterator[tuple[BaselineWarehouse, str]]:
    schema = f"simpul_bl_{uuid.uuid4().hex[:10]}"
    w = BaselineWarehouse(PG, schema)
    await w.start()
    try:
        yield w, schema
    finally:
        await w.close()
        conn = await asyncpg.connect(**PG)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.close()


async def test_the_frozen_writer_applies_the_revision_rules(warehouse: tuple[BaselineWarehouse, str]) -> None:
    w, schema = warehouse
    records = Records()
    first = [envelope(i, records.raw(i)) for i in range(50)]
    assert await w.write(first) == ["applied"] * 50
    assert await w.write(first[:2]) == ["duplicate", "duplicate"]
    newer = first[0].model_copy(update={"revision": 2})
    older = first[1].model_copy(update={"revision": 0})
    other = first[2].model_copy(update={"payload": {**first[2].payload, "dpt": 1}})
    assert await w.write([newer, older, other]) == ["applied", "stale", "conflict"]
    conn = await asyncpg.connect(**PG)
    try:
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.records") == 50
        assert await conn.fetchval(f"SELECT revision FROM {schema}.records WHERE record_key = $1",
                                   first[0].record_key) == 2  # fmt: skip
        log = await conn.fetchrow(
            f"SELECT deliveries, trace->>'system' AS system FROM {schema}.applied_log "
            "WHERE idempotency_key = $1",
            first[0].idempotency_key,
        )
        # model_copy keeps the idempotency key: the original, its duplicate and the "newer" copy
        assert (log["deliveries"], log["system"]) == (3, "bench")
    finally:
        await conn.close()


def test_the_frozen_writer_imports_nothing_of_simpuls_warehouse_or_hub() -> None:
    source = Path(__file__).parents[2] / "bench" / "baselines" / "warehouse.py"
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {m for m in imported if m and m.split(".")[0] in {"adapters", "hub"}}
