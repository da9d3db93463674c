"""A simulated provincial database: the ``bankeu_parpol`` table of ../shared/samples/bankeu_parpol.sql.

:class:`BankeuTable` creates the table on PostgreSQL or MariaDB/MySQL (the DDL adapted: ``serial`` ->
``AUTO_INCREMENT``, ``timestamp`` -> ``DATETIME``, so MariaDB neither converts zones nor auto-updates the
column), seeds it with the three sample rows plus generated ones, and changes it over time the way the
regional app does: updates stamp ``updated_at``, soft deletes set ``deleted_at`` only (as in the sample,
where ``deleted_at`` is later than ``updated_at``). Stamps are WIB wall-clock time, naive, as the app
writes them. Amounts are exact: ``total_bantuan = jml_suara_sah x nilai_per_suara``.
"""

from __future__ import annotations

import random
import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

WIB = timezone(timedelta(hours=7))
COLUMNS = ["tahun_anggaran", "kode_prov", "nama_partai", "singkatan", "jml_kursi", "jml_suara_sah",
           "nilai_per_suara", "total_bantuan", "tgl_pencairan", "status_lpj", "no_lhp_bpk",
           "realisasi_pendpol", "updated_at", "deleted_at"]  # fmt: skip
_PG_DDL = """CREATE TABLE {t} (
  id serial PRIMARY KEY, tahun_anggaran varchar(4), kode_prov char(2), nama_partai varchar(100),
  singkatan varchar(20), jml_kursi int, jml_suara_sah bigint, nilai_per_suara numeric(10,2),
  total_bantuan numeric(16,2), tgl_pencairan date, status_lpj varchar(30), no_lhp_bpk varchar(60),
  realisasi_pendpol numeric(16,2), updated_at timestamp, deleted_at timestamp NULL)"""
_MY_DDL = """CREATE TABLE {t} (
  id int NOT NULL AUTO_INCREMENT PRIMARY KEY, tahun_anggaran varchar(4), kode_prov char(2),
  nama_partai varchar(100), singkatan varchar(20), jml_kursi int, jml_suara_sah bigint,
  nilai_per_suara decimal(10,2), total_bantuan decimal(16,2), tgl_pencairan date, status_lpj varchar(30),
  no_lhp_bpk varchar(60), realisasi_pendpol decimal(16,2), updated_at datetime NULL,
  deleted_at datetime NULL) DEFAULT CHARSET=utf8mb4"""
SAMPLE_ROWS: list[tuple[Any, ...]] = [
    ("2024", "32", "Partai Contoh Nasional", "PCN", 12, 1543210, Decimal("1200.00"), Decimal("1851852000.00"),
     date(2024, 5, 17), "SUDAH DIAUDIT BPK", "12/LHP/XVIII.BDG/06/2024", Decimal("1111111200.00"),
     datetime(2024, 7, 1, 10, 11, 12), None),
    ("2024", "32", "Partai Rakyat Sejahtera", "PRS", 7, 801122, Decimal("1200.00"), Decimal("961346400.00"),
     date(2024, 5, 20), "BELUM LPJ", None, None, datetime(2024, 7, 2, 8, 0, 0), None),
    ("2023", "32", "Partai Contoh Nasional", "PCN", 12, 1543210, Decimal("1200.00"), Decimal("1851852000.00"),
     date(2023, 6, 1), "SUDAH DIAUDIT BPK", "09/LHP/XVIII.BDG/05/2023", Decimal("1000000000.00"),
     datetime(2023, 8, 1, 9, 0, 0), datetime(2024, 1, 5, 10, 0, 0)),
]  # fmt: skip
_PARTIES = ["Partai Nusantara Bersatu", "Partai Karya Pembangunan", "Partai Amanat Rakyat",
            "Partai Bulan Terang", "Partai Keadilan Makmur", "Partai Persatuan Desa",
            "Partai Hijau Indonesia", "Partai Buruh Tani"]  # fmt: skip


def wib_now() -> datetime:
    """WIB wall-clock time, naive, to the microsecond (what the regional app writes)."""
    return datetime.now(UTC).astimezone(WIB).replace(tzinfo=None)


def generated_rows(n: int, seed: int = 3) -> list[tuple[Any, ...]]:
    """``n`` rows unique by (year, party) that never collide with the sample rows."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        year, party = 2019 + i % 6, i // 6
        name = _PARTIES[party] if party < len(_PARTIES) else f"Partai Daerah {party}"
        votes = rnd.randrange(50_000, 2_500_000)
        rate = Decimal("1200.00")
        total = votes * rate
        audited = rnd.random() < 0.5
        rows.append((str(year), "32", name, f"PD{party:02d}", rnd.randrange(1, 20), votes, rate, total,
                     date(year, 5, rnd.randrange(1, 28)), "SUDAH DIAUDIT BPK" if audited else "BELUM LPJ",
                     f"{i + 1:02d}/LHP/XVIII.BDG/06/{year}" if audited else None,
                     (total * Decimal("0.6")).quantize(Decimal("0.01")) if audited else None,
                     datetime(year, 7, 1, 9, 0, 0) + timedelta(minutes=i), None))  # fmt: skip
    return rows


class BankeuTable:
    """The table on a live database; ``conn`` is an asyncpg connection or an aiomysql one (autocommit)."""

    def __init__(self, engine: str, conn: Any, table: str = "bankeu_parpol") -> None:
        self.engine, self.conn, self.table = engine, conn, table
        self._pg = engine == "postgresql"

    async def _exec(self, sql: str, *args: Any) -> None:
        if self._pg:
            await self.conn.execute(sql, *args)
            return
        async with self.conn.cursor() as cur:
            await cur.execute(sql.replace("$1", "%s").replace("$2", "%s").replace("$3", "%s"), args or None)

    async def create(self) -> None:
        """Create the table (dropping an old one of the same name)."""
        await self.drop()
        await self._exec((_PG_DDL if self._pg else _MY_DDL).format(t=self.table))

    async def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows (tuples in ``COLUMNS`` order)."""
        marks = ", ".join(f"${i + 1}" if self._pg else "%s" for i in range(len(COLUMNS)))
        sql = f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) VALUES ({marks})"
        if self._pg:
            await self.conn.executemany(sql, rows)
        else:
            async with self.conn.cursor() as cur:
                await cur.executemany(sql, rows)

    async def seed(self, n: int) -> None:
        """Create the table with the three sample rows and ``n`` generated ones."""
        await self.create()
        await self.insert(SAMPLE_ROWS + generated_rows(n))

    async def update(self, ids: list[int], at: datetime | None = None) -> None:
        """The app records an LPJ or a vote correction: seats +1 and a fresh ``updated_at``."""
        for row_id in ids:
            sql = f"UPDATE {self.table} SET jml_kursi = jml_kursi + 1, updated_at = $1 WHERE id = $2"
            await self._exec(sql, at or wib_now(), row_id)

    async def soft_delete(self, ids: list[int], at: datetime | None = None) -> None:
        """The app deletes rows softly: ``deleted_at`` set, ``updated_at`` untouched."""
        for row_id in ids:
            await self._exec(
                f"UPDATE {self.table} SET deleted_at = $1 WHERE id = $2", at or wib_now(), row_id
            )

    async def drop(self) -> None:
        """Drop the table if it exists."""
        with warnings.catch_warnings():  # MariaDB notes a missing table as a warning; nothing to report
            warnings.simplefilter("ignore")
            await self._exec(f"DROP TABLE IF EXISTS {self.table}")
