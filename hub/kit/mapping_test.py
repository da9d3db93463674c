"""``simpul mapping test``: read a raw sample with the adapter's own reader, map and validate as the node.

The sample is read by the source adapter's ``read_sample`` hook (``hub.adapters.model.SampleReader``): the
same code the node runs on its source, with every adapter option that shapes a record (file_drop's header
detection, sheets, footers, ``meta_keys``, ``id_columns``; soap's ``record_path`` and attributes; ...), so
ids, revisions and skipped rows are the node's. Each record then goes through the source's mapping and the
hub's own ``Validator`` (with a development ``NikTokenizer``), so a record that passes here passes in the
hub. A valid record is shown **as it will be stored**: the validated payload, with free text redacted by
the mapping and NIKs as tokens (the development key's, not production's). An invalid one shows no payload,
only its issues (location, rule, message; never a value), as its quarantine entry would.

Two ways in: a node config (``--config F --adapter A``), or no config (``--kind --schema --office``) with
an optional ``--source FILE.toml`` holding one ``[[sources]]`` block (what ``simpul mapping propose``
prints); without ``--source`` the proposal itself is tested. ``--json`` prints exactly one object::

    {"read": N, "skipped": [{"where": ..., "why": ...}],
     "records": [{"id": ..., "ok": bool, "payload": {...} | null, "issues": [...], "notes": [...]}]}

A row a mapping ``skip`` rule drops is listed under "skipped" (``skip rule: <reason>``), never as a record
or an issue, as the node drops it. ``notes`` say how values were obtained, as the envelope stores them
(``{"loc", "rule", "detail"}``: a value left unknown because it did not parse, with its raw text masked if
the field is personal; a region accepted as a successor of the office's area).

The exit code is 0 only if the sample has records and every one mapped and validated (skipped rows do not
count against it).
"""

from __future__ import annotations

import base64
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from hub.adapters.build import mapper_for, validate_config
from hub.adapters.model import SampleRead, SkippedRow
from hub.errors import ConfigError, FieldIssue, RecordError
from hub.ingest.issues import masked_notes
from hub.ingest.prepared import Prepared
from hub.ingest.validation import Validator
from hub.kit.config_file import load_config, source_entry
from hub.mapping import DeclarativeMapper
from hub.model.records import SourceRecord
from hub.settings import DEV_KEY, SourceEntry
from schemas.catalog import get as get_schema
from schemas.envelope import Note, SourceIdentity, utc_now
from schemas.pii import NikTokenizer, redact_text
from schemas.regions import default_index
from schemas.registry import SchemaSpec

DEV_TOKENIZER = NikTokenizer(base64.b64decode(DEV_KEY), key_id="dev")


@dataclass
class RecordResult:
    """What happened to one sample record."""

    number: int
    record: SourceRecord
    prepared: Prepared | None
    mapping_issues: list[FieldIssue]
    schema_issues: list[FieldIssue]
    notes: tuple[Note, ...] = ()
    """How values were obtained, as the envelope stores them (masked like a stored note)."""

    @property
    def valid(self) -> bool:
        return self.prepared is not None

    @property
    def shown_id(self) -> str | None:
        """The record id as the envelope has it (or the adapter's), redacted of NIK-like digits."""
        rid = self.prepared.envelope.source_record_id if self.prepared else self.record.source_record_id
        return None if rid is None else redact_text(str(rid))


@dataclass
class TestRun:
    """A whole sample: what the adapter read and skipped, and each record's result."""

    spec: SchemaSpec
    read: SampleRead
    results: list[RecordResult]
    skipped: list[SkippedRow]


