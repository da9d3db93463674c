"""``bench_source``: a source adapter that generates voter_participation records, as fast as the pipeline
takes them or at a fixed rate.

Records ``offset .. offset+records-1`` get ids ``<prefix>-<i>``; runs of ``block`` consecutive records
share a kab/kota (as one office's system would send them), so the publisher can group them. At a fixed
``rate`` (records/s) each batch holds the records that are due, so a slow round trip does not lower
the rate (the next batch is larger). The batch's commit is a no-op: there is no cursor to advance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bench.common import SCHEMA, kab_kota_codes, payload
from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.model.records import SourceRecord


class BenchSourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: int = Field(ge=1)
    offset: int = 0
    batch: int = Field(2000, ge=1)
    block: int = Field(500, ge=1)
    rate: float = Field(0.0, ge=0, description="records/s; 0 = as fast as the pipeline takes them")
    prefix: str = "vp"


class BenchSource:
    def __init__(self, config: BenchSourceConfig, context: AdapterContext) -> None:
        self._c = config
        self._ctx = context
        self._regions = kab_kota_codes()
        self.done = asyncio.Event()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _record(self, i: int) -> SourceRecord:
        kode = self._regions[(i // self._c.block) % len(self._regions)]
        return self._ctx.record(payload(i, kode), source_record_id=f"{self._c.prefix}-{i}", revision=1)

    async def read(self) -> AsyncIterator[SourceBatch]:
        c = self._c
        end = c.offset + c.records
        i = c.offset
        started = time.monotonic()
        while i < end:
            if c.rate:
                due = c.offset + int((time.monotonic() - started) * c.rate)
                if due <= i:
                    await asyncio.sleep(
                        max(0.001, (i + 1 - c.offset) / c.rate - (time.monotonic() - started))
                    )
                    continue
                n = min(due, end, i + c.batch) - i
            else:
                n = min(c.batch, end - i)
            yield SourceBatch([self._record(j) for j in range(i, i + n)])
            i += n
        self.done.set()


def _make(config: Any, context: AdapterContext) -> BenchSource:
    return BenchSource(config, context)


PLUGIN = AdapterPlugin(
    name="bench_source",
    role="source",
    summary="benchmark generator of voter_participation records",
    config_model=BenchSourceConfig,
    factory=_make,
)


def source_entry(name: str, **config: Any) -> dict[str, Any]:
    """A ``[[sources]]`` entry for this adapter (registered by ``bench.node_proc``)."""
    return {
        "name": name,
        "kind": "bench_source",
        "schema": SCHEMA,
        "system": "bench",
        "office": "pusat",
        "config": config,
    }
