"""A consumed record in its JSON form, for sinks that store JSON: no ``Envelope`` model is built for it.

The sink worker hands a sink ``Envelope`` models. Building one (``Envelope.model_validate``) is ~6-9 us a
record, and a sink that stores the envelope as JSON (the PostgreSQL warehouse) only turns it back into
JSON. Such a sink may offer ``write_checked`` (``hub.consume.sink.CheckedSink``): the worker then hands it
``CheckedRecord``s, each the envelope dict as it arrived, for records that

* verified against a registered key (the node that signed them validated them through the model; what
  arrived is exactly what it signed), and
* are at the current version of their schema (no upcast), and
* have exactly the plain shape the model would pass through unchanged (``checked_form``): the keys of
  the model and nothing else, and each value of the type and within the bounds the model declares, its
  timestamps ISO 8601 with an offset.

Anything else (unsigned, upcast, an unusual value) goes the model's way: it is validated, quarantined
with field details if it does not fit, and handed over as ``CheckedRecord.of(envelope)``. So a sink sees
the same values either way; tests/unit/test_checked_record.py compares the rows both ways give.

Imports ``schemas`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.classification import Classification
from schemas.envelope import ENVELOPE_SPEC, Envelope

_SIZE = len(Envelope.model_fields) - 1  # keys of the JSON form without ``notes`` (left out when empty)
_NOTE_KEYS = frozenset({"loc", "rule", "detail"})
_HOP_KEYS = frozenset({"node", "level", "at", "status"})
_CLASSIFICATIONS = frozenset(c.value for c in Classification)
_MAX_REVISION = 2**63  # the warehouse's bigint; the model has no upper bound, the model path decides


@dataclass(slots=True)  # not frozen: the worker sets ``payload_json`` after the signature check
class CheckedRecord:
    """One record the worker accepted, as JSON: ``data`` is the envelope's JSON form (``signature``,
    ``lineage`` and ``payload`` included: exactly what was signed and carried), with its two timestamps
    the warehouse stores as such, parsed, and, when the signature check made them
    (``hub.trust.verify.Verified``), the payload's canonical bytes. Never mutate ``data``."""

    data: dict[str, Any]
    received_at: datetime
    occurred_at: datetime | None
    payload_json: bytes | None = None

    @classmethod
    def of(cls, envelope: Envelope) -> CheckedRecord:
        """An envelope the worker validated with the model (unsigned, or upcast), as JSON."""
        return cls(envelope.model_dump(mode="json"), envelope.received_at, envelope.occurred_at)


def checked_form(item: dict[str, Any]) -> CheckedRecord | None:
    """``item`` (an envelope dict as decoded from the wire) as a ``CheckedRecord`` if it has exactly the
    plain shape ``Envelope`` would pass through unchanged, else None (the model then decides). Checks
    shape and types only: the caller verifies the signature and the schema version. Written flat (one
    expression, no helper calls on the common path): it runs for every record, in ~2-4 us."""
    size = len(item)
    if size != _SIZE and (size != _SIZE + 1 or "notes" not in item):
        return None  # with the 21 look-ups below, the key set is then exactly the model's
    try:
        source, revision, srid = item["source"], item["revision"], item["source_record_id"]
        op, classification, pii = item["op"], item["classification"], item["pii"]
        correlation, mapping, signature = item["correlation_id"], item["mapping_version"], item["signature"]
        received_text, reported_text, occurred_text = (
            item["received_at"], item["reported_at"], item["occurred_at"]
        )  # fmt: skip
        if not (
            item["spec"] == ENVELOPE_SPEC
            and type(item["message_id"]) is str
            and type(item["schema_name"]) is str
            and type(item["schema_version"]) is str
            and (op == "upsert" or op == "withdraw")
            and type(srid) is str
            and 0 < len(srid) <= 200
            and type(revision) is int  # not bool: ``type`` is exact
            and 0 <= revision < _MAX_REVISION
            and type(item["record_key"]) is str
            and type(item["idempotency_key"]) is str
            and type(source) is dict
            and len(source) == 3
            and type(system := source["system"]) is str
            and 0 < len(system) <= 100
            and type(source["office"]) is str
            and type(adapter := source["adapter"]) is str
            and 0 < len(adapter) <= 100
            and type(item["kode_wilayah"]) is str
            and type(item["region_ref"]) is str
            and type(classification) is str
            and classification in _CLASSIFICATIONS
            and type(pii) is list
            and (not pii or all(type(p) is str for p in pii))
            and (correlation is None or type(correlation) is str)
            and (mapping is None or type(mapping) is str)
            and (signature is None or type(signature) is str)
            and type(item["payload"]) is dict
            and type(lineage := item["lineage"]) is list
            and (not lineage or all(_plain_hop(hop) for hop in lineage))
            and (size == _SIZE or _plain_notes(item["notes"]))
        ):
            return None
    except KeyError:  # a key of the model missing (another in its place): the model says which
        return None
    received = _aware(received_text)
    if received is None:
        return None
    # The reported time is most often the received time itself (the validator's default).
    if reported_text != received_text and _aware(reported_text) is None:
        return None
    occurred = None
    if occurred_text is not None and (occurred := _aware(occurred_text)) is None:
        return None
    return CheckedRecord(item, received, occurred)


def _plain_notes(notes: object) -> bool:
    """A non-empty list of notes as ``Note`` declares them (empty ones are left out of the JSON form)."""
    return (
        type(notes) is list
        and len(notes) > 0
        and all(
            type(n) is dict
            and n.keys() == _NOTE_KEYS
            and type(n["loc"]) is str
            and len(n["loc"]) <= 200
            and type(n["rule"]) is str
            and len(n["rule"]) <= 64
            and type(n["detail"]) is str
            and len(n["detail"]) <= 500
            for n in notes
        )
    )


def _plain_hop(hop: object) -> bool:
    return (
        type(hop) is dict
        and hop.keys() == _HOP_KEYS
        and type(hop["node"]) is str
        and type(hop["level"]) is str
        and type(hop["status"]) is str
        and _aware(hop["at"]) is not None
    )


def _aware(value: object) -> datetime | None:
    """An ISO 8601 timestamp with an offset (``YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM)``, as the envelope
    writes them), parsed; None for anything else, which the model then judges (it accepts more forms)."""
    if type(value) is not str or len(value) < 20 or value[10] != "T" or value[4] != "-" or value[7] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
