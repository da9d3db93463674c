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
    [{"stage", "loc", "rule", "message"}], "row", "reason", "kode_wilayah"}]}`` plus ``"counts": {"ok",
    "quarantined", "skipped"}``, ``"reasons": {reason: n}`` and ``"schema": "name@version"``. The payload is
    as stored (free text redacted, NIKs as development-key tokens); ``skipped`` holds the rows the reader
    passed over and the rows a mapping ``skip`` rule dropped (``why``: ``skip rule: <its reason>``).

Every problem with the engineer's input raises ``hub.errors.ConfigError`` whose text names keys and rules,
never a cell value. Nothing here writes to disk.

Since the readers branch (issue 17) merged, every sample is read by the adapter's own ``read_sample`` hook,
the proposal is the kit's ``Proposer`` (``hub.kit.propose``) and the test is the kit's ``check_records`` +
``as_object`` (``hub.kit.mapping_test``): the workbench shows what ``simpul mapping propose|test`` print.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

import orjson
import tomli_w
from pydantic import ValidationError

from hub.adapters.model import SampleRead
from hub.adapters.registry import get as get_adapter
from hub.errors import ConfigError
from hub.kit.propose_render import toml_key, toml_value
from hub.model.records import SourceRecord
from hub.settings import SourceEntry
from schemas.catalog import annotation_text
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity
from schemas.pii import nested_models, pii_class_of
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
    """The adapter's own ``read_sample`` (settings guessed from the sample; ``options`` override them)."""
    read = _sample_read(kind, options, sample, filename, schema="", office="pusat")
    rows = [dict(r.raw) if isinstance(r.raw, dict) else {"value": r.raw} for r in read.records]
    got = _Read(rows, _columns(rows), settings=read.settings)
    got.skipped = [{"where": s.where, "why": s.why} for s in read.skipped]
    for note in read.notes:  # file_drop: "sheet 'Mei': header row(s) [4, 5], 12 data row(s), columns a, b"
        found = _HEADER_NOTE.match(note)
        if found:
            sheet, numbers, columns = found.groups()
            got.header_rows.append(
                {
                    "sheet": sheet,
                    "rows": [int(n) for n in numbers.split(",") if n.strip()],
                    "columns": columns.split(", "),
                }
            )
    return got


_HEADER_NOTE = re.compile(
    r"^(?:sheet '(.*)': )?header row\(s\) \[([\d, ]*)\], \d+ data row\(s\), columns (.*)$"
)


