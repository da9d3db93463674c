"""``simpul topology render|apply|hash-password`` (``hub.cli.root`` calls ``add_commands`` and ``dispatch``).

``render`` prints (or writes, mode 0600: it holds password hashes and the shovel's URIs) the node's RabbitMQ
definitions; ``apply`` loads them through the management API and prints what it found back; exit code 1 if
anything is missing or different. ``hash-password`` reads a password (prompted twice on a terminal, else one
line of standard input, never an argument that would land in shell history) and prints its RabbitMQ hash.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from hub.errors import ConfigError


def add_commands(sub: Any) -> None:
    """Add ``topology render|apply|hash-password`` to the ``simpul`` parser's subparsers."""
    topology = sub.add_parser("topology", help="the node's RabbitMQ topology as code (definitions)")
    tsub = topology.add_subparsers(dest="action", required=True)
    render = tsub.add_parser("render", help="print the RabbitMQ definitions of a node config")
    render.add_argument("--config", type=Path, required=True, help="node config (TOML)")
    render.add_argument("--out", type=Path, help="write the JSON here (mode 0600) instead of printing it")
    apply = tsub.add_parser("apply", help="load the definitions into a running broker and check them")
    apply.add_argument("--config", type=Path, required=True, help="node config (TOML)")
    apply.add_argument(
        "--management-url", help="management API URL with credentials (default: broker.management_url)"
    )
    apply.add_argument(
        "--shovel-wait", type=float, default=10.0, help="seconds to wait for the shovel to run (default 10)"
    )
    tsub.add_parser("hash-password", help="hash a password for broker_users (rabbit_password_hashing_sha256)")

    levels = sub.add_parser("levels", help="this level's held records")
    lsub = levels.add_subparsers(dest="action", required=True)
    release = lsub.add_parser("release", help="forward held records that match (drafts never)")
    release.add_argument("--config", type=Path, required=True, help="node config (TOML)")
    release.add_argument("--message-id", action="append", help="a held record's message id (repeatable)")
    release.add_argument("--schema", help="only records of this schema")
    release.add_argument("--region", help="only records of this kode wilayah or below it")
    release.add_argument("--operator", required=True, help="who decides (goes into the admin audit log)")


def dispatch(args: argparse.Namespace) -> int:
    """Run a ``topology`` or ``levels`` subcommand; returns the exit code."""
    if args.command == "levels":
        return _release(args)
    from hub.levels.render import hash_password, render_definitions
    from hub.settings import load_settings

    if args.action == "hash-password":
        print(hash_password(_read_password()))
        return 0
    settings = load_settings(args.config)
    definitions = render_definitions(settings)
    if args.action == "render":
        text = json.dumps(definitions, indent=2, ensure_ascii=False) + "\n"
        if args.out is None:
            sys.stdout.write(text)
        else:
            _write_private(args.out, text)
            print(f"wrote {args.out} ({_summary(definitions)})", file=sys.stderr)
        return 0
    from hub.levels.apply import apply_definitions, format_checks

    urls = [args.management_url] if args.management_url else settings.broker.all_management_urls()
    checks = asyncio.run(apply_definitions(definitions, urls, shovel_wait_s=args.shovel_wait))
    print(format_checks(checks))
    return 1 if any(c.status == "fail" for c in checks) else 0


def _release(args: argparse.Namespace) -> int:
    from hub.admin.audit import AdminAudit
    from hub.levels.release import release_held, selection
    from hub.levels.rules import LevelRules
    from hub.settings import load_settings
    from hub.transport.factory import amqp_transport_for, topology_for

    settings = load_settings(args.config)
    if not settings.uplink.enabled:
        raise ConfigError("this node has no uplink, so it holds nothing", key="uplink.enabled")
    if not (args.message_id or args.schema or args.region):
        raise ConfigError("name what to release (--message-id, --schema or --region)", key="selection")
    match = selection(
        message_ids=set(args.message_id) if args.message_id else None, schema=args.schema, region=args.region
    )
    rules = LevelRules(settings.node, settings.level, settings.region)

    async def run() -> int:
        transport = amqp_transport_for(settings, topology_for(settings))
        await transport.start()
        try:
            result = await release_held(transport, transport.topology, rules, match)
        finally:
            await transport.close()
        audit = AdminAudit(settings.state_dir / "admin-audit.sqlite3")
        try:
            audit.record(
                actor=args.operator,
                role="act",
                action="levels.release",
                target=",".join(args.message_id or []) or f"schema={args.schema} region={args.region}",
                result="ok",
                detail={"released": result.released, "kept": result.kept, "drafts_kept": result.drafts_kept},
            )
        finally:
            audit.close()
        print(
            f"released {len(result.released)}, still held {result.kept} ({result.drafts_kept} drafts matched)"
        )
        return 0

    return asyncio.run(run())


def _summary(definitions: dict[str, Any]) -> str:
    parts = ("queues", "exchanges", "bindings", "policies", "users", "parameters")
    return ", ".join(f"{len(definitions[p])} {p}" for p in parts)


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start (no window in which the hashes are world-readable).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ConfigError("the two passwords differ", key="password")
        return first
    return sys.stdin.readline().rstrip("\r\n")
