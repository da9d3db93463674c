"""Turns a mapped record into a validated, serialised envelope, or a ``RecordError`` saying why not.

Pure and synchronous (no I/O), so it is cheap to test and to call from any source. Checks, in order:
the schema exists; the payload fits it (pydantic, NIKs tokenized through the validation context); the
kode wilayah is of a level the schema allows; it lies within the sending office's region. With a
``signer`` (the first hub), the envelope is signed over its canonical form (``hub.trust.signing``).

Two steps, so that records offered together share one batch signature: ``draft`` validates one record
and builds its envelope's JSON form (a dict, serialised in two parts with keys sorted: the fields before
``lineage``, and the payload); ``seal`` joins each draft's canonical bytes from those two parts, signs
them together (one Ed25519 signature per batch, a Merkle path per record) and joins each body from the
same parts around its signature. ``prepare`` does both for one record. No ``Envelope`` model is built on
this path unless a value needs the model's validation (tests/unit/test_envelope_fast.py holds the bodies
to the model's JSON form).

The body's keys: the head's, sorted; then ``lineage``, ``signature`` and ``payload`` (its keys sorted at
every depth). JSON gives key order no meaning; this order lets the signed bytes reuse the body's parts.

What it hands on is in ``hub.ingest.prepared``; the wording of refusals in ``hub.ingest.issues``; the
office rule in ``hub.ingest.offices``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, TypeAdapter, ValidationError

from hub.errors import FieldIssue, RecordError, RegionError, ValidationFailed
from hub.ingest.issues import issues_from, masked_notes, unstorable
from hub.ingest.offices import successor_note, within_office
from hub.ingest.prepared import Draft, Prepared
from hub.model.records import MappedRecord, SourceRecord
from hub.model.router import routing_key
from hub.trust.signing import Signer, canonical_joined, canonical_unsigned
from schemas.catalog import get as get_schema
from schemas.classification import Classification
from schemas.envelope import (
    ENVELOPE_SPEC,
    Envelope,
    Note,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from schemas.pii import NikTokenizer
from schemas.regions import REGION_REF, RegionIndex
from schemas.registry import SchemaSpec

_LEVEL_NAMES = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "kelurahan/desa"}


_NUL_ESCAPE = b"\\u0000"  # how orjson writes U+0000
# The envelope's fields after its head: joined as bytes around the signature (``Validator.seal``).
_BODY_TAIL: set[str] = {"lineage", "signature", "payload"}
# The envelope's datetimes are written by pydantic's serializer (``Z`` for UTC, not orjson's ``+00:00``).
_TIME_SERIALIZER = TypeAdapter(AwareDatetime).serializer


class Validator:
    """Validates mapped records and wraps them in envelopes for one node."""

    def __init__(
        self,
        regions: RegionIndex,
        tokenizer: NikTokenizer,
        *,
        route_depth: int = 4,
        max_record_bytes: int = 512 * 1024,
        signer: Signer | None = None,
    ) -> None:
        self._regions = regions
        # Bodies are parsed with orjson, so JSON numbers arrive as floats: let Rupiah read them exactly.
        self._context: dict[str, object] = {"nik_tokenizer": tokenizer, "floats_from_json": True}
        self._route_depth = route_depth
        self._max_record_bytes = max_record_bytes
        self._signer = signer
        self._last_time: tuple[object, str] = (None, "")
        # Levels of regions already seen (an existing region's level never changes within one index);
        # bounded by the regions that exist, ~84,000.
        self._levels: dict[str, int] = {}

    def spec_for(self, record: SourceRecord) -> SchemaSpec:
        """The schema the record targets; raises ``UnknownSchema``."""
        return get_schema(record.schema, record.schema_version)

    def schema_issues(
        self, spec: SchemaSpec, payload: dict[str, Any], known: Sequence[FieldIssue] = ()
    ) -> list[FieldIssue]:
        """The schema's issues with a (partial) payload that a mapping could not finish, leaving out those
        at or below a field the mapping already reported (``known``): a ``mapping_failed`` entry then
        lists both, so one look shows every field to fix."""
        try:
            spec.model.model_validate(payload, context=self._context)
        except ValidationError as exc:
            found = issues_from(exc, "data.")
        else:
            return []
        reported = [i.loc.split(".") for i in known if i.loc and not i.loc.startswith("$")]

        def covered(issue: FieldIssue) -> bool:
            parts = issue.loc.removeprefix("data.").split(".")
            return any(parts[: len(r)] == r for r in reported)

        return [i for i in found if not covered(i)]

    def prepare(
        self, record: SourceRecord, mapped: MappedRecord, spec: SchemaSpec, received_at: datetime
    ) -> Prepared:
        """Validate ``mapped`` against ``spec`` and build the signed envelope; raises a ``RecordError``."""
        sealed = self.seal([self.draft(record, mapped, spec, received_at)])[0]
        if isinstance(sealed, RecordError):
            raise sealed
        return sealed

    @property
    def context(self) -> dict[str, object]:
        """The validation context payloads are validated with (NIK tokenizer, JSON floats): a caller
        validating payloads itself (``hub.ingest.items.validate_batch``) passes it on. Do not change it."""
        return self._context

    def draft(
        self,
        record: SourceRecord,
        mapped: MappedRecord,
        spec: SchemaSpec,
        received_at: datetime,
        model: BaseModel | None = None,
    ) -> Draft:
        """Validate ``mapped`` against ``spec`` and build its envelope, unsigned; raises a ``RecordError``.

        The envelope's JSON form is built as a dict directly when the record's metadata has the plain
        types the ``Envelope`` model would pass through unchanged (``_envelope_head``): the same keys and
        values as ``Envelope(...).model_dump(mode="json")`` (tests/unit/test_envelope_fast.py compares
        the bodies) at a fraction of the cost. Anything else goes through the model, which
        validates it and names the issue.

        ``model``: the payload already validated as ``spec.model`` from ``mapped.payload`` with
        ``context`` (HTTP ingest validates a request's items in one call); it is not validated again."""
        if model is None:
            try:
                model = spec.model.model_validate(dict(mapped.payload), context=self._context)
            except ValidationError as exc:
                raise ValidationFailed(
                    f"payload does not fit {spec.ref}", issues=issues_from(exc, "data.")
                ) from None
        kode: str = model.kode_wilayah  # type: ignore[attr-defined]  # every payload schema has it
        successor = self._check_region(kode, spec, record.source.office)
        notes = masked_notes(mapped.notes, spec.pii_paths) if mapped.notes else ()
        if successor is not None:
            notes = (*notes, successor)
        record_key = make_record_key(spec.name, record.source.system, mapped.source_record_id)
        idempotency_key = make_idempotency_key(record_key, mapped.revision)
        message_id = make_message_id(idempotency_key)
        payload: dict[str, Any] = model.__pydantic_serializer__.to_python(model, mode="json")
        envelope: Envelope | None = None
        head = self._envelope_head(
            record, mapped, spec, kode, notes, record_key, idempotency_key, message_id, received_at
        )
        if head is None:  # an unusual type among the metadata: the model validates it (or says why not)
            try:
                envelope = Envelope(
                    message_id=message_id,
                    schema_name=spec.name,
                    schema_version=spec.version,
                    op=mapped.op,
                    source_record_id=mapped.source_record_id,
                    revision=mapped.revision,
                    record_key=record_key,
                    idempotency_key=idempotency_key,
                    source=record.source,
                    kode_wilayah=kode,
                    region_ref=REGION_REF,
                    occurred_at=mapped.occurred_at,
                    reported_at=mapped.reported_at or received_at,
                    received_at=received_at,
                    classification=mapped.classification or spec.default_classification,
                    pii=spec.pii_paths,
                    correlation_id=record.correlation_id,
                    mapping_version=mapped.mapping_version,
                    notes=notes,
                    payload=payload,
                )
            except ValidationError as exc:
                raise ValidationFailed("record metadata is invalid", issues=issues_from(exc)) from None
            head = envelope.model_dump(mode="json", exclude=_BODY_TAIL)
        try:
            # The head (every field before ``lineage``) and the payload are serialised apart, keys sorted:
            # the body and the signed bytes are both joined from them in ``seal``, without serialising
            # the envelope again.
            head_json = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
            payload_json = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # a lone surrogate (not UTF-8); anything else is not the record's
            head["payload"] = payload
            refusal = unstorable(head)
            if refusal is None:
                raise
            raise refusal from None
        head["payload"] = payload  # the unsigned JSON form: what is signed (sorted) and what ``envelope`` is
        key = routing_key(spec.name, spec.major, kode, self._route_depth)
        return Draft(head, head_json, payload_json, key, message_id, envelope)

    def _envelope_head(
        self,
        record: SourceRecord,
        mapped: MappedRecord,
        spec: SchemaSpec,
        kode: str,
        notes: tuple[Note, ...],
        record_key: str,
        idempotency_key: str,
        message_id: str,
        received_at: datetime,
    ) -> dict[str, Any] | None:
        """The envelope's JSON form up to ``lineage`` (without ``lineage``, ``signature`` and ``payload``),
        or None if a value is not of the plain type (exact ``str``/``int``/aware ``datetime``/model) whose
        validation by ``Envelope`` would pass it through unchanged: then the model decides."""
        op, srid, revision, source = mapped.op, mapped.source_record_id, mapped.revision, record.source
        correlation_id, mapping_version = record.correlation_id, mapped.mapping_version
        classification = mapped.classification or spec.default_classification
        if not (
            type(op) is str
            and (op == "upsert" or op == "withdraw")
            and type(srid) is str
            and 0 < len(srid) <= 200
            and type(revision) is int
            and revision >= 0
            and type(source) is SourceIdentity
            and type(classification) is Classification
            and (correlation_id is None or type(correlation_id) is str)
            and (mapping_version is None or type(mapping_version) is str)
            and (not notes or all(type(n) is Note for n in notes))  # no generator for the common case
        ):
            return None
        received = self._time_json(received_at)
        if received is None:
            return None
        occurred: str | None = None
        if mapped.occurred_at is not None and (occurred := self._time_json(mapped.occurred_at)) is None:
            return None
        reported = mapped.reported_at
        reported_json = received if reported is None else self._time_json(reported)
        if reported_json is None:
            return None
        head: dict[str, Any] = {
            "spec": ENVELOPE_SPEC,
            "message_id": message_id,
            "schema_name": spec.name,
            "schema_version": spec.version,
            "op": op,
            "source_record_id": srid,
            "revision": revision,
            "record_key": record_key,
            "idempotency_key": idempotency_key,
            "source": {"system": source.system, "office": source.office, "adapter": source.adapter},
            "kode_wilayah": kode,
            "region_ref": REGION_REF,
            "occurred_at": occurred,
            "reported_at": reported_json,
            "received_at": received,
            "classification": classification._value_,  # not .value: an enum property costs ~0.3 us
            "pii": list(spec.pii_paths),
            "correlation_id": correlation_id,
            "mapping_version": mapping_version,
        }
        if notes:  # left out when empty, as Envelope.notes says
            head["notes"] = [{"loc": n.loc, "rule": n.rule, "detail": n.detail} for n in notes]
        return head

    def _time_json(self, value: object) -> str | None:
        """An aware ``datetime`` as the envelope writes it (pydantic's own serializer), or None if the
        value is not one. The batch's ``received_at`` is one object: its text is made once."""
        cached = self._last_time
        if value is cached[0]:
            return cached[1]
        if type(value) is not datetime or value.utcoffset() is None:
            return None
        text: str = _TIME_SERIALIZER.to_python(value, mode="json")
        self._last_time = (value, text)
        return text

    def seal(self, drafts: Sequence[Draft]) -> list[Prepared | RecordError]:
        """Sign the drafts together (with a signer) and serialise each; per draft, in order, the
        publishable record or the ``RecordError`` refusing it (too large, or text no warehouse stores).

        Each draft's canonical bytes are joined from its head's and payload's serialisations
        (``signing.canonical_joined``; from its whole unsigned JSON form in the rare case they cannot
        be); the body is the head, ``lineage`` and ``signature``, and the payload joined as bytes: the
        envelope's JSON form, keys in the order the module docstring gives."""
        signatures: list[bytes] | None = None
        if self._signer is not None and drafts:
            signed = self._signer.sign_canonical(
                [canonical_joined(d.head, d.payload) or canonical_unsigned(d.data) for d in drafts]
            )
            signatures = [orjson.dumps(signature) for signature in signed]
        out: list[Prepared | RecordError] = []
        for i, draft in enumerate(drafts):
            signature = b"null" if signatures is None else signatures[i]
            body = b"".join(
                (
                    draft.head[:-1],
                    b',"lineage":[],"signature":',
                    signature,
                    b',"payload":',
                    draft.payload,
                    b"}",
                )
            )
            out.append(self._checked(draft, body))
        return out

    def _checked(self, draft: Draft, body: bytes) -> Prepared | RecordError:
        # Searches over bytes already made keep the hot path cheap (~0.2 us per 1 KB record without a
        # backslash, which is a memchr; ~0.5 us with one); the walk naming the field runs only on a hit
        # (a literal backslash-u0000 text is a false hit the walk clears).
        if b"\\" in body and _NUL_ESCAPE in body and (refusal := unstorable(draft.data)) is not None:
            return refusal
        if len(body) > self._max_record_bytes:
            return RecordError(
                f"record is {len(body)} bytes, over the {self._max_record_bytes}-byte limit",
                issues=[FieldIssue("data", "too_large", "the record is larger than one message may be")],
                reason="too_large",
            )
        # The envelope stays unsigned (a model copy per record cost ~6 us): the signed form is the body.
        return Prepared(draft.data, body, draft.routing_key, draft.message_id, draft.envelope)

    def _check_region(self, kode: str, spec: SchemaSpec, office: str) -> Note | None:
        """Refuse a region of the wrong level or outside the office; the note of a successor region."""
        level = self._levels.get(kode)
        if level is None:
            level = self._regions.level_of(kode)
            if level is not None:
                self._levels[kode] = level
        if level not in spec.region_levels:
            allowed = ", ".join(_LEVEL_NAMES[lv] for lv in sorted(spec.region_levels))
            raise RegionError(
                f"{spec.name} records must carry a kode wilayah of level {allowed}",
                issues=[FieldIssue("data.kode_wilayah", "region_level", f"expected level {allowed}")],
            )
        if within_office(kode, office):
            return None
        successor = successor_note(self._regions, kode, office)
        if successor is not None:
            return successor
        region = self._regions.get(kode)
        province = self._regions.province_of(kode)
        where = f"{kode} {region.name}" if region else kode
        if province is not None and province.code != kode:
            where += f" (province {province.code} {province.name})"
        raise RegionError(
            f"the record's region {kode} lies outside the sending office's region {office}",
            issues=[
                FieldIssue(
                    "data.kode_wilayah",
                    "region_outside_office",
                    f"resolved to {where}, which is not {office} or below it; check the mapping's region "
                    "names and aliases (a name found in the wrong place) or the source's office code",
                )
            ],
        )
