"""``sql``: the party financial-aid table ``bankeu_parpol`` of Kesbangpol Jawa Barat, polled by ``sql_poll``.

The table lives in PostgreSQL (127.0.0.1:5432, user postgres, database ``test``) in a schema made for
this run and dropped at the end. It holds the three rows of the shared sample (one soft-deleted), the
simulator's generated rows and some bad ones the example mapping ``ops/examples/bankeu_parpol.toml``
must catch. After the first poll the regional app updates rows, deletes some softly and corrects a bad
one, and the source polls again. Without a reachable PostgreSQL this kind is skipped, saying so.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from adapters.sql_poll.simulator import COLUMNS, BankeuTable
from hub.demo.expect import KindExpect, wib_ms
from hub.demo.sources import DemoSource, Skipped, example_source, wait_runner
from hub.node import Node

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
# (column, bad value, reason, field rule)
BAD = (
    ("status_lpj", "MENUNGGU VERIFIKASI", "mapping_failed", "value_unmapped"),
    ("kode_prov", "99", "mapping_failed", "region_code_unknown"),
    ("tahun_anggaran", "20x4", "mapping_failed", "number_format"),
    ("kode_prov", "33", "region_invalid", "region_outside_office"),  # Jawa Tengah, not this office's
    ("jml_kursi", -1, "validation_failed", "greater_than_equal"),
)
CHANGED_AT = datetime(2024, 9, 2, 10, 0)  # after every seeded stamp; in the past, so no settle wait
_SNAPSHOT = "SELECT id, tahun_anggaran, kode_prov, singkatan, updated_at, deleted_at FROM {t} ORDER BY id"


class SqlDemo(DemoSource):
    """See the module docstring."""

    kind = "sql"
    title = "sql_poll: bankeu_parpol table, Kesbangpol Jawa Barat (PostgreSQL)"

    def __init__(self, records: int, workdir: Path) -> None:
        super().__init__(records, workdir)
        self._conn: Any = None
        self.schema = f"simpul_demo_{uuid.uuid4().hex[:10]}"
        self._table: BankeuTable | None = None
        self._entry: dict[str, Any] = {}
        self._bad: dict[int, tuple[str, str]] = {}  # serial id -> (reason, rule) while the row is bad
        self._served: list[tuple[list[dict[str, Any]], dict[int, tuple[str, str]]]] = []
        self.updated = self.deleted = self.corrected = 0
        self.dropped = False

    async def prepare(self) -> None:
        self._entry = example_source("bankeu_parpol")
        self.adapters = [self._entry["name"]]
        try:
            self._conn = await asyncio.wait_for(asyncpg.connect(**PG), 5)
            await self._conn.execute(f"CREATE SCHEMA {self.schema}")
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise Skipped(
                f"PostgreSQL not reachable or not usable at {PG['host']}:{PG['port']} "
                f"(database {PG['database']}: {type(exc).__name__})"
            ) from None
        self._table = BankeuTable("postgresql", self._conn, f"{self.schema}.bankeu_parpol")
        await self._table.seed(self.records)
        bad_rows = [_bad_row(j) for j in range(max(len(BAD), self.records // 40))]
        await self._table.insert([row for row, _why in bad_rows])
        why = {row[COLUMNS.index("singkatan")]: reason for row, reason in bad_rows}
        # The serial ids the database gave the bad rows: the id the source files them under.
        self._bad = {r["id"]: why[r["singkatan"]] for r in await self._rows() if r["singkatan"] in why}

    def entries(self) -> list[dict[str, Any]]:
        assert self._table is not None
        config = {
            "engine": "postgresql",
            **{k: PG[k] for k in ("host", "port", "user", "database")},
            "table": self._table.table,
            "key_column": "id",
            "updated_at_column": "updated_at",
            "deleted_at_column": "deleted_at",
            "settle_s": 0,
            "batch_size": 100,
            "stop_when_idle": True,  # one pass per run: the demo restarts the source to poll again
        }
        return [{**self._entry, "config": config}]

    def planned(self) -> int:
        return self.records + 3 + max(len(BAD), self.records // 40) + self.records // 12

    async def _rows(self) -> list[dict[str, Any]]:
        assert self._table is not None
        return [dict(r) for r in await self._conn.fetch(_SNAPSHOT.format(t=self._table.table))]

    async def drive(self, node: Node, deadline: float) -> None:
        assert self._table is not None
        name = self._entry["name"]
        self._served.append((await self._rows(), dict(self._bad)))
        state = await wait_runner(node, name, deadline)
        if state != "stopped":
            self.problems.append(f"{name}: first poll {state}")
            return
        good = [r["id"] for r in self._served[0][0] if r["id"] not in self._bad and r["deleted_at"] is None]
        step = max(1, len(good) // max(3, self.records // 25))
        updated, deleted = good[1::step], good[2::step]
        await self._table.update(updated, at=CHANGED_AT)
        await self._table.soft_delete(deleted, at=CHANGED_AT + timedelta(minutes=5))
        fix = min(self._bad, key=lambda k: (self._bad[k][1] != "value_unmapped", k))
        sql = f"UPDATE {self._table.table} SET status_lpj = 'BELUM LPJ', updated_at = $1 WHERE id = $2"
        await self._conn.execute(sql, CHANGED_AT + timedelta(minutes=10), fix)
        del self._bad[fix]
        self.updated, self.deleted, self.corrected = len(updated), len(deleted), 1
        self._served.append((await self._rows(), dict(self._bad)))
        await node.restart_source(name)
        state = await wait_runner(node, name, deadline)
        if state != "stopped":
            self.problems.append(f"{name}: second poll {state}")

    def expected(self) -> KindExpect:
        ledger = KindExpect(adapters=set(self.adapters))
        name, schema, system = self._entry["name"], self._entry["schema"], self._entry["system"]
        for rows, bad in self._served:
            for row in rows:
                if row["id"] in bad:
                    ledger.quarantined(name, str(row["id"]), *bad[row["id"]])
                    continue
                # As the example mapping states: the id is (year, province, party), the revision the
                # later of updated_at and deleted_at, a set deleted_at a withdrawal.
                rid = f"{row['tahun_anggaran']}/{row['kode_prov']}/{row['singkatan']}"
                changed = max(t for t in (row["updated_at"], row["deleted_at"]) if t is not None)
                state = "withdrawn" if row["deleted_at"] is not None else "active"
                ledger.serve((schema, system, rid), wib_ms(changed), state)
        return ledger

    def notes(self) -> str:
        rows = len(self._served[-1][0]) if self._served else 0
        return (
            f"{rows} rows in {self.schema}.bankeu_parpol; {self.updated} updated, {self.deleted} deleted "
            f"softly, {self.corrected} bad row corrected, then polled again; schema "
            f"{'dropped' if self.dropped else 'NOT dropped'}"
        )

    async def close(self) -> None:
        if self._conn is None:
            return
        try:
            await self._conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            self.dropped = True
        finally:
            await self._conn.close()


def _bad_row(j: int) -> tuple[tuple[Any, ...], tuple[str, str]]:
    """A row of the table that the mapping or the schema must refuse (unique by year and party)."""
    column, value, reason, rule = BAD[j % len(BAD)]
    row: dict[str, Any] = {
        "tahun_anggaran": "2024",
        "kode_prov": "32",
        "nama_partai": f"Partai Salah Input {j}",
        "singkatan": f"PSI{j:02d}",
        "jml_kursi": 3,
        "jml_suara_sah": 250_000,
        "nilai_per_suara": Decimal("1200.00"),
        "total_bantuan": Decimal("300000000.00"),
        "tgl_pencairan": date(2024, 5, 21),
        "status_lpj": "BELUM LPJ",
        "no_lhp_bpk": None,
        "realisasi_pendpol": None,
        "updated_at": datetime(2024, 7, 3, 9, 0) + timedelta(minutes=j),
        "deleted_at": None,
    }
    row[column] = value
    return tuple(row[c] for c in COLUMNS), (reason, rule)
