"""Throughput of ``PostgresSink.write`` on the local server: inserts, a full redelivery, newer revisions.

Run: ``.venv/bin/python bench/postgres_sink.py [total] [batch ...]`` (defaults 20000, batches 500 and
2000). The envelopes are those of ``bench/sqlite_apply.py`` (about 400 bytes of payload JSON), built up
front so only ``write`` is timed: serialisation, advisory locks, the decision read, one unnest upsert,
the applied_log upsert and a COMMIT (durable: ``synchronous_commit`` is printed). Each batch size runs in
its own fresh schema of database ``test``, dropped afterwards. ``--concurrent N`` also runs N writers at
once on disjoint records (competing consumers).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
from bench.sqlite_apply import build
from schemas.envelope import Envelope

DSN = {"host": os.environ.get("PGHOST", "127.0.0.1"), "user": os.environ.get("PGUSER", "postgres"),
       "database": os.environ.get("PGDATABASE", "test")}  # fmt: skip


async def run(sink: PostgresSink, envs: list[Envelope], batch: int, writers: int = 1) -> float:
    """Write ``envs`` in batches (``writers`` at once, each on its own slice); envelopes per second."""
    chunks = [envs[i : i + batch] for i in range(0, len(envs), batch)]

    async def writer(mine: list[list[Envelope]]) -> None:
        for chunk in mine:
            await sink.write(chunk)

    t0 = time.perf_counter()
    await asyncio.gather(*(writer(chunks[w::writers]) for w in range(writers)))
    return len(envs) / (time.perf_counter() - t0)


async def one(total: int, batch: int, writers: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    sink = PostgresSink(PostgresSinkConfig(**DSN, db_schema=schema, pool_max=max(4, writers)))
    envs, newer = build(total), build(total, revision=2)
    await sink.start()
    try:
        inserts = await run(sink, envs, batch, writers)
        duplicates = await run(sink, envs, batch, writers)
        updates = await run(sink, newer, batch, writers)
        assert await sink.count() == total and len(await sink.applied_keys()) == 2 * total
    finally:
        await sink.close()
        conn = await asyncpg.connect(**DSN)
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()
    print(f"batch={batch} total={total} writers={writers}")
    print(f"  inserts:    {inserts:>8,.0f} envelopes/s")
    print(f"  duplicates: {duplicates:>8,.0f} envelopes/s")
    print(f"  updates:    {updates:>8,.0f} envelopes/s (revision 2 of every record)")


async def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    writers = int(sys.argv[sys.argv.index("--concurrent") + 1]) if "--concurrent" in sys.argv else 1
    if "--concurrent" in sys.argv:
        args.remove(str(writers))
    total = int(args[0]) if args else 20_000
    batches = [int(a) for a in args[1:]] or [500, 2000]
    conn = await asyncpg.connect(**DSN)
    version = await conn.fetchval("SHOW server_version")
    sync = await conn.fetchval("SHOW synchronous_commit")
    fsync = await conn.fetchval("SHOW fsync")
    await conn.close()
    print(f"PostgreSQL {version} on {DSN['host']}: synchronous_commit={sync} fsync={fsync}")
    for batch in batches:
        await one(total, batch, 1)
    if writers > 1:
        for batch in batches:
            await one(total, batch, writers)


if __name__ == "__main__":
    asyncio.run(main())
