"""The ledger for hubs running as OS processes (``simpul run``), which the test cannot wrap.

A process killed with SIGKILL keeps nothing in memory, so every set of the ledger is read from something
durable that the process or the broker wrote:

- **S** (offered): the test wrote the source's files; it computes each row's key as the hub does.
- **A** (attempted) is observed as *routed*: before the node starts, the test declares the node's ingest
  exchange and a tap queue (``faults.tap``, classic, durable) bound to it with ``#``. The broker copies
  every message it routes from the ingest exchange into the tap, so draining the tap afterwards gives each
  record key and how many times it was published. A publish the broker never received is not in it (it
  was attempted, but is neither confirmed nor applied, so it changes no check); ``unexpected`` = P - A is
  thus the stricter "applied but never routed through the ingest exchange".
- **C** (confirmed) is bounded from both sides. Upper bound: everything routed (a confirm implies routing
  to every bound queue, the tap included). Lower bound: what the source was told, read from the node's
  state database (``sources.sqlite3``: per file the rows whose batches were committed; a commit only
  follows the confirm of every record of its batch). The checker uses the upper bound for ``lost``
  (routed - P), which is the stronger claim, and asserts acked-to-the-source is a subset of routed.
- **P** (applied): the warehouse's ``applied_log`` (keys with ``first_applied_at``), read from the SQLite
  file. Applications are counted by the warehouse itself: each applied record takes one ``change_seq``
  from ``change_counter`` in the same transaction as its row, so ``change_counter - |P|`` is the number of
  records applied more than once (every record here has one revision). Raw deliveries come from the
  same log's ``deliveries`` column. For a PostgreSQL warehouse (``PostgresWarehouse``) P and the
  deliveries come from its ``ledger`` view; it keeps no count of applications, so the test adds its own
  trigger (see there).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import signal
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aio_pika
import asyncpg
import orjson

from adapters.postgres_sink import PostgresSink, PostgresSinkConfig
from hub.model import codec
from tests.faults.ledger import Key, Ledger, Report

TAP = "faults.tap"
SIMPUL = Path(sys.executable).parent / "simpul"


def toml_value(value: Any) -> str:
    """``value`` as a TOML inline value (tables inline, strings as JSON-escaped basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value), ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(
            f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()
        )
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as the TOML file ``simpul run --config`` reads."""
    path.write_text("\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in config.items()) + "\n")
    return path


# -- the process ----------------------------------------------------------------------------------------


@dataclass
class HubProcess:
    """``simpul run --config CONFIG`` as a child process, its output appended to ``log``."""

    config: Path
    log: Path
    fault: str | None = None
    proc: asyncio.subprocess.Process | None = None
    started_at: float = 0.0

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "SIMPUL_FAULT_POINT"}
        if self.fault:
            env["SIMPUL_FAULT_POINT"] = self.fault
        with open(self.log, "ab") as out:  # noqa: ASYNC230 (a local log, opened once per start)
            out.write(f"--- simpul run (fault point: {self.fault or 'none'})\n".encode())
            self.proc = await asyncio.create_subprocess_exec(
                str(SIMPUL), "run", "--config", str(self.config), env=env, stdout=out, stderr=out
            )
        self.started_at = time.monotonic()

    async def wait(self, timeout: float) -> int:
        """The exit status (negative: killed by that signal); fails after ``timeout``."""
        assert self.proc is not None
        async with asyncio.timeout(timeout):
            return await self.proc.wait()

    async def stop(self, timeout: float = 30) -> int:
        """SIGTERM (a graceful stop) and the exit status."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait(timeout)

    async def kill(self) -> None:
        """Clean-up only: SIGKILL this child if it still runs."""
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# -- the broker side: a tap on the ingest exchange ---------------------------------------------------------


