"""Shared pieces of the throughput benchmarks: the workload, throw-away vhosts and warehouse schemas, the
hub processes, RSS sampling and the figures read back from the warehouse.

The workload is ``voter_participation`` records of about 1 KB on the wire (envelope + payload with all
five generations), spread over real kode wilayah. Every benchmark writes to a fresh PostgreSQL schema
(``bench_<hex>``) and a fresh RabbitMQ vhost (``simpul-bench-<hex>``); both are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg

from hub.transport.management import ManagementClient

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MGMT = os.environ.get("SIMPUL_BENCH_MGMT", "http://guest:guest@127.0.0.1:15672")
AMQP_BASE = os.environ.get("SIMPUL_BENCH_AMQP", "amqp://guest:guest@127.0.0.1:5672")
PG = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "user": os.environ.get("PGUSER", "postgres"),
    "database": os.environ.get("PGDATABASE", "test"),
}
SCHEMA = "voter_participation"
_GENERATIONS = ("pre_boomer", "baby_boomer", "gen_x", "milenial", "gen_z")


def payload(i: int, kode: str) -> dict[str, Any]:
    """A valid voter_participation payload (about 530 bytes of JSON), distinct per ``i``."""
    dpt = 200_000 + i % 90_000
    voted = dpt * 4 // 5 + i % 97
    gens = []
    for g, name in enumerate(_GENERATIONS):
        pemilih = dpt // 5 - g
        gens.append({"generasi": name, "pemilih": pemilih, "pengguna_hak_pilih": pemilih * 3 // 4})
    return {
        "pemilihan": "pemilu_presiden",
        "tahun": 2029,
        "tanggal_pemungutan": "2029-02-14",
        "kode_wilayah": kode,
        "dpt": dpt,
        "dptb": 0,
        "dpk": 0,
        "pengguna_hak_pilih": voted,
        "partisipasi": f"{voted * 100 / dpt:.2f}",
        "target_partisipasi": "80.00",
        "jumlah_tps": 1000 + i % 500,
        "per_generasi": gens,
    }


def kab_kota_codes() -> list[str]:
    """The 514 kab/kota codes of the packaged region data."""
    from schemas.regions import default_index

    ix = default_index()
    return [k.code for p in ix.children(None) for k in ix.children(p.code)]


def election_regions() -> list[str]:
    """The 552 reporting regions of election day: 38 provinces and 514 kab/kota."""
    from schemas.regions import default_index

    return [p.code for p in default_index().children(None)] + kab_kota_codes()


@contextlib.asynccontextmanager
async def vhost() -> AsyncIterator[str]:
    """A fresh vhost (guest allowed everything); yields its AMQP URL; deleted afterwards."""
    name = f"simpul-bench-{uuid.uuid4().hex[:8]}"
    async with ManagementClient(MGMT) as mgmt:
        await mgmt.create_vhost(name, description="simpul benchmark (safe to delete)")
        await mgmt.set_permissions(name, "guest")
    try:
        yield f"{AMQP_BASE}/{quote(name, safe='')}"
    finally:
        async with ManagementClient(MGMT) as mgmt:
            await mgmt.delete_vhost(name)


@contextlib.asynccontextmanager
async def pg_schema() -> AsyncIterator[str]:
    """A fresh schema name in the warehouse database; dropped (if created) afterwards."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        conn = await asyncpg.connect(**PG)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        finally:
            await conn.close()


# Roll the write-ahead log over, give the log a moment to hand the closed file to the segment writer, and
# wait until that has written it into the queues' segment files (ra's own calls).
_ROLL_OVER = (
    "ra_log_wal:force_roll_over(ra_log_wal), timer:sleep(200), "
    "ra_log_segment_writer:await(ra_log_segment_writer)."
)


