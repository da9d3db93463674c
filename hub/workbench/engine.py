"""Every call from the workbench into the kit and the adapters, behind three functions with stable JSON.

The pages and the HTTP API use only :func:`read`, :func:`propose` and :func:`test` (plus the TOML helpers
:func:`render` and :func:`parse`, and :func:`node_config`). Their answers are plain JSON (no ``Decimal``, no
``datetime``); the shapes below are the contract the browser relies on.

``read(kind, options, sample, filename)`` ->
    ``{"rows": [{...}], "columns": ["dotted.path", ...], "header_rows": [{"sheet", "rows": [n, ...],
    "columns": [...]}], "skipped": [{"where", "why"}], "settings": {...}}``

``propose(kind, schema, office, sample, filename, options)`` ->
    ``{"toml": str, "fields": [{"field", "source", "rule", "confidence", "todo", "note", "required",
    "type", "spec"}]}``

``test(source_block_toml, sample, filename)`` -> the ``simpul mapping test --json`` object
    ``{"read": N, "skipped": [{"where", "why"}], "records": [{"id", "ok", "payload" | null, "issues":
    [{"stage", "loc", "rule", "message"}], "row", "reason"}]}`` plus ``"counts": {"ok", "quarantined",
    "skipped"}``, ``"reasons": {reason: n}`` and ``"schema": "name@version"``.

Every problem with the engineer's input raises ``hub.errors.ConfigError`` whose text names keys and rules,
never a cell value. Nothing here writes to disk.

Re-pointing when the readers branch (issue 17) merges -- each stand-in below says so in its docstring:

* ``_read_rows``: call the adapter plugin's ``read_sample(config, data, name=..., make=...)`` instead of the
  per-kind readers here, and take ``skipped`` from its ``SampleRead.skipped`` (drop ``_skipped_rows``);
* ``propose``: call the kit's ``mapping propose`` (TOML with a comment per field), then ``parse`` its TOML
  for the field rows (drop ``_match``);
* ``test``: call the kit's ``mapping test --json`` function on the entry and sample (drop the loop over
  ``check_records`` and the reason guess).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import orjson
import tomli_w
from pydantic import ValidationError

from hub.errors import ConfigError
from hub.kit.mapping_test import check_records
from hub.mapping.paths import loose_key
from hub.settings import SourceEntry
from schemas.catalog import annotation_text
from schemas.catalog import get as get_schema
from schemas.pii import mask_mapping, nested_models, pii_class_of, redact_text
from schemas.registry import SchemaSpec

KINDS = ("file_drop", "soap", "rest_poll", "webhook", "amqp_source", "sql_poll")
"""Source kinds the workbench can read a sample for."""

RULES = (
    "", "date", "datetime", "int", "decimal", "rupiah", "bool", "phone", "nik", "passport", "redact",
    "lower", "upper", "title", "const", "region_code", "region_provinsi", "region_kabkota",
    "region_kecamatan", "region_desa", "custom",
)  # fmt: skip
"""Rule keywords of the form: a parser, a PII treatment, a letter case, a constant, a region level, or
``custom`` (a rule only the TOML can express; the form shows it read-only)."""

_PARSERS = {"date", "datetime", "int", "decimal", "rupiah", "bool", "phone"}
_PII = {"nik", "passport", "redact"}
_CASES = {"lower", "upper", "title"}
_REGION_KEYS = {"code", "provinsi", "kabkota", "kecamatan", "desa"}
Row = dict[str, Any]


@dataclass
class _Read:
    rows: list[dict[str, Any]]
    columns: list[str]
    header_rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)


# --- read -----------------------------------------------------------------------------------------------


def read(kind: str, options: dict[str, Any], sample: bytes, filename: str) -> dict[str, Any]:
    """The sample as the adapter reads it (see the module docstring for the shape)."""
    got = _read_rows(kind, options, sample, filename)
    return {
        "rows": _jsonable(got.rows),
        "columns": got.columns,
        "header_rows": got.header_rows,
        "skipped": got.skipped,
        "settings": got.settings,
    }


def _read_rows(kind: str, options: dict[str, Any], sample: bytes, filename: str) -> _Read:
    """Stand-in until the readers branch: file_drop's own ``read_file`` (header detection, two-row headers,
    footers), soap's own envelope parsing and ``element_value``, and ``hub.kit.samples`` for JSON/NDJSON/CSV.
    Re-point to ``registry.get(kind).read_sample(config, sample, name=filename, make=...)``."""
    if kind not in KINDS:
        raise ConfigError(f"unknown source kind; choose one of {', '.join(KINDS)}", key="kind")
    if not sample:
        raise ConfigError("the sample is empty", key="sample")
    lower = filename.lower()
    if kind == "file_drop" or (kind == "sql_poll" and lower.endswith((".csv", ".xlsx", ".tsv", ".txt"))):
        return _read_table(options if kind == "file_drop" else {}, sample, filename)
    if kind == "soap" or lower.endswith(".xml"):
        return _read_soap(options, sample, filename)
    return _read_json(options, sample, filename)


def _read_table(options: dict[str, Any], sample: bytes, filename: str) -> _Read:
    from adapters.file_drop.config import FileDropConfig
    from adapters.file_drop.readers import read_file
    from adapters.file_drop.sniff import UnreadableFile

    try:
        config = FileDropConfig.model_validate({"path": "/srv/simpul/inbox/workbench", **options})
    except ValidationError as exc:
        raise ConfigError(_problems(exc, "config"), key="config") from None
    try:
        parsed = read_file(sample, filename, config)
    except UnreadableFile as exc:  # its text names the rule that failed, never a cell
        raise ConfigError(f"the file cannot be read as a table: {exc}", key="sample") from None
    grids = _grids(sample, parsed.format, parsed.delimiter, config)
    got = _Read([], [])
    for table in parsed.tables:
        got.rows += [dict(values) for _, values in table.rows]
        got.columns += [c for c in table.columns if c not in got.columns]
        got.header_rows.append(
            {"sheet": table.sheet, "rows": list(table.header_at), "columns": table.columns}
        )
        got.skipped += _skipped_rows(grids.get(table.sheet, []), table, config)
    got.settings = {"path": "/srv/simpul/inbox/TODO", "patterns": [f"*.{parsed.format}"]}
    return got


def _grids(sample: bytes, fmt: str, delimiter: str | None, config: Any) -> dict[str | None, list[list[Any]]]:
    """Stand-in (the readers branch reports skipped rows itself): the raw cells per sheet, only to say why
    a row that is neither header nor data was passed over."""
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(sample), data_only=True)
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    from adapters.file_drop.sniff import decode_text

    text, _ = decode_text(sample, config.encoding)
    return {None: [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or ",")]}


def _skipped_rows(grid: list[list[Any]], table: Any, config: Any) -> list[dict[str, str]]:
    """Why each row outside the header and the data was skipped: title, blank, header (repeated), total,
    signature, after_footer. Never a cell value."""
    data = {n for n, _ in table.rows}
    header = set(table.header_at)
    first = min(header) if header else 1
    totals = [re.compile(p, re.IGNORECASE) for p in config.total_patterns]
    signatures = [re.compile(p, re.IGNORECASE) for p in config.signature_patterns]
    out = []
    for number, row in enumerate(grid, start=1):
        if number in data or number in header:
            continue
        cells = [c for c in row if c is not None and str(c).strip()]
        if not cells:
            why = "blank"
        elif number < first:
            why = "title"
        elif table.ended_at is not None and number == table.ended_at:
            text = " ".join(str(cells[0]).split())
            why = "total" if any(p.match(text) for p in totals) else "signature"
        elif table.ended_at is not None and number > table.ended_at:
            text = " ".join(str(cells[0]).split())
            why = "signature" if any(p.match(text) for p in signatures) else "after_footer"
        else:
            why = "header"
        where = f"row {number}" if table.sheet is None else f"sheet {table.sheet}, row {number}"
        out.append({"where": where, "why": why})
    return out


def _read_soap(options: dict[str, Any], sample: bytes, filename: str) -> _Read:
    from adapters.soap.xml import NotSoap, SoapFault, element_value, find_records, parse_envelope

    try:
        body, version = parse_envelope(sample)
    except SoapFault as fault:
        raise ConfigError(
            f"the sample is a SOAP fault ({fault.code}), not a response", key="sample"
        ) from None
    except NotSoap as exc:
        raise ConfigError(f"the sample is not a SOAP response: {exc}", key="sample") from None
    record_path = str(options.get("record_path") or _guess_record_path(body) or "")
    if not record_path:
        raise ConfigError("no repeated record element in the SOAP body; give record_path", key="record_path")
    elements = find_records(body, record_path.split("/"))
    if elements is None:
        raise ConfigError("the response has no element at record_path", key="record_path")
    list_fields = [str(f) for f in options.get("list_fields", [])]
    rows = [v if isinstance(v := element_value(e, list_fields), dict) else {"value": v} for e in elements]
    return _Read(rows, _columns(rows), settings={"record_path": record_path, "soap_version": version})


def _guess_record_path(body: Any) -> str | None:
    """Stand-in (the readers branch guesses in ``adapters.soap.sample``): the most frequent element path
    below the operation's response element that has child elements."""
    from collections import Counter

    from adapters.soap.xml import local

    found: Counter[str] = Counter()

    def walk(element: Any, prefix: str) -> None:
        for child in element:
            path = f"{prefix}/{local(child.tag)}" if prefix else local(child.tag)
            if len(child):
                found[path] += 1
                walk(child, path)

    walk(body, "")
    # A repeated element inside another repeated one (Lokasi inside IzinPenelitian) is part of a record.
    repeated = [p for p, n in found.items() if n > 1]
    outer = [p for p in repeated if not any(p.startswith(q + "/") for q in repeated)]
    ranked = sorted(outer or found, key=lambda p: (-found[p], p.count("/")))
    deeper = [p for p in ranked if "/" in p]
    return deeper[0] if deeper else (ranked[0] if ranked else None)


