"""Operator commands of the ``simpul`` CLI, spoken to a running node's admin API.

``simpul status``, ``simpul quarantine list|show|original|redrive|discard``, ``simpul audit`` (``simpul
audit verify`` checks the evidence log offline, see ``hub.cli.trust``) and
``simpul adapters pause|resume|restart NAME``. Each takes ``--url`` (default ``http://127.0.0.1:8080``)
and ``--token`` (default: the ``SIMPUL_ADMIN_TOKEN`` environment variable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hub.admin.client import AdminClient, bulk_redrive, quarantine_list, status, table
from hub.cli.trust import add_audit_verify_arguments, audit_verify

ADAPTER_ACTIONS = ("pause", "resume", "restart")


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the node's HTTP address")
    parser.add_argument("--token", default=None, help="admin token (default: $SIMPUL_ADMIN_TOKEN)")


def _filters(parser: argparse.ArgumentParser) -> None:
    for name, text in (
        ("schema", "schema name"),
        ("region", "kode wilayah prefix, e.g. 32 or 32.01"),
        ("adapter", "adapter instance"),
        ("reason", "reason code, e.g. validation_failed"),
        ("since", "ISO time with offset"),
        ("until", "ISO time with offset"),
    ):
        parser.add_argument(f"--{name}", help=text)


def add_commands(sub: Any) -> None:
    """Add ``status``, ``quarantine`` and ``audit`` to the ``simpul`` parser's subparsers."""
    _connection(sub.add_parser("status", help="a running node: readiness, adapters, quarantine"))
    quarantine = sub.add_parser("quarantine", help="quarantined records of a running node")
    qsub = quarantine.add_subparsers(dest="action", required=True)
    listing = qsub.add_parser("list", help="entries matching filters, as a table")
    _filters(listing)
    listing.add_argument(
        "--status", default="open", choices=("open", "redriven", "discarded"), help="entries in this state"
    )
    listing.add_argument("--limit", type=int, default=50, help="show at most this many entries")
    for name, text in (
        ("show", "one entry (masked)"),
        ("original", "the unmasked original (act role, audited)"),
        ("discard", "close an entry without redriving it"),
    ):
        cmd = qsub.add_parser(name, help=text)
        cmd.add_argument("entry_id", help="the entry's id, as `quarantine list` shows it")
        _connection(cmd)
    redrive = qsub.add_parser("redrive", help="redrive one entry, or every open entry matching filters")
    redrive.add_argument("entry_id", nargs="?", help="one entry; omit to use the filters")
    redrive.add_argument("--replacement", type=Path, help="a JSON file with the corrected original")
    _filters(redrive)
    for cmd in (listing, redrive):
        _connection(cmd)
    audit = sub.add_parser(
        "audit", help="the admin audit log, newest first; `audit verify`: the evidence chain"
    )
    audit.add_argument("--limit", type=int, default=30, help="show at most this many actions")
    _connection(audit)
    add_audit_verify_arguments(audit)


def add_adapter_actions(adapters_sub: Any) -> None:
    """Add ``pause``, ``resume`` and ``restart`` to ``simpul adapters``."""
    for action in ADAPTER_ACTIONS:
        cmd = adapters_sub.add_parser(action, help=f"{action} a source adapter of a running node")
        cmd.add_argument("name", help="the source adapter's instance name, as `status` lists it")
        _connection(cmd)


def dispatch(args: argparse.Namespace) -> int:
    """Run an operator command; returns the exit code."""
    if args.command == "audit" and getattr(args, "action", None) == "verify":
        return audit_verify(args)  # offline: reads the evidence log file, no running node needed
    return asyncio.run(_dispatch(args))


async def _dispatch(args: argparse.Namespace) -> int:
    async with AdminClient(args.url, args.token) as client:
        if args.command == "status":
            print(await status(client))
        elif args.command == "audit":
            rows = await client.call("GET", f"/v1/admin/audit?limit={args.limit}")
            print(table(rows, ["at", "actor", "action", "target", "result"]))
        elif args.command == "adapters":
            view = await client.call("POST", f"/v1/admin/adapters/{args.name}/{args.action}")
            print(f"{view['name']}: {view['state']}")
        else:
            return await _quarantine(client, args)
    return 0


async def _quarantine(client: AdminClient, args: argparse.Namespace) -> int:
    if args.action == "list":
        query = _query(args, status=args.status, limit=args.limit)
        print(await quarantine_list(client, query))
    elif args.action in ("show", "original"):
        suffix = "/original" if args.action == "original" else ""
        print(json.dumps(await client.call("GET", f"/v1/admin/quarantine/{args.entry_id}{suffix}"), indent=2))
    elif args.action == "discard":
        await client.call("POST", f"/v1/admin/quarantine/{args.entry_id}/discard")
        print(f"{args.entry_id}: discarded")
    elif args.entry_id:
        body = {"replacement": json.loads(args.replacement.read_text())} if args.replacement else None
        result = await client.call("POST", f"/v1/admin/quarantine/{args.entry_id}/redrive", body)
        print(
            f"{args.entry_id}: {result['status']}"
            + (f" (new entry {result['new_entry_id']})" if result.get("new_entry_id") else "")
        )
        return 0 if result["status"] == "published" else 1
    else:
        counts = await bulk_redrive(client, _query(args))
        print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing matched")
    return 0


def _query(args: argparse.Namespace, **extra: Any) -> str:
    keys = ("schema", "region", "adapter", "reason", "since", "until")
    params = {k: getattr(args, k) for k in keys if getattr(args, k, None)}
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)
