"""``files``: the drop folder of Kesbangpol Kab. Bogor, watched by two ``file_drop`` sources.

The register export (``adapters.file_drop.simulator``) arrives first as a Windows-1252 CSV with title
rows and an empty trailing ``;;;;`` row, later re-exported as UTF-8 with BOM with some rows changed and
two bad rows corrected (a newer export: its modification time is the newer revision). A monthly recap
workbook (one sheet per month, two header rows with merged cells, totals, signatures, a hidden sheet)
arrives beside it when a mapping for it exists. Some rows are bad in ways the mappings must catch.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any

from adapters.file_drop.simulator import (
    Incident,
    OrmasRow,
    incidents,
    ormas_rows,
    write_conflict_workbook,
    write_ormas_csv,
)
from hub.demo.expect import KindExpect
from hub.demo.sources import DemoSource, example_source, until
from hub.node import Node

# (cell index, bad value, reason, field rule)
ORMAS_BAD = (
    (8, "Antah Berantah", "mapping_failed", "region_unknown"),  # KECAMATAN
    (4, "31-02-2021", "mapping_failed", "date_invalid"),  # TGL TERBIT
    (12, "BERMASALAH", "mapping_failed", "value_unmapped"),  # STATUS
    (10, "3201017513800099", "mapping_failed", "nik_birth_date"),  # NIK KETUA: born on the 35th
    (1, "", "validation_failed", "missing"),  # NAMA ORMAS
)
REKAP_BAD = (
    (3, "Antah Berantah", "mapping_failed", "region_unknown"),  # KECAMATAN
    (5, "LAINNYA", "mapping_failed", "value_unmapped"),  # SUMBER KONFLIK
    (12, "Selesai", "validation_failed", "enum"),  # TAHAP
    (8, -2, "validation_failed", "greater_than_equal"),  # KORBAN LUKA
)
BAD_EVERY = 12


class FilesDemo(DemoSource):
    """See the module docstring."""

    kind = "files"
    title = "file_drop: ormas register CSV and conflict recap XLSX, Kab. Bogor"

    def __init__(self, records: int, workdir: Path) -> None:
        super().__init__(records, workdir)
        self.inbox = workdir / "drop-kesbangpol-bogor"
        self._ormas: dict[str, Any] = {}
        self._rekap: dict[str, Any] | None = None
        # Per file written: (source entry, the record id of each row, the file's revision, bad rows by index)
        self._files: list[tuple[dict[str, Any], list[str], int, dict[int, tuple[str, str]]]] = []
        self._rows: list[OrmasRow] = []
        self._originals: dict[int, OrmasRow] = {}
        self._bad: dict[int, tuple[str, str]] = {}
        self.skipped_xlsx = ""
        self.corrected = self.reexported = 0

    async def prepare(self) -> None:
        self._ormas = example_source("ormas_register")
        self.adapters = [self._ormas["name"]]
        self._rows = ormas_rows(self.records, seed=5)
        for n, row in enumerate(self._rows):
            if n % BAD_EVERY == BAD_EVERY - 5:
                cell, value, reason, rule = ORMAS_BAD[(n // BAD_EVERY) % len(ORMAS_BAD)]
                self._originals[n] = copy.deepcopy(row)
                row.cells[cell] = value
                self._bad[n] = (reason, rule)
        self._write_csv("ormas_terdaftar_januari.csv", self._rows, "cp1252", title=True, age_s=120)
        self._rekap = _rekap_entry(example_source("rekap_konflik")["mapping"])
        self.adapters.append(self._rekap["name"])
        self._write_workbook(max(2, self.records // 6))

    def _write_csv(
        self, name: str, rows: list[OrmasRow], encoding: str, *, title: bool, age_s: float
    ) -> None:
        path = write_ormas_csv(self.inbox, name, rows, encoding=encoding, title=title)
        moment = time.time() - age_s
        os.utime(path, (moment, moment))
        bad = {n: self._bad[n] for n in range(len(rows)) if n in self._bad}
        self._files.append((self._ormas, [r.nomor for r in rows], _revision(path), bad))

    def _write_workbook(self, per_month: int) -> None:
        assert self._rekap is not None
        months: dict[int, list[Incident]] = {m: incidents(m, per_month, seed=9) for m in (1, 2, 3)}
        ordered = [i for m in sorted(months) for i in months[m]]
        bad: dict[int, tuple[str, str]] = {}
        for n, incident in enumerate(ordered):
            if n % BAD_EVERY == BAD_EVERY - 3:
                cell, value, reason, rule = REKAP_BAD[(n // BAD_EVERY) % len(REKAP_BAD)]
                incident.cells[cell] = value
                bad[n] = (reason, rule)
        path = write_conflict_workbook(self.inbox, "rekap_konflik_triwulan_i_2024.xlsx", months)
        moment = time.time() - 100
        os.utime(path, (moment, moment))
        self._files.append((self._rekap, [i.nomor for i in ordered], _revision(path), bad))

    def entries(self) -> list[dict[str, Any]]:
        common = {"path": str(self.inbox), "settle_s": 0, "poll_interval_s": 0.2, "batch_size": 100}
        out = [{**self._ormas, "config": {**common, "patterns": ["*.csv"], "id_columns": ["no_skt_sk_ahu"]}}]
        if self._rekap is not None:
            out.append(
                {**self._rekap, "config": {**common, "patterns": ["*.xlsx"], "id_columns": ["no_laporan"]}}
            )
        return out

    def planned(self) -> int:
        return self.records + (self.records * 2) // 5 + (self.records // 2 if self._rekap else 0)

    async def drive(self, node: Node, deadline: float) -> None:
        if not await self._drained(node, deadline):
            return
        # The register is exported again: the first 40% of its rows, some changed, two bad ones fixed.
        again = [copy.deepcopy(r) for r in self._rows[: (len(self._rows) * 2) // 5]]
        fixed = 0
        for n, row in enumerate(again):
            if n in self._bad and fixed < 2:
                again[n] = copy.deepcopy(self._originals[n])
                del self._bad[n]
                fixed += 1
            elif n % 4 == 1 and n not in self._bad:
                row.cells[12] = "LAPOR ULANG" if row.cells[12] == "AKTIF" else "AKTIF"
        self.corrected, self.reexported = fixed, len(again)
        self._write_csv("ormas_terdaftar_februari.csv", again, "utf-8-sig", title=False, age_s=0)
        await self._drained(node, deadline)

    async def _drained(self, node: Node, deadline: float) -> bool:
        """Wait until every dropped file left the inbox (moved to done/ only after its last commit)."""

        def waiting() -> list[Path]:
            return [p for p in self.inbox.iterdir() if p.is_file() and p.suffix in (".csv", ".xlsx")]

        def failed() -> list[str]:
            return [r.name for r in node.runners if r.name in self.adapters and r.state == "failed"]

        if not await until(lambda: not waiting() or failed(), deadline, interval=0.1) or failed():
            self.problems.append(f"files still in the inbox: {len(waiting())}; failed sources: {failed()}")
            return False
        refused = list((self.inbox / "failed").glob("*.report.json"))
        if refused:
            self.problems.append(f"{len(refused)} files were moved to failed/")
        return True

    def expected(self) -> KindExpect:
        ledger = KindExpect(adapters=set(self.adapters))
        for entry, ids, revision, bad in self._files:
            for n, rid in enumerate(ids):
                if n in bad:
                    ledger.quarantined(entry["name"], rid, *bad[n])
                else:
                    ledger.serve((entry["schema"], entry["system"], rid), revision)
        return ledger

    def notes(self) -> str:
        done = len(list((self.inbox / "done").glob("*"))) if (self.inbox / "done").exists() else 0
        workbook = (
            "1 recap workbook (3 monthly sheets, two header rows, totals, a hidden sheet)"
            if self._rekap
            else self.skipped_xlsx
        )
        return (
            f"2 register exports (Windows-1252 with title rows, then UTF-8 with BOM re-exporting "
            f"{self.reexported} rows, {self.corrected} bad ones corrected), {workbook}; "
            f"{done} files in done/"
        )


def _revision(path: Path) -> int:
    """The revision file_drop gives a file's rows: its modification time in milliseconds."""
    return path.stat().st_mtime_ns // 1_000_000


def _rekap_entry(mapping: dict[str, Any]) -> dict[str, Any]:
    """A source entry for the recap; ``mapping`` is a bare mapping or a node config with one source."""
    if "sources" in mapping:
        entry: dict[str, Any] = mapping["sources"][0]
        return entry
    return {
        "name": "rekap-konflik-bogor",
        "kind": "file_drop",
        "schema": "conflict_incident",
        "system": "rekap-konflik-bogor",
        "office": "32.01",
        "mapping": mapping,
    }
