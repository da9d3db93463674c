"""Building an ``Envelope`` from a verified record without validating it again.

A record is parsed and validated once, where it enters the hub; the node that validated it signed it. At
the sink, a record whose signature verified (``hub.trust.verify``) is known to be exactly what that node
validated, so ``trusted_envelope`` builds the typed ``Envelope`` with ``model_construct`` (nested
``SourceIdentity``, ``Note``, ``Hop`` too, datetimes parsed, tuples for tuple fields) after a structural
check of every field: types, the literal and enum values, string length limits, ``revision`` an int >= 0,
no unknown keys. The result equals ``Envelope.model_validate(item)``: same values, same fields set, same
``model_dump``/``model_dump_json`` (``tests/unit/test_trusted_envelope.py`` proves it over the catalogue's
examples). Anything the check is not sure of returns ``None``, and the caller takes the full pydantic path,
which names the failing fields.

Only for verified records: the check is no validation of content (the payload is taken as the dict that
arrived, and ``lineage``, which is not signed, only has its shape checked as pydantic would).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from schemas.classification import Classification
from schemas.envelope import ENVELOPE_SPEC, Envelope, Hop, Note, SourceIdentity

# The timestamps pydantic writes (and ``datetime.fromisoformat`` reads the same way): both parsers agree
# on this form, so a value parsed here equals the one pydantic would have built.
_AWARE = re.compile(  # ASCII: \d would match any Unicode digit
    r"\d{4}-\d\d-\d\dT(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,6})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_CLASSIFICATIONS = {c.value: c for c in Classification}
_OPS = frozenset({"upsert", "withdraw"})
_REQUIRED = frozenset(
    {
        "message_id",
        "schema_name",
        "schema_version",
        "source_record_id",
        "revision",
        "record_key",
        "idempotency_key",
        "source",
        "kode_wilayah",
        "region_ref",
        "reported_at",
        "received_at",
        "payload",
    }
)
_PLAIN = ("message_id", "schema_name", "schema_version", "record_key", "idempotency_key", "kode_wilayah")
_OPTIONAL_STR = ("correlation_id", "mapping_version", "signature")
_KNOWN = _REQUIRED | {
    "spec",
    "op",
    "occurred_at",
    "classification",
    "pii",
    "correlation_id",
    "mapping_version",
    "notes",
    "lineage",
    "signature",
}
_SOURCE_KEYS = frozenset({"system", "office", "adapter"})
_NOTE_KEYS = frozenset({"loc", "rule", "detail"})
_HOP_KEYS = frozenset({"node", "level", "at", "status"})
# The fields and limits checked here are those of schemas.envelope; if the model gains or loses a field,
# this module must learn it first: until then every record takes the full path.
ENABLED = frozenset(Envelope.model_fields) == _KNOWN


class _Doubt(Exception):
    """Something the structural check is not sure of: take the full path."""


def trusted_envelope(item: Mapping[str, Any]) -> Envelope | None:
    """The ``Envelope`` of a verified envelope dict, or ``None`` when anything is in doubt (see the module
    docstring). Never raises for bad input."""
    if not ENABLED or not item.keys() >= _REQUIRED or not item.keys() <= _KNOWN:
        return None
    try:
        return _build(item)
    except (_Doubt, TypeError, ValueError, AttributeError):
        return None


def _build(item: Mapping[str, Any]) -> Envelope:
    values: dict[str, Any] = {}
    for name in _PLAIN:
        values[name] = _str(item[name])
    for name in _OPTIONAL_STR:
        if name in item:
            value = item[name]
            values[name] = None if value is None else _str(value)
    if "spec" in item and item["spec"] != ENVELOPE_SPEC:
        raise _Doubt
    if "spec" in item:
        values["spec"] = ENVELOPE_SPEC
    if "op" in item:
        op = item["op"]
        if type(op) is not str or op not in _OPS:
            raise _Doubt
        values["op"] = op
    values["source_record_id"] = _str(item["source_record_id"], 1, 200)
    revision = item["revision"]
    if type(revision) is not int or revision < 0:
        raise _Doubt
    values["revision"] = revision
    source = item["source"]
    if type(source) is not dict or source.keys() != _SOURCE_KEYS:
        raise _Doubt
    values["source"] = SourceIdentity.model_construct(
        system=_str(source["system"], 1, 100),
        office=_str(source["office"]),
        adapter=_str(source["adapter"], 1, 100),
    )
    values["region_ref"] = _str(item["region_ref"])
    if "occurred_at" in item:
        occurred = item["occurred_at"]
        values["occurred_at"] = None if occurred is None else _aware(occurred)
    values["reported_at"] = _aware(item["reported_at"])
    values["received_at"] = _aware(item["received_at"])
    if "classification" in item:
        classification = item["classification"]
        if type(classification) is not str or classification not in _CLASSIFICATIONS:
            raise _Doubt
        values["classification"] = _CLASSIFICATIONS[classification]
    if "pii" in item:
        values["pii"] = tuple(_str(path) for path in _list(item["pii"]))
    if "notes" in item:
        values["notes"] = tuple(_note(note) for note in _list(item["notes"]))
    if "lineage" in item:
        values["lineage"] = tuple(_hop(hop) for hop in _list(item["lineage"]))
    payload = item["payload"]
    if type(payload) is not dict:
        raise _Doubt
    values["payload"] = payload
    return Envelope.model_construct(**values)


def _str(value: object, least: int = 0, most: int | None = None) -> str:
    if type(value) is not str or len(value) < least or (most is not None and len(value) > most):
        raise _Doubt
    return value


def _list(value: object) -> list[Any]:
    if type(value) is not list:
        raise _Doubt
    return value


def _aware(value: object) -> datetime:
    if type(value) is not str or not _AWARE.fullmatch(value):
        raise _Doubt
    return datetime.fromisoformat(value)  # a ValueError (e.g. month 13) means doubt too


def _note(note: object) -> Note:
    if type(note) is not dict or note.keys() != _NOTE_KEYS:
        raise _Doubt
    return Note.model_construct(
        loc=_str(note["loc"], 0, 200), rule=_str(note["rule"], 0, 64), detail=_str(note["detail"], 0, 500)
    )


def _hop(hop: object) -> Hop:
    if type(hop) is not dict or not {"node", "level", "at"} <= hop.keys() or not hop.keys() <= _HOP_KEYS:
        raise _Doubt
    values: dict[str, Any] = {"node": _str(hop["node"]), "level": _str(hop["level"]), "at": _aware(hop["at"])}
    if "status" in hop:
        values["status"] = _str(hop["status"])
    return Hop.model_construct(**values)
