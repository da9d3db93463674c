"""The human-readable catalogue: Markdown and HTML, Bahasa Indonesia and English side by side.

Per schema version: status, owner and walidata, deprecation, classification, region levels, identity, the
change note, then every field with its type, presence, PII class, unit, code list, both descriptions and an
example. Then the code lists (kode wilayah summarised: it is in ``codelists/kode_wilayah.csv``).
"""

from __future__ import annotations

import html
import json
from typing import Any

from schemas import catalog
from schemas.codelists import CodeList
from schemas.metadata import NO_EXAMPLE
from schemas.registry import SchemaSpec

_LEVELS = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "desa/kelurahan"}
_FIELD_HEAD = (
    "field",
    "type",
    "presence",
    "PII",
    "unit",
    "code list",
    "deskripsi (id)",
    "description (en)",
    "example",
)
_SHOWN_ROWS = 60


def _example_text(value: Any) -> str:
    if value is NO_EXAMPLE:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _spec_facts(spec: SchemaSpec) -> list[tuple[str, str]]:
    facts = [
        ("status", spec.status),
        ("pemilik / owner (produsen data)", spec.owner),
        ("walidata", spec.walidata),
        ("klasifikasi bawaan / default classification", spec.default_classification.value),
        ("tingkat wilayah / region levels", ", ".join(_LEVELS[lv] for lv in sorted(spec.region_levels))),
        ("identitas / identity", ", ".join(spec.identity)),
        ("data pribadi / personal data", ", ".join(spec.pii_paths) or "-"),
    ]
    if spec.deprecated_since:
        facts.append(("usang sejak / deprecated since", spec.deprecated_since.isoformat()))
    if spec.deprecated_after:
        facts.append(("didukung sampai / supported until", spec.deprecated_after.isoformat()))
    if spec.status == "deprecated":
        facts.append(
            (
                "peringatan / warning",
                f"Kirim versi terbaru; pengirim {spec.ref} menerima header Deprecation/Sunset. "
                f"Send the current version; senders of {spec.ref} get Deprecation/Sunset headers.",
            )
        )
    if spec.status != "draft":
        facts.append(("kirim / send", f"POST /v1/records/{spec.name}@{spec.major}"))
    if spec.changes:
        facts.append(("perubahan / changes", spec.changes))
    return facts


_SUMMARY_HEAD = ("schema", "version", "status", "usang sampai / sunset", "judul", "title", "owner")


def _summary_rows(specs: list[SchemaSpec]) -> list[tuple[str, ...]]:
    return [
        (
            s.name,
            s.version,
            s.status,
            s.deprecated_after.isoformat() if s.deprecated_after else "",
            s.title_id,
            s.title,
            s.owner,
        )
        for s in specs
    ]


def _field_rows(spec: SchemaSpec) -> list[tuple[str, ...]]:
    return [
        (
            d.path,
            d.type,
            "required" if d.required else "optional",
            d.pii,
            d.unit or "",
            d.code_list or "",
            d.description_id,
            d.description,
            _example_text(d.example),
        )
        for d in catalog.documented_fields(spec)
    ]


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown(specs: list[SchemaSpec], code_lists: list[CodeList], documents: list[str]) -> str:
    """The catalogue as Markdown."""
    out = [
        "# Katalog skema Simpul / Simpul schema catalogue",
        "",
        "Skema data bersama bus interoperabilitas Simpul (Ditjen Polpum Kemendagri). Versi yang diterbitkan "
        "tidak berubah; perubahan yang merusak menaikkan versi mayor.",
        "",
        "The shared data schemas of the Simpul interoperability bus. Published versions never change; a "
        "breaking change gets a new major version, and hubs upcast older majors for their sinks.",
        "",
        "## Skema / Schemas",
        "",
        *_md_table(_SUMMARY_HEAD, _summary_rows(specs)),
        "",
    ]
    for spec in specs:
        out += [
            f"## {spec.ref}: {spec.title_id} / {spec.title}",
            "",
            spec.description_id,
            "",
            spec.description,
            "",
        ]
        out += [f"- **{k}**: {v}" for k, v in _spec_facts(spec)]
        out += [f"- **JSON Schema**: `schemas/{spec.name}-{spec.version}.schema.json`", ""]
        out += _md_table(_FIELD_HEAD, _field_rows(spec))
        out.append("")
    out += ["## Daftar kode / Code lists", ""]
    for code_list in code_lists:
        out += [
            f"### {code_list.id}: {code_list.title_id or code_list.title}",
            "",
            f"{code_list.title}. Sumber / source: {code_list.source}"
            + (f"; versi / version: {code_list.version}" if code_list.version else "")
            + f". Files: `codelists/{code_list.id}.csv`, `codelists/{code_list.id}.json` "
            f"({len(code_list.rows)} rows).",
            "",
        ]
        if len(code_list.rows) <= _SHOWN_ROWS:
            out += _md_table(
                code_list.columns, [tuple(r[c] for c in code_list.columns) for r in code_list.rows]
            )
            out.append("")
    if "topology.svg" in documents:
        out += ["## Topologi / Topology", "", "![Topologi Simpul / Simpul topology](topology.svg)", ""]
    out += ["## Dokumen / Documents", "", *[f"- `{d}`" for d in documents], ""]
    return "\n".join(out)


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    cells = "".join(f"<th>{_h(c)}</th>" for c in head)
    body = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:90rem}table{border-collapse:collapse;"
    "margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;font-size:.85rem;"
    "vertical-align:top;text-align:left}th{background:#f3f3f3}.draft{color:#a60}.deprecated{color:#b00}"
    "dt{font-weight:600}dd{margin:0 0 .3rem 1rem}"
)