async def install_tap(amqp_url: str, exchange: str) -> None:
    """Declare ``exchange`` as the hub does (topic, durable) and the tap queue bound to it with ``#``."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        ingest = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(TAP, durable=True)
        await queue.bind(ingest, "#")


async def drain_tap(amqp_url: str) -> Counter[str]:
    """Every record key routed through the ingest exchange, with how many times (taken off the tap)."""
    routed: Counter[str] = Counter()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(TAP, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            routed.update(str(item["idempotency_key"]) for item in codec.split_batch(message.body))
    return routed


async def tap_depth(amqp_url: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(TAP, passive=True)
        return int(queue.declaration_result.message_count or 0)


# -- the durable stores, read from outside -----------------------------------------------------------------


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


@dataclass
class WarehouseView:
    applied: set[str] = field(default_factory=set)
    deliveries: dict[str, int] = field(default_factory=dict)
    applications: int = 0


def read_warehouse(path: Path) -> WarehouseView:
    """P, raw deliveries and the warehouse's own count of applications, read-only (the node may run)."""
    if not path.exists():
        return WarehouseView()
    try:
        conn = _ro(path)
    except sqlite3.OperationalError:
        return WarehouseView()
    try:
        rows = conn.execute(
            "SELECT idempotency_key, deliveries, first_applied_at FROM applied_log"
        ).fetchall()
        counter = conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return WarehouseView()
    finally:
        conn.close()
    return WarehouseView(
        applied={k for k, _, first in rows if first is not None},
        deliveries={k: int(n) for k, n, _ in rows},
        applications=int(counter[0]) if counter else 0,
    )


def applied_count(path: Path) -> int:
    return len(read_warehouse(path).applied)


class WarehouseReader(Protocol):
    """How a kill scenario reads the warehouse from outside the node, whichever engine holds it."""

    async def read(self) -> WarehouseView: ...

    async def applied_count(self) -> int: ...


@dataclass
class SqliteWarehouseReader:
    """The SQLite warehouse file (``read_warehouse``) as a ``WarehouseReader``."""

    path: Path

    async def read(self) -> WarehouseView:
        return read_warehouse(self.path)

    async def applied_count(self) -> int:
        return applied_count(self.path)


APPLICATIONS = "test_applications"

_INSTRUMENT = """
CREATE TABLE {s}.{a} (record_key text NOT NULL, revision bigint NOT NULL);
CREATE FUNCTION {s}.test_count_application() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO {s}.{a} VALUES (NEW.record_key, NEW.revision);
    RETURN NULL;
END
$fn$;
CREATE TRIGGER test_count_application AFTER INSERT OR UPDATE ON {s}.records FOR EACH ROW
    WHEN (NEW.revision >= 0) EXECUTE FUNCTION {s}.test_count_application();
"""