def _sample_read(
    kind: str,
    options: dict[str, Any] | None,
    sample: bytes,
    filename: str,
    *,
    schema: str,
    office: str,
    config: Any = None,
) -> SampleRead:
    """``plugin.read_sample`` on the bytes in memory (never a file). ``options`` are adapter config keys
    laid over the settings the adapter guesses from the sample."""
    if kind not in KINDS:
        raise ConfigError(f"unknown source kind; choose one of {', '.join(KINDS)}", key="kind")
    if not sample:
        raise ConfigError("the sample is empty", key="sample")
    plugin = get_adapter(kind)
    if plugin.read_sample is None:
        raise ConfigError("this adapter cannot read raw samples", key="kind")
    identity = SourceIdentity(system="sample", office=office, adapter="sample")

    def make(raw: Any, **meta: Any) -> SourceRecord:
        return SourceRecord(schema, raw, identity, **meta)

    try:
        if config is None and options:
            guessed = plugin.read_sample(None, sample, name=filename, make=make)
            try:
                config = plugin.config_model.model_validate({**guessed.settings, **options})
            except ValidationError as exc:
                raise ConfigError(_problems(exc, "config"), key="config") from None
        return plugin.read_sample(config, sample, name=filename, make=make)
    except ConfigError as exc:
        if exc.key != filename:
            raise
        # The readers name the file; the page shows the problem next to the sample field, and an error
        # body never repeats a caller-chosen name.
        raise ConfigError(str(exc)[len(filename) + 2 :], key="sample") from None


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
    """The kit's proposal (``hub.kit.propose.Proposer``: names, synonyms, two-row header groups and the values
    themselves, every rule tried with the hub's compiler) as TOML, and one form row per schema field."""
    from hub.kit.propose import Proposer
    from hub.kit.propose_names import name_score
    from hub.kit.propose_render import Proposal
    from hub.kit.propose_render import render as render_proposal
    from hub.kit.propose_values import _paths_in

    spec = _schema(schema)
    read = _sample_read(kind, options, sample, filename, schema=spec.name, office=office)
    name = re.sub(r"[^a-z0-9-]+", "-", f"{spec.name} {office}".lower()).strip("-")
    mapping, comments = Proposer(spec.name, read).propose(name)
    block = {"name": name, "kind": kind, "schema": spec.name, "system": name, "office": office,
             "config": read.settings, "mapping": mapping}  # fmt: skip
    text = render_proposal(Proposal(block, comments, read))
    rows = parse(text)["fields"]
    for row in rows:
        note = comments.get(row["field"], "")
        row["note"] = note
        mapped = row["rule"] == "custom" or bool(row["source"])
        row["todo"] = not mapped or "TODO" in note
        if mapped:
            source = row["source"] or sorted(_paths_in(row["spec"]))[:1]
            column = source if isinstance(source, str) else (source[0] if source else "")
            score = name_score(row["field"], column) if column else 0.0
            row["confidence"] = round(min(1.0, max(score, 0.5)), 1)
    return {"toml": text, "fields": rows}


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
            note = _TODO.sub("", row.get("note") or "") or "nothing mapped"
            lines.append(f"# TODO {row['field']} ({flags}): {note}")
            continue
        comment = row.get("note") or ""
        if row.get("confidence"):
            comment += f" (confidence {row['confidence']:.1f})"
        lines.append(
            f"{toml_key(row['field'])} = {toml_value(value)}" + (f"  # {comment.strip()}" if comment else "")
        )
    return "\n".join(lines) + "\n"


def render(source_toml: str, rows: list[Row]) -> str:
    """Form -> TOML: ``source_toml`` with its fields replaced by the form's ``rows`` (the rest kept). A
    source field the form now reads leaves the mapping's ``ignore`` and ``drop`` lists (the proposal put
    unused columns there; reading a dropped one would be refused)."""
    from hub.kit.propose_values import _paths_in

    block = parse_block(source_toml)
    mapping = block.get("mapping")
    current = dict((mapping or {}).get("fields") or {}) if isinstance(mapping, dict) else {}
    rows = [_kept(row, current.get(str(row.get("field")))) for row in rows]
    lists: dict[str, list[Any] | None] = {}
    if isinstance(mapping, dict):
        read = set().union(*(_paths_in(rule_of(row)) for row in rows)) if rows else set()
        for key in ("ignore", "drop"):
            listed = mapping.get(key)
            if isinstance(listed, list):
                kept = [c for c in listed if c not in read]
                if kept != listed:
                    lists[key] = kept or None
                if kept:
                    mapping[key] = kept
                else:
                    mapping.pop(key)
    whole = render_block(block, rows)
    patched = _patched(source_toml, rows, lists)
    # The engineer's text (the proposal's comments, their layout) is kept unless patching it would say
    # anything other than the whole block rendered afresh.
    if patched is not None and parse_block(patched) == parse_block(whole):
        return patched
    return whole


def _kept(row: Row, value: Any) -> Row:
    """A row the form did not change carries the TOML's own rule (as ``custom``), so a rule the form writes
    differently (``{ path = "x" }`` vs ``"x"``, a datetime without ``time_default``) is left as it was."""
    if value is None:
        return row
    same = row_of(str(row.get("field")), value)
    if (same["source"], same["rule"], same["spec"]) == (row.get("source") or "", row.get("rule") or "",
                                                        row.get("spec")):  # fmt: skip
        return {**row, "source": "", "rule": "custom", "spec": value, "kept": True}
    return row


