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
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, TypeAdapter, ValidationError

from hub.errors import FieldIssue, RecordError, RegionError, ValidationFailed
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
from schemas.pii import MASK, NikTokenizer, redact_text
from schemas.regions import REGION_REF, RegionIndex
from schemas.registry import SchemaSpec

NATIONAL_OFFICE = "pusat"  # an office that may report for any region (ministry systems)
_LEVEL_NAMES = {1: "provinsi", 2: "kab/kota", 3: "kecamatan", 4: "kelurahan/desa"}


class Prepared:
    """A record ready to publish: its serialised body (signed, what is published), routing key and
    message id, and the few envelope fields the pipeline counts and logs by.

    Nothing else of the envelope is kept: records wait for their confirms by the thousand, and every
    object they hold is one more for the cyclic collector to walk (a full collection of a publishing
    node's in-flight records took ~2 s of CPU on the loaded machine). ``data`` (the envelope's unsigned
    JSON form) and ``envelope`` (its model, without the signature) are read back from the body on
    demand: the hot path never needs them."""

    __slots__ = (
        "_envelope",
        "body",
        "kode_wilayah",
        "message_id",
        "op",
        "revision",
        "routing_key",
        "schema_name",
        "schema_version",
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        body: bytes,
        routing_key: str,
        message_id: str,
        envelope: Envelope | None = None,
    ) -> None:
        self.body = body
        self.routing_key = routing_key
        self.message_id = message_id
        self.kode_wilayah: str = data["kode_wilayah"]
        self.schema_name: str = data["schema_name"]
        self.schema_version: str = data["schema_version"]
        self.revision: int = data["revision"]
        self.op: str = data["op"]
        self._envelope = envelope

    @property
    def data(self) -> dict[str, Any]:
        """The envelope's JSON form without ``signature`` and ``lineage`` (what was signed), parsed from
        the body each time."""
        data: dict[str, Any] = orjson.loads(self.body)
        del data["signature"], data["lineage"]
        return data

    @property
    def envelope(self) -> Envelope:
        if self._envelope is None:
            self._envelope = Envelope.model_validate(self.data)
        return self._envelope


class Draft:
    """A validated record whose envelope is not yet signed or serialised (see ``Validator.seal``):
    ``data`` is the envelope's unsigned JSON form (payload included), ``head`` the compact JSON of
    ``data`` without its payload and ``payload`` the payload's, both with keys sorted, so that the body
    and the signed bytes are joined from them without serialising the envelope again."""

    __slots__ = ("data", "envelope", "head", "message_id", "payload", "routing_key")

    def __init__(
        self,
        data: dict[str, Any],
        head: bytes,
        payload: bytes,
        routing_key: str,
        message_id: str,
        envelope: Envelope | None = None,
    ) -> None:
        self.data = data
        self.head = head
        self.payload = payload
        self.routing_key = routing_key
        self.message_id = message_id
        self.envelope = envelope


NAME_CAP = 64
_DIGIT_RUN = re.compile(r"\d{6,}")


def mask_name(name: str) -> str:
    """A name the caller chose (a key, a path segment) made safe to echo, as values are: NIK-like and
    phone-like numbers redacted, any other run of six or more digits replaced by ``[ANGKA]``, characters
    that do not print (control bytes, NUL, surrogates) shown as ``?``, cut to ``NAME_CAP`` characters.
    Names the schemas define pass unchanged."""
    if name.isidentifier() and len(name) <= NAME_CAP and not any(c.isdigit() for c in name):
        return name  # the common case (a schema's own field name), without a regex
    masked = _DIGIT_RUN.sub("[ANGKA]", redact_text(name))
    masked = "".join(c if c.isprintable() else "?" for c in masked)
    return masked if len(masked) <= NAME_CAP else masked[: NAME_CAP - 3] + "..."


def issues_from(exc: ValidationError, prefix: str = "") -> list[FieldIssue]:
    """Field issues from a pydantic error, built without the submitted values; key names in ``loc``
    (which the caller may have chosen: an unknown field) are masked by ``mask_name``."""
    issues = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(part) if isinstance(part, int) else mask_name(part) for part in err["loc"])
        issues.append(
            FieldIssue(f"{prefix}{loc}" if loc else prefix.rstrip(".") or "$", err["type"], err["msg"])
        )
    return issues


