"""``simpul workbench [--port 8090]``: the onboarding workbench on 127.0.0.1 (no broker, no node needed)."""

from __future__ import annotations

import argparse
from typing import Any


def add_command(sub: Any) -> None:
    """Add ``workbench`` to the ``simpul`` parser's subparsers."""
    bench = sub.add_parser("workbench", help="the onboarding workbench in the browser (127.0.0.1)")
    bench.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1 (default 8090)")


def dispatch(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; uploads live only in memory and are gone when it stops."""
    from aiohttp import web

    from hub.workbench.app import standalone_app

    print(f"Simpul workbench: http://127.0.0.1:{args.port}/workbench/  (Ctrl-C to stop)")
    web.run_app(standalone_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
    return 0
