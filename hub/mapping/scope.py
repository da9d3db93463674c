"""The per-record state a compiled mapping works in: where paths are read from, issues, time zones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from typing import Any

from hub.errors import FieldIssue
from hub.mapping.paths import MISSING, get_path
from hub.mapping.timezones import AUTO, OFFICE, parse_tz, zone_of_region
from hub.model.records import SourceRecord
from schemas.envelope import Note


@dataclass(frozen=True)
class ZoneRule:
    """A compiled time-zone setting: a fixed zone, or ``auto``/``office`` decided per record."""

    fixed: tzinfo | None
    mode: str

    @classmethod
    def of(cls, spec: str) -> ZoneRule:
        return cls(parse_tz(spec), spec if spec in (AUTO, OFFICE) else "fixed")


@dataclass
class Scope:
    """One record being mapped. ``base`` is what relative paths read: the raw record, or the current item
    of an ``each`` list (``@`` is the item itself, ``$.`` paths read from the raw record)."""

    record: SourceRecord
    root: Mapping[str, Any]
    base: Any
    none_values: frozenset[str]
    issues: list[FieldIssue] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # shared with item scopes, like issues
    region_code: str | None = None

    def get(self, path: str) -> Any:
        """The value at a source path, or MISSING."""
        if path == "@":
            return self.base
        if path.startswith("$."):
            return get_path(self.root, path[2:])
        return get_path(self.base, path)

    def clean(self, value: Any, none_values: frozenset[str] | None = None) -> Any:
        """``value`` with text trimmed; None when missing, empty or one of the 'no value' texts."""
        if value is MISSING or value is None:
            return None
        if isinstance(value, str):
            text = value.strip()
            return None if text.casefold() in (none_values or self.none_values) else text
        return value

    def value(self, path: str) -> Any:
        """The cleaned value at ``path`` (None when there is none)."""
        return self.clean(self.get(path))

    def with_base(self, base: Any) -> Scope:
        """A scope reading relative paths from ``base`` (an item), sharing the issue list."""
        return replace(self, base=base)

    def zone(self, rule: ZoneRule) -> tzinfo | None:
        """The zone for naive times: fixed, or from the record's region / the office's province."""
        if rule.fixed is not None:
            return rule.fixed
        office_zone = zone_of_region(self.record.source.office)
        if rule.mode == AUTO:
            return zone_of_region(self.region_code) or office_zone
        return office_zone
