"""The SQLite warehouse's change sequence: commit-ordered, moved by every applied write, migrated in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.sqlite_sink import SqliteWarehouse
from tests.unit.test_sqlite_store import env


def _seqs(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT source_record_id, change_seq FROM records"))


def test_each_applied_row_takes_the_next_number(tmp_path: Path) -> None:
    """Rows get 1, 2, 3 in write order; a duplicate or stale write moves nothing; a newer revision
    moves its row past every other."""
    wh = SqliteWarehouse(tmp_path / "wh.db")
    try:
        wh.apply([env("a"), env("b")])
        wh.apply([env("c")])
        assert _seqs(tmp_path / "wh.db") == {"a": 1, "b": 2, "c": 3}
        wh.apply([env("a"), env("b", 0)])
        assert _seqs(tmp_path / "wh.db") == {"a": 1, "b": 2, "c": 3}
        wh.apply([env("a", 2)])
        assert _seqs(tmp_path / "wh.db") == {"a": 4, "b": 2, "c": 3}
    finally:
        wh.close()


def test_a_database_from_before_the_column_is_migrated(tmp_path: Path) -> None:
    """An old warehouse file (no change_seq, no counter) opens: existing rows are numbered in rowid
    order and new writes continue after them."""
    path = tmp_path / "old.db"
    wh = SqliteWarehouse(path)
    wh.apply([env("x"), env("y")])
    wh.close()
    with sqlite3.connect(path) as conn:  # take the file back to the layout before the migration
        conn.execute("DROP INDEX records_schema_change")
        conn.execute("DROP TABLE change_counter")
        conn.execute("ALTER TABLE records DROP COLUMN change_seq")
    wh = SqliteWarehouse(path)
    try:
        assert _seqs(path) == {"x": 1, "y": 2}
        wh.apply([env("z")])
        assert _seqs(path)["z"] == 3
    finally:
        wh.close()
