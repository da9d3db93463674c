"""What a sample's values say, for ``simpul mapping propose``: candidate rules tried on every sample
record with the hub's own compiler (``_Trial``), rows that look like test submissions, distinct values,
value maps onto an enum's members, country codes, time and kode wilayah shapes, the source paths a rule
reads, and how a matched rule is described in its comment.

Imports ``hub.errors``, ``hub.mapping``, ``hub.model`` and ``hub.kit.propose_names`` and
``hub.kit.propose_fields`` only.
"""

from __future__ import annotations

import re
from typing import Any

from hub.errors import ConfigError, MappingError
from hub.kit.propose_fields import _present, flatten
from hub.kit.propose_names import _PERSONAL, words
from hub.mapping import compile_mapping
from hub.mapping.countries import parse_country
from hub.mapping.paths import loose_key
from hub.model.records import SourceRecord


class _Trial:
    """Candidate rules tried on every sample record with the hub's compiler."""

    def __init__(self, records: list[SourceRecord], none_values: list[str]) -> None:
        self.records = records
        self.none_values = none_values

    def outcome(self, rule: dict[str, Any]) -> tuple[int, int, list[Any]]:
        """(records with a value, records with an issue, the values) of ``rule`` over the sample."""
        spec = {"version": "trial", "fields": {"v": rule}, "none_values": self.none_values}
        try:
            mapper = compile_mapping(spec)
        except ConfigError:
            return 0, len(self.records) or 1, []
        filled = bad = 0
        values: list[Any] = []
        for record in self.records:
            result = mapper.evaluate(record)
            if result.skipped is not None:
                continue
            if any(i.loc.startswith("v") for i in result.issues):
                bad += 1
            elif "v" in result.payload:
                filled += 1
                values.append(result.payload["v"])
        return filled, bad, values

    def works(self, rule: dict[str, Any]) -> tuple[bool, int]:
        filled, bad, _ = self.outcome(rule)
        return filled > 0 and bad == 0, filled


TEST_ROW = r"^(test|tes|testing)\b|\babaikan\b|\b(uji )?coba\b|\bdummy\b"
"""A cell of a test submission ("TEST - abaikan", "uji coba formulir"): searched case-folded."""


def _test_rows(records: list[SourceRecord]) -> tuple[tuple[dict[str, Any], int] | None, list[SourceRecord]]:
    """A skip rule for rows that look like test submissions, and the records it leaves (what the mapping
    will see). The rule tests one text column: of those matching in some rows but fewer than half, the
    one matching fewest rows, then the one with the shortest values (a title rather than a description).
    Rows are tested with the hub's own compiler, so the rule proposed is the rule that runs."""
    pattern = re.compile(TEST_ROW, re.I)
    columns: dict[str, list[str]] = {}
    for record in records:
        for key, value in flatten(record.raw).items():
            if isinstance(value, str) and _present(value):
                columns.setdefault(key, []).append(" ".join(value.casefold().split()))
    ranked = []
    for column, values in columns.items():
        hits = sum(1 for v in values if pattern.search(v))
        if hits and 2 * hits < len(records) and not _PERSONAL & set(words(column)):
            ranked.append((hits, sum(map(len, values)) / len(values), column))
    if not ranked:
        return None, records
    column = min(ranked)[2]
    rule = {"reason": "test submission", "when": {"path": column, "matches": TEST_ROW}}
    mapper = compile_mapping({"version": "trial", "fields": {"v": {"const": 1}}, "skip": [rule]})
    kept = [r for r in records if mapper.skip_reason(r) is None]
    return (rule, len(records) - len(kept)), kept


def _distinct(columns: dict[str, list[Any]], column: str) -> list[str]:
    seen: dict[str, None] = {}
    for value in columns[column]:
        if _present(value):
            seen.setdefault(" ".join(str(value).split()), None)
    return list(seen)


# Words that turn a value into its opposite: "TIDAK AKTIF" is not `aktif`, "Sudah LPJ" is not `belum_lpj`.
_NEGATIONS = frozenset({"tidak", "belum", "bukan", "tak", "non", "not"})


def _enum_map(values: list[str], choices: list[str]) -> tuple[dict[str, str], list[str]]:
    """Source value -> enum member by words; the values no member fits. A value and a member that
    disagree on a negation word never match by their other words: a wrong code that validates is worse
    than a TODO."""
    table: dict[str, str] = {}
    missing: list[str] = []
    for value in values:
        v = set(words(value))
        best, best_score = None, 0.0
        for choice in choices:
            c = set(words(choice))
            if loose_key(value) == loose_key(choice):
                best, best_score = choice, 9.0
                break
            if (v & _NEGATIONS) != (c & _NEGATIONS):
                continue
            shared = len(v & c) + sum(
                0.5 for a in v for b in c if a != b and len(a) >= 4 and len(b) >= 4 and (a in b or b in a)
            )
            if shared > best_score:
                best, best_score = choice, shared
        if best is None:
            missing.append(value)
        else:
            table[value] = best
    return table, missing


def _country_code(value: str) -> str | None:
    """The ISO code the mapping's ``parse = "country"`` gives ``value``, or None."""
    try:
        return parse_country(value)
    except MappingError:
        return None


def _paths_in(rule: Any) -> set[str]:
    if isinstance(rule, dict):
        found: set[str] = set()
        for key, value in rule.items():
            if key in ("path", "code", "provinsi", "kabkota", "kecamatan", "desa") and isinstance(value, str):
                found.add(value)
            else:
                found |= _paths_in(value)
        return found
    if isinstance(rule, list):
        return set().union(*(_paths_in(v) for v in rule)) if rule else set()
    return set()


def norm_key(value: str) -> str:
    """A value-map key as the mapping compares it (case and repeated spaces ignored)."""
    return " ".join(value.casefold().split())


def _times(values: list[Any]) -> bool:
    present = [str(v).strip() for v in values if _present(v)]
    return bool(present) and all(
        re.fullmatch(r"\d{1,2}[.:]\d{2}([.:]\d{2})?( ?WI[BT]A?)?", p) for p in present
    )


def _is_code(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{2}(\.\d{2}){0,2}(\.\d{4})?", value) is not None


def _how(kind: str, rule: dict[str, Any]) -> str:
    how = rule.pop("_why", None) or _how_by_rule(kind, rule)
    note = rule.pop("_note", None)
    return f"{how}; {note}" if note else how


def _how_by_rule(kind: str, rule: dict[str, Any]) -> str:
    if kind == "country":
        return "country names -> ISO 3166 alpha-2 (parse = country: CLDR names via Babel)"
    if "split" in rule and "map" not in rule:
        return "split into a list" + (" of kode wilayah" if kind == "list_region" else "")
    if "map" in rule:
        return "value map onto the schema's codes (the values seen, and every code by its label)"
    if "region" in rule:
        return "resolves inside the office"
    if rule.get("parse") == "date_range":
        return f"every value is a period; its {rule['part']}"
    if "parse" in rule:
        return f"every value parses as {rule['parse']}"
    if "pii" in rule:
        return {"nik": "NIKs check; stored as tokens", "passport": "passport numbers; stored as tokens"}.get(
            rule["pii"], "free text, NIKs and phone numbers redacted"
        )
    return "text"
