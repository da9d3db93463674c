"""Wiring of the kit's subcommands into ``simpul`` (``hub.cli.root`` calls ``add_commands``, ``dispatch``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``mapping test|propose`` and ``adapters list|show|new`` to the ``simpul`` parser's subparsers."""
    mapping = sub.add_parser("mapping", help="declarative mappings of source adapters")
    msub = mapping.add_subparsers(dest="action", required=True)
    test = msub.add_parser(
        "test",
        help="read a raw sample with the adapter's own reader, map and validate it as the node would",
    )
    test.add_argument("--config", type=Path, help="node config (TOML or YAML); with --adapter")
    test.add_argument("--adapter", help="name of the [[sources]] entry in --config")
    test.add_argument("--kind", help="without a node config: the source adapter (file_drop, soap, ...)")
    test.add_argument("--schema", help="without a node config: the target payload schema")
    test.add_argument("--office", help="without a node config: the office's kode wilayah")
    test.add_argument(
        "--source",
        type=Path,
        help="without a node config: a TOML file with one [[sources]] block "
        "(default: what `mapping propose` proposes)",
    )
    test.add_argument("--sample", type=Path, help="a raw sample as the source produces it")
    test.add_argument(
        "--live",
        type=int,
        metavar="N",
        help="sql_poll: read the poll's first N rows from the configured "
        "database instead of a sample (read-only, LIMIT N)",
    )
    test.add_argument("--json", action="store_true", help="print one JSON object: read, skipped, records")
    test.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    propose = msub.add_parser(
        "propose", help="propose a source block (adapter config + mapping) from a sample"
    )
    propose.add_argument("--kind", required=True, help="the source adapter (file_drop, soap, rest_poll, ...)")
    propose.add_argument("--schema", required=True, help="the target payload schema")
    propose.add_argument("--office", required=True, help="the office's kode wilayah (e.g. 32.01)")
    propose.add_argument("--sample", type=Path, required=True, help="a raw sample as the source produces it")

    adapters = sub.add_parser("adapters", help="installed adapters and new adapter packages")
    asub = adapters.add_subparsers(dest="action", required=True)
    asub.add_parser("list", help="every installed adapter with its role and summary")
    show = asub.add_parser("show", help="the config reference of one adapter")
    show.add_argument("name", help="adapter name, as `adapters list` shows it")
    new = asub.add_parser("new", help="scaffold an adapter package whose tests pass as generated")
    new.add_argument("name", help="package name (lower case, digits, _)")
    new.add_argument("--dir", type=Path, default=Path("."), help="where to create it (default: here)")
    new.add_argument("--schema", default="ormas_registration", help="target schema of the example")
    from hub.cli.admin import add_adapter_actions

    add_adapter_actions(asub)  # pause | resume | restart, spoken to a running node


def dispatch(args: argparse.Namespace) -> int:
    """Run a kit subcommand; returns the exit code."""
    if args.command == "mapping":
        if args.action == "propose":
            from hub.kit.propose import run_propose

            return run_propose(args.kind, args.schema, args.office, args.sample, sys.stdout.write)
        from hub.kit.mapping_test import run_mapping_test

        return run_mapping_test(
            args.config,
            args.adapter,
            args.sample,
            sys.stdout,
            live=args.live,
            kind=args.kind,
            schema=args.schema,
            office=args.office,
            source=args.source,
            as_json=args.json,
            quiet=args.quiet,
        )
    from hub.cli.admin import ADAPTER_ACTIONS

    if args.action in ADAPTER_ACTIONS:
        from hub.cli.admin import dispatch as operator

        return operator(args)
    from hub.kit import adapters_cmd

    if args.action == "list":
        print("\n".join(adapters_cmd.list_lines()))
    elif args.action == "show":
        print("\n".join(adapters_cmd.show_lines(args.name)))
    else:
        from hub.kit.scaffold import scaffold

        paths = scaffold(args.name, args.dir, args.schema)
        root = args.dir / args.name
        print(f"created {root} ({len(paths)} files); next: cd {root} && pip install -e '.[test]' && pytest")
    return 0