async def settle() -> None:
    """Before a run: ``CHECKPOINT`` the warehouse server and roll RabbitMQ's quorum-queue write-ahead log
    over, so that a run pays for its own writes and not for what an earlier, heavier run left behind (a
    checkpoint of its dirty buffers spread over minutes; a log of up to 512 MB flushed into the queues'
    segment files when it fills, a pause of tens of milliseconds). A long run still checkpoints and rolls
    its log over as it goes, as a live system does. Either step is skipped where the bench may not take
    it (``CHECKPOINT`` needs superuser or ``pg_checkpoint``; the roll-over a local ``rabbitmqctl``)."""
    conn = await asyncpg.connect(**PG)
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.InsufficientPrivilegeError:
        pass
    finally:
        await conn.close()
    ctl = shutil.which("rabbitmqctl")
    if ctl is not None and AMQP_BASE.endswith(("@127.0.0.1:5672", "@localhost:5672")):
        proc = await asyncio.create_subprocess_exec(
            ctl, "eval", _ROLL_OVER,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await proc.wait()


class Warehouse:
    """Read-only looks at one benchmark schema (written by ``adapters.postgres_sink``)."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._conn: asyncpg.Connection | None = None
        self.backend_pid: int | None = None

    async def _c(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(**PG)
            self.backend_pid = self._conn.get_server_pid()
        return self._conn

    def poll_cpu_s(self) -> float:
        """CPU seconds the PostgreSQL session behind these looks has used: the bench's own polling, which
        the path's PostgreSQL figure leaves out (it is not part of the path)."""
        return cpu_s(self.backend_pid) if self.backend_pid is not None else 0.0

    async def count(self) -> int:
        """Rows in ``records``; 0 while the sink has not created the table yet."""
        conn = await self._c()
        try:
            return int(await conn.fetchval(f"SELECT count(*) FROM {self.schema}.records"))
        except asyncpg.UndefinedTableError:
            return 0
        except asyncpg.InvalidSchemaNameError:
            return 0

    async def wait_for(
        self, n: int, timeout: float, on_tick: Any = None, marks: tuple[int, ...] = ()
    ) -> tuple[int, float]:
        """Poll until ``n`` rows are present or ``timeout``; (rows seen, monotonic time seen).

        A count is a scan of the whole table (~0.15 us a row here): polled every 0.1 s it cost ~12 us of
        PostgreSQL CPU per record of a 150,000-record run and, on election day's 820,000 rows, a good
        part of a core, taken from the path it measures. So the next poll is aimed at half the time the
        rate so far says the rest will take (to ``n``, or to the next of ``marks`` for ``on_tick``),
        between 0.1 and 2 s: a few dozen counts a run, and still within 0.1 s of the end."""
        started = time.monotonic()
        deadline = started + timeout
        seen = 0
        first: tuple[float, int] | None = None  # (time, rows) of the first count that found rows
        while time.monotonic() < deadline:
            seen = await self.count()
            now = time.monotonic()
            if on_tick is not None:
                on_tick(seen)
            if seen >= n:
                break
            if seen and first is None:
                first = (now, seen)
            target = min([m for m in marks if m > seen] + [n])
            interval = 0.1
            if first is not None and seen > first[1] and now > first[0]:
                rate = (seen - first[1]) / (now - first[0])
                interval = min(2.0, max(0.1, 0.5 * (target - seen) / rate))
            await asyncio.sleep(interval)
        return seen, time.monotonic()

    async def span(self) -> dict[str, float]:
        """Rate over the warehouse's own clock: first ``received_at`` to last ``applied_at``, and the
        end-to-end latency percentiles (``applied_at`` is the writing transaction's start)."""
        conn = await self._c()
        row = await conn.fetchrow(
            f"""SELECT count(*) AS n,
                   extract(epoch FROM max(applied_at) - min(received_at)) AS span,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at)) AS p50,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM applied_at - received_at)) AS p99,
                   max(extract(epoch FROM applied_at - received_at)) AS pmax
               FROM {self.schema}.records"""  # noqa: E501
        )
        n, span = int(row["n"]), float(row["span"] or 0)
        return {
            "rows": n,
            "span_s": span,
            "rate": n / span if span else 0.0,
            "p50_ms": float(row["p50"] or 0) * 1000,
            "p99_ms": float(row["p99"] or 0) * 1000,
            "max_ms": float(row["pmax"] or 0) * 1000,
        }

    async def distinct_ids(self, prefix_like: str = "%") -> int:
        conn = await self._c()
        return int(
            await conn.fetchval(
                f"SELECT count(DISTINCT source_record_id) FROM {self.schema}.records "
                "WHERE source_record_id LIKE $1",
                prefix_like,
            )
        )

    async def deliveries(self) -> tuple[int, int]:
        """(idempotency keys in the ledger, total deliveries): redeliveries show as the difference."""
        conn = await self._c()
        sql = f"SELECT count(*), coalesce(sum(deliveries), 0) FROM {self.schema}.ledger"
        row = await conn.fetchrow(sql)
        return int(row[0]), int(row[1])

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (VmRSS of /proc/<pid>/status); 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_pids() -> dict[str, list[int]]:
    """The RabbitMQ node serving 5672 and the PostgreSQL server processes, for their CPU per record.
    (Best effort: empty where ``ss``/``pgrep`` cannot tell; PostgreSQL's figure counts every session.)"""
    out: dict[str, list[int]] = {"rabbitmq": [], "postgres": []}
    try:
        listen = subprocess.run(
            ["ss", "-ltnpH", "sport = :5672"], capture_output=True, text=True, check=False
        )
        out["rabbitmq"] = [int(p) for p in re.findall(r"pid=(\d+)", listen.stdout)][:1]
        pg = subprocess.run(["pgrep", "-u", "postgres"], capture_output=True, text=True, check=False)
        out["postgres"] = [int(p) for p in pg.stdout.split()]
    except OSError:
        pass
    return out


def services_cpu_s(pids: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_s(p) for p in group) for name, group in pids.items() if group}


