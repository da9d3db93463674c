"""Run the fault scenarios and print the results table (and optionally write it as Markdown).

    python -m tests.faults.run                  # the slow set (SIMPUL_SLOW=1): what faults.sh runs
    python -m tests.faults.run --all            # fast and slow scenarios
    python -m tests.faults.run --markdown FILE  # also write the table as Markdown (for docs/reliability.md)

Extra arguments after ``--`` go to pytest (e.g. ``-- -k alarm``). The exit status is pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
COLUMNS = ("scenario", "how", "ok", "S", "C", "P", "lost", "gaps", "duplicates_applied", "unexpected",
           "redeliveries", "recovery_s", "extra")  # fmt: skip
CORE = {"scenario", "how", "ok", "S", "A", "C", "P", "lost", "gaps", "duplicates_applied", "unexpected",
        "redeliveries", "recovery_s", "test"}  # fmt: skip


def machine() -> str:
    cpus = os.cpu_count() or 0
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
        mem_kb = int(next(x for x in lines if x.startswith("MemTotal")).split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        mem = "? RAM"
    system = f"{platform.system()} {platform.release()}"
    return f"{platform.node()} ({system}, {cpus} CPUs, {mem}, Python {platform.python_version()})"


def row_cells(row: dict[str, Any]) -> list[str]:
    extra = {k: v for k, v in row.items() if k not in CORE}
    rec = row.get("recovery_s")
    return [
        str(row.get("scenario", "")),
        str(row.get("how", "")),
        "PASS" if row.get("ok") else "FAIL",
        str(row.get("S", "")),
        str(row.get("C", "")),
        str(row.get("P", "")),
        str(row.get("lost", "")),
        str(row.get("gaps", "")),
        str(row.get("duplicates_applied", "")),
        str(row.get("unexpected", "")),
        str(row.get("redeliveries", "")),
        "-" if rec is None else f"{float(rec):.2f}",
        ", ".join(f"{k}={v}" for k, v in extra.items()),
    ]


def table(rows: list[dict[str, Any]], markdown: bool) -> str:
    cells = [row_cells(r) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in cells]
        return "\n".join(lines)
    shown = [c[:-1] for c in cells]
    heads = list(COLUMNS[:-1])
    widths = [max(len(h), *(len(r[i]) for r in shown)) if shown else len(h) for i, h in enumerate(heads)]
    widths[1] = min(widths[1], 48)
    out = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    for r, full in zip(shown, cells, strict=True):
        out.append("  ".join(v[:w].ljust(w) for v, w in zip(r, widths, strict=True)))
        if full[-1]:
            out.append("    " + full[-1])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--all", action="store_true", help="fast and slow scenarios")
    parser.add_argument("--markdown", type=Path, help="write the table as Markdown to this file")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    with tempfile.NamedTemporaryFile("w+", suffix=".jsonl", delete=False) as results:
        path = Path(results.name)
    env = {**os.environ, "SIMPUL_SLOW": "1", "SIMPUL_FAULTS_RESULTS": str(path)}
    # The slow set is every scenario marked ``slow``, whatever its file (test_slow, test_process_kill, ...).
    targets = ["tests/faults"] if args.all else ["tests/faults", "-m", "slow"]
    started = datetime.now(UTC)
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets, *args.pytest_args],
        cwd=ROOT,
        env=env,
    )
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.unlink(missing_ok=True)
    took = (datetime.now(UTC) - started).total_seconds()
    header = f"Fault suite results, {started:%Y-%m-%d %H:%M} UTC, {took / 60:.1f} min, on {machine()}"
    print("\n" + header + "\n")
    print(table(rows, markdown=False))
    if args.markdown:
        args.markdown.write_text(header + "\n\n" + table(rows, markdown=True) + "\n", encoding="utf-8")
        print(f"\nMarkdown table written to {args.markdown}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
