"""The workbench form and its TOML: form rows -> a ``[[sources]]`` block (keeping the engineer's text where
it can), TOML -> form rows, one source block out of a TOML text, and the node config around it.

Imports ``hub.errors``, ``hub.kit`` (``propose_render``; ``propose_values`` and ``hub.admin.config_check``
when called), ``hub.workbench.engine_fields`` and ``hub.workbench.engine_helpers`` only.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

import tomli_w

from hub.errors import ConfigError
from hub.kit.propose_render import toml_key, toml_value
from hub.workbench.engine_fields import Row, _schema, schema_fields
from hub.workbench.engine_helpers import _jsonable

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