def read_with_adapter(entry: SourceEntry, sample: Path | None, *, live: int | None = None) -> SampleRead:
    """The sample read by ``entry``'s adapter with ``entry``'s config (validated as ``check-config``);
    ``live``: that many records from the configured source itself (sql_poll), no sample file."""
    plugin, config = validate_config(entry)
    if plugin.read_sample is None:
        raise ConfigError(
            f"the {plugin.name} adapter cannot read raw samples", key=f"sources[{entry.name}].kind"
        )
    if live is not None:
        data, name = b"", f"live:{live}"
    elif sample is None:
        raise ConfigError("give --sample (or --live N for a database source)", key="--sample")
    else:
        try:
            data, name = sample.read_bytes(), sample.name
        except FileNotFoundError:
            raise ConfigError("sample file not found", key=str(sample)) from None
    identity = SourceIdentity(system=entry.system, office=entry.office, adapter=entry.name)

    def make(raw: Any, **meta: Any) -> SourceRecord:
        return SourceRecord(entry.schema_name, raw, identity, **meta)

    return plugin.read_sample(config, data, name=name, make=make)


def check_records(entry: SourceEntry, read: SampleRead) -> TestRun:
    """Map and validate every record the adapter read; no output, no broker."""
    mapper = mapper_for(entry)
    if not isinstance(mapper, DeclarativeMapper):
        raise ConfigError("the source has no mapping to test", key=f"sources[{entry.name}].mapping")
    spec = get_schema(entry.schema_name)
    validator = Validator(default_index(), DEV_TOKENIZER)
    results: list[RecordResult] = []
    skipped = list(read.skipped)
    for number, record in enumerate(read.records, start=1):
        evaluation = mapper.evaluate(record)
        if evaluation.skipped is not None:  # the mapping's skip rule: not a record, not quarantined
            where = f"record {number}" + (
                f" (id {redact_text(record.source_record_id)})" if record.source_record_id else ""
            )
            skipped.append(SkippedRow(where, f"skip rule: {evaluation.skipped}"))
            continue
        notes = masked_notes(evaluation.notes, spec.pii_paths)
        if evaluation.mapped is None:
            schema = validator.schema_issues(spec, evaluation.payload, evaluation.issues)
            results.append(RecordResult(number, record, None, evaluation.issues, schema, notes))
            continue
        try:
            prepared = validator.prepare(record, evaluation.mapped, spec, utc_now())
        except RecordError as err:
            results.append(RecordResult(number, record, None, [], err.issues, notes))
            continue
        # The envelope's notes: the mapping's (masked) and the validator's (a successor region).
        results.append(RecordResult(number, record, prepared, [], [], prepared.envelope.notes))
    return TestRun(spec, read, results, skipped)


def source_from_file(path: Path, *, kind: str, schema: str, office: str) -> SourceEntry:
    """The one ``[[sources]]`` block of ``path`` (TOML), with kind, schema and office from the command."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("source file not found", key=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", key=str(path)) from None
    blocks = data.get("sources", [data])
    if not isinstance(blocks, list) or len(blocks) != 1 or not isinstance(blocks[0], dict):
        raise ConfigError("give exactly one [[sources]] block", key=str(path))
    return entry_of(blocks[0], kind=kind, schema=schema, office=office)


def entry_of(block: dict[str, Any], *, kind: str, schema: str, office: str) -> SourceEntry:
    """A ``SourceEntry`` from a source block, the command's kind, schema and office taking precedence."""
    fields = {"name": "sample", "system": "sample", **block, "kind": kind, "schema": schema, "office": office}
    try:
        return SourceEntry.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"the source block is not valid: {problems}") from None


