"""Every throughput figure of issue 8 in one command: prints a table and writes bench/results/latest.json.

    .venv/bin/python -m bench.run_all            # full: 12-15 min on a quiet 2-core machine (25 shared)
    .venv/bin/python -m bench.run_all --quick    # smaller counts, one run each (latest-quick.json)
    .venv/bin/python -m bench.run_all --only sustained,baselines

Sections (``--only`` names): ``cpu`` (CPU per record per stage, no I/O); ``sustained`` (end to end through
real nodes into PostgreSQL, 1 process and 2 processes); ``baselines`` (plain aio-pika and FastStream,
same workload and sink, producer and consumer in two processes); ``latency`` (p50/p99 at 1,000 records/s,
``runs`` times, and once at half the measured maximum); ``election`` (820,000 records from 552 regions
through HTTP ingest); ``memory`` (RSS at 100,000 and 1,000,000 records). Rates are medians of ``runs``
runs; every figure carries the machine's load average while it was taken (other work on the machine
lowers the rates; the CPU microseconds per record are the steadier figure). Every run starts with a
``CHECKPOINT`` of the warehouse server and a roll-over of RabbitMQ's quorum-queue log (``settle``), so
that no run measures the flushes an earlier, heavier run left due.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import subprocess
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import election, sustained
from bench.baselines import run as baselines
from bench.common import PYTHON, ROOT, settle

RESULTS = ROOT / "bench" / "results"
SIZES = {
    # name: (full, quick)
    "sustained": (60_000, 20_000),
    "aiopika_1": (20_000, 6_000),
    "aiopika_100": (60_000, 20_000),
    "faststream_1": (10_000, 3_000),
    "faststream_100": (60_000, 20_000),
    "latency_s": (15, 8),
    "election": (820_000, 60_000),
    "memory": (1_000_000, 150_000),
}
SECTIONS = ("cpu", "sustained", "baselines", "latency", "election", "memory")


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def load() -> float:
    return round(os.getloadavg()[0], 2)


async def repeated(runs: int, fn: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """``runs`` runs of ``fn``; the run with the median rate, with every rate and the load beside it."""
    results = []
    for _ in range(runs):
        await settle()
        before = load()
        result = await fn()
        result["load"] = [before, load()]
        results.append(result)
    results.sort(key=lambda r: r["rate"])
    best = dict(results[len(results) // 2])
    best["rates"] = [r["rate"] for r in results]
    return best


def cpu_section(quick: bool) -> dict[str, Any]:
    out = subprocess.run(
        [PYTHON, "-m", "bench.per_record", "--records", "5000" if quick else "20000"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def main(quick: bool, only: set[str], runs: int) -> dict[str, Any]:
    pick = 1 if quick else 0
    size = {k: v[pick] for k, v in SIZES.items()}
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": "quick" if quick else "full",
        "runs": runs,
        "machine": machine(),
        "hub_settings": sustained.HUB_SETTINGS,
        "before_each_run": "PostgreSQL CHECKPOINT, RabbitMQ quorum log roll-over (bench.common.settle)",
    }
    started = time.monotonic()
    if "cpu" in only:
        report["cpu_us_per_record"] = cpu_section(quick)
    if "sustained" in only:
        n = size["sustained"]
        report["sustained"] = {
            "1 process": await repeated(runs, lambda: sustained.run(n, procs=1)),
            "2 processes": await repeated(runs, lambda: sustained.run(n, procs=2)),
        }
    if "baselines" in only:
        report["baselines"] = {
            "aio-pika, 1 record/message": await repeated(
                runs, lambda: baselines.run("aiopika", size["aiopika_1"])
            ),
            "aio-pika, 100 records/message": await repeated(
                runs, lambda: baselines.run("aiopika", size["aiopika_100"], 100)
            ),
            "FastStream, 1 record/message": await repeated(
                runs, lambda: baselines.run("faststream", size["faststream_1"])
            ),
            "FastStream, 100 records/message": await repeated(
                runs, lambda: baselines.run("faststream", size["faststream_100"], 100)
            ),
        }
    if "latency" in only:
        best = max((r["rate"] for r in report.get("sustained", {}).values()), default=0)
        half = round(best / 2) if best else 2000
        secs = size["latency_s"]
        report["latency"] = {}
        # The p99 target holds "in three runs out of three": 1,000 records/s is run ``runs`` times, and
        # the run with the median p99 is shown with every run's p99 beside it (``p99s_ms``).
        for label, rate, times in (
            ("1,000 records/s", 1000, runs),
            (f"half max ({half:,} records/s)", half, 1),
        ):
            results = []
            for _ in range(times):
                await settle()
                result = await sustained.run(int(rate * secs), procs=2, rate=rate, sources=2)
                result["target_rate"] = rate
                result["load"] = load()
                results.append(result)
            results.sort(key=lambda r: r["p99_ms"])
            chosen = dict(results[len(results) // 2])
            chosen["p99s_ms"] = [r["p99_ms"] for r in results]
            report["latency"][label] = chosen
    if "election" in only:
        await settle()
        result = await election.run(size["election"])
        result["load"] = load()
        report["election"] = result
    if "memory" in only:
        n = size["memory"]
        await settle()
        result = await sustained.run(n, procs=2, rss_at=(100_000, n), timeout=1200)
        result["load"] = load()
        report["memory"] = result
    report["elapsed_s"] = round(time.monotonic() - started)
    return report


def ratios(report: dict[str, Any]) -> dict[str, float]:
    simpul = max((r["rate"] for r in report.get("sustained", {}).values()), default=0)
    return {
        name: round(simpul / r["rate"], 2) for name, r in report.get("baselines", {}).items() if r["rate"]
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown tables (what docs/performance.md shows)."""
    lines = [
        f"Run {report['date']} ({report['mode']}, {report['runs']} run(s) per rate, median), "
        f"{report['machine']['cpus']} CPUs {report['machine']['cpu']}, took {report.get('elapsed_s', '?')} s",
        "",
        "| pipeline | records/s (median) | runs | CPU us/record (per process) | p50 / p99 ms | "
        "peak RSS MB | load |",
        "|---|---|---|---|---|---|---|",
    ]

    def row(name: str, r: dict[str, Any]) -> str:
        cpu = ", ".join(f"{k} {v}" for k, v in r.get("cpu_us_per_record", {}).items())
        rss = ", ".join(f"{k} {v}" for k, v in r.get("peak_rss_mb", {}).items())
        rates = "/".join(f"{x:,}" for x in r.get("rates", [r["rate"]]))
        ld = r.get("load", "")
        return (
            f"| {name} | **{r['rate']:,}** | {rates} | {cpu} | {r.get('p50_ms', 0):,.0f} / "
            f"{r.get('p99_ms', 0):,.0f} | {rss} | {ld} |"
        )

    for name, r in report.get("sustained", {}).items():
        lines.append(row(f"Simpul, {name}", r))
    for name, r in report.get("baselines", {}).items():
        lines.append(row(name, r))
    if report.get("baselines") and report.get("sustained"):
        lines += [
            "",
            "Simpul (best of 1 and 2 processes) / baseline: "
            + ", ".join(f"{k} **{v}x**" for k, v in ratios(report).items()),
        ]
    if "latency" in report:
        lines += [
            "",
            "| latency (received_at -> applied) | achieved records/s | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|",
        ]
        for name, r in report["latency"].items():
            runs_p99 = r.get("p99s_ms", [])
            every = f" (runs: {' / '.join(f'{v:,.1f}' for v in runs_p99)})" if len(runs_p99) > 1 else ""
            ms = f"{r['p50_ms']:,.1f} | {r['p99_ms']:,.1f}{every} | {r['max_ms']:,.1f}"
            lines.append(f"| at {name} | {r['rate']:,} | {ms} |")
    if "election" in report:
        e = report["election"]
        h = e["http"]
        lines += [
            "",
            f"Election day: {e['records']:,} records from {e['regions']} regions in batches of {e['batch']}: "
            f"**{e['seconds']} s** ({e['rate']:,} records/s), lost {e['lost']}, duplicates {e['duplicates']} "
            f"(redeliveries {e['redeliveries']}); HTTP {h.get('requests')} requests, "
            f"{h.get('busy_503')} x 503, "
            f"{h.get('limited_429')} x 429, {h.get('failed')} failed; peak RSS {e['peak_rss_mb']} MB; "
            f"load {e.get('load')}",
        ]
    if "memory" in report:
        m = report["memory"]
        lines += [
            "",
            f"Memory ({m['records']:,} records, 2 processes, {m['rate']:,} records/s): RSS MB at "
            + "; ".join(f"{k} records: {v}" for k, v in m["rss_at_mb"].items())
            + f"; peak {m['peak_rss_mb']}",
        ]
    before = _before()
    if "cpu_us_per_record" in report:
        stages = before.get("stages_us_per_record", {})
        lines += ["", f"| stage (no I/O) | us per record, before ({before.get('commit', '-')}) | now |"]
        lines += ["|---|---|---|"]
        for stage, now_us in report["cpu_us_per_record"].items():
            lines.append(f"| {stage.strip()} | {stages.get(stage, '-')} | {now_us} |")
    if "sustained" in report and before:
        lines += ["", f"| CPU us per record, end to end | before ({before['commit']}) | now |"]
        lines += ["|---|---|---|"]
        for layout, was in before.get("processes_us_per_record", {}).items():
            now = report["sustained"].get(layout, {}).get("cpu_us_per_record", {})
            for name in dict.fromkeys([*was, *now]):
                lines.append(f"| {layout}: {name} | {was.get(name, '-')} | {now.get(name, '-')} |")
            total_was, total_now = sum(was.values()), sum(now.values())
            lines.append(f"| {layout}: **whole path** | **{total_was}** | **{total_now}** |")
    return "\n".join(lines)


def _before() -> dict[str, Any]:
    """The figures of the code before issue 21 (``bench/results/per-stage-before.json``, measured with
    this harness on the old commit), printed beside each run's so the gain stays attributed per stage."""
    path = RESULTS / "per-stage-before.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def cli() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, one run each (about 3 minutes)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated, of: {', '.join(SECTIONS)}"
    )
    parser.add_argument("--runs", type=int, default=0, help="runs per rate (default 3, quick 1)")
    parser.add_argument("--out", help="default: bench/results/latest.json (latest-quick.json with --quick)")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if "baselines" in only and importlib.util.find_spec("faststream") is None:
        parser.error("the baselines need FastStream: .venv/bin/pip install -e '.[bench]'")
    runs = args.runs or (1 if args.quick else 3)
    report = asyncio.run(main(args.quick, only, runs))
    report["ratios"] = ratios(report)
    out = Path(args.out or RESULTS / ("latest-quick.json" if args.quick else "latest.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(table(report))
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    cli()