@dataclass
class RssSampler:
    """Samples the RSS of some processes every ``interval`` seconds; keeps each one's peak."""

    pids: dict[str, int]
    interval: float = 0.2
    peak: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def sample(self) -> dict[str, float]:
        now = {name: rss_mb(pid) for name, pid in self.pids.items()}
        for name, value in now.items():
            self.peak[name] = max(self.peak.get(name, 0.0), value)
        return now

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Proc:
    """A benchmark process (``python -m <module> <args>``) that prints ``READY {json}`` once set up;
    ``stop`` ends it with SIGTERM (a hub node stops gracefully) and waits."""

    def __init__(self, name: str, module: str, *args: str) -> None:
        self.name = name
        self.argv = [PYTHON, "-m", module, *args]
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, timeout: float = 60.0) -> dict[str, Any]:
        """Start and wait for the ``READY {json}`` line."""
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
        assert self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout
        line = "-"
        while line and not line.startswith("READY "):  # skip anything the process logged before
            remaining = max(0.1, deadline - time.monotonic())
            line = await asyncio.wait_for(loop.run_in_executor(None, self.proc.stdout.readline), remaining)
        if not line.startswith("READY "):
            self.proc.kill()
            raise RuntimeError(f"process {self.name} did not start (got {line!r})")
        self.info = json.loads(line[6:])
        return self.info

    async def finish(self, timeout: float = 600.0) -> dict[str, Any]:
        """Wait for the process to end; the JSON of its ``DONE {json}`` line ({} if none)."""
        assert self.proc is not None and self.proc.stdout is not None
        loop = asyncio.get_running_loop()
        out = await asyncio.wait_for(loop.run_in_executor(None, self.proc.stdout.read), timeout)
        await loop.run_in_executor(None, self.proc.wait)
        done = [line for line in out.splitlines() if line.startswith("DONE ")]
        return json.loads(done[-1][5:]) if done else {}

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(loop.run_in_executor(None, self.proc.wait), timeout)
        except TimeoutError:
            self.proc.kill()
            await loop.run_in_executor(None, self.proc.wait)


def hub_process(name: str, spec: dict[str, Any]) -> Proc:
    """A hub node in its own process (``bench.node_proc``) with a JSON spec."""
    return Proc(name, "bench.node_proc", json.dumps(spec))


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0
