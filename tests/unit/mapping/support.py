"""Helpers for the mapping tests: a record of a source, and running one mapping over it."""

from __future__ import annotations

from typing import Any

import pytest

from hub.errors import FieldIssue, MappingError
from hub.mapping import compile_mapping
from hub.model.records import MappedRecord, SourceRecord
from schemas.envelope import SourceIdentity


def record(raw: dict[str, Any], office: str = "32.01", **meta: Any) -> SourceRecord:
    """A raw record of a test source in ``office``."""
    ident = SourceIdentity(system="sitimdu-test", office=office, adapter="test")
    meta.setdefault("source_record_id", "r1")
    meta.setdefault("revision", 1)
    return SourceRecord("conflict_incident", raw, ident, **meta)


def mapping(fields: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A mapping spec with these fields (version "t/1")."""
    return {"version": "t/1", "fields": fields, **top}


def map_one(fields: dict[str, Any], raw: dict[str, Any], office: str = "32.01", **top: Any) -> MappedRecord:
    """Map ``raw`` with a mapping of ``fields``; the test fails on any issue."""
    return compile_mapping(mapping(fields, **top))(record(raw, office))


def issues_of(
    fields: dict[str, Any], raw: dict[str, Any], office: str = "32.01", **top: Any
) -> list[FieldIssue]:
    """The issues mapping ``raw`` raises (the test fails if it maps cleanly)."""
    with pytest.raises(MappingError) as caught:
        map_one(fields, raw, office, **top)
    return caught.value.issues
