"""The warehouse keeps what lineage needs: message id and trace (origin, hops) per delivered revision,
also for revisions that are no longer stored; an applied log from before lineage is migrated."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from adapters.sqlite_sink.store import SqliteWarehouse
from schemas.envelope import Hop
from tests.unit.test_sqlite_store import env

AT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def test_trace_of_applied_and_superseded_revisions(tmp_path: Path) -> None:
    """Revision 1 (with two hops) then 2: both traceable; 1 says the stored revision is now 2."""
    store = SqliteWarehouse(tmp_path / "w.sqlite3")
    first = env("r1", 1).model_copy(
        update={
            "lineage": (
                Hop(node="kab-bogor", level="kabkota", at=AT),
                Hop(node="jabar", level="provinsi", at=AT),
            )
        }
    )
    second = env("r1", 2, {"nama": "baru"})
    store.apply([first])
    store.apply([first, second])
    old = store.trace(first.message_id)
    assert old is not None
    assert (old["status"], old["deliveries"], old["revision"], old["stored_revision"]) == (
        "duplicate",
        2,
        1,
        2,
    )
    assert old["first_applied_at"] is not None
    trace = old["trace"]
    assert trace["system"] == "sys-a" and trace["adapter"] == "test" and trace["schema"] == "ormas@1.0"
    assert trace["hops"] == [
        ["kab-bogor", "kabkota", "2026-03-01T02:00:00+00:00", "diteruskan"],
        ["jabar", "provinsi", "2026-03-01T02:00:00+00:00", "diteruskan"],
    ]
    new = store.trace(second.message_id)
    assert new is not None and new["status"] == "applied" and new["stored_revision"] == 2
    assert store.trace("00000000-0000-0000-0000-000000000000") is None
    store.close()


def test_applied_log_from_before_lineage_is_migrated(tmp_path: Path) -> None:
    """An applied_log without the columns gets them on open; old rows stay (no message id), new ones trace."""
    path = tmp_path / "old.sqlite3"
    store = SqliteWarehouse(path)
    store.apply([env("r0", 1)])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE applied_log DROP COLUMN trace")
    conn.execute("ALTER TABLE applied_log DROP COLUMN message_id")
    conn.commit()
    conn.close()
    store = SqliteWarehouse(path)
    assert store.trace(env("r0", 1).message_id) is None  # delivered before lineage: not traceable
    store.apply([env("r0", 1), env("r2", 1)])
    assert store.trace(env("r0", 1).message_id)["deliveries"] == 2  # type: ignore[index]
    assert store.trace(env("r2", 1).message_id)["status"] == "applied"  # type: ignore[index]
    store.close()


def test_quarantine_entries_are_found_by_message_id_and_old_files_migrate(tmp_path: Path) -> None:
    """Entries carry the record's message id (lineage); a store from before the column opens and works."""
    from hub.quarantine.store import QuarantineStore
    from tests.unit.test_quarantine_store import entry

    path = tmp_path / "q.sqlite3"
    store = QuarantineStore(path)
    store.add([entry(1)])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX quarantine_message_id")
    conn.execute("ALTER TABLE quarantine DROP COLUMN message_id")
    conn.commit()
    conn.close()
    store = QuarantineStore(path)
    first = entry(2).model_copy(update={"message_id": "m-1"})
    again = entry(3, reason="region_outside_office").model_copy(update={"message_id": "m-1"})
    store.add([first, again, entry(4)])
    found = store.by_message_id("m-1")
    assert [(e.entry_id, status) for e, status in found] == [
        (first.entry_id, "open"),
        (again.entry_id, "open"),
    ]
    assert store.by_message_id("m-2") == [] and store.count() == 4
    store.close()


async def test_sqlite_plugin_offers_a_read_only_trace(tmp_path: Path) -> None:
    """``PLUGIN.open_trace`` (``simpul lineage --config``): None while the file does not exist; then a
    reader at the instance's own folder (relative paths), answering as the store does, writing nothing."""
    from adapters.sqlite_sink.sink import PLUGIN, SqliteSinkConfig

    config = SqliteSinkConfig(path=Path("w.sqlite3"))
    assert PLUGIN.open_trace is not None
    assert PLUGIN.open_trace(config, tmp_path, "wh") is None
    store = SqliteWarehouse(tmp_path / "w.sqlite3")
    record = env("r1", 1)
    store.apply([record])
    expected = store.trace(record.message_id)
    store.close()
    before = (tmp_path / "w.sqlite3").stat().st_mtime_ns
    reader = PLUGIN.open_trace(config, tmp_path, "wh")
    assert reader is not None and reader.name == "wh"
    assert await reader.trace(record.message_id) == expected and expected is not None
    assert await reader.trace("nope") is None
    await reader.close()
    assert (tmp_path / "w.sqlite3").stat().st_mtime_ns == before
