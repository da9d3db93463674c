"""``simpul catalog export DIR``: every document of the catalogue, built in memory and written out.

:func:`build_documents` returns ``{relative path: bytes}``; the HTTP face (``hub.catalog.http``) serves the
same mapping. Contents:

* ``index.json``: the schema versions (status, owner, deprecation) and the list of documents;
* ``schemas/NAME-VERSION.schema.json`` (every version, drafts included), ``schemas/envelope-1.schema.json``;
* ``codelists/ID.csv`` and ``codelists/ID.json``: kode wilayah (with decree and dataset version), the Pasal 25
  letters, classifications, PII classes, every enumeration;
* ``asyncapi.json`` (AsyncAPI 3.0) and ``openapi.json`` (OpenAPI 3.1);
* ``catalog.md`` and ``catalog.html``;
* ``topology.svg``: levels, nodes, links and adapters of the node's config and of any further configs given
  (``hub.catalog.diagram``).

The output is deterministic (no timestamps), so an export can be committed and diffed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.catalog.asyncapi import asyncapi_document
from hub.catalog.diagram import topology_svg
from hub.catalog.openapi import openapi_document
from hub.catalog.render import html_page, markdown
from hub.settings import Settings
from hub.transport.topology import Topology
from schemas import catalog
from schemas.codelists import CodeList, all_code_lists
from schemas.envelope import ENVELOPE_SPEC

ALL_REGION_LEVELS = (1, 2, 3, 4)


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _csv_bytes(code_list: CodeList) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(code_list.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(code_list.rows)
    return buffer.getvalue().encode("utf-8")


def _code_list_json(code_list: CodeList) -> dict[str, Any]:
    return {
        "id": code_list.id,
        "title": code_list.title,
        "title_id": code_list.title_id,
        "source": code_list.source,
        "version": code_list.version,
        "used_by": list(code_list.used_by),
        "columns": list(code_list.columns),
        "rows": code_list.rows,
    }


def build_documents(
    settings: Settings,
    topology: Topology,
    *,
    region_levels: tuple[int, ...] = ALL_REGION_LEVELS,
    server_url: str | None = None,
    diagram_configs: Sequence[Settings] = (),
) -> dict[str, bytes]:
    """Every catalogue document of the node described by ``settings``/``topology``, by relative path.
    ``diagram_configs`` are further nodes drawn beside it in ``topology.svg`` (their levels and links)."""
    specs = catalog.all_versions()
    documents: dict[str, bytes] = {}
    for spec in specs:
        documents[f"schemas/{spec.name}-{spec.version}.schema.json"] = _json_bytes(catalog.json_schema(spec))
    documents[f"schemas/envelope-{ENVELOPE_SPEC.rsplit('/', 1)[1]}.schema.json"] = _json_bytes(
        catalog.envelope_json_schema()
    )
    code_lists = all_code_lists(specs, region_levels)
    for code_list in code_lists:
        documents[f"codelists/{code_list.id}.csv"] = _csv_bytes(code_list)
        documents[f"codelists/{code_list.id}.json"] = _json_bytes(_code_list_json(code_list))
    documents["asyncapi.json"] = _json_bytes(asyncapi_document(settings, topology))
    url = server_url or f"http://{settings.http.host}:{settings.http.port}"
    documents["openapi.json"] = _json_bytes(openapi_document(url))
    others = [c for c in diagram_configs if c.node != settings.node]
    documents["topology.svg"] = topology_svg([settings, *others]).encode("utf-8")
    names = sorted([*documents, "catalog.md", "catalog.html", "index.json"])
    documents["catalog.md"] = markdown(specs, code_lists, names).encode("utf-8")
    documents["catalog.html"] = html_page(specs, code_lists, names).encode("utf-8")
    documents["index.json"] = _json_bytes(
        {
            "catalog": "simpul",
            "node": settings.node,
            "schemas": [
                {
                    "name": s.name,
                    "version": s.version,
                    "status": s.status,
                    "current": s.status != "draft" and catalog.get(s.name).version == s.version,
                    "deprecated_after": s.deprecated_after.isoformat() if s.deprecated_after else None,
                    "deprecated_since": s.deprecated_since.isoformat() if s.deprecated_since else None,
                    "title": s.title,
                    "title_id": s.title_id,
                    "owner": s.owner,
                    "json_schema": f"schemas/{s.name}-{s.version}.schema.json",
                }
                for s in specs
            ],
            "code_lists": [
                {"id": c.id, "version": c.version, "rows": len(c.rows), "csv": f"codelists/{c.id}.csv"}
                for c in code_lists
            ],
            "documents": names,
        }
    )
    return dict(sorted(documents.items()))


def export_catalog(directory: Path, settings: Settings, topology: Topology, **kw: Any) -> dict[str, int]:
    """Write :func:`build_documents` under ``directory``; returns ``{relative path: size in bytes}``."""
    written = {}
    for relative, body in build_documents(settings, topology, **kw).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        written[relative] = len(body)
    return written
