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

The work is split by job; this module holds the three calls and puts them together. ``engine_sample`` reads
a sample with the adapter's ``read_sample``, ``engine_fields`` finds a schema and lists its fields as form
rows, ``engine_form`` turns form rows into TOML and back (:func:`render`, :func:`parse` and
:func:`node_config` live there and are re-exported here as part of this contract) and ``engine_helpers``
makes answers plain JSON. Imports those, ``hub.errors``, ``hub.settings`` and (when called) the kit and
``hub.adapters.build`` only.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from hub.errors import ConfigError
from hub.settings import SourceEntry
from hub.workbench.engine_fields import _schema
from hub.workbench.engine_form import node_config, parse, parse_block, render
from hub.workbench.engine_helpers import _jsonable, _problems
from hub.workbench.engine_sample import _read_rows, _sample_read

# The contract of the module docstring (render, parse and node_config re-exported from engine_form).
__all__ = ["node_config", "parse", "propose", "read", "render", "test"]


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
