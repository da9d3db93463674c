"""``simpul mapping test --live N`` on a real MariaDB table: the poll's own first page read through the
source's ``row_record``, mapped by the example config made from the table's CSV export, with the same
outcome as the export (zero dates, NULLs, a soft-deleted row, Windows-1252 text stored as utf8mb4)."""

from __future__ import annotations

import json
import tomllib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiomysql
import pytest

from adapters.sql_poll.sample import table_rows
from hub.cli.root import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "ops/examples/ormas_mariadb_kota_bandung.toml"
EXPORT = ROOT / "tests/fixtures/raw/ormas_mariadb_export.csv"
MY = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": "", "db": "test"}
COLUMNS = """id INT PRIMARY KEY, no_skt VARCHAR(60), nama_ormas VARCHAR(200), singkatan VARCHAR(30),
 bentuk VARCHAR(40), lingkup VARCHAR(20), bidang VARCHAR(100), alamat VARCHAR(200), kecamatan VARCHAR(60),
 tgl_skt DATE, tgl_berlaku DATE, status VARCHAR(20), ketua VARCHAR(100), nik_ketua CHAR(16),
 created_at DATETIME, updated_at DATETIME, deleted_at DATETIME NULL"""


@pytest.fixture
async def table() -> AsyncIterator[str]:
    """The export's rows in a fresh MariaDB table (zero dates allowed, as old MySQL tables have them)."""
    name = f"tb_ormas_{uuid.uuid4().hex[:10]}"
    conn = await aiomysql.connect(**MY, autocommit=True, charset="utf8mb4")
    try:
        async with conn.cursor() as cur:
            await cur.execute("SET SESSION sql_mode = ''")
            await cur.execute(f"CREATE TABLE {name} ({COLUMNS}) DEFAULT CHARSET=utf8mb4")
            for row in table_rows(EXPORT.read_bytes()):
                values = [None if v is None else str(v) for v in row.values()]
                marks = ", ".join(["%s"] * len(values))
                await cur.execute(f"INSERT INTO {name} ({', '.join(row)}) VALUES ({marks})", values)
        yield name
    finally:
        async with conn.cursor() as cur:
            await cur.execute(f"DROP TABLE IF EXISTS {name}")
        conn.close()


async def test_live_read_maps_like_the_export(
    table: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('database = "siormas"', 'database = "test"').replace(
        'table = "tb_ormas"', f'table = "{table}"'
    )
    text = text.replace('user = "simpul_reader"', 'user = "root"')
    config = tmp_path / "node.toml"
    config.write_text(text, encoding="utf-8")
    name = tomllib.loads(text)["sources"][0]["name"]
    args = ["mapping", "test", "--config", str(config), "--adapter", name, "--json"]
    assert main([*args, "--sample", str(EXPORT)]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert main([*args, "--live", "10"]) == 0, capsys.readouterr()
    live = json.loads(capsys.readouterr().out)
    assert live["read"] == exported["read"] == 4
    assert [r["id"] for r in live["records"]] == [r["id"] for r in exported["records"]]
    assert [r["payload"] for r in live["records"]] == [r["payload"] for r in exported["records"]]