def _patched(source_toml: str, rows: list[Row], lists: dict[str, list[Any] | None]) -> str | None:
    """``source_toml`` with only its ``[sources.mapping.fields]`` lines rewritten from ``rows`` (one line per
    field, its note as a comment; ``# field: TODO ...`` where nothing is mapped) and the one-line ``ignore`` /
    ``drop`` keys in ``lists`` replaced or removed; None where the text is not laid out that way."""
    lines = source_toml.splitlines()
    header = re.compile(r"^\s*\[")
    start = next((i for i, line in enumerate(lines) if line.strip() == "[sources.mapping.fields]"), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if header.match(lines[i])), len(lines))
    own: dict[str, str] = {}  # field -> its line in the text, for the rows the form left alone
    for line in lines[start + 1 : end]:
        if _one_line(line) and len(parsed := tomllib.loads(line)) == 1:
            own[next(iter(parsed))] = line
    fields = []
    for row in rows:
        if row.get("kept") and row["field"] in own:
            fields.append(own[row["field"]])
            continue
        value = rule_of(row)
        note = " ".join(str(row.get("note") or "").split())
        if value is None:
            todo = _TODO.sub("", note) or "nothing mapped"
            fields.append(f"# {row['field']}: TODO: {todo}")
        else:
            fields.append(
                f"{toml_key(row['field'])} = {toml_value(value)}" + (f"   # {note}" if note else "")
            )
    out = [*lines[: start + 1], *fields, *([""] if end < len(lines) else []), *lines[end:]]
    for key, value in lists.items():
        at = [i for i, line in enumerate(out[:start]) if re.match(rf"^{key}\s*=", line)]
        if len(at) != 1 or not _one_line(out[at[0]]):
            return None
        comment = out[at[0]].partition("   # ")[2]  # the proposal's, after the value
        if value is None:
            del out[at[0]]
            start -= 1
        else:
            out[at[0]] = f"{key} = {toml_value(value)}" + (f"   # {comment}" if comment else "")
    return "\n".join(out) + "\n"


_TODO = re.compile(r"^TODO:?\s*")


def _one_line(line: str) -> bool:
    try:
        tomllib.loads(line)
    except tomllib.TOMLDecodeError:
        return False
    return True


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
    """Every record of the sample mapped and validated as the node would: the kit's ``check_records`` on the
    adapter's own read (``as_object`` is ``simpul mapping test --json``), plus counts, reasons and per record
    its row number, kode wilayah and quarantine reason (``mapping_failed``, else the validator's)."""
    from hub.adapters.build import validate_config
    from hub.kit.mapping_test import as_object, check_records

    block = parse_block(source_toml)
    try:
        entry = SourceEntry.model_validate(block)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, "sources[0]")) from None
    _plugin, config = validate_config(entry)
    read = _sample_read(
        entry.kind, None, sample, filename, schema=entry.schema_name, office=entry.office, config=config
    )
    run = check_records(entry, read)
    answer: dict[str, Any] = _jsonable(as_object(run))
    reasons: dict[str, int] = {}
    for result, record in zip(run.results, answer["records"], strict=True):
        reason = None
        if result.prepared is None:
            regional = any("wilayah" in i.rule or "region" in i.rule for i in result.schema_issues)
            reason = (
                "mapping_failed"
                if result.mapping_issues
                else "region_invalid"
                if regional
                else "validation_failed"
            )
            reasons[reason] = reasons.get(reason, 0) + 1
        env = result.prepared.envelope if result.prepared is not None else None
        record.update(row=result.number, reason=reason, kode_wilayah=env.kode_wilayah if env else None)
        record["id"] = record["id"] or f"row-{result.number}"
    ok = sum(1 for r in answer["records"] if r["ok"])
    answer["counts"] = {"ok": ok, "quarantined": len(run.results) - ok, "skipped": len(answer["skipped"])}
    answer["reasons"] = reasons
    answer["schema"] = run.spec.ref
    return answer


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
