"""``simpul lineage MESSAGE_ID``: the lineage of one record as tables (``hub.admin.lineage``).

With ``--config FILE`` it reads the node's own state offline (quarantine store, the SQLite warehouse, the
configured ``sqlite`` and ``postgres`` sinks): no running node needed, nothing written. Without it, it
asks a running node's admin API (``--url``, ``--token`` or ``SIMPUL_ADMIN_TOKEN``; read role).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from hub.errors import NotFound, RequestError


def add_command(sub: Any) -> None:
    """``lineage MESSAGE_ID [--config FILE | --url URL --token TOKEN]``."""
    cmd = sub.add_parser(
        "lineage",
        help="where a record came from, each level it passed, quarantine and the sinks that applied it",
    )
    cmd.add_argument("message_id", help="the record's message id (UUID), as ingest answered it")
    cmd.add_argument("--config", type=Path, help="read this node's state files directly (offline)")
    cmd.add_argument("--url", default="http://127.0.0.1:8080", help="a running node (without --config)")
    cmd.add_argument("--token", default=None, help="admin token (default: $SIMPUL_ADMIN_TOKEN)")
    cmd.add_argument("--json", action="store_true", help="print the answer as JSON")


def dispatch(args: argparse.Namespace) -> int:
    """Run ``simpul lineage``; exit code 0 when found, 1 when not."""
    view = asyncio.run(_offline(args.config, args.message_id) if args.config else _online(args))
    if args.json:
        import orjson

        print(orjson.dumps(view, option=orjson.OPT_INDENT_2).decode())
    else:
        from hub.admin.lineage import lineage_lines

        print("\n".join(lineage_lines(view)))
    return 0 if view["found"] else 1


async def _online(args: argparse.Namespace) -> dict[str, Any]:
    from hub.admin.client import AdminClient

    async with AdminClient(args.url, args.token) as client:
        try:
            view: dict[str, Any] = await client.call("GET", f"/v1/admin/lineage/{args.message_id}")
        except RequestError as exc:
            if "HTTP 404" not in str(exc):
                raise
            raise NotFound(f"{args.message_id}: no sink applied it and it is not in quarantine") from None
        return view


class _ReadOnlyWarehouse:
    """A node's SQLite warehouse opened read-only (a running node may hold it): ``trace`` only."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self._path = path

    async def trace(self, message_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._trace, message_id)

    def _trace(self, message_id: str) -> dict[str, Any] | None:
        from adapters.sqlite_sink.store import read_trace

        conn = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True)
        try:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(applied_log)")}
            if "message_id" not in columns:
                return None  # a warehouse from before lineage: nothing to find by message id
            return read_trace(conn, message_id)
        finally:
            conn.close()


class _NoLog:
    """A sink that keeps no applied log (files, webhook, AMQP link): lineage cannot tell."""

    def __init__(self, name: str) -> None:
        self.name = name


async def _offline(config: Path, message_id: str) -> dict[str, Any]:
    from hub.adapters.build import validate_config
    from hub.admin.lineage import trace_record
    from hub.quarantine.store import QuarantineStore
    from hub.settings import load_settings

    settings = load_settings(config)
    sinks: list[Any] = []
    if settings.sink.enabled and settings.sink.sqlite_path.exists():
        sinks.append(_ReadOnlyWarehouse("sqlite_warehouse", settings.sink.sqlite_path))
    closers = []
    for entry in settings.sinks:
        if not entry.enabled:
            continue
        _plugin, cfg = validate_config(entry)
        if entry.kind == "sqlite":
            path = Path(cfg.path)  # type: ignore[attr-defined]
            path = path if path.is_absolute() else settings.state_dir / "adapters" / entry.name / path
            sinks.append(_ReadOnlyWarehouse(entry.name, path) if path.exists() else _NoLog(entry.name))
        elif entry.kind == "postgres":
            from adapters.postgres_sink import PostgresSink

            sink = PostgresSink(cfg, name=entry.name)  # type: ignore[arg-type]
            await sink.start()
            closers.append(sink)
            sinks.append(sink)
        else:
            sinks.append(_NoLog(entry.name))
    path = settings.state_dir / "quarantine.sqlite3"
    store = QuarantineStore(path) if path.exists() else None
    try:
        return await trace_record(
            message_id, node=settings.node, level=settings.level, quarantine=store, sinks=sinks
        )
    finally:
        if store is not None:
            store.close()
        for sink in closers:
            await sink.close()