def html_page(specs: list[SchemaSpec], code_lists: list[CodeList], documents: list[str]) -> str:
    """The catalogue as one self-contained HTML page (no scripts, no external assets)."""
    parts = [
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>",
        "<title>Katalog skema Simpul / Simpul schema catalogue</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Katalog skema Simpul / Simpul schema catalogue</h1>",
        "<p lang='id'>Skema data bersama bus interoperabilitas Simpul (Ditjen Polpum Kemendagri). Versi yang "
        "diterbitkan tidak berubah; perubahan yang merusak menaikkan versi mayor.</p>",
        "<p lang='en'>The shared data schemas of the Simpul interoperability bus. Published versions never "
        "change; a breaking change gets a new major version.</p>",
        "<h2>Skema / Schemas</h2>",
        _html_table(_SUMMARY_HEAD, _summary_rows(specs)),
    ]
    for spec in specs:
        anchor = f"{spec.name}-{spec.version}"
        parts += [
            f"<h2 id='{_h(anchor)}'>{_h(spec.ref)}: {_h(spec.title_id)} / {_h(spec.title)} "
            f"<small class='{_h(spec.status)}'>{_h(spec.status)}</small></h2>",
            f"<p lang='id'>{_h(spec.description_id)}</p><p lang='en'>{_h(spec.description)}</p>",
            "<dl>" + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in _spec_facts(spec)) + "</dl>",
            f"<p>JSON Schema: <a href='schemas/{_h(anchor)}.schema.json'>"
            f"schemas/{_h(anchor)}.schema.json</a></p>",
            _html_table(_FIELD_HEAD, _field_rows(spec)),
        ]
    parts.append("<h2>Daftar kode / Code lists</h2>")
    for code_list in code_lists:
        parts += [
            f"<h3 id='code-{_h(code_list.id)}'>{_h(code_list.id)}: "
            f"{_h(code_list.title_id or code_list.title)}</h3>",
            f"<p>{_h(code_list.title)}. Sumber / source: {_h(code_list.source)}"
            + (f"; versi / version: {_h(code_list.version)}" if code_list.version else "")
            + f". <a href='codelists/{_h(code_list.id)}.csv'>CSV</a>, "
            f"<a href='codelists/{_h(code_list.id)}.json'>JSON</a> ({len(code_list.rows)} rows).</p>",
        ]
        if len(code_list.rows) <= _SHOWN_ROWS:
            parts.append(
                _html_table(
                    code_list.columns, [tuple(r[c] for c in code_list.columns) for r in code_list.rows]
                )
            )
    if "topology.svg" in documents:
        parts.append(
            "<h2 id='topology'>Topologi / Topology</h2><p><img src='topology.svg' "
            "alt='Topologi Simpul: tingkat, simpul, tautan dan adaptor / Simpul topology: levels, nodes, "
            "links and adapters' style='max-width:100%'></p>"
        )
    parts += ["<h2>Dokumen / Documents</h2><ul>"]
    parts += [f"<li><a href='{_h(d)}'>{_h(d)}</a></li>" for d in documents]
    parts += ["</ul></body></html>"]
    return "\n".join(parts)
