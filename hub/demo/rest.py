"""``rest``: the SITIMDU-style conflict app of Kabupaten Bogor, polled by ``rest_poll``.

The simulated app (``adapters.rest_poll.simulator``) answers 500 now and then and points a page's
``next_page`` at itself now and then (the page is served twice). Some of its reports are bad in ways
the example mapping ``ops/examples/sitimdu_conflict.toml`` must catch. After the first poll cycle the
app's users edit some reports and correct two bad ones (new ``updated_at``), and the source polls again.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.rest_poll.simulator import ConflictApi, Faults
from hub.demo.expect import KindExpect, wib_ms
from hub.demo.sources import DemoSource, example_source, wait_runner
from hub.node import Node

# (field, bad value, reason, field rule): what the app's users get wrong.
BAD = (
    ("jenis_konflik", "Tawuran Suporter Bola", "mapping_failed", "value_unmapped"),  # a label not mapped
    ("kecamatan", "ANTAH BERANTAH", "mapping_failed", "region_unknown"),
    ("kabupaten", "KAB. GARUT", "mapping_failed", "region_outside_scope"),  # not this office's kabupaten
    ("korban_luka", "-5", "validation_failed", "greater_than_equal"),
    ("status", "Ditutup", "mapping_failed", "value_unmapped"),
)
BAD_EVERY = 20
EDITED_AT = datetime(2024, 6, 1, 8, 0)  # after every generated report's updated_at


class RestDemo(DemoSource):
    """See the module docstring."""

    kind = "rest"
    title = "rest_poll: SITIMDU conflict app, Kab. Bogor"

    def __init__(self, records: int, workdir: Path) -> None:
        super().__init__(records, workdir)
        faults = Faults(error_every=5, duplicate_every=4)  # a 500 now and then; a page served twice
        self.api = ConflictApi.seeded(records, faults=faults, seed=11)
        self._entry: dict[str, Any] = {}
        self._bad: dict[str, tuple[str, str]] = {}  # id -> (reason, rule) while the app holds it bad
        # The app's records and its bad ones, as of each poll cycle.
        self._served: list[tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]]]] = []
        self._originals: dict[str, dict[str, Any]] = {}
        self.edited = self.corrected = 0

    async def prepare(self) -> None:
        self._entry = example_source("sitimdu_conflict")
        self.adapters = [self._entry["name"]]
        ids = sorted(self.api.records, key=int)
        for n, rid in enumerate(ids):
            if n % BAD_EVERY == BAD_EVERY - 7:
                column, value, reason, rule = BAD[(n // BAD_EVERY) % len(BAD)]
                self._originals[rid] = copy.deepcopy(self.api.records[rid])
                self.api.records[rid][column] = value
                self._bad[rid] = (reason, rule)
        await self.api.start()

    def entries(self) -> list[dict[str, Any]]:
        config = {
            "base_url": self.api.base_url,
            "path": self.api.path,
            "auth": {"type": "api_key", "header": "X-API-KEY", "value": self.api.api_key},
            # About a dozen pages whatever the size, so the faults (counted per request) show.
            "paging": {
                "mode": "page",
                "page_size": max(5, self.records // 12),
                "next_page_path": "next_page",
            },
            "cursor": {"param": "updated_since", "overlap_s": 1},
            "status_path": "status",
            "id_path": "id_laporan",
            "updated_at_path": "updated_at",
            "once": True,  # one cycle per run: the demo restarts the source to poll again
            "timeout_s": 5,
            "retries": 6,
            "backoff_base_s": 0.02,
            "backoff_cap_s": 0.2,
        }
        return [{**self._entry, "config": config}]

    def planned(self) -> int:
        return self.records + self.records // 15

    async def drive(self, node: Node, deadline: float) -> None:
        name = self._entry["name"]
        self._snapshot()
        state = await wait_runner(node, name, deadline)
        if state != "stopped":
            self.problems.append(f"{name}: first poll cycle {state}")
            return
        self._edit()
        self._snapshot()
        await node.restart_source(name)
        state = await wait_runner(node, name, deadline)
        if state != "stopped":
            self.problems.append(f"{name}: second poll cycle {state}")

    def _snapshot(self) -> None:
        """What the app serves from now on: its records, and which of them are bad."""
        self._served.append((copy.deepcopy(self.api.records), dict(self._bad)))

    def _edit(self) -> None:
        """Users close some reports, and correct two bad ones: every change stamps ``updated_at``."""
        moment = EDITED_AT
        good = [rid for rid in sorted(self.api.records, key=int) if rid not in self._bad]
        for rid in good[3 :: max(1, len(good) // max(3, self.records // 30))]:
            moment += timedelta(minutes=1)
            self.api.touch(rid, moment, status="Selesai")
            self.edited += 1
        for rid in sorted(self._bad, key=int)[:2]:
            moment += timedelta(minutes=1)
            self.api.records[rid] = self._originals[rid]
            self.api.touch(rid, moment)
            del self._bad[rid]
            self.corrected += 1

    def expected(self) -> KindExpect:
        ledger = KindExpect(adapters=set(self.adapters))
        name, schema, system = self._entry["name"], self._entry["schema"], self._entry["system"]
        for records, bad in self._served:
            for rid, raw in records.items():
                if rid in bad:
                    ledger.quarantined(name, rid, *bad[rid])
                else:
                    ledger.serve((schema, system, rid), wib_ms(raw["updated_at"]))
        return ledger

    def notes(self) -> str:
        api = self.api
        return (
            f"{len(api.log)} requests; {api.answers.get(500, 0)} answered 500, {api.repeated_pages} pages "
            f"served twice; {self.edited} reports edited and {self.corrected} bad ones corrected, then "
            f"polled again"
        )

    async def close(self) -> None:
        await self.api.close()
