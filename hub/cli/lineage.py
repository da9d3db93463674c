"""``simpul lineage MESSAGE_ID``: the lineage of one record as tables (``hub.admin.lineage``).

With ``--config FILE`` it reads the node's own state offline (quarantine store, the SQLite warehouse, and
every configured sink whose plugin offers a read-only trace, ``AdapterPlugin.open_trace``, such as
``sqlite`` and ``postgres``): no running node needed. Without it, it
asks a running node's admin API (``--url``, ``--token`` or ``SIMPUL_ADMIN_TOKEN``; read role).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import NotFound, RequestError

if TYPE_CHECKING:
    from hub.adapters.warehouse import TraceReader


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


class _NoLog:
    """A sink that keeps no applied log (files, webhook, AMQP link): lineage cannot tell."""

    def __init__(self, name: str) -> None:
        self.name = name


async def _offline(config: Path, message_id: str) -> dict[str, Any]:
    from hub.adapters.build import instance_dir, validate_config
    from hub.adapters.registry import get
    from hub.admin.lineage import trace_record
    from hub.quarantine.store import QuarantineStore
    from hub.settings import load_settings

    settings = load_settings(config)
    sinks: list[Any] = []
    readers: list[TraceReader] = []

    def add(name: str, reader: TraceReader | None) -> None:
        sinks.append(_NoLog(name) if reader is None else reader)
        if reader is not None:
            readers.append(reader)

    if settings.sink.enabled and settings.sink.sqlite_path.exists():
        # The node's own [sink] warehouse is the sqlite plugin's, at the configured file.
        plugin = get("sqlite")
        path = settings.sink.sqlite_path
        if plugin.open_trace is not None:
            add(
                "sqlite_warehouse",
                plugin.open_trace(plugin.config_model(path=path), path.parent, "sqlite_warehouse"),
            )
    for entry in settings.sinks:
        if not entry.enabled:
            continue
        plugin, cfg = validate_config(entry)
        if plugin.open_trace is None:
            sinks.append(_NoLog(entry.name))
            continue
        add(entry.name, plugin.open_trace(cfg, instance_dir(settings.state_dir, entry.name), entry.name))
    path = settings.state_dir / "quarantine.sqlite3"
    store = QuarantineStore(path) if path.exists() else None
    try:
        return await trace_record(
            message_id, node=settings.node, level=settings.level, quarantine=store, sinks=sinks
        )
    finally:
        if store is not None:
            store.close()
        for reader in readers:
            await reader.close()
