"""``simpul replay`` and ``simpul completeness``: the feed stream and the warehouse, from a node's config.

``simpul replay --config FILE [--schema S] [--region R] --since T --to CONSUMER`` re-delivers a window
of the feed stream to ``<prefix>.replay.<CONSUMER>`` (``hub.feeds.replay``) with a progress bar on
stderr and a summary on stdout. ``--since`` is ``first``, a stream offset (``4711``) or an ISO time with
its offset.

``simpul completeness --config FILE --schema S [--period P] [--regions missing|late|all] [--json]`` prints
who has reported, per province, from the warehouse the config's ``[feeds] warehouse`` names.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from hub.errors import ConfigError
from hub.feeds.replay import parse_since


def add_commands(sub: Any) -> None:
    """Add ``replay`` and ``completeness`` to the ``simpul`` parser's subparsers."""
    rp = sub.add_parser("replay", help="re-deliver a window of the feed stream to a named consumer's queue")
    rp.add_argument("--config", type=Path, required=True, help="the central node's TOML config")
    rp.add_argument("--schema", help="only records of this schema")
    rp.add_argument("--region", help="only records under this kode wilayah (32 or 32.01)")
    rp.add_argument("--since", required=True, help="first, a stream offset, or an ISO time with offset")
    rp.add_argument("--to", dest="consumer", required=True, help="consumer name: queue <prefix>.replay.NAME")
    cp = sub.add_parser("completeness", help="who has reported for a period, by province")
    cp.add_argument("--config", type=Path, required=True, help="the central node's TOML config")
    cp.add_argument("--schema", required=True, help="a schema with a declared obligation")
    cp.add_argument("--period", help="2024-Q1, 2024-S1, 2024 or 2024-03 (default: newest already due)")
    cp.add_argument("--regions", choices=("missing", "late", "all"), help="also list these regions")
    cp.add_argument("--json", action="store_true", help="print the report as JSON")


def dispatch(args: argparse.Namespace) -> int:
    from hub.logging import configure_logging

    configure_logging("warning")  # stderr, and quiet: the progress bar and the tables are the output
    if args.command == "replay":
        return asyncio.run(_replay(args))
    return asyncio.run(_completeness(args))


class _Bar:
    """A progress bar on stderr over stream offsets: redrawn in place on a terminal, every 2 s otherwise."""

    def __init__(self) -> None:
        self._tty = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, result: Any, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self._tty else 2.0):
            return
        self._last = now
        if result.first is None or result.end_offset is None:
            return
        total = max(result.end_offset - result.first + 1, 1)
        done = min(result.last - result.first + 1, total)
        filled = int(30 * done / total)
        line = (
            f"replay [{'#' * filled}{'.' * (30 - filled)}] {done}/{total} messages, "
            f"matched {result.records_matched} records, published {result.messages_published}"
        )
        sys.stderr.write(("\r" + line) if self._tty else line + "\n")
        sys.stderr.flush()

    def done(self, result: Any) -> None:
        self(result, force=True)
        if self._tty and result.first is not None:
            sys.stderr.write("\n")


async def _replay(args: argparse.Namespace) -> int:
    from hub.feeds.replay import CONSUMER_PATTERN, ReplayFilter, replay
    from hub.feeds.replay_jobs import amqp_replay_transports
    from hub.settings import load_settings

    settings = load_settings(args.config)
    if not re.match(CONSUMER_PATTERN, args.consumer):
        raise ConfigError("consumer names are lower-case letters, digits, _ and -", key="--to")
    since = parse_since(args.since)
    region = None
    if args.region:
        from schemas.regions.model import normalize_code

        region = normalize_code(args.region)
        if region is None:
            raise ConfigError("is not a kode wilayah", key="--region")
    transport = amqp_replay_transports(settings)(args.consumer)
    await transport.start()
    bar = _Bar()
    try:
        result = await replay(
            transport,
            consumer=args.consumer,
            since=since,
            where=ReplayFilter(args.schema, region),
            prefix=settings.broker.prefix,
            progress=bar,
        )
    finally:
        await transport.close()
    bar.done(result)
    print(result.summary())
    return 0


async def _completeness(args: argparse.Namespace) -> int:
    from hub.admin.client import table
    from hub.completeness.periods import parse_period
    from hub.completeness.service import CompletenessService
    from hub.feeds.reader import open_reader
    from hub.settings import load_settings

    settings = load_settings(args.config)
    try:
        period = parse_period(args.period) if args.period else None
    except ValueError as exc:
        raise ConfigError(str(exc), key="--period") from None
    reader = open_reader(settings)
    try:
        report = await CompletenessService(settings.completeness, reader).report(args.schema, period)
    finally:
        await reader.close()
    if args.json:
        print(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return 0
    rows = [
        {"province": p.code, "name": p.name, "zone": p.zone, "regions": len(p.regions),
         **{s: p.count(s) for s in ("reported", "late", "missing", "pending")}}
        for p in report.provinces
    ]  # fmt: skip
    totals = report.totals()
    r = report
    print(f"{r.schema} {r.period.label}: owed by every {r.level}, due {r.due_days} days after the period")
    print(table(rows, ["province", "name", "zone", "regions", "reported", "late", "missing", "pending"]))
    print(
        f"total: {totals['regions']} regions, {totals['reported']} reported, {totals['late']} late, "
        f"{totals['missing']} missing, {totals['pending']} pending"
    )
    if args.regions:
        wanted = ("missing", "late") if args.regions == "all" else (args.regions,)
        listed = [
            {"region": r.code, "name": r.name, "status": r.status,
             "submitted": r.submitted_at.isoformat() if r.submitted_at else "", "due": r.due_at.isoformat()}
            for p in report.provinces for r in p.regions if args.regions == "all" or r.status in wanted
        ]  # fmt: skip
        print(table(listed, ["region", "name", "status", "submitted", "due"]))
    return 0
