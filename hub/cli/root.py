"""The ``simpul`` command line: run a node, the demo, and the schema, region and config tools."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from hub import gc_tuning
from hub.errors import ConfigError, SimpulError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the text already says it or there is none to
    say (None: the help text says what happens without the option; a flag's False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text.lower():
            return text
        return super()._get_help_string(action)


def _with_formatter(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every sub-command's parser (built across the verb modules) ``HelpFormatter``."""
    parser.formatter_class = HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _with_formatter(child)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("simpul")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simpul", description="Simpul, the SPBE interoperability bus")
    parser.add_argument("--version", action="version", version=f"simpul {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="run a node until SIGINT/SIGTERM",
        description="Run a node (broker links, sources, sinks, HTTP API) until SIGINT or SIGTERM.",
    )
    run.add_argument(
        "--config",
        type=Path,
        help="TOML config file; SIMPUL_* environment variables override its values. Without it the node "
        "takes the built-in defaults plus SIMPUL_* variables alone: node 'pusat' at level pusat, the "
        "broker at amqp://guest:guest@127.0.0.1:5672/, HTTP on 127.0.0.1:8080, state and warehouse "
        "under ./var, no sources, API keys or admin tokens; and it refuses to start (config error, exit "
        "2) unless SIMPUL_TOKEN_KEY and SIMPUL_QUARANTINE_KEY are set or SIMPUL_DEV_MODE=true",
    )

    demo = sub.add_parser("demo", help="simulated regional systems feed records through a real broker")
    demo.add_argument("--offices", type=int, default=28, help="simulated offices, at most 28 (default 28)")
    demo.add_argument("--records", type=int, default=250, help="good records per office (default 250)")
    demo.add_argument("--bad-every", type=int, default=20, help="one bad record per this many (default 20)")
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the flow to settle")
    demo.add_argument("--broker-url", default="amqp://guest:guest@127.0.0.1:5672/", help="RabbitMQ to use")
    demo.add_argument(
        "--management-url",
        default="http://guest:guest@127.0.0.1:15672",
        help="its management API (the demo creates and deletes vhosts)",
    )
    demo.add_argument("--vhost", default="simpul-demo", help="vhost to (re)create for the demo")
    demo.add_argument(
        "--only", help="source kinds to run, comma-separated: http,rest,webhook,files,sql (default all)"
    )
    demo.add_argument(
        "--source-records", type=int, default=300, help="records per simulated rest/webhook/files/sql source"
    )
    demo.add_argument(
        "--part",
        choices=("all", "flow", "levels"),
        default="all",
        help="flow: sources -> pusat; levels: kab/kota -> provinsi -> pusat with a link cut (default both)",
    )
    demo.add_argument("--level-records", type=int, default=200, help="ormas records per kab/kota office")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary state folders and the vhosts for inspection (removed by default)",
    )

    check = sub.add_parser("check-config", help="validate a config file without starting anything")
    check.add_argument("file", type=Path, help="the node's TOML config file")

    schemas = sub.add_parser("schemas", help="the shared payload schemas")
    ssub = schemas.add_subparsers(dest="action", required=True)
    ssub.add_parser("list", help="every schema with its version")
    show = ssub.add_parser("show", help="the fields of one schema")
    show.add_argument("name", help="schema name, e.g. ormas_registration")
    export = ssub.add_parser("export", help="write JSON Schema files for non-Python teams")
    export.add_argument("dir", type=Path, help="folder to write the JSON Schema files into")
    from hub.cli.catalog import add_catalog_commands, add_schema_commands

    add_schema_commands(ssub)  # schemas diff|usage
    add_catalog_commands(sub)  # catalog export

    regions = sub.add_parser("regions", help="kode wilayah reference data (Kepmendagri 300.2.2-2138/2025)")
    rsub = regions.add_subparsers(dest="action", required=True)
    lookup = rsub.add_parser("lookup", help='a code (96.03, 3201) or a name ("kab bogor")')
    lookup.add_argument("query", help="a kode wilayah or a place name")

    from hub.cli.kit import add_commands

    add_commands(sub)  # mapping test, adapters list|show|new (+ pause|resume|restart)
    from hub.cli.admin import add_commands as add_operator_commands

    add_operator_commands(sub)  # status, quarantine ..., audit (+ audit verify)
    from hub.cli.lineage import add_command as add_lineage_command

    add_lineage_command(sub)  # lineage MESSAGE_ID
    from hub.cli.trust import add_keys_command

    add_keys_command(sub)  # keys generate|list|revoke|user
    from hub.cli.levels import add_commands as add_topology_commands

    add_topology_commands(sub)  # topology render|apply|hash-password
    from hub.cli.feeds import add_commands as add_feed_commands

    add_feed_commands(sub)  # replay, completeness
    from hub.cli.workbench import add_command as add_workbench_command

    add_workbench_command(sub)  # workbench [--port]
    _with_formatter(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``simpul`` console script; returns the exit code."""
    parser = _parser()
    if not (sys.argv[1:] if argv is None else argv):
        parser.print_help()  # bare `simpul`: what there is to do, once, rather than an error
        return 2
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except SimpulError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


# Commands whose module does the work, imported only when used (start-up stays fast for the rest).
_DELEGATED = {
    "catalog": "hub.cli.catalog:dispatch_catalog",
    "replay": "hub.cli.feeds:dispatch",
    "completeness": "hub.cli.feeds:dispatch",
    "status": "hub.cli.admin:dispatch",
    "quarantine": "hub.cli.admin:dispatch",
    "audit": "hub.cli.admin:dispatch",
    "topology": "hub.cli.levels:dispatch",
    "levels": "hub.cli.levels:dispatch",
    "keys": "hub.cli.trust:keys",
    "lineage": "hub.cli.lineage:dispatch",
    "mapping": "hub.cli.kit:dispatch",
    "adapters": "hub.cli.kit:dispatch",
    "workbench": "hub.cli.workbench:dispatch",
}


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(args.config)
    if args.command == "demo":
        return _demo(args)
    if args.command == "check-config":
        return _check_config(args.file)
    if args.command == "schemas":
        return _schemas(args)
    if args.command in _DELEGATED:
        module, function = _DELEGATED[args.command].split(":")
        dispatch: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), function)
        return dispatch(args)
    if args.command == "regions":
        from schemas.regions import describe

        try:
            lines = describe(args.query)
        except LookupError as exc:  # RegionNotFound, AmbiguousRegion (their text lists candidates)
            print(str(exc), file=sys.stderr)
            return 1
        print("\n".join(lines))
        return 0 if lines else 1
    raise AssertionError(args.command)


def _check_config(path: Path) -> int:
    """``simpul check-config FILE``: each problem on its own line (file:line: key: what is wrong), exit 2;
    or one line saying what the valid config describes. ``SIMPUL_*`` variables apply, as for ``run``."""
    from hub.admin.config_check import check_config_text

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", key=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("the file is not UTF-8 text", key=str(path)) from None
    report = check_config_text(text, environment=True)
    if not report.valid:
        print("\n".join(report.lines(str(path))), file=sys.stderr)
        print(f"{path}: {len(report.problems)} problem(s)", file=sys.stderr)
        return 2
    summary = report.summary
    sources, sinks = len(summary["sources"]), len(summary["sinks"])
    print(
        f"{path}: valid (node {summary['node']}, level {summary['level']}, "
        f"{sources} source{'s' * (sources != 1)}, {sinks} sink{'s' * (sinks != 1)}: "
        f"{', '.join(summary['sinks']) or 'none'})"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from hub.demo.levels import run_levels_demo
    from hub.demo.main import run_demo

    codes = []
    if args.part in ("all", "flow"):
        codes.append(
            asyncio.run(
                run_demo(
                    offices=args.offices,
                    records=args.records,
                    bad_every=args.bad_every,
                    timeout=args.timeout,
                    broker_url=args.broker_url,
                    management_url=args.management_url,
                    vhost=args.vhost,
                    only=args.only,
                    source_records=args.source_records,
                    keep=args.keep,
                )
            )
        )
    if args.part in ("all", "levels"):
        if codes:
            print()
        codes.append(
            asyncio.run(
                run_levels_demo(
                    broker_url=args.broker_url,
                    management_url=args.management_url,
                    per_office=args.level_records,
                    timeout=args.timeout,
                    keep=args.keep,
                )
            )
        )
    return max(codes)


def _schemas(args: argparse.Namespace) -> int:
    from schemas import catalog

    if args.action in ("diff", "usage"):
        from hub.cli.catalog import dispatch_schemas

        return dispatch_schemas(args)
    if args.action == "list":
        print("\n".join(catalog.list_lines()))
    elif args.action == "show":
        print(catalog.show(args.name))
    else:
        paths = catalog.export_json_schema(args.dir)
        print(f"wrote {len(paths)} JSON Schema files to {args.dir}")
    return 0


def _run(config: Path | None) -> int:
    from hub.logging import configure_logging
    from hub.node import Node
    from hub.settings import load_settings

    settings = load_settings(config)
    configure_logging(settings.log_level, settings.log_format)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with Node(settings):
            gc_tuning.settle_after_start()  # the cyclic GC's scans cost tens of us per record otherwise
            await stop.wait()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
