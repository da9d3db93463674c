"""The workbench's reference data (``GET /api/schemas``, ``/api/schemas/{name}``, ``/api/regions?q=``): the
schemas of the catalogue, one schema's fields (each with a one-word ``plain`` type the page translates) and
the offices whose code or name matches what the engineer types (:func:`region_candidates`).

Imports ``hub.workbench.engine_fields``, ``hub.workbench.app_common``, ``hub.responses``, ``hub.errors`` and
(when called) ``hub.mapping.paths`` and ``schemas``.
"""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from hub.errors import ConfigError
from hub.responses import json_response, problem
from hub.workbench import engine_fields
from hub.workbench.app_common import _bad


async def _schemas(_request: web.Request) -> web.Response:
    from schemas import catalog

    return json_response(
        [
            {
                "name": s.name,
                "version": s.version,
                "title": s.title,
                "title_id": s.title_id,
                "levels": sorted(s.region_levels),
            }
            for s in catalog.all_specs()
        ]
    )


async def _schema(request: web.Request) -> web.Response:
    try:
        spec = engine_fields._schema(request.match_info["name"])
    except ConfigError as exc:
        return _bad(exc, status=404)
    from schemas.catalog import documented_fields

    texts = {doc.path: doc.description_id for doc in documented_fields(spec)}
    fields = [
        {**f, "plain": plain_type(f), "description_id": texts.get(f["field"], "")}
        for f in engine_fields.schema_fields(spec)
    ]
    return json_response(
        {
            "name": spec.name,
            "version": spec.version,
            "title": spec.title,
            "title_id": spec.title_id,
            "description": spec.description,
            "description_id": spec.description_id,
            "levels": sorted(spec.region_levels),
            "identity": list(spec.identity),
            "fields": fields,
        }
    )


def plain_type(field: dict[str, Any]) -> str:
    """A field's type as one word the page translates: text, date, datetime, int, number, money, bool,
    region, regions, nik, passport, country, choice, list."""
    kind = str(field["type"])
    checks = (
        ("NikToken", "nik"), ("PasporToken", "passport"), ("list[KodeWilayah]", "regions"),
        ("KodeWilayah", "region"), ("CountryCode", "country"), ("datetime", "datetime"),
        ("Datetime", "datetime"), ("date", "date"), ("Rupiah", "money"), ("bool", "bool"),
        ("Decimal", "number"), ("Latitude", "number"), ("Longitude", "number"), ("list[", "list"),
    )  # fmt: skip
    if field.get("choices"):
        return "choice"
    for needle, word in checks:
        if needle in kind:
            return word
    return "int" if kind.lower().endswith("int") or "int |" in kind.lower() else "text"


async def _regions(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()
    if not query or len(query) > 100:
        return problem(400, "invalid_input", "type 1 to 100 characters of a region name or code", field="q")
    return json_response(region_candidates(query))


@functools.cache
def _offices() -> list[Any]:
    from schemas.regions import default_index

    index = default_index()
    provinces = index.children(None)
    return [*provinces, *(r for p in provinces for r in index.children(p.code))]


def region_candidates(query: str, limit: int = 10) -> list[dict[str, str]]:
    """Offices (provinsi, kab/kota, or ``pusat``) whose code or name matches ``query``: a code exactly or as
    a prefix, a name by its words (``kab bogor``, ``bogor``, ``raja amp``), starts of names first."""
    from hub.mapping.paths import loose_key

    wanted = loose_key(query)
    if not wanted:
        return []
    words = [{"kab": "kabupaten", "prov": "provinsi"}.get(w, w) for w in wanted.split("_")]
    hits = []
    for region in _offices():
        name = loose_key(region.name)
        code = region.code.replace(".", "")
        if code.startswith(wanted.replace("_", "")) and wanted.replace("_", "").isdigit():
            rank = 0
        elif all(w in name for w in words):
            rank = 1 if name.startswith(words[0]) or f"_{words[0]}" in name else 2
        else:
            continue
        hits.append((rank, region.level, region.code, region))
    hits.sort(key=lambda h: h[:3])
    out = [{"code": r.code, "name": r.name, "kind": r.kind} for *_, r in hits[:limit]]
    if "pusat".startswith(wanted) and len(wanted) >= 2:
        out.insert(0, {"code": "pusat", "name": "Pusat (Kemendagri)", "kind": "pusat"})
    return out
