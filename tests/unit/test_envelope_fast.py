"""The validator builds an envelope's JSON form as a dict and its body from bytes, without an ``Envelope``
model round trip (``Validator._envelope_head``, ``Validator.seal``). These tests hold it to the model: the
body is what ``Envelope(...).model_dump(mode="json")`` signed gives, serialised byte for byte in the
body's key order (the head's keys sorted, then lineage, signature and the payload, keys sorted), for
every schema example and every kind of metadata (notes, successor regions, offsets, ZoneInfo, withdraw,
correlation ids, unsigned), the values the model would coerce go through the model, and every signature
made this way verifies with ``hub.trust.verify`` as it stands."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from hub.errors import RecordError, ValidationFailed
from hub.ingest.issues import masked_notes
from hub.ingest.prepared import Prepared
from hub.ingest.validation import Validator
from hub.model.records import MappedRecord, SourceRecord
from hub.model.router import routing_key
from hub.trust.keys import KeyRegistry
from hub.trust.signing import Signer, canonical_bytes, canonical_joined, canonical_unsigned
from hub.trust.verify import TrustPolicy, Verifier
from schemas.catalog import get as get_schema
from schemas.classification import Classification
from schemas.envelope import (
    Envelope,
    Note,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from schemas.payloads import VERSION_EXAMPLES
from schemas.pii import NikTokenizer
from schemas.regions import REGION_REF, default_index

RECEIVED = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
TOKENIZER = NikTokenizer(hashlib.sha256(b"fast-path").digest())
SIGNER = Signer.development("pusat")


def validator(signer: Signer | None = SIGNER) -> Validator:
    return Validator(default_index(), TOKENIZER, signer=signer)


def reference(
    v: Validator, cases: Sequence[tuple[SourceRecord, MappedRecord]], signer: Signer | None
) -> list[bytes]:
    """The bodies as the validator made them before the fast path: an ``Envelope`` validated, dumped
    to its JSON form, signed over ``canonical_bytes`` and serialised whole."""
    datas = []
    for record, mapped in cases:
        spec = v.spec_for(record)
        model = spec.model.model_validate(dict(mapped.payload), context=v._context)
        kode = model.kode_wilayah  # type: ignore[attr-defined]
        notes = masked_notes(mapped.notes, spec.pii_paths) if mapped.notes else ()
        successor = v._check_region(kode, spec, record.source.office)
        if successor is not None:
            notes = (*notes, successor)
        record_key = make_record_key(spec.name, record.source.system, mapped.source_record_id)
        idempotency_key = make_idempotency_key(record_key, mapped.revision)
        envelope = Envelope(
            message_id=str(uuid.uuid5(uuid.UUID("5a1e0d1c-6b8f-4d0e-9c57-53494d50554c"), idempotency_key)),
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
            reported_at=mapped.reported_at or RECEIVED,
            received_at=RECEIVED,
            classification=mapped.classification or spec.default_classification,
            pii=spec.pii_paths,
            correlation_id=record.correlation_id,
            mapping_version=mapped.mapping_version,
            notes=notes,
            payload=model.model_dump(mode="json"),
        )
        datas.append(envelope.model_dump(mode="json"))
    if signer is not None:
        for data, signature in zip(datas, signer.sign_many(datas), strict=True):
            data["signature"] = signature
    return [wire_form(d) for d in datas]


def wire_form(data: dict[str, Any]) -> bytes:
    """An envelope's JSON form serialised in the body's key order (``hub.ingest.validation``)."""
    head = {k: v for k, v in data.items() if k not in ("lineage", "signature", "payload")}
    return b"".join(
        (
            orjson.dumps(head, option=orjson.OPT_SORT_KEYS)[:-1],
            b',"lineage":',
            orjson.dumps(data["lineage"]),
            b',"signature":',
            orjson.dumps(data["signature"]),
            b',"payload":',
            orjson.dumps(data["payload"], option=orjson.OPT_SORT_KEYS),
            b"}",
        )
    )


def fast(v: Validator, cases: Sequence[tuple[SourceRecord, MappedRecord]]) -> list[Prepared]:
    drafts = [v.draft(r, m, v.spec_for(r), RECEIVED) for r, m in cases]
    sealed = v.seal(drafts)
    assert all(isinstance(p, Prepared) for p in sealed)
    return sealed  # type: ignore[return-value]


def case(
    ref: str, office: str = "pusat", payload: dict[str, Any] | None = None, **mapped: Any
) -> tuple[SourceRecord, MappedRecord]:
    name, _, version = ref.partition("@")
    source = SourceIdentity(system="sys-fast", office=office, adapter="fast")
    correlation_id = mapped.pop("correlation_id", None)
    record = SourceRecord(
        name,
        payload or VERSION_EXAMPLES[ref],
        source,
        source_record_id="r1",
        revision=3,
        schema_version=version,
        correlation_id=correlation_id,
    )
    ident: dict[str, Any] = {"source_record_id": f"{ref}-{len(mapped)}", "revision": 7} | mapped
    return record, MappedRecord(payload=record.raw, **ident)


PUBLISHED = [r for r in VERSION_EXAMPLES if get_schema(*r.split("@")).status != "draft"]
NOTE = Note(loc="uraian", rule="value_unparseable", detail="could not read; raw text: 0812 3456 7890")
CASES = [
    *[case(ref) for ref in PUBLISHED],
    case("early_warning@1.0.0", notes=(NOTE, Note(loc="waktu", rule="value_unparseable", detail="x"))),
    case(
        "early_warning@1.1.0",
        office="92",
        payload={**VERSION_EXAMPLES["early_warning@1.1.0"], "kode_wilayah": "96.71"},
    ),
    case(
        "conflict_incident@1.0.0",
        op="withdraw",
        occurred_at=datetime(2024, 2, 10, 20, 0, 0, 500, tzinfo=timezone(timedelta(hours=7))),
        reported_at=datetime(2024, 2, 10, 21, 14, tzinfo=ZoneInfo("Asia/Jayapura")),
        classification=Classification.RAHASIA,
        mapping_version="form/1@3",
        correlation_id="corr-\u00e9\u4e2d",
    ),
    case("voter_participation@1.0.0", occurred_at=datetime(2024, 2, 14, tzinfo=UTC), revision=0),
    case("political_dynamics@1.0.0", source_record_id="x" * 200, revision=2**62),
]


@pytest.mark.parametrize("signer", [SIGNER, None], ids=["signed", "unsigned"])
def test_bodies_are_byte_for_byte_the_models(signer: Signer | None) -> None:
    v = validator(signer)
    prepared = fast(v, CASES)
    assert [p.body for p in prepared] == reference(v, CASES, signer)
    assert any("notes" in p.data for p in prepared)  # the cases do cover notes (and successors)


def test_one_record_alone_gets_the_single_signature_form() -> None:
    v = validator()
    (prepared,) = fast(v, CASES[:1])
    assert prepared.body == reference(v, CASES[:1], SIGNER)[0]
    assert orjson.loads(prepared.body)["signature"].count(":") == 1


def test_signatures_made_on_the_fast_path_verify() -> None:
    verifier = Verifier(
        KeyRegistry(None, dev_mode=True),
        TrustPolicy(max_age_s=10 * 365 * 86400.0),
        clock=lambda: RECEIVED + timedelta(minutes=1),
    )
    for batch in (CASES, CASES[:1]):
        for prepared in fast(validator(), batch):
            wire = orjson.loads(prepared.body)
            verifier.verify(wire)
            tampered = {**wire, "revision": wire["revision"] + 1}
            with pytest.raises(RecordError):
                verifier.verify(tampered)


def test_data_is_the_unsigned_json_form_and_envelope_the_model() -> None:
    v = validator()
    for prepared, body in zip(fast(v, CASES), reference(v, CASES, None), strict=True):
        wire = orjson.loads(body)
        del wire["signature"], wire["lineage"]
        assert prepared.data == wire
        assert canonical_unsigned(prepared.data) == canonical_bytes(orjson.loads(prepared.body))
        assert prepared.envelope == Envelope.model_validate(wire)
        assert prepared.envelope.signature is None
        spec = get_schema(prepared.data["schema_name"], prepared.data["schema_version"])
        assert prepared.routing_key == routing_key(spec.name, spec.major, prepared.data["kode_wilayah"])


def test_values_the_model_would_coerce_go_through_the_model() -> None:
    """Not the plain types: the ``Envelope`` model decides, as before (same bytes as the reference)."""
    v = validator()
    odd = [
        case("voter_participation@1.0.0", revision=True),  # a bool is an int to pydantic's lax mode
        case("voter_participation@1.0.0", classification="BIASA"),  # a str, not the enum
    ]
    assert [p.body for p in fast(v, odd)] == reference(v, odd, SIGNER)
    assert fast(v, odd)[0].envelope.revision == 1


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"occurred_at": datetime(2024, 1, 1)}, "occurred_at"),  # naive
        ({"source_record_id": "x" * 201}, "source_record_id"),
        ({"revision": -1}, "revision"),
        ({"op": "delete"}, "op"),
    ],
)
def test_invalid_metadata_is_refused_naming_the_field(changes: dict[str, Any], loc: str) -> None:
    v = validator()
    record, mapped = case("voter_participation@1.0.0", **changes)
    with pytest.raises(ValidationFailed) as info:
        v.draft(record, mapped, v.spec_for(record), RECEIVED)
    assert str(info.value) == "record metadata is invalid"
    assert [i.loc for i in info.value.issues] == [loc]


def test_canonical_unsigned_refuses_unsigned_fields() -> None:
    with pytest.raises(ValueError):
        canonical_unsigned({"signature": None, "a": 1})


@pytest.mark.parametrize("name", ["", "a", "k" * 32, "0" * 1000, "\u00e9\u4e2d\U0001f600", "r\x1f1"])
def test_message_id_is_uuid5(name: str) -> None:
    namespace = uuid.UUID("5a1e0d1c-6b8f-4d0e-9c57-53494d50554c")
    for i in range(50):
        key = f"{name}{i}"
        assert make_message_id(key) == str(uuid.uuid5(namespace, key))


def test_signed_bytes_joined_from_the_parts_are_the_canonical_bytes() -> None:
    """``canonical_joined`` of a head and a payload serialised apart is ``canonical_bytes`` of the whole;
    a head where ``,"pii":`` occurs twice (a value holding it as a key) cannot be joined; the same bytes
    inside a string are escaped, and the head still can."""
    for prepared in fast(validator(), CASES):
        data = prepared.data
        head = {k: v for k, v in data.items() if k != "payload"}
        joined = canonical_joined(
            orjson.dumps(head, option=orjson.OPT_SORT_KEYS),
            orjson.dumps(data["payload"], option=orjson.OPT_SORT_KEYS),
        )
        assert joined == canonical_bytes(data)
    odd = orjson.dumps({"a": {"b": 1, "pii": 2}, "op": "upsert", "pii": []}, option=orjson.OPT_SORT_KEYS)
    assert canonical_joined(odd, b"{}") is None
    escaped = orjson.dumps({"a": ',"pii":', "op": "upsert", "pii": []}, option=orjson.OPT_SORT_KEYS)
    assert canonical_joined(escaped, b"{}") == canonical_bytes(
        {"a": ',"pii":', "op": "upsert", "pii": [], "payload": {}}
    )


def test_a_draft_whose_parts_cannot_be_joined_is_signed_whole() -> None:
    """The validator then signs the whole unsigned form, and the signature verifies."""
    verifier = Verifier(
        KeyRegistry(None, dev_mode=True),
        TrustPolicy(max_age_s=10 * 365 * 86400.0),
        clock=lambda: RECEIVED + timedelta(minutes=1),
    )
    v = validator()
    record, mapped = CASES[0]
    draft = v.draft(record, mapped, v.spec_for(record), RECEIVED)
    draft.data["source"] = {**draft.data["source"], "pii": 1}  # sorts after "office": ,"pii": twice
    head = {key: value for key, value in draft.data.items() if key != "payload"}
    draft.head = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
    assert canonical_joined(draft.head, draft.payload) is None
    (sealed,) = v.seal([draft])
    assert isinstance(sealed, Prepared)
    verifier.verify(orjson.loads(sealed.body))
