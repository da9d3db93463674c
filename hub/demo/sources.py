"""The demo's source kinds: each runs a real adapter (or the HTTP ingest) against its simulator.

A ``DemoSource`` is driven in this order by ``hub.demo.main``: ``prepare`` (start the simulator, write
or seed its data; ``Skipped`` if it cannot run here), ``entries`` and ``api_keys`` go into the node's
settings, ``drive`` runs while the node runs (pushes, waits for the adapter, changes the data the way
the regional system would, polls again) and returns once the source has served everything,
``expected`` is its ledger (``hub.demo.expect``), built from the simulator's own data, and ``close``
tears the simulator down (dropping what it created). ``problems`` collects anything that makes the run
fail besides the record check (an adapter that failed, a refused push that was not refused).
"""

from __future__ import annotations

import asyncio
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.demo.expect import KindExpect
from hub.node import Node

KINDS = ("http", "rest", "webhook", "files", "sql")
EXAMPLES = Path(__file__).resolve().parents[2] / "ops" / "examples"


class Skipped(Exception):
    """This kind cannot run on this machine; the message says why (shown in the summary)."""


class DemoSource:
    """Base of the demo's source kinds; see the module docstring for the order of calls."""

    kind = ""
    title = ""

    def __init__(self, records: int, workdir: Path) -> None:
        self.records = records
        self.workdir = workdir
        self.problems: list[str] = []
        self.adapters: list[str] = []

    async def prepare(self) -> None:
        """Start the simulator and give it its data."""

    def entries(self) -> list[dict[str, Any]]:
        """``[[sources]]`` entries for the node's settings."""
        return []

    def api_keys(self) -> dict[str, dict[str, str]]:
        """HTTP ingest API keys for the node's settings."""
        return {}

    def planned(self) -> int:
        """About how many records this kind will hand the hub (for the progress line)."""
        return self.records

    def offered(self, counted: int) -> int:
        """Records offered to the hub; ``counted`` is what the hub's metrics saw from its adapters."""
        return counted

    async def drive(self, node: Node, deadline: float) -> None:
        """Run the kind's traffic; return once everything was served (or at ``deadline``)."""

    def expected(self) -> KindExpect:
        """The ledger of what the simulator served."""
        return KindExpect(adapters=set(self.adapters))

    def notes(self) -> str:
        """One line on what happened at the source (faults seen, files, edits); no payload values."""
        return ""

    async def close(self) -> None:
        """Stop the simulator; drop what it created."""


def example_source(name: str) -> dict[str, Any]:
    """The first ``[[sources]]`` entry of ``ops/examples/<name>.toml`` (its mapping included)."""
    path = EXAMPLES / f"{name}.toml"
    if not path.exists():
        raise Skipped(f"the example mapping {path} is missing")
    entry: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))["sources"][0]
    return entry


async def wait_runner(node: Node, name: str, deadline: float) -> str:
    """Wait until the named source runner has stopped or failed; its state, or ``timeout``."""
    while True:
        runner = next((r for r in node.runners if r.name == name), None)
        if runner is not None and runner.state in ("stopped", "failed"):
            if runner.state == "failed":
                return f"failed ({runner.last_error})"
            return runner.state
        if time.monotonic() > deadline:
            return "timeout"
        await asyncio.sleep(0.05)


async def until(check: Callable[[], object], deadline: float, interval: float = 0.05) -> bool:
    """Poll ``check()`` until it is true (True) or the deadline passes (False)."""
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)
    return True