def run_mapping_test(
    config: Path | None,
    adapter: str | None,
    sample: Path | None,
    out: TextIO,
    *,
    live: int | None = None,
    kind: str | None = None,
    schema: str | None = None,
    office: str | None = None,
    source: Path | None = None,
    as_json: bool = False,
    quiet: bool = False,
) -> int:
    """Print the result per record and a summary (or one JSON object); return the exit code."""
    if config is not None:
        if adapter is None:
            raise ConfigError("--config needs --adapter (the [[sources]] name)", key="--adapter")
        entry = source_entry(load_config(config), adapter)
    else:
        if kind is None or schema is None or office is None:
            raise ConfigError("give --config and --adapter, or --kind, --schema and --office", key="--config")
        if source is not None:
            entry = source_from_file(source, kind=kind, schema=schema, office=office)
        elif sample is None:
            raise ConfigError(
                "without --source, the proposal needs a --sample to propose from", key="--sample"
            )
        else:
            from hub.kit.propose import propose

            entry = entry_of(
                propose(kind, schema, office, sample).block, kind=kind, schema=schema, office=office
            )
    run = check_records(entry, read_with_adapter(entry, sample, live=live))
    if as_json:
        json.dump(as_object(run), out, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        print_run(run, entry, sample.name if sample else f"live:{live}", out, quiet)
    valid = sum(r.valid for r in run.results)
    return 0 if run.results and valid == len(run.results) else 1


def _issue(stage: str, issue: FieldIssue) -> dict[str, str]:
    return {"stage": stage, "loc": issue.loc, "rule": issue.rule, "message": issue.message}


def _note(note: Note) -> dict[str, str]:
    return {"loc": note.loc, "rule": note.rule, "detail": note.detail}


def as_object(run: TestRun) -> dict[str, Any]:
    """The ``--json`` object (see the module docstring)."""
    return {
        "read": len(run.read.records),
        "skipped": [{"where": s.where, "why": s.why} for s in run.skipped],
        "records": [
            {
                "id": r.shown_id,
                "ok": r.valid,
                "payload": r.prepared.envelope.payload if r.prepared else None,
                "issues": [_issue("mapping", i) for i in r.mapping_issues]
                + [_issue("schema", i) for i in r.schema_issues],
                "notes": [_note(n) for n in r.notes],
            }
            for r in run.results
        ],
    }


def print_run(run: TestRun, entry: SourceEntry, sample: str, out: TextIO, quiet: bool) -> None:
    """The human report: what was read and skipped, each record, the totals."""
    mapping = (entry.mapping or {}).get("version", "?")
    print(
        f"mapping {mapping} -> {run.spec.ref}; sample {sample} read by {entry.kind}: "
        f"{len(run.read.records)} record(s), {len(run.skipped)} skipped",
        file=out,
    )
    for note in run.read.notes:
        print(f"  {note}", file=out)
    for skip in run.skipped:
        print(f"  skipped {skip.where}: {skip.why}", file=out)
    for result in run.results:
        _print_result(result, run.spec, out, quiet)
    valid = sum(r.valid for r in run.results)
    print(f"\n{len(run.results)} record(s): {valid} valid, {len(run.results) - valid} invalid", file=out)


def _print_result(result: RecordResult, spec: SchemaSpec, out: TextIO, quiet: bool) -> None:
    if result.prepared is not None:
        env = result.prepared.envelope
        print(
            f"\nrecord {result.number}: id {result.shown_id}, revision {env.revision}, "
            f"{env.op}, kode_wilayah {env.kode_wilayah}: valid against {spec.ref}",
            file=out,
        )
        if not quiet:
            # As stored: redacted free text, NIK tokens (development key), real booleans and numbers.
            text = json.dumps(env.payload, indent=2, ensure_ascii=False, default=str)
            print("\n".join("  " + line for line in text.splitlines()), file=out)
        _print_notes(result, out)
        return
    counts = f"{len(result.mapping_issues)} mapping issue(s), {len(result.schema_issues)} schema issue(s)"
    print(f"\nrecord {result.number}: INVALID ({counts}); id {result.shown_id}", file=out)
    rows = [("mapping", i) for i in result.mapping_issues] + [("schema", i) for i in result.schema_issues]
    width = max(len(i.loc) for _, i in rows) if rows else 0
    rule_width = max(len(i.rule) for _, i in rows) if rows else 0
    for stage, issue in rows:
        print(f"  {stage:<8} {issue.loc:<{width}}  {issue.rule:<{rule_width}}  {issue.message}", file=out)
    _print_notes(result, out)


def _print_notes(result: RecordResult, out: TextIO) -> None:
    for note in result.notes:
        print(f"  note     {note.loc}  {note.rule}  {note.detail}", file=out)
