"""The catalogue commands: ``simpul schemas diff|usage`` and ``simpul catalog export``."""

from __future__ import annotations

import argparse
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from hub.errors import ConfigError

DEFAULT_METRICS = "http://127.0.0.1:8080/metrics"


def add_schema_commands(ssub: Any) -> None:
    """``schemas diff NAME OLD NEW`` and ``schemas usage``, on the ``schemas`` subparsers."""
    diff = ssub.add_parser(
        "diff", help="classify every change between two versions of a schema, with reasons"
    )
    diff.add_argument("name", help="schema name, e.g. ormas_registration")
    diff.add_argument("old", help="older version, e.g. 1.0.0")
    diff.add_argument("new", help="newer version, e.g. 2.0.0")
    usage = ssub.add_parser("usage", help="which regions and adapters still send which schema versions")
    usage.add_argument(
        "--metrics",
        default=DEFAULT_METRICS,
        help=f"a node's /metrics URL or a saved scrape file (default {DEFAULT_METRICS})",
    )


def add_catalog_commands(sub: Any) -> None:
    """``catalog export DIR``."""
    catalog = sub.add_parser("catalog", help="the schema catalogue and the documents of the bus")
    csub = catalog.add_subparsers(dest="action", required=True)
    export = csub.add_parser(
        "export", help="JSON Schema, code lists, AsyncAPI, OpenAPI, Markdown and HTML catalogue into DIR"
    )
    export.add_argument("dir", type=Path, help="folder to write the catalogue into (created if missing)")
    export.add_argument(
        "--config",
        type=Path,
        action="append",
        help="node config whose bus is described (default: defaults); give it again for more nodes, which "
        "join the first in topology.svg",
    )
    export.add_argument(
        "--no-desa", action="store_true", help="kode wilayah down to kecamatan only (leaves out 83,762 desa)"
    )


def dispatch_schemas(args: argparse.Namespace) -> int:
    """Run ``schemas diff`` or ``schemas usage``."""
    if args.action == "diff":
        return _diff(args.name, args.old, args.new)
    return _usage(args.metrics)


def dispatch_catalog(args: argparse.Namespace) -> int:
    """Run ``catalog export``."""
    from hub.catalog.export import ALL_REGION_LEVELS, export_catalog
    from hub.settings import load_settings
    from hub.transport.factory import topology_for

    configs = [load_settings(path) for path in args.config or [None]]
    settings = configs[0]
    levels = (1, 2, 3) if args.no_desa else ALL_REGION_LEVELS
    written = export_catalog(
        args.dir, settings, topology_for(settings), region_levels=levels, diagram_configs=configs[1:]
    )
    groups: dict[str, int] = defaultdict(int)
    for relative in written:
        groups[relative.split("/", 1)[0] if "/" in relative else relative] += 1
    print(f"wrote {len(written)} files ({sum(written.values()):,} bytes) to {args.dir}")
    for group, count in groups.items():
        print(f"  {group}{'/' if count > 1 or group in ('schemas', 'codelists') else ''}  {count} file(s)")
    return 0


def _diff(name: str, old: str, new: str) -> int:
    from schemas import catalog
    from schemas.diff import diff_specs

    result = diff_specs(catalog.get(name, old), catalog.get(name, new))
    print("\n".join(result.lines()))
    return 0 if result.bump_ok else 1


def _read_metrics(source: str) -> str:
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=10) as response:
                return str(response.read().decode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {source}: {exc}") from None
    path = Path(source)
    if not path.exists():
        raise ConfigError(f"no such file: {source}")
    return path.read_text(encoding="utf-8")


def usage_rows(text: str) -> list[dict[str, Any]]:
    """Rows of ``simpul_schema_versions_seen_total`` from a Prometheus text scrape, with the status and
    deprecation date of each version, by schema, version, province and adapter."""
    from prometheus_client.parser import text_string_to_metric_families

    from hub.consume.upcast import VERSIONS_SEEN
    from schemas import catalog

    table: dict[tuple[str, str, str, str], dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        if family.name != VERSIONS_SEEN:
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            key = (labels["schema"], labels["version"], labels["province"], labels["adapter"])
            table[key][labels["outcome"]] = table[key].get(labels["outcome"], 0.0) + sample.value
    rows = []
    for (schema, version, province, adapter), outcomes in sorted(table.items()):
        try:
            spec = catalog.get(schema, version)
            status: str = spec.status
            deprecated = spec.deprecated_after.isoformat() if spec.deprecated_after else ""
        except Exception:  # a version this hub does not know (sent by a newer node)
            status, deprecated = "unknown", ""
        rows.append(
            {
                "schema": schema,
                "version": version,
                "status": status,
                "deprecated_after": deprecated,
                "province": province,
                "adapter": adapter,
                **{k: int(outcomes.get(k, 0)) for k in ("current", "upcast", "failed")},
            }
        )
    return rows


def _usage(source: str) -> int:
    rows = usage_rows(_read_metrics(source))
    if not rows:
        print("no schema versions seen yet (no records reached a sink since the node started)")
        return 0
    head = (
        "schema",
        "version",
        "status",
        "deprecated_after",
        "province",
        "adapter",
        "current",
        "upcast",
        "failed",
    )
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in head]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[h]).ljust(w) for h, w in zip(head, widths, strict=True)))
    return 0