_NUL_ESCAPE = b"\\u0000"  # how orjson writes U+0000
# The envelope's fields after its head: joined as bytes around the signature (``Validator.seal``).
_BODY_TAIL: set[str] = {"lineage", "signature", "payload"}
# The envelope's datetimes are written by pydantic's serializer (``Z`` for UTC, not orjson's ``+00:00``).
_TIME_SERIALIZER = TypeAdapter(AwareDatetime).serializer
# The envelope fields a sender chose, with the name the sender knows them by (the rest are derived).
_SENDER_FIELDS = {"payload": "data", "source_record_id": "id", "correlation_id": "correlation_id"}


def _unstorable_text(text: str) -> bool:
    """True if PostgreSQL ``text`` cannot hold ``text``: it has U+0000 or a lone surrogate (not UTF-8)."""
    return "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)


def _unstorable_locs(value: Any, loc: str) -> list[str]:
    if isinstance(value, str):
        return [loc] if _unstorable_text(value) else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            name = f"{loc}.{mask_name(str(key))}"  # mask_name shows NUL and surrogates as "?"
            found.extend([name] if _unstorable_text(str(key)) else _unstorable_locs(inner, name))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found.extend(_unstorable_locs(inner, f"{loc}.{i}"))
    return found


def unstorable(data: dict[str, Any]) -> RecordError | None:
    """The refusal of an envelope (its JSON form) with text a warehouse cannot store exactly, naming
    each field (as the sender named it: ``data.uraian``, ``id``); None if there is none. Refusing at
    ingest keeps every sink storing what was accepted (PostgreSQL refuses NUL; SQLite would keep it)."""
    locs = [loc for field, name in _SENDER_FIELDS.items() for loc in _unstorable_locs(data.get(field), name)]
    if not locs:
        return None
    return ValidationFailed(
        "text holds U+0000 (NUL) or a lone surrogate, which the warehouses cannot store",
        issues=[
            FieldIssue(loc, "unstorable_text", "U+0000 and lone surrogates are not allowed in text")
            for loc in locs
        ],
    )


def within_office(kode_wilayah: str, office: str) -> bool:
    """True if the region is the office's own region or lies below it."""
    return office == NATIONAL_OFFICE or kode_wilayah == office or kode_wilayah.startswith(office + ".")


def successor_note(regions: RegionIndex, kode_wilayah: str, office: str) -> Note | None:
    """The note accepting a region outside ``office`` that was split off from the office's area (the
    2022 Papua moves, from the region data's own history), or None if it was not.

    An office's system built before the split still reports the places it covered (Papua Barat's office 92
    reporting Kota Sorong, now 96.71 in Papua Barat Daya): the record keeps its true current code and the
    note says why it was accepted."""
    move = regions.succession_of(kode_wilayah)
    if move is None or not within_office(move.old, office):
        return None
    kabkota, province = regions.get(move.new), regions.get(move.to_province)
    return Note(
        loc="kode_wilayah",
        rule="region_successor",
        detail=f"{move.new} {kabkota.name if kabkota else ''} (formerly {move.old}, province "
        f"{move.from_province}) moved to province {move.to_province} {province.name if province else ''} "
        f"by {move.law} ({move.on.isoformat()}); accepted as part of office {office}'s former area",
    )


def masked_notes(notes: Sequence[Note], pii_paths: Sequence[str]) -> tuple[Note, ...]:
    """``notes`` with the raw text of a note about a personal field (a schema PII path) masked."""
    personal = {p.lower() for p in pii_paths}
    out = []
    for note in notes:
        loc = ".".join("*" if part.isdigit() else part for part in note.loc.lower().split("."))
        if loc in personal or loc.rsplit(".", 1)[0] in personal:
            head, marker, _ = note.detail.partition("raw text: ")
            note = note.model_copy(update={"detail": f"{head}{marker}{MASK}" if marker else note.detail})
        out.append(note)
    return tuple(out)


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
