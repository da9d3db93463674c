"""A compiled mapping: raw ``SourceRecord`` -> ``MappedRecord`` (payload + identity), or ``MappingError``.

Compilation checks everything that can be checked without data (unknown keys, parsers, time zones, region
scopes, python functions, target paths that collide, fields that read a dropped source field). Evaluation
never stops at the first problem: every field is tried and every issue collected, each with its target
path and rule name but never the value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hub.errors import ConfigError, FieldIssue, MappingError, RecordSkipped
from hub.mapping.conditions import Test, compile_conditions, norm
from hub.mapping.paths import overlaps, path_forms, set_path, uncovered
from hub.mapping.python_ref import call_function, load_function
from hub.mapping.revisions import ContentRevisions, MemoryRevisions, RevisionStore
from hub.mapping.rules import Context, Evaluator, compile_rule, guarded
from hub.mapping.scope import Scope, ZoneRule
from hub.mapping.spec import ContentRevision, FieldRule, MappingSpec
from hub.model.records import MappedRecord, Op, SourceRecord
from schemas.classification import Classification
from schemas.envelope import Note
from schemas.pii import redact_text

REGION_FIELD = "kode_wilayah"  # evaluated first: ``timezone = "auto"`` uses the record's own province


@dataclass(frozen=True)
class Evaluation:
    """Everything a mapping made of one record: the (possibly partial) payload, the issues, and the
    ``MappedRecord`` when there were none. ``simpul mapping test`` shows them. ``skipped`` is the reason of
    the ``skip`` rule that dropped the row (then there is no payload, issue or record); ``notes`` say how
    values were obtained (``value_unparseable`` with the masked raw text)."""

    payload: dict[str, Any]
    issues: list[FieldIssue]
    mapped: MappedRecord | None
    skipped: str | None = None
    notes: tuple[Note, ...] = ()


class DeclarativeMapper:
    """A ``hub.model.records.Mapper`` built from a mapping spec (see ``docs/adapters.md``).

    ``revisions`` keeps content-derived revisions (``revision = { from_content = true }``): the source's
    durable state on a node (``hub.mapping.revisions.StateRevisions``); in memory when not given."""

    def __init__(self, spec: MappingSpec, revisions: RevisionStore | None = None) -> None:
        self.spec = spec
        ctx = Context(ZoneRule.of(spec.timezone), frozenset(v.casefold() for v in spec.none_values))
        self._skip: list[tuple[str, Test]] = [
            (rule.reason, compile_conditions(rule.when, functools.partial(ctx.read, f"skip.{i}")))
            for i, rule in enumerate(spec.skip)
        ]
        self._content = (
            ContentRevisions(revisions or MemoryRevisions())
            if isinstance(spec.revision, ContentRevision)
            else None
        )
        _check_targets(list(spec.fields))
        order = sorted(spec.fields, key=lambda name: name != REGION_FIELD)
        self._fields = [(n, compile_rule(spec.fields[n], ctx, f"fields.{n}")) for n in order]
        self._targets = list(spec.fields)
        meta = {
            k: getattr(spec, k) for k in ("id", "revision", "occurred_at", "reported_at", "classification")
        }
        self._meta: dict[str, Evaluator | None] = {
            k: compile_rule(r, ctx, k) if isinstance(r, FieldRule) else None for k, r in meta.items()
        }
        if self._content is not None:
            self._meta["revision"] = None  # decided from the content once the payload is made
        if spec.op is not None:
            ctx.read("op", spec.op.withdraw_when_set or spec.op.path or "")
        self._post = load_function(spec.python, "python") if spec.python else None
        self._none_values = ctx.none_values
        dropped = {form for d in spec.drop for form in path_forms(d)}
        for key, path in ctx.reads:
            if any(overlaps(form, d) for form in path_forms(path) for d in dropped):
                raise ConfigError("reads a source field listed in drop", key=key)
        self._known = ctx.used_paths() | dropped | {form for i in spec.ignore for form in path_forms(i)}

    @property
    def version(self) -> str:
        return self.spec.version

    def flush(self) -> None:
        """Write state kept since the last call (content revisions) to the source's state; the pipeline
        calls it after mapping each batch."""
        if self._content is not None:
            self._content.flush()

    def __call__(self, record: SourceRecord) -> MappedRecord:
        """Map one record; ``MappingError`` listing every field issue otherwise, ``RecordSkipped`` (with
        the rule's reason) when a ``skip`` rule matched."""
        result = self.evaluate(record)
        if result.skipped is not None:
            raise RecordSkipped(result.skipped)
        if result.mapped is None:
            error = MappingError(f"{len(result.issues)} mapping issue(s)", issues=result.issues)
            # What the mapping did make, so that the pipeline can list the schema's issues too.
            error.partial_payload = result.payload  # type: ignore[attr-defined]
            raise error
        return result.mapped

    def skip_reason(self, record: SourceRecord) -> str | None:
        """The reason of the first ``skip`` rule whose conditions hold for ``record``, or None."""
        if not self._skip:
            return None
        scope = Scope(record, record.raw, record.raw, self._none_values)
        return next((reason for reason, holds in self._skip if holds(scope)), None)

    def evaluate(self, record: SourceRecord) -> Evaluation:
        """Map one record without raising: payload (partial on errors), issues, and the result."""
        skipped = self.skip_reason(record)
        if skipped is not None:
            return Evaluation({}, [], None, skipped=skipped)
        scope = Scope(record, record.raw, record.raw, self._none_values)
        values: dict[str, Any] = {}
        for name, evaluate in self._fields:
            values[name] = guarded(evaluate, scope, name)
            if name == REGION_FIELD and isinstance(values[name], str):
                scope.region_code = values[name]
        payload: dict[str, Any] = {}
        for name in self._targets:
            if values[name] is not None:
                set_path(payload, name, values[name])
        if self._post is not None:
            payload = self._post_process(payload, scope)
        if self.spec.strict:
            self._check_strict(scope)
        ident = self._identity(scope)
        notes = tuple(scope.notes)
        if scope.issues or ident is None:
            return Evaluation(payload, scope.issues, None, notes=notes)
        if self._content is not None:
            content = orjson.dumps(
                {"op": ident["op"], "occurred_at": ident["occurred_at"], "payload": payload},
                default=str,  # Decimal amounts
                option=orjson.OPT_SORT_KEYS,
            )
            ident["revision"] = self._content.revision(ident["source_record_id"], content)
        mapped = MappedRecord.from_source(
            record, payload, mapping_version=self.spec.version, notes=notes, **ident
        )
        return Evaluation(payload, [], mapped, notes=notes)

    def _post_process(self, payload: dict[str, Any], scope: Scope) -> dict[str, Any]:
        assert self._post is not None
        ref = self.spec.python or ""
        try:
            result = call_function(self._post, ref, payload, scope.root)
        except MappingError as exc:
            scope.issues.extend(i if i.loc else FieldIssue("$python", i.rule, i.message) for i in exc.issues)
            return payload
        return result if isinstance(result, dict) else payload

    def _check_strict(self, scope: Scope) -> None:
        for path in uncovered(scope.root, self._known):
            scope.issues.append(
                FieldIssue(
                    f"$source.{redact_text(path)}",
                    "unmapped_source_field",
                    "strict mapping: this source field is neither mapped nor listed in ignore or drop",
                )
            )

    def _meta_value(self, name: str, scope: Scope, fallback: Any) -> Any:
        evaluate = self._meta[name]
        return fallback if evaluate is None else guarded(evaluate, scope, f"${name}")

    def _identity(self, scope: Scope) -> dict[str, Any] | None:
        """The record's identity as this mapping's rules decide it (each falling back to what the source
        record carries), for ``MappedRecord.from_source``; None when a rule failed (issues noted)."""
        record = scope.record
        issues_before = len(scope.issues)
        rid = self._meta_value("id", scope, record.source_record_id)
        source_record_id = _record_id(rid, scope)
        # A content revision is decided later (from the payload): 0 stands in for it here.
        revision = (
            0 if self._content else _revision(self._meta_value("revision", scope, record.revision), scope)
        )
        occurred = _instant(self._meta_value("occurred_at", scope, record.occurred_at), "occurred_at", scope)
        reported = _instant(self._meta_value("reported_at", scope, record.reported_at), "reported_at", scope)
        classification = _classification(
            self._meta_value("classification", scope, record.classification), scope
        )
        op = self._op(scope)
        if len(scope.issues) > issues_before or source_record_id is None or revision is None:
            return None
        return {
            "source_record_id": source_record_id,
            "revision": revision,
            "op": op,
            "occurred_at": occurred,
            "reported_at": reported,
            "classification": classification,
        }

    def _op(self, scope: Scope) -> Op:
        rule = self.spec.op
        if rule is None:
            return scope.record.op
        if rule.withdraw_when_set is not None:
            return "withdraw" if scope.value(rule.withdraw_when_set) is not None else "upsert"
        status = scope.value(rule.path or "")
        return (
            "withdraw"
            if status is not None and norm(status) in {norm(w) for w in rule.withdraw}
            else "upsert"
        )


def _issue(scope: Scope, loc: str, rule: str, message: str) -> None:
    scope.issues.append(FieldIssue(loc, rule, message))


def _record_id(value: Any, scope: Scope) -> str | None:
    if value is None or str(value).strip() == "":
        _issue(scope, "$id", "missing", "no source record id (from the source or the mapping's id rule)")
        return None
    text = format(value, "f") if not isinstance(value, str | int) else str(value).strip()
    if len(text) > 200:
        _issue(scope, "$id", "id_too_long", "the source record id is longer than 200 characters")
        return None
    return text


def _revision(value: Any, scope: Scope) -> int | None:
    if isinstance(value, datetime) and value.tzinfo is not None:
        from hub.mapping.dates import epoch_ms

        value = epoch_ms(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value is None:
        _issue(scope, "$revision", "missing", "no revision (from the source or the mapping's revision rule)")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _issue(scope, "$revision", "revision_type", "a revision is a non-negative integer (or a datetime)")
        return None
    return value


def _instant(value: Any, name: str, scope: Scope) -> datetime | None:
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    _issue(
        scope, f"${name}", "datetime_expected", f"{name} must be a datetime with a zone (parse = datetime)"
    )
    return None


def _classification(value: Any, scope: Scope) -> Classification | None:
    if value is None or isinstance(value, Classification):
        return value
    try:
        return Classification(str(value).strip().upper().replace(" ", "_"))
    except ValueError:
        _issue(
            scope,
            "$classification",
            "classification",
            "not a classification level (BIASA ... SANGAT_RAHASIA)",
        )
        return None


def _check_targets(targets: list[str]) -> None:
    """Target paths are dotted names; one may not be inside another (``korban`` and ``korban.luka``)."""
    for target in targets:
        if not all(part.isidentifier() for part in target.split(".")):
            raise ConfigError("a target path is dotted names (letters, digits, _)", key=f"fields.{target}")
        for other in targets:
            if other.startswith(target + "."):
                raise ConfigError(f"collides with fields.{other}", key=f"fields.{target}")
