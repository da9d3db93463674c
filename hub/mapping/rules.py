"""Compiling one field rule into an evaluator: ``(scope, loc) -> value or None``.

A scalar rule runs: value source (path, const, template, region, or nothing for a pure python rule) ->
cleaning (trim; 'no value' texts become None) -> ``split`` into a list -> per item: ``map``, ``parse``,
``pii``, ``case`` -> ``python`` -> ``default`` / ``required``. A list value from the source is processed
item by item. ``rows`` and ``each`` build lists of objects from sub-rules. Problems inside one rule raise
a ``MappingError``; list builders file their items' issues under ``loc.N.field`` themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.errors import ConfigError, MappingError
from hub.mapping import text
from hub.mapping.conditions import compile_conditions, norm
from hub.mapping.issues import fail, relocate
from hub.mapping.parsers import as_text, compile_parser
from hub.mapping.paths import path_forms, set_path
from hub.mapping.python_ref import call_function, load_function
from hub.mapping.regions import RegionResolver
from hub.mapping.scope import Scope, ZoneRule
from hub.mapping.spec import FieldRule
from schemas.envelope import Note
from schemas.pii import MASK, redact_text

Evaluator = Callable[[Scope, str], Any]
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_RAW_KEPT = 200  # characters of an unparseable value's raw text kept in its note


@dataclass
class Context:
    """Compile-time state: the mapping's defaults and every top-level source path read (for strict mode
    and the drop check), each with the config key that reads it."""

    zone: ZoneRule
    none_values: frozenset[str]
    reads: list[tuple[str, str]] = field(default_factory=list)
    in_item: bool = False

    def read(self, key: str, path: str) -> None:
        if not self.in_item or path.startswith("$."):
            self.reads.append((key, path))

    def used_paths(self) -> set[str]:
        return {form for _, path in self.reads for form in path_forms(path)}


def guarded(evaluate: Evaluator, scope: Scope, loc: str) -> Any:
    """Run ``evaluate``; on a ``MappingError`` file its issues under ``loc`` and return None."""
    try:
        return evaluate(scope, loc)
    except MappingError as exc:
        scope.issues.extend(relocate(exc, loc))
        return None


def compile_rule(rule: FieldRule, ctx: Context, key: str) -> Evaluator:
    """The evaluator of ``rule`` (``key`` names it in config errors: ``fields.status``)."""
    if rule.rows is not None:
        rows = [_compile_fields(row, ctx, f"{key}.rows.{i}") for i, row in enumerate(rule.rows)]
        return _list_builder(lambda scope, loc: [scope.base] * len(rows), rows, rule.skip_empty, per_row=True)
    if rule.each is not None and rule.fields is not None:
        items = compile_rule(rule.each, ctx, f"{key}.each")
        ctx.in_item, outer = True, ctx.in_item
        fields = [_compile_fields(rule.fields, ctx, f"{key}.fields")]
        ctx.in_item = outer
        return _list_builder(items, fields, rule.skip_empty, per_row=False)
    source = _source(rule, ctx, key)
    process = _processor(rule, ctx, key)
    function = load_function(rule.python, f"{key}.python") if rule.python else None
    none_values = frozenset(v.casefold() for v in rule.none_values) if rule.none_values is not None else None
    for path in rule.uses:
        ctx.read(key, path)
    holds = compile_conditions(rule.when, lambda path: ctx.read(key, path)) if rule.when else None

    def evaluate(scope: Scope, loc: str) -> Any:
        if holds is not None and not holds(scope):
            return None  # the field is left out: no default, no required check
        values = [v for v in (scope.clean(c, none_values) for c in source(scope)) if v is not None]
        value: Any = None
        if values and rule.pick == "latest":
            parsed = [p for p in (process(scope, v, loc) for v in values) if p is not None]
            value = max(parsed) if parsed else None
        elif values:
            value = process(scope, values[0], loc)
        if function is not None:
            value = call_function(function, rule.python or "", value, scope.root)
        if value is None or value == []:
            if rule.has_default:
                return rule.default
            if rule.required:
                fail("missing", "the source has no value for this required field")
            return None
        return value

    return evaluate


def _source(rule: FieldRule, ctx: Context, key: str) -> Callable[[Scope], list[Any]]:
    if rule.path is not None:
        paths = [rule.path] if isinstance(rule.path, str) else rule.path
        for path in paths:
            ctx.read(key, path)
        return lambda scope: [scope.get(p) for p in paths]
    if rule.has_const:
        const = rule.const
        return lambda scope: [const]
    if rule.template is not None:
        holes = _PLACEHOLDER.findall(rule.template)
        for path in holes:
            ctx.read(key, path)
        template = rule.template

        def render(scope: Scope) -> list[Any]:
            def fill(match: re.Match[str]) -> str:
                value = scope.value(match.group(1))
                if value is None:
                    fail("missing", f"template placeholder {{{match.group(1)}}} has no value")
                return as_text(value)

            return [_PLACEHOLDER.sub(fill, template)]

        return render
    if rule.region is not None:
        try:
            resolver = RegionResolver(rule.region)
        except ValueError as exc:
            raise ConfigError(str(exc), key=f"{key}.region") from None
        for path in resolver.paths():
            ctx.read(key, path)
        return lambda scope: [resolver(scope.value, scope.record.source.office, scope.notes.append)]
    return lambda scope: []  # a pure python rule: the function decides (its value argument is None)


def _processor(rule: FieldRule, ctx: Context, key: str) -> Callable[[Scope, Any, str], Any]:
    """``(scope, value, loc) -> value``: split, then the per-item steps. With ``on_unparseable =
    "unknown"`` a value (or list item) a step refuses becomes None and a ``value_unparseable`` note keeps
    its raw text, masked (``***`` for a ``pii`` rule, else NIKs and phone numbers redacted)."""
    one = _one(rule, ctx, key)
    separators = [rule.split] if isinstance(rule.split, str) else rule.split
    lenient, personal = rule.on_unparseable == "unknown", rule.pii is not None

    def attempt(scope: Scope, value: Any, loc: str) -> Any:
        if not lenient:
            return one(scope, value)
        try:
            return one(scope, value)
        except MappingError as exc:
            why = exc.issues[0].rule if exc.issues else exc.reason
            raw = MASK if personal else redact_text(as_text(value))[:_RAW_KEPT]
            note = f"{why}; left unknown; raw text: {raw}"
            scope.notes.append(Note(loc=loc, rule="value_unparseable", detail=note))
            return None

    def process(scope: Scope, value: Any, loc: str) -> Any:
        if separators and isinstance(value, str):
            value = text.split_text(value, separators)
        if isinstance(value, list | tuple):
            items = [(i, scope.clean(v)) for i, v in enumerate(value)]
            done = (attempt(scope, v, f"{loc}.{i}") for i, v in items if v is not None)
            return [r for r in done if r is not None]
        return attempt(scope, value, loc)

    return process


def _one(rule: FieldRule, ctx: Context, key: str) -> Callable[[Scope, Any], Any]:
    steps: list[Callable[[Scope, Any], Any]] = []
    if rule.map is not None:
        steps.append(_value_map(rule.map))
    if rule.parse is not None:
        steps.append(compile_parser(rule, ctx, key))
    if rule.pii is not None:
        pii: Callable[[object], str] = {
            "nik": text.clean_nik,
            "passport": text.clean_passport,
            "redact": text.redact,
        }[rule.pii]
        steps.append(lambda scope, value: pii(value))
    if rule.case is not None:
        change: Callable[[str], str] = {"upper": str.upper, "lower": str.lower, "title": str.title}[rule.case]
        steps.append(lambda scope, value: change(value) if isinstance(value, str) else value)

    def one(scope: Scope, value: Any) -> Any:
        for step in steps:
            if value is None:
                return None
            value = step(scope, value)
        return value

    return one


def _value_map(table: dict[str, Any]) -> Callable[[Scope, Any], Any]:
    exact = {norm(k): v for k, v in table.items() if not k.startswith("re:") and k != "*"}
    patterns = [(re.compile(k[3:], re.IGNORECASE), v) for k, v in table.items() if k.startswith("re:")]
    otherwise, has_otherwise = table.get("*"), "*" in table
    known = ", ".join(k for k in table if k != "*")[:200]

    def lookup(scope: Scope, value: Any) -> Any:
        wanted = norm(as_text(value))
        if wanted in exact:
            return exact[wanted]
        for pattern, result in patterns:
            if pattern.search(wanted):
                return result
        if has_otherwise:
            return otherwise
        fail("value_unmapped", f"the value is not in the value map (known: {known})")

    return lookup


def _compile_fields(rules: dict[str, FieldRule], ctx: Context, key: str) -> list[tuple[str, Evaluator, bool]]:
    return [(name, compile_rule(sub, ctx, f"{key}.{name}"), sub.has_const) for name, sub in rules.items()]


def _list_builder(
    items: Evaluator, rows: list[list[tuple[str, Evaluator, bool]]], skip_empty: bool, *, per_row: bool
) -> Evaluator:
    """Lists of objects: one object per item (``each``) or per configured row (``rows``). An object whose
    non-constant fields are all empty (and raised nothing) is left out when ``skip_empty``."""

    def evaluate(scope: Scope, loc: str) -> Any:
        source = items(scope, loc)
        if source is None:
            return None
        elements = source if isinstance(source, list) else [source]
        out: list[dict[str, Any]] = []
        for index, element in enumerate(elements):
            fields = rows[index] if per_row else rows[0]
            sub = scope if per_row else scope.with_base(element)
            built: dict[str, Any] = {}
            before, meaningful = len(sub.issues), False
            for name, evaluate_field, is_const in fields:
                value = guarded(evaluate_field, sub, f"{loc}.{len(out)}.{name}")
                if value is not None:
                    set_path(built, name, value)
                    meaningful = meaningful or not is_const
            if meaningful or len(sub.issues) > before or not skip_empty:
                out.append(built)
        return out or None

    return evaluate
