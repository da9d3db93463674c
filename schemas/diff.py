"""Classify every change between two versions of a schema, with the reason.

The point of view is the sender's: a change is **compatible** when every record valid under the old
version is still valid under the new one (optional field added, enum value added, a limit widened), and
**breaking** when some old record may be refused or misread (field removed or renamed, required field added,
type or limit narrowed, enum value removed, pattern changed, region levels narrowed, identity changed). A
change of wording only (descriptions, titles, translations, examples) is **docs**.

Semantic versioning follows: breaking -> major, compatible -> minor, docs -> patch (:func:`required_bump`).
Renames are recognised when the newer version declares them (an upcaster's ``renames``) or, as a hint, when
one field disappears and one of identical shape appears at the same level.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from schemas.registry import SchemaSpec, version_key

Kind = Literal["breaking", "compatible", "docs"]
Bump = Literal["major", "minor", "patch", "none"]
_ORDER: dict[str, int] = {"none": 0, "patch": 1, "minor": 2, "major": 3}
_BUMP_OF: dict[str, Bump] = {"breaking": "major", "compatible": "minor", "docs": "patch"}
_DOC_KEYS = ("description", "title", "x-description-id", "examples")
# (keyword, direction): "max" = a larger value accepts more; "min" = a smaller value accepts more.
_LIMITS = (
    ("maxLength", "max"),
    ("maxItems", "max"),
    ("maximum", "max"),
    ("exclusiveMaximum", "max"),
    ("minLength", "min"),
    ("minItems", "min"),
    ("minimum", "min"),
    ("exclusiveMinimum", "min"),
)


@dataclass(frozen=True)
class Change:
    """One difference: where, what kind, and why it is that kind."""

    path: str
    kind: Kind
    change: str
    reason: str

    def line(self) -> str:
        return f"{self.kind:<10} {self.path or '(schema)'}: {self.change} - {self.reason}"


@dataclass(frozen=True)
class Shape:
    """What a validator sees at one field path."""

    path: str
    required: bool
    types: frozenset[str]
    enum: frozenset[str] | None
    limits: Mapping[str, Any]
    pattern: str | None
    fmt: str | None
    pii: str
    docs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class DiffResult:
    """The changes between ``old`` and ``new`` and the bump they need."""

    name: str
    old: str
    new: str
    changes: list[Change]

    @property
    def kind(self) -> Kind | None:
        kinds = {c.kind for c in self.changes}
        for kind in ("breaking", "compatible", "docs"):
            if kind in kinds:
                return kind
        return None

    @property
    def required_bump(self) -> Bump:
        return _BUMP_OF[self.kind] if self.kind else "none"

    @property
    def actual_bump(self) -> Bump:
        return bump_between(self.old, self.new)

    @property
    def bump_ok(self) -> bool:
        return _ORDER[self.actual_bump] >= _ORDER[self.required_bump]

    def lines(self) -> list[str]:
        head = f"{self.name} {self.old} -> {self.new}: "
        if not self.changes:
            head += "no changes"
        else:
            head += f"{self.kind} (needs a {self.required_bump} bump, is {self.actual_bump})"
            if not self.bump_ok:
                head += f"  VERSION NOT BUMPED ENOUGH: {self.required_bump} bump required"
        return [head, *("  " + c.line() for c in self.changes)]


def bump_between(old: str, new: str) -> Bump:
    """Which part of the version went up from ``old`` to ``new`` (``none`` if not higher)."""
    a, b = version_key(old), version_key(new)
    if b <= a:
        return "none"
    if b[0] > a[0]:
        return "major"
    return "minor" if b[1] > a[1] else "patch"


# --- flattening a JSON Schema into field shapes ---------------------------------------------------------


def shapes(schema: Mapping[str, Any]) -> dict[str, Shape]:
    """Every field path of a pydantic JSON Schema (``a.b``, lists as ``a.*.b``) with its shape."""
    defs = schema.get("$defs", {})
    out: dict[str, Shape] = {}
    _walk_object(schema, "", defs, out)
    return out


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in node and seen < 16:
        target = defs.get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _branches(node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    node = _resolve(node, defs)
    if "anyOf" in node or "oneOf" in node:
        out = []
        for branch in node.get("anyOf", node.get("oneOf", [])):
            out.extend(_branches(branch, defs))
        return out
    return [node]


def _walk_object(
    node: Mapping[str, Any], prefix: str, defs: Mapping[str, Any], out: dict[str, Shape]
) -> None:
    node = _resolve(node, defs)
    required = set(node.get("required", []))
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        _walk_field(sub, path, name in required, defs, out)


def _walk_field(
    node: Mapping[str, Any], path: str, required: bool, defs: Mapping[str, Any], out: dict[str, Shape]
) -> None:
    branches = _branches(node, defs)
    types: set[str] = set()
    enum: set[str] | None = None
    limits: dict[str, Any] = {}
    patterns: set[str] = set()
    fmts: set[str] = set()
    top = _resolve(node, defs)
    for branch in branches:
        if "enum" in branch:
            enum = (enum or set()) | {str(v) for v in branch["enum"]}
        if "const" in branch:
            enum = (enum or set()) | {str(branch["const"])}
        kind = branch.get("type")
        types.update(kind if isinstance(kind, list) else [kind] if kind else ["any"])
        for key, _direction in _LIMITS:
            if key in branch and branch.get("type") != "null":
                limits[f"{branch.get('type')}.{key}"] = branch[key]
        if "pattern" in branch:
            patterns.add(str(branch["pattern"]))
        if "format" in branch:
            fmts.add(str(branch["format"]))
        if "properties" in branch:
            _walk_object(branch, f"{path}.", defs, out)
        if "items" in branch and isinstance(branch["items"], Mapping):
            items = branch["items"]
            if any("properties" in b for b in _branches(items, defs)):
                _walk_object(
                    next(b for b in _branches(items, defs) if "properties" in b), f"{path}.*.", defs, out
                )
            else:
                _walk_field(items, f"{path}.*", True, defs, out)
    out[path] = Shape(
        path=path,
        required=required,
        types=frozenset(types),
        enum=frozenset(enum) if enum is not None else None,
        limits=limits,
        pattern="|".join(sorted(patterns)) or None,
        fmt="|".join(sorted(fmts)) or None,
        pii=str(top.get("x-pii", "none")),
        docs={k: top[k] for k in _DOC_KEYS if k in top},
    )


# --- comparing -----------------------------------------------------------------------------------------


def _widens(old: frozenset[str], new: frozenset[str]) -> bool:
    """True if every type accepted before is accepted now (an integer is also a number)."""
    expanded = set(new) | ({"integer"} if "number" in new else set())
    return old <= expanded or "any" in new


def compare_shapes(
    old: Mapping[str, Shape], new: Mapping[str, Shape], renames: Mapping[str, str] | None = None
) -> list[Change]:
    """The changes from ``old`` to ``new`` field shapes. ``renames`` maps old paths to new ones."""
    renames = dict(renames or {})
    changes: list[Change] = []
    removed = [p for p in old if p not in new and p not in renames]
    added = [p for p in new if p not in old and p not in renames.values()]
    for before, after in renames.items():
        if before in old and after in new:
            changes.append(
                Change(before, "breaking", f"renamed to {after}", "records using the old name are refused")
            )
            changes.extend(_compare_one(old[before], new[after]))
    hinted = _rename_hints(old, new, removed, added)
    for path in removed:
        if _under_any(path, removed) or _under_any(path, list(renames)):
            continue
        hint = hinted.get(path)
        reason = "records carrying it are refused (unknown fields are not accepted)"
        if hint:
            reason += f"; looks renamed to {hint}"
        changes.append(Change(path, "breaking", "field removed", reason))
    for path in added:
        if _under_any(path, added) or _under_any(path, list(renames.values())):
            continue
        shape = new[path]
        if shape.required and _parent_present(path, old):
            changes.append(Change(path, "breaking", "required field added", "records without it are refused"))
        else:
            changes.append(
                Change(path, "compatible", "optional field added", "records without it stay valid")
            )
    for path in sorted(set(old) & set(new)):
        changes.extend(_compare_one(old[path], new[path]))
    return changes


def _under_any(path: str, parents: list[str]) -> bool:
    return any(path != p and path.startswith(p + ".") for p in parents)


def _parent_present(path: str, old: Mapping[str, Shape]) -> bool:
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    parent = parent.removesuffix(".*")
    return parent == "" or parent in old


def _rename_hints(
    old: Mapping[str, Shape], new: Mapping[str, Shape], removed: list[str], added: list[str]
) -> dict[str, str]:
    hints = {}
    for before in removed:
        same = [
            after
            for after in added
            if after.rsplit(".", 1)[0:-1] == before.rsplit(".", 1)[0:-1]
            and new[after].types == old[before].types
            and new[after].enum == old[before].enum
            and new[after].fmt == old[before].fmt
        ]
        if len(same) == 1:
            hints[before] = same[0]
    return hints


def _compare_one(a: Shape, b: Shape) -> Iterator[Change]:
    path = b.path if a.path != b.path else a.path
    if a.required != b.required:
        if b.required:
            yield Change(path, "breaking", "became required", "records that leave it out are refused")
        else:
            yield Change(path, "compatible", "became optional", "every record that has it stays valid")
    if a.types != b.types:
        if _widens(a.types, b.types):
            yield Change(path, "compatible", f"type widened {_t(a.types)} -> {_t(b.types)}", "accepts more")
        else:
            yield Change(
                path,
                "breaking",
                f"type narrowed {_t(a.types)} -> {_t(b.types)}",
                "values of the dropped type are refused",
            )
    if a.enum != b.enum:
        old_values, new_values = a.enum or frozenset(), b.enum or frozenset()
        if b.enum is None:
            yield Change(path, "compatible", "code list dropped", "any value of the type is accepted")
        elif a.enum is None:
            yield Change(path, "breaking", "restricted to a code list", "free values are refused")
        else:
            if new_values - old_values:
                values = ", ".join(sorted(new_values - old_values))
                yield Change(path, "compatible", f"enum value added: {values}", "old values stay valid")
            if old_values - new_values:
                values = ", ".join(sorted(old_values - new_values))
                yield Change(
                    path, "breaking", f"enum value removed: {values}", "records using it are refused"
                )
    for key, direction in _LIMITS:
        for typed in {k for k in (*a.limits, *b.limits) if k.endswith("." + key)}:
            before, after = a.limits.get(typed), b.limits.get(typed)
            if before == after:
                continue
            label = f"{key} {before} -> {after}"
            wider = after is None or (
                before is not None and (after > before if direction == "max" else after < before)
            )
            if wider:
                yield Change(path, "compatible", f"limit widened: {label}", "accepts more")
            else:
                yield Change(
                    path, "breaking", f"type narrowed: {label}", "values valid before may be refused"
                )
    if a.pattern != b.pattern:
        if b.pattern is None:
            yield Change(path, "compatible", "pattern dropped", "accepts more")
        else:
            yield Change(
                path, "breaking", "pattern changed", "values matching the old pattern may be refused"
            )
    if a.fmt != b.fmt:
        yield Change(path, "breaking", f"format {a.fmt} -> {b.fmt}", "values may be read differently")
    if a.pii != b.pii:
        yield Change(
            path,
            "breaking",
            f"PII class {a.pii} -> {b.pii}",
            "receivers' handling duties for the data change",
        )
    if a.docs != b.docs:
        keys = sorted(k for k in set(a.docs) | set(b.docs) if a.docs.get(k) != b.docs.get(k))
        yield Change(path, "docs", f"{', '.join(keys)} changed", "wording only; validation is unchanged")


def _t(types: frozenset[str]) -> str:
    return "|".join(sorted(types))


def diff_specs(old: SchemaSpec, new: SchemaSpec, renames: Mapping[str, str] | None = None) -> DiffResult:
    """All changes from ``old`` to ``new`` (two versions of one schema), field and schema level.

    Without ``renames``, the renames declared by the upcasters between the two majors are used."""
    if renames is None:
        from schemas.evolution import declared_renames

        renames = declared_renames(old.name, old.major, new.major)
    changes = compare_shapes(
        shapes(old.model.model_json_schema()), shapes(new.model.model_json_schema()), renames
    )
    changes.extend(_schema_level(old, new))
    return DiffResult(old.name, old.version, new.version, changes)


def _schema_level(old: SchemaSpec, new: SchemaSpec) -> Iterator[Change]:
    if old.region_levels != new.region_levels:
        if old.region_levels <= new.region_levels:
            yield Change("", "compatible", "region levels widened", "records of every old level stay valid")
        else:
            yield Change("", "breaking", "region levels narrowed", "records of a dropped level are refused")
    if old.identity != new.identity:
        yield Change("", "breaking", "identity changed", "the same record would get another key")
    if old.default_classification != new.default_classification:
        yield Change(
            "",
            "breaking",
            f"default classification {old.default_classification} -> {new.default_classification}",
            "who may receive records changes",
        )
    for attr in ("title", "description", "title_id", "description_id", "owner"):
        if getattr(old, attr) != getattr(new, attr):
            yield Change("", "docs", f"{attr} changed", "metadata only")
