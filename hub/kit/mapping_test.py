"""``simpul mapping test``: run a source's mapping over a sample and validate as the hub would.

Per record it prints the mapped payload, masked (``schemas.pii.mask_mapping`` with the schema's PII paths:
NIK tokens, names and free text never appear) and "valid against SCHEMA@VERSION", or every problem:
mapping issues first, then schema issues, each with its location and rule. Validation is the hub's own
(``hub.ingest.validation.Validator`` with a development ``NikTokenizer``), so a record that passes here
passes in the hub. The exit code is 0 only if the sample has records and every one mapped and validated.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from hub.adapters.build import mapper_for
from hub.errors import ConfigError, FieldIssue, RecordError
from hub.ingest.validation import Prepared, Validator, issues_from
from hub.kit.config_file import load_config, source_entry
from hub.kit.samples import read_sample
from hub.mapping import DeclarativeMapper
from hub.model.records import SourceRecord
from hub.settings import DEV_KEY, SourceEntry
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity, utc_now
from schemas.pii import TOKENIZER_CONTEXT_KEY, NikTokenizer, mask_mapping, redact_text
from schemas.regions import default_index
from schemas.registry import SchemaSpec

DEV_TOKENIZER = NikTokenizer(base64.b64decode(DEV_KEY), key_id="dev")


@dataclass
class RecordResult:
    """What happened to one sample record."""

    number: int
    prepared: Prepared | None
    mapping_issues: list[FieldIssue]
    schema_issues: list[FieldIssue]

    @property
    def valid(self) -> bool:
        return self.prepared is not None


def check_records(entry: SourceEntry, rows: list[dict[str, Any]]) -> tuple[SchemaSpec, list[RecordResult]]:
    """Map and validate every row for the source ``entry``; no output, no broker."""
    mapper = mapper_for(entry)
    if not isinstance(mapper, DeclarativeMapper):
        raise ConfigError("the source has no mapping to test", key=f"sources[{entry.name}].mapping")
    spec = get_schema(entry.schema_name)
    validator = Validator(default_index(), DEV_TOKENIZER)
    identity = SourceIdentity(system=entry.system, office=entry.office, adapter=entry.name)
    results = []
    for number, row in enumerate(rows, start=1):
        # Where the mapping has no id or revision rule, the adapter supplies them; stand in for it.
        record = SourceRecord(entry.schema_name, row, identity, source_record_id=f"row-{number}", revision=1)
        evaluation = mapper.evaluate(record)
        if evaluation.mapped is None:
            schema = _partial_issues(spec, evaluation.payload, evaluation.issues)
            results.append(RecordResult(number, None, evaluation.issues, schema))
            continue
        try:
            prepared = validator.prepare(record, evaluation.mapped, spec, utc_now())
        except RecordError as err:
            results.append(RecordResult(number, None, [], err.issues))
            continue
        results.append(RecordResult(number, prepared, [], []))
    return spec, results


def _partial_issues(spec: SchemaSpec, payload: dict[str, Any], mapping: list[FieldIssue]) -> list[FieldIssue]:
    """Schema issues of a partly mapped payload, leaving out fields the mapping already complained about."""
    try:
        spec.model.model_validate(payload, context={TOKENIZER_CONTEXT_KEY: DEV_TOKENIZER})
    except ValidationError as exc:
        failed = {f"data.{issue.loc}" for issue in mapping}
        return [i for i in issues_from(exc, "data.") if not any(i.loc.startswith(f) for f in failed)]
    return []


def run_mapping_test(
    config: Path,
    adapter: str,
    sample: Path,
    out: TextIO,
    *,
    records: str | None = None,
    sheet: str | None = None,
    quiet: bool = False,
) -> int:
    """Print the result per record and a summary; return the exit code."""
    settings = load_config(config)
    entry = source_entry(settings, adapter)
    rows = read_sample(sample, records=records, sheet=sheet)
    spec, results = check_records(entry, rows)
    mapping = (entry.mapping or {}).get("version", "?")
    print(f"mapping {mapping} -> {spec.ref}; sample {sample.name}: {len(rows)} record(s)", file=out)
    missing = [k for k in ("id", "revision") if k not in (entry.mapping or {})]
    if missing:
        stand_in = {"id": "the row number", "revision": "revision 1"}
        used = ", ".join(stand_in[k] for k in missing)
        print(
            f"note: the adapter supplies the record {' and '.join(missing)}; this run uses {used}", file=out
        )
    for result in results:
        _print_result(result, spec, out, quiet)
    valid = sum(r.valid for r in results)
    print(f"\n{len(results)} record(s): {valid} valid, {len(results) - valid} invalid", file=out)
    return 0 if results and valid == len(results) else 1


def _print_result(result: RecordResult, spec: SchemaSpec, out: TextIO, quiet: bool) -> None:
    if result.prepared is not None:
        env = result.prepared.envelope
        print(
            f"\nrecord {result.number}: id {redact_text(env.source_record_id)}, revision {env.revision}, "
            f"{env.op}, kode_wilayah {env.kode_wilayah}: valid against {spec.ref}",
            file=out,
        )
        if not quiet:
            masked = mask_mapping(env.payload, spec.pii_paths)
            text = json.dumps(masked, indent=2, ensure_ascii=False, default=str)
            print("\n".join("  " + line for line in text.splitlines()), file=out)
        return
    counts = f"{len(result.mapping_issues)} mapping issue(s), {len(result.schema_issues)} schema issue(s)"
    print(f"\nrecord {result.number}: INVALID ({counts})", file=out)
    rows = [("mapping", i) for i in result.mapping_issues] + [("schema", i) for i in result.schema_issues]
    width = max(len(i.loc) for _, i in rows) if rows else 0
    rule_width = max(len(i.rule) for _, i in rows) if rows else 0
    for stage, issue in rows:
        print(f"  {stage:<8} {issue.loc:<{width}}  {issue.rule:<{rule_width}}  {issue.message}", file=out)
