"""Which warehouse the feeds read: ``open_reader`` asks the named sink's plugin, found through the
registry, for its reader (``AdapterPlugin.open_feed_reader``); the hub imports no sink package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.postgres_sink.reader import PostgresReader
from adapters.sqlite_sink import SqliteWarehouse
from adapters.sqlite_sink.reader import SqliteReader
from hub.adapters.warehouse import START, ScanFilter
from hub.errors import ConfigError
from hub.feeds.access import allowed_classifications
from hub.feeds.reader import open_reader
from hub.settings import load_settings
from schemas.classification import Classification
from tests.unit.test_sqlite_store import env

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test", "db_schema": "simpul_x"}


def _settings(tmp_path: Path, warehouse: str, sinks: list[dict[str, Any]] | None = None) -> Any:
    return load_settings(
        None,
        dev_mode=True,
        state_dir=tmp_path,
        sink={"sqlite_path": str(tmp_path / "central.sqlite3")},
        sinks=sinks or [],
        feeds={"warehouse": warehouse},
    )


async def test_sqlite_names_the_node_warehouse_file(tmp_path: Path) -> None:
    """``sqlite`` is the ``[sink]`` file, read by the sqlite plugin's reader; it pages what was written."""
    wh = SqliteWarehouse(tmp_path / "central.sqlite3")
    wh.apply([env("a", 1)])
    wh.close()
    reader = open_reader(_settings(tmp_path, "sqlite"))
    try:
        assert isinstance(reader, SqliteReader)
        where = ScanFilter("ormas", allowed_classifications(Classification.SANGAT_RAHASIA))
        rows = await reader.scan(where, START, 10)
        assert [r.revision for r in rows] == [1]
    finally:
        await reader.close()


def test_a_postgres_sink_by_name_reuses_its_connection_settings(tmp_path: Path) -> None:
    """The name of a postgres sink in ``[[sinks]]``: its plugin's reader, nothing connected yet."""
    settings = _settings(tmp_path, "central", [{"name": "central", "kind": "postgres", "config": PG}])
    reader = open_reader(settings)
    assert isinstance(reader, PostgresReader)
    assert reader._config.db_schema == "simpul_x" and reader._pool is None


def test_a_sqlite_sink_by_name_resolves_its_path_in_its_own_folder(tmp_path: Path) -> None:
    """A relative ``path`` of a ``[[sinks]]`` sqlite entry lies in that instance's folder, as it does
    for the sink that writes it."""
    settings = _settings(tmp_path, "wh", [{"name": "wh", "kind": "sqlite", "config": {"path": "w.db"}}])
    reader = open_reader(settings)
    assert isinstance(reader, SqliteReader)
    assert reader._path == tmp_path / "adapters" / "wh" / "w.db"


@pytest.mark.parametrize(
    ("warehouse", "sinks", "says"),
    [
        ("nope", [], "not 'sqlite' nor the name of a sink"),
        ("out", [{"name": "out", "kind": "files_sink", "config": {"directory": "x"}}], "keeps no warehouse"),
        ("bad", [{"name": "bad", "kind": "postgres", "config": {"surprise": 1}}], "sinks[bad].config"),
    ],
)
def test_anything_else_is_a_config_error_on_the_key(
    tmp_path: Path, warehouse: str, sinks: list[dict[str, Any]], says: str
) -> None:
    """An unknown name, a sink that keeps no readable warehouse, or a bad sink config: ``ConfigError``."""
    with pytest.raises(ConfigError) as caught:
        open_reader(_settings(tmp_path, warehouse, sinks))
    assert says in str(caught.value)
