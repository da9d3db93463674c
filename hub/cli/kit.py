"""Wiring of the kit's subcommands into ``simpul`` (``hub.cli.root`` calls ``add_commands``, ``dispatch``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add ``mapping test`` and ``adapters list|show|new`` to the ``simpul`` parser's subparsers."""
    mapping = sub.add_parser("mapping", help="declarative mappings of source adapters")
    msub = mapping.add_subparsers(dest="action", required=True)
    test = msub.add_parser("test", help="run a source's mapping over a sample file and validate it")
    test.add_argument("--config", type=Path, required=True, help="node config (TOML or YAML)")
    test.add_argument("--adapter", required=True, help="name of the [[sources]] entry")
    test.add_argument("--sample", type=Path, required=True, help="JSON, NDJSON, CSV or XLSX sample")
    test.add_argument("--records", help="dotted path to the records inside a JSON sample")
    test.add_argument("--sheet", help="worksheet of an XLSX sample (default: the first)")
    test.add_argument("--quiet", action="store_true", help="print only problems and the summary")

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
        from hub.kit.mapping_test import run_mapping_test

        return run_mapping_test(
            args.config,
            args.adapter,
            args.sample,
            sys.stdout,
            records=args.records,
            sheet=args.sheet,
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