class PostgresWarehouse:
    """A PostgreSQL warehouse in a fresh schema of its own, created before the node and read from outside.

    ``create`` runs the sink's own migrations (``PostgresSink.start``), so the node finds the schema
    current and the test's instrumentation is in place before any fault can fire. P and the raw
    deliveries come from the ``<schema>.ledger`` view (one row per idempotency key; applied = a
    ``first_applied_at``). PostgreSQL keeps nothing like SQLite's ``change_counter``, so applications are
    counted by the test: an ``AFTER INSERT OR UPDATE`` row trigger on ``records`` adds one row to
    ``test_applications`` in the writer's own transaction, so a rolled-back write counts nothing and a
    committed one counts once per records row it wrote. That table has no unique index, so concurrent
    writers never wait on each other there. Rows at revision -1 are not counted: they are the sink's
    lock-only placeholders (``adapters.postgres_sink.batch.Batch``), which the same transaction either
    overwrites with the winning revision (counted then) or rolls back. An ``ON CONFLICT DO UPDATE`` whose
    WHERE is false (a redelivery) writes no row and fires no trigger. ``applications - |P|`` is then the
    number of records applied more than once, as with SQLite.

    ``drop`` removes the schema (CASCADE); ``async with`` drops it however the test ends.
    """

    def __init__(self, schema: str, *, host: str, user: str, database: str, port: int = 5432) -> None:
        self.schema = schema
        self._connect: dict[str, Any] = {"host": host, "port": port, "user": user, "database": database}
        self._conn: Any = None

    def sink_config(self) -> dict[str, Any]:
        """The ``config`` of a ``[[sinks]]`` entry of kind ``postgres`` writing into this schema."""
        return {**self._connect, "db_schema": self.schema}

    async def create(self) -> None:
        sink = PostgresSink(PostgresSinkConfig(**self.sink_config()))
        try:
            await sink.start()
        finally:
            await sink.close()
        self._conn = await asyncpg.connect(**self._connect)
        await self._conn.execute(_INSTRUMENT.format(s=self.schema, a=APPLICATIONS))

    async def drop(self) -> None:
        conn = self._conn or await asyncpg.connect(**self._connect)
        self._conn = None
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        finally:
            await conn.close()

    async def __aenter__(self) -> PostgresWarehouse:
        try:
            await self.create()
        except BaseException:
            await self.drop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.drop()

    async def read(self) -> WarehouseView:
        """P, raw deliveries and the applications, from one snapshot (the node may be writing)."""
        s, conn = self.schema, self._open()
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            rows = await conn.fetch(
                f"SELECT idempotency_key, deliveries, first_applied_at IS NOT NULL FROM {s}.ledger"
            )
            applications = await conn.fetchval(f"SELECT count(*) FROM {s}.{APPLICATIONS}")
        return WarehouseView(  # the view has one row per idempotency key
            applied={key for key, _, applied in rows if applied},
            deliveries={key: int(n) for key, n, _ in rows},
            applications=int(applications),
        )

    async def applied_count(self) -> int:
        sql = f"SELECT count(*) FROM {self.schema}.ledger "
        return int(await self._open().fetchval(sql + "WHERE first_applied_at IS NOT NULL"))

    def _open(self) -> Any:
        if self._conn is None:
            raise RuntimeError("PostgresWarehouse read before create")
        return self._conn


@dataclass
class DropFile:
    """A file the test dropped: its bytes' digest and its rows' keys in file order."""

    name: str
    digest: str
    keys: list[Key]


def drop_file(path: Path, keys: list[Key]) -> DropFile:
    return DropFile(path.name, hashlib.sha256(path.read_bytes()).hexdigest(), keys)


def acked_to_source(state_db: Path, adapter: str, files: list[DropFile]) -> set[str]:
    """The keys whose batches the file_drop source committed (read from ``sources.sqlite3``)."""
    if not state_db.exists():
        return set()
    conn = _ro(state_db)
    try:
        done = {item for (item,) in conn.execute("SELECT item FROM processed WHERE adapter = ?", (adapter,))}
        rows = {
            key.removeprefix("file:"): int(orjson.loads(value).get("rows", 0))
            for key, value in conn.execute("SELECT key, value FROM cursors WHERE adapter = ?", (adapter,))
            if key.startswith("file:")
        }
    finally:
        conn.close()
    acked: set[str] = set()
    for f in files:
        upto = len(f.keys) if f.digest in done else rows.get(f.digest, 0)
        acked.update(k.idempotency_key for k in f.keys[:upto])
    return acked


def check(
    scenario: str,
    offered: list[Key],
    routed: Counter[str],
    acked: set[str],
    view: WarehouseView,
    recovery_s: float | None,
) -> Report:
    """The ledger report from the durable observations (see the module docstring)."""
    ledger = Ledger(scenario)
    ledger.offer(offered)
    ledger.attempted = set(routed)
    ledger.confirmed = set(routed) | acked
    report = ledger.check(view.applied, view.deliveries)
    report.duplicates_applied = view.applications - len(view.applied)
    report.recovery_s = recovery_s
    report.notes.update(
        acked_not_routed=len(acked - set(routed)),
        routed_copies=sum(routed.values()),
    )
    return report