def _read_json(options: dict[str, Any], sample: bytes, filename: str) -> _Read:
    from hub.kit import samples

    path = options.get("data_path") or options.get("records")
    ndjson = filename.lower().endswith((".ndjson", ".jsonl"))
    rows = samples._json(sample, str(path) if path else None, ndjson=ndjson)
    settings = {"data_path": str(path)} if path else {}
    return _Read(rows, _columns(rows), settings=settings)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """Dotted paths of the leaves of nested records, in first-seen order (lists count as leaves)."""
    seen: dict[str, None] = {}

    def walk(value: dict[str, Any], prefix: str) -> None:
        for key, inner in value.items():
            if isinstance(inner, dict) and inner:
                walk(inner, f"{prefix}{key}.")
            else:
                seen.setdefault(f"{prefix}{key}", None)

    for row in rows:
        walk(row, "")
    return list(seen)


# --- propose --------------------------------------------------------------------------------------------


def propose(
    kind: str,
    schema: str,
    office: str,
    sample: bytes,
    filename: str,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A source block for ``kind`` -> ``schema`` at ``office`` with one field row per schema field.

    **Stand-in** for the kit's ``mapping propose`` (readers branch): fields are matched by column name only
    (exact, a few Indonesian abbreviations and synonyms, then shared words), with a rule from the field's type
    (dates, numbers, money, Y/N, NIK and passport tokens, free text redacted, enums lower-cased, kode wilayah
    from region-name columns or else the office's own code); the values themselves are not examined. A field
    nothing fits is a TODO row and a ``# TODO`` comment in the TOML.
    """
    spec = _schema(schema)
    got = _read_rows(kind, options or {}, sample, filename)
    rows = [_match(f, got.columns, office) for f in schema_fields(spec)]
    identity = next((r["source"] for r in rows if r["field"] in spec.identity and r["source"]), None)
    block = _block_for(kind, spec, office, got, identity, options or {})
    return {"toml": render_block(block, rows), "fields": rows}


def schema_fields(spec: SchemaSpec) -> list[dict[str, Any]]:
    """Leaf fields of a schema (nested objects as ``pemohon.nama``; items of lists of objects left out:
    those need a ``rows`` or ``each`` rule, written in TOML): path, type, required, PII class, text."""
    out: list[dict[str, Any]] = []

    def walk(model: Any, prefix: str, parent_required: bool) -> None:
        for name, info in model.model_fields.items():
            path = prefix + name
            nested = list(nested_models(info.annotation))
            required = info.is_required() and parent_required
            if nested:
                step, inner = nested[0]
                if step:  # a list of objects
                    out.append(_field_row(model, name, path, info, required, listed=True))
                else:
                    walk(inner, f"{path}.", required)
                continue
            out.append(_field_row(model, name, path, info, required))

    walk(spec.model, "", True)
    return out


def _field_row(model: Any, name: str, path: str, info: Any, required: bool, listed: bool = False) -> Row:
    return {
        "field": path,
        "type": annotation_text(model, name),
        "required": required,
        "pii": pii_class_of(info).value,
        "description": info.description or "",
        "choices": _choices(info.annotation),
        "list_of_objects": listed,
    }


def _choices(annotation: Any) -> list[str]:
    import typing
    from enum import Enum

    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(m.value) for m in annotation]
    for arg in typing.get_args(annotation):
        if found := _choices(arg):
            return found
    return []


_ABBREVIATIONS = {
    "no": "nomor", "nmr": "nomor", "tgl": "tanggal", "tg": "tanggal", "jml": "jumlah", "kab": "kabupaten",
    "kec": "kecamatan", "kel": "kelurahan", "prov": "provinsi", "thn": "tahun", "nm": "nama",
    "ket": "keterangan", "nationality": "kewarganegaraan", "name": "nama", "date": "tanggal",
    "status": "status", "negara": "kewarganegaraan", "warganegara": "kewarganegaraan", "waktu": "tanggal",
    "md": "meninggal", "kronologis": "kronologi", "uraian": "kronologi",
}  # fmt: skip
_REGION_COLUMNS = (
    ("desa", ("desa", "kelurahan", "desa_kelurahan", "kel_desa")),
    ("kecamatan", ("kecamatan", "distrik", "kec")),
    ("kabkota", ("kab_kota", "kabupaten_kota", "kabupaten", "kota", "kabkota")),
    ("provinsi", ("provinsi", "prov")),
    ("code", ("kode_wilayah", "kode_kemendagri", "kode_daerah")),
)


def _snake(name: str) -> str:
    """``TglPengajuan`` -> ``tgl_pengajuan``, ``NAMA ORMAS`` -> ``nama_ormas``."""
    return loose_key(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name))


def _words(name: str) -> list[str]:
    return [_ABBREVIATIONS.get(w, w) for w in _snake(name).split("_") if w]


def _match(doc: dict[str, Any], columns: list[str], office: str) -> Row:
    """Stand-in matcher (see ``propose``): the best column for one schema field and its rule."""
    target = doc["field"]
    leaf = target.rsplit(".", 1)[-1]
    if "Token" in doc["type"]:  # a source has the NIK or passport itself; the hub makes the token
        target, leaf = target.removesuffix("_token"), leaf.removesuffix("_token")
    row: Row = {**doc, "source": "", "rule": "", "confidence": 0.0, "todo": True, "note": "", "spec": None}
    if doc["list_of_objects"]:
        row["note"] = "a list of objects: write a rows/each rule in the TOML"
        return row
    kind = doc["type"]
    if "KodeWilayah" in kind and not kind.startswith("list"):
        return _match_region(row, columns, office)
    best, score = "", 0.0
    wanted = {_snake(target).replace(".", "_"), _snake(leaf)}
    leaf_words = _words(leaf)
    for column in columns:
        key = _snake(column).replace(".", "_")
        col_leaf = _snake(column.rsplit(".", 1)[-1])
        if key in wanted or col_leaf in wanted:
            found = 1.0
        elif _words(col_leaf) == leaf_words or "_".join(_words(key)) == "_".join(_words(target)):
            found = 0.9
        elif leaf_words and set(leaf_words) <= set(_words(key)):
            found = 0.6
        else:
            continue
        if found > score:
            best, score = column, found
    if not best:
        row["note"] = "no column fits"
        return row
    row.update(source=best, rule=_rule_for(doc), confidence=score, todo=False)
    how = {1.0: "same name", 0.9: "same words (abbreviations expanded)", 0.6: "shares the words"}[score]
    row["note"] = f"{how} as column {best!r}"
    return row


def _match_region(row: Row, columns: list[str], office: str) -> Row:
    by_key = {_snake(c): c for c in columns}
    found = {}
    for level, names in _REGION_COLUMNS:
        column = next((by_key[n] for n in names if n in by_key), None)
        if column is not None:
            found[level] = column
    if found:
        level, column = next(iter(found.items()))
        note = f"region from column(s) {', '.join(found.values())}, resolved within the office"
        rule = "region_code" if level == "code" else f"region_{level}"
        row.update(source=column, rule=rule, confidence=0.8, todo=False, note=note)
        if len(found) > 1:  # several levels narrow each other down: a rule the form shows read-only
            row.update(rule="custom", spec={"region": dict(reversed(found.items()))})
        return row
    note = "no region column: the office's own code"
    row.update(source=office, rule="const", confidence=0.5, todo=False, note=note)
    return row


def _rule_for(doc: dict[str, Any]) -> str:
    kind = doc["type"]
    if "NikToken" in kind:
        return "nik"
    if "PasporToken" in kind:
        return "passport"
    if doc["choices"]:
        return "lower"
    if "CountryCode" in kind:
        return "upper"
    if "datetime" in kind.lower():
        return "datetime"
    if "date" in kind.lower():
        return "date"
    if "bool" in kind:
        return "bool"
    if re.search(r"(?i)int\b", kind):
        return "int"
    if "Rupiah" in kind or "Decimal" in kind:
        return "rupiah"
    if doc["pii"] == "specific" or "LongText" in kind or "FreeText" in kind:
        return "redact"
    return ""


def _block_for(
    kind: str, spec: SchemaSpec, office: str, got: _Read, identity: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    """The source entry around the mapping: names, the adapter config (what the read needed, the rest
    TODO placeholders that ``check-config`` accepts) and the mapping's version and id."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{spec.name} {office}".lower()).strip("-")
    config = _adapter_config(kind, got, identity, options)
    mapping: dict[str, Any] = {"version": f"{slug}/1", "description": f"{kind} -> {spec.ref} (workbench)"}
    if identity:
        mapping["id"] = identity
    mapping["timezone"] = "auto"
    return {
        "name": slug,
        "kind": kind,
        "schema": spec.name,
        "system": slug,
        "office": office,
        "config": config,
        "mapping": mapping,
    }


def _adapter_config(kind: str, got: _Read, identity: str | None, options: dict[str, Any]) -> dict[str, Any]:
    if kind == "file_drop":
        config = {**got.settings, **options}
        if identity:
            config["id_columns"] = [identity]
        return config
    if kind == "soap":
        return {
            "url": "http://TODO.example.invalid/ws",
            "soap_version": got.settings.get("soap_version", "1.1"),
            "envelope_template": options.get("envelope")
            or '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            "<!-- TODO: the operation --><mulai>{start}</mulai><sampai>{last}</sampai>"
            "</soapenv:Body></soapenv:Envelope>",
            "record_path": got.settings["record_path"],
            "id_field": identity or "TODO",
            "start_date": (date.today() - timedelta(days=30)).isoformat(),
        }
    if kind == "rest_poll":
        config = {"base_url": "http://TODO.example.invalid", "path": "/api/TODO"}
        config["data_path"] = got.settings.get("data_path", "data")
        if identity:
            config["id_path"] = identity
        return config
    if kind == "sql_poll":
        return {"engine": "postgresql", "user": "TODO", "database": "TODO", "table": "TODO",
                "key_column": identity or "id", "updated_at_column": "updated_at"}  # fmt: skip
    if kind == "webhook":
        return {"path": "/hooks/TODO"}
    return {"queue": "TODO"}


# --- form <-> TOML --------------------------------------------------------------------------------------


def rule_of(row: Row) -> Any:
    """The mapping rule (TOML value) of a form row, or None when the row maps nothing (a TODO)."""
    rule, source = row.get("rule") or "", row.get("source")
    if rule == "custom":
        return row.get("spec")
    if source in (None, ""):
        return None
    if rule == "const":
        return {"const": source}
    if rule.startswith("region_"):
        return {"region": {rule.removeprefix("region_"): source}}
    if rule in _PARSERS:
        extra = {"time_default": "00:00"} if rule == "datetime" else {}
        return {"path": source, "parse": rule, **extra}
    if rule in _PII:
        return {"path": source, "pii": rule}
    if rule in _CASES:
        return {"path": source, "case": rule}
    if rule == "":
        return source
    raise ConfigError(f"unknown rule; choose one of {', '.join(r for r in RULES if r)}", key=row.get("field"))


def row_of(target: str, value: Any) -> Row:
    """The form row of one mapping rule: ``custom`` when the form cannot express it."""
    custom: Row = {"source": "", "rule": "custom", "spec": value}
    if isinstance(value, str):
        return {"source": value, "rule": "", "spec": None}
    if not isinstance(value, dict):
        return custom
    keys = set(value)
    if keys == {"const"} and isinstance(value["const"], str):
        return {"source": value["const"], "rule": "const", "spec": None}
    if keys == {"region"} and isinstance(value["region"], dict) and len(value["region"]) == 1:
        ((level, source),) = value["region"].items()
        if level in _REGION_KEYS and isinstance(source, str):
            return {"source": source, "rule": f"region_{level}", "spec": None}
    path = value.get("path")
    if not isinstance(path, str):
        return custom
    for option, allowed in (("parse", _PARSERS), ("pii", _PII), ("case", _CASES)):
        if keys in ({"path", option}, {"path", option, "time_default"}) and value[option] in allowed:
            if "time_default" in keys and (option != "parse" or value[option] != "datetime"):
                return custom
            return {"source": path, "rule": value[option], "spec": None}
    return {"source": path, "rule": "", "spec": None} if keys == {"path"} else custom


def render_block(block: dict[str, Any], rows: list[Row]) -> str:
    """The source block as TOML (``[[sources]]``), fields last with one comment per schema field."""
    mapping = {k: v for k, v in (block.get("mapping") or {}).items() if k != "fields"}
    head = {**{k: v for k, v in block.items() if k != "mapping"}, "mapping": mapping}
    lines = [tomli_w.dumps({"sources": [head]}).rstrip(), "", "[sources.mapping.fields]"]
    for row in rows:
        value = rule_of(row)
        flags = ", ".join(x for x in (row.get("type"), "required" if row.get("required") else "") if x)
        if value is None:
            note = row.get("note") or "nothing mapped"
            lines.append(f"# TODO {row['field']} ({flags}): {note}")
            continue
        comment = row.get("note") or ""
        if row.get("confidence"):
            comment += f" (confidence {row['confidence']:.1f})"
        lines.append(
            f"{_key(row['field'])} = {_inline(value)}" + (f"  # {comment.strip()}" if comment else "")
        )
    return "\n".join(lines) + "\n"


def render(source_toml: str, rows: list[Row]) -> str:
    """Form -> TOML: ``source_toml`` with its fields replaced by the form's ``rows`` (the rest kept)."""
    return render_block(parse_block(source_toml), rows)


def parse(source_toml: str, schema: str | None = None) -> dict[str, Any]:
    """TOML -> form: ``{"fields": rows, "block": {...}}``, one row per schema field (TODO where the TOML maps
    nothing) and one per mapped key the schema does not know (``unknown: true``)."""
    block = parse_block(source_toml)
    spec = _schema(schema or str(block.get("schema", "")))
    fields = dict((block.get("mapping") or {}).get("fields") or {})
    rows = []
    for doc in schema_fields(spec):
        value = fields.pop(doc["field"], None)
        base: Row = {**doc, "confidence": 0.0, "note": "", "todo": value is None}
        rows.append({**base, **(row_of(doc["field"], value) if value is not None else _empty())})
    for target, value in fields.items():
        rows.append({"field": target, "type": "?", "required": False, "pii": "none", "description": "",
                     "choices": [], "list_of_objects": False, "confidence": 0.0, "note": "", "todo": False,
                     "unknown": True, **row_of(target, value)})  # fmt: skip
    return {"fields": rows, "block": _jsonable(block)}


def _empty() -> Row:
    return {"source": "", "rule": "", "spec": None}


def parse_block(source_toml: str) -> dict[str, Any]:
    """The one source entry of a TOML text: a ``[[sources]]`` block, or a whole node config with exactly
    one source. ``ConfigError`` (with the line) for bad TOML."""
    try:
        data = tomllib.loads(source_toml)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", key="toml") from None
    sources = data.get("sources")
    if not isinstance(sources, list) or len(sources) != 1 or not isinstance(sources[0], dict):
        raise ConfigError("give exactly one [[sources]] block", key="toml")
    block: dict[str, Any] = sources[0]
    return block


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name, ensure_ascii=False)


def _inline(value: Any) -> str:
    """A TOML inline value (inline tables for dicts; tomli_w formats the scalars)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {_inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def node_config(source_toml: str) -> dict[str, Any]:
    """A whole node config around the source block, and what ``simpul check-config`` says of it:
    ``{"toml": str, "valid": bool, "problems": [{"loc", "message"}], "summary": {...}}``."""
    from hub.admin.config_check import check_config_text

    block = parse_block(source_toml)
    office = str(block.get("office", "pusat"))
    level = "pusat" if office == "pusat" else {2: "provinsi"}.get(len(office), "kabkota")
    head = (
        "# Node config made by `simpul workbench`; check it with `simpul check-config FILE`.\n"
        "# dev_mode uses development keys: a production node takes its keys from the environment.\n"
        + tomli_w.dumps({"node": f"{block.get('name', 'node')}-node", "level": level, "dev_mode": True})
    )
    text = head + "\n" + source_toml
    report = check_config_text(text)
    return {"toml": text, "valid": report.valid, "problems": report.problems, "summary": report.summary}


# --- test -----------------------------------------------------------------------------------------------


def test(source_toml: str, sample: bytes, filename: str) -> dict[str, Any]:
    """Every record of the sample mapped and validated as the node would (see the module docstring).

    **Stand-in** for the kit's ``mapping test --json`` (readers branch): ``check_records`` of today's kit
    (record ids ``row-N``, revision 1 where the mapping has no rule); the quarantine reason is
    ``mapping_failed`` when the mapping failed, else ``region_invalid`` for region rules, else
    ``validation_failed``.
    """
    block = parse_block(source_toml)
    try:
        entry = SourceEntry.model_validate(block)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, "sources[0]")) from None
    got = _read_rows(entry.kind, _read_options(entry.kind, entry.config), sample, filename)
    spec, results = check_records(entry, got.rows)
    records: list[dict[str, Any]] = []
    reasons: dict[str, int] = {}
    for result in results:
        issues = [{"stage": "mapping", **i.as_dict()} for i in result.mapping_issues] + [
            {"stage": "schema", **i.as_dict()} for i in result.schema_issues
        ]
        reason = None
        if result.prepared is None:
            regional = any("wilayah" in i["rule"] or "region" in i["rule"] for i in issues)
            reason = (
                "mapping_failed"
                if result.mapping_issues
                else "region_invalid"
                if regional
                else "validation_failed"
            )
            reasons[reason] = reasons.get(reason, 0) + 1
        env = result.prepared.envelope if result.prepared is not None else None
        records.append(
            {
                "row": result.number,
                "id": redact_text(env.source_record_id) if env is not None else f"row-{result.number}",
                "ok": result.valid,
                "payload": _jsonable(mask_mapping(env.payload, spec.pii_paths)) if env is not None else None,
                "kode_wilayah": env.kode_wilayah if env is not None else None,
                "issues": issues,
                "reason": reason,
            }
        )
    ok = sum(1 for r in records if r["ok"])
    return {
        "read": len(got.rows),
        "skipped": got.skipped,
        "records": records,
        "counts": {"ok": ok, "quarantined": len(records) - ok, "skipped": len(got.skipped)},
        "reasons": reasons,
        "schema": spec.ref,
    }


def _read_options(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """The adapter config keys that shape how a sample is read."""
    if kind == "file_drop":
        return {k: v for k, v in config.items() if k not in ("path", "patterns")}
    if kind == "soap":
        return {k: config[k] for k in ("record_path", "list_fields") if k in config}
    if kind == "rest_poll" and "data_path" in config:
        return {"data_path": config["data_path"]}
    return {}


# --- helpers --------------------------------------------------------------------------------------------


def _schema(name: str) -> SchemaSpec:
    from hub.errors import UnknownSchema

    try:
        return get_schema(name)
    except UnknownSchema:
        raise ConfigError("no such schema; see the schema list", key="schema") from None


def _problems(exc: ValidationError, prefix: str) -> str:
    return "; ".join(
        f"{prefix}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
        for err in exc.errors(include_input=False, include_url=False)
    )


def _jsonable(value: Any) -> Any:
    """Plain JSON values: ``Decimal`` as its exact text, dates as ISO text."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
