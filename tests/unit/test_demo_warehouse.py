"""The demo reads the central warehouse through the node's sink, whatever built it (the registry), so it
imports no adapter package: ``warehouse_of`` finds the readable store or says the sink keeps none."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.demo.check import warehouse_of
from hub.testing.fakes import FakeSink
from tests.unit.test_sqlite_store import env


async def test_the_sqlite_sinks_store_is_read(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "w.sqlite3")
    await sink.write([env("a", 1), env("b", 1)])
    store = warehouse_of(sink)
    assert store.count() == 2 and store.get(env("a", 1).record_key) is not None
    assert store.delivery_counts() == {env("a", 1).idempotency_key: 1, env("b", 1).idempotency_key: 1}
    await sink.close()


def test_a_sink_without_a_warehouse_is_refused() -> None:
    with pytest.raises(TypeError, match="FakeSink"):
        warehouse_of(FakeSink())
    with pytest.raises(TypeError):
        warehouse_of(None)
