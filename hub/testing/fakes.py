"""Test doubles shipped with Simpul, for the hub's own tests and for adapter authors.

* ``MemoryTransport``: the broker, in memory, with RabbitMQ's routing, confirm and dead-letter rules;
* ``FakeSource``: a source adapter that serves given batches and records which were committed;
* ``FakeSink``: an idempotent in-memory sink with the warehouse's revision rules;
* ``fake_source_plugin``, ``fake_sink_plugin``: plugins for the fakes (register them to use them in a config).

The adapter contract test kit builds on these.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from hub.adapters.model import AdapterContext, AdapterPlugin, SourceBatch
from hub.consume.sink import APPLIED, judge
from hub.transport.memory import MemoryTransport
from schemas.envelope import Envelope

__all__ = [
    "FakeSink",
    "FakeSource",
    "FakeSourceConfig",
    "MemoryTransport",
    "fake_sink_plugin",
    "fake_source_plugin",
]


class FakeSourceConfig(BaseModel):
    """Config of ``FakeSource``: batches of ingest-style items ``{"id", "revision", "data"}``."""

    model_config = ConfigDict(extra="forbid")

    batches: list[list[dict[str, Any]]] = Field(default_factory=list, description="What read() serves")


class FakeSource:
    """Serves ``config.batches`` once; ``committed`` lists the indexes of batches whose commit ran."""

    def __init__(self, config: FakeSourceConfig, context: AdapterContext) -> None:
        self._config = config
        self._context = context
        self.committed: list[int] = []
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def read(self) -> AsyncIterator[SourceBatch]:
        for index, items in enumerate(self._config.batches):
            records = [
                self._context.record(
                    item["data"],
                    source_record_id=str(item["id"]),
                    revision=item["revision"],
                    op=item.get("op", "upsert"),
                )
                for item in items
            ]

            async def commit(index: int = index) -> None:
                self.committed.append(index)

            yield SourceBatch(records, commit)


def _make_fake_source(config: Any, context: AdapterContext) -> FakeSource:
    return FakeSource(config, context)


fake_source_plugin = AdapterPlugin(
    name="fake_source",
    role="source",
    summary="Serves records given in its config (tests and demos)",
    config_model=FakeSourceConfig,
    factory=_make_fake_source,
)


@dataclass(frozen=True)
class FakeResult:
    """Outcome of one envelope in ``FakeSink.write``."""

    idempotency_key: str
    status: str


class FakeSink:
    """An in-memory sink: newest revision wins, same revision + same content is a duplicate."""

    name = "fake_sink"

    def __init__(self) -> None:
        self.rows: dict[str, tuple[int, str, Envelope]] = {}
        self.writes = 0

    async def start(self) -> None:
        return None

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[FakeResult]:
        self.writes += 1
        results = []
        for env in envelopes:
            digest = hashlib.sha256(
                orjson.dumps([env.op, env.payload], option=orjson.OPT_SORT_KEYS)
            ).hexdigest()
            held = self.rows.get(env.record_key)
            status = judge(held[:2] if held else None, env.revision, digest)
            if status == APPLIED:
                self.rows[env.record_key] = (env.revision, digest, env)
            results.append(FakeResult(env.idempotency_key, status))
        return results

    async def close(self) -> None:
        return None


class FakeSinkConfig(BaseModel):
    """Config of ``FakeSink`` (it needs none)."""

    model_config = ConfigDict(extra="forbid")


def _make_fake_sink(_config: Any, _context: AdapterContext) -> FakeSink:
    return FakeSink()


fake_sink_plugin = AdapterPlugin(
    name="fake_sink",
    role="sink",
    summary="Keeps records in memory with the warehouse's revision rules (tests)",
    config_model=FakeSinkConfig,
    factory=_make_fake_sink,
)
