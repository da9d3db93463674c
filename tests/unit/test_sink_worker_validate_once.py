"""Validated once: at the sink, a record whose signature verified is not validated again (its payload),
yet tampering is still caught, an upcast payload is still validated, unsigned records keep the full
checks, both paths give the same envelopes, and accepted records land in the evidence log as batch
entries covering their ids and Merkle roots."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator, Sequence
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.sqlite_sink.rows import envelope_json
from hub.consume.sink_worker import SinkWorker
from hub.consume.upcast import VersionsSeen
from hub.errors import RecordError
from hub.metrics import Metrics
from hub.model import codec
from hub.trust import merkle
from hub.trust.evidence import EvidenceLog, verify_chain
from hub.trust.keys import KeyRegistry
from hub.trust.signing import Signer, canonical_bytes, split_signature
from hub.trust.verify import TrustPolicy, Verifier
from schemas import catalog
from schemas.envelope import (
    Envelope,
    Hop,
    Note,
    SourceIdentity,
    make_idempotency_key,
    make_message_id,
    make_record_key,
)
from schemas.registry import SchemaRegistry
from tests.helpers import ENVELOPE_T0

SIGNER = Signer.development("pusat")
USER = "simpul-pusat"


def _verifier(**policy: Any) -> Verifier:
    registry = KeyRegistry(None, dev_mode=True, users={USER: "pusat"})
    return Verifier(registry, TrustPolicy(**policy), clock=lambda: ENVELOPE_T0 + timedelta(minutes=1))


def _envelope(schema: str, version: str, rid: str, **changes: Any) -> Envelope:
    payload = catalog.example_payload(schema, version)
    region = payload.get("kode_wilayah") if isinstance(payload.get("kode_wilayah"), str) else "32.01"
    record_key = make_record_key(schema, "sys-a", rid)
    idem = make_idempotency_key(record_key, 1)
    fields: dict[str, Any] = {
        "message_id": make_message_id(idem),
        "schema_name": schema,
        "schema_version": version,
        "source_record_id": rid,
        "revision": 1,
        "record_key": record_key,
        "idempotency_key": idem,
        "source": SourceIdentity(system="sys-a", office="pusat", adapter="test"),
        "kode_wilayah": region,
        "region_ref": "Kepmendagri 300.2.2-2138/2025",
        "reported_at": ENVELOPE_T0,
        "received_at": ENVELOPE_T0,
        "payload": payload,
    }
    return Envelope(**(fields | changes))


def _signed(envelopes: Sequence[Envelope]) -> list[dict[str, Any]]:
    """As a node publishes them: JSON form, batch-signed, parsed back off the wire."""
    datas = [e.model_dump(mode="json") for e in envelopes]
    for data, signature in zip(datas, SIGNER.sign_many(datas), strict=True):
        data["signature"] = signature
    return codec.split_batch(codec.join_batch([codec.dumps(d) for d in datas]))


def _samples() -> list[Envelope]:
    """Every catalogue version's example up to the current one (older ones are upcast), plus one with the
    optional envelope fields filled in."""
    out = [
        _envelope(spec.name, spec.version, f"S-{spec.name}-{spec.version}")
        for spec in catalog.all_versions()
        if spec.version_tuple <= catalog.get(spec.name).version_tuple  # drafts ahead are refused alike
    ]
    out.append(
        _envelope(
            "research_permit",
            catalog.get("research_permit").version,
            "S-full",
            op="withdraw",
            occurred_at=ENVELOPE_T0 - timedelta(days=2),
            reported_at=(ENVELOPE_T0 - timedelta(days=1)).astimezone(timezone(timedelta(hours=7))),
            pii=("peneliti.nama",),
            correlation_id="corr-1",
            mapping_version="m-3",
            notes=(Note(loc="waktu", rule="value_unparseable", detail="kemarin sore"),),
        )
    )
    return out


class _Quarantiner:
    def __init__(self) -> None:
        self.filed: list[tuple[str | None, RecordError]] = []

    async def put(self, err: RecordError, **fields: Any) -> None:
        self.filed.append((fields.get("source_record_id"), err))


class _Result:
    def __init__(self, env: Envelope) -> None:
        self.idempotency_key = env.idempotency_key
        self.status = "applied"


class _Sink:
    name = "memory"

    def __init__(self) -> None:
        self.written: list[Envelope] = []

    async def write(self, envelopes: Sequence[Envelope]) -> list[_Result]:
        self.written.extend(envelopes)
        return [_Result(e) for e in envelopes]

    async def close(self) -> None:
        return None


class _Delivery:
    def __init__(self, items: list[dict[str, Any]], user_id: str | None = USER) -> None:
        self.body = codec.join_batch([codec.dumps(i) for i in items])
        self.message_id = "m"
        self.user_id = user_id
        self.delivery_count = 0
        self.acked = False

    async def ack(self) -> None:
        self.acked = True

    async def reject(self, *, requeue: bool) -> None:
        raise AssertionError("nothing here is dead-lettered")


def _worker(verifier: Verifier | None = None, evidence: EvidenceLog | None = None) -> Any:
    quarantiner, sink = _Quarantiner(), _Sink()
    worker = SinkWorker(sink, quarantiner, Metrics(), verifier=verifier, evidence=evidence)  # type: ignore[arg-type]
    return worker, sink, quarantiner


def _check(worker: SinkWorker, item: dict[str, Any], verifier: Verifier | None) -> Any:
    now = verifier.now() if verifier is not None else None
    return worker._check(item, USER, now, VersionsSeen(Metrics()))


def test_fast_and_full_paths_give_equal_envelopes() -> None:
    """Over every catalogue example (old versions upcast too): the verified path, which skips the payload
    validation, gives the same envelope as the full path without verifier, field for field and in JSON."""
    verifier = _verifier()
    fast, _, _ = _worker(verifier)
    full, _, _ = _worker()
    items = _signed(_samples())
    for item in items:
        item["lineage"] = [Hop(node="kab", level="kabkota", at=ENVELOPE_T0).model_dump(mode="json")]
    upcast = 0
    for item in items:
        a, b = _check(fast, item, verifier), _check(full, item, None)
        assert not isinstance(a, RecordError) and not isinstance(b, RecordError), item["schema_name"]
        assert a[0] == b[0] and a[0].model_fields_set == b[0].model_fields_set
        assert a[0].model_dump() == b[0].model_dump()
        assert a[0].model_dump_json() == b[0].model_dump_json()
        assert list(a[0].__dict__) == list(b[0].__dict__)  # field order: the warehouse's JSON follows it
        assert envelope_json(a[0]) == envelope_json(b[0])
        assert a[1] is not None and b[1] is None  # the root the signature covered, only when verified
        upcast += a[0].schema_version != item["schema_version"]
    assert upcast >= 2  # early_warning and research_permit 1.0.0 took the upcast path


def test_fast_path_does_not_validate_the_payload_again() -> None:
    """What the saving is: a verified record's payload is taken as signed (the signer validated it); the
    same record unsigned, with signatures optional, is validated in full and refused."""
    bad = _envelope(
        "voter_participation",
        "1.0.0",
        "V-1",
        payload={**catalog.example_payload("voter_participation"), "dpt": -1},
    )
    verifier = _verifier(require_signatures=False)
    worker, _, _ = _worker(verifier)
    signed = _signed([bad])[0]
    assert isinstance(_check(worker, signed, verifier), tuple)
    unsigned = bad.model_dump(mode="json")
    err = _check(worker, unsigned, verifier)
    assert isinstance(err, RecordError) and err.reason == "validation_failed"
    assert [i.loc for i in err.issues] == ["payload.dpt"]


async def test_tampered_payload_of_a_signed_record_is_caught() -> None:
    """A batch-signed record altered on the way (a payload value, or a payload that would not even
    validate) is quarantined as signature_invalid, after its batch-mates verified the shared root."""
    verifier = _verifier()
    worker, sink, quarantiner = _worker(verifier)
    envs = [_envelope("voter_participation", "1.0.0", f"T-{i}") for i in range(4)]
    items = _signed(envs)
    items[2]["payload"] = {**items[2]["payload"], "dpt": items[2]["payload"]["dpt"] + 1}
    items[3]["payload"] = {**items[3]["payload"], "dpt": -5}
    delivery = _Delivery(items)
    await worker([delivery])
    assert [e.source_record_id for e in sink.written] == ["T-0", "T-1"]
    assert [(rid, err.reason) for rid, err in quarantiner.filed] == [
        ("T-2", "signature_invalid"),
        ("T-3", "signature_invalid"),
    ]
    assert delivery.acked


async def test_invalid_envelope_keeps_its_reason_before_the_signature() -> None:
    """A record that is no envelope (and so does not verify either) is quarantined as validation_failed
    with the fields at fault, as before."""
    verifier = _verifier()
    worker, sink, quarantiner = _worker(verifier)
    item = _signed([_envelope("voter_participation", "1.0.0", "E-1")])[0]
    item["revision"] = -1
    await worker([_Delivery([item])])
    assert sink.written == []
    ((rid, err),) = quarantiner.filed
    assert rid == "E-1" and err.reason == "validation_failed" and [i.loc for i in err.issues] == ["revision"]


@pytest.fixture
def v2_current(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """ormas_registration 2.0.0 (a draft) is the current version for the duration of the test."""
    registry = SchemaRegistry()
    for spec in catalog.all_versions():
        registry.register(dataclasses.replace(spec, status="published") if spec.status == "draft" else spec)
    monkeypatch.setattr(catalog, "REGISTRY", registry)
    yield


async def test_an_upcast_record_is_validated(v2_current: None) -> None:
    """A verified v1 record is upcast, and the upcast payload validated against 2.0.0: one that fits is
    written as 2.0.0, one that does not is quarantined (upcast_failed) although its signature verified."""
    verifier = _verifier()
    worker, sink, quarantiner = _worker(verifier)
    v1 = catalog.example_payload("ormas_registration", "1.0.0")
    good = _envelope("ormas_registration", "1.0.0", "U-1")
    misfit = _envelope(
        "ormas_registration",
        "1.0.0",
        "U-2",
        payload=v1 | {"bidang_kegiatan": [f"Bidang {i}" for i in range(15)]},
    )
    await worker([_Delivery(_signed([good, misfit]))])
    assert [(e.source_record_id, e.schema_version) for e in sink.written] == [("U-1", "2.0.0")]
    assert "tanggal_registrasi" in sink.written[0].payload
    assert [(rid, err.reason) for rid, err in quarantiner.filed] == [("U-2", "upcast_failed")]
    assert [i.loc for i in quarantiner.filed[0][1].issues] == ["payload.bidang_kegiatan"]


async def test_accepted_records_are_one_evidence_entry_covering_their_ids(tmp_path: Path) -> None:
    """A group of two messages: the quarantined record is its own entry; the accepted ones are one batch
    entry listing their message ids in order and the Merkle roots their verified signatures lead to."""
    log = EvidenceLog(tmp_path / "evidence.sqlite3")
    verifier = _verifier()
    worker, _, _ = _worker(verifier, log)
    first = _signed([_envelope("voter_participation", "1.0.0", f"A-{i}") for i in range(3)])
    second = _signed([_envelope("voter_participation", "1.0.0", f"B-{i}") for i in range(2)])
    second[1]["revision"] = 7  # tampered
    await worker([_Delivery(first), _Delivery(second)])
    rows = log._conn.execute(
        "SELECT message_id, decision, reason, covers, roots, version FROM evidence ORDER BY seq"
    ).fetchall()
    assert [(r[1], r[2]) for r in rows] == [("quarantined", "signature_invalid"), ("accepted", "applied")]
    assert rows[0][0] == second[1]["message_id"] and rows[0][3] is None and rows[0][5] is None
    accepted = [i["message_id"] for i in first + second[:1]]
    assert rows[1][0] is None and orjson.loads(rows[1][3]) == accepted

    def root(item: dict[str, Any]) -> str:
        _, _, path = split_signature(item["signature"])
        assert path is not None
        return merkle.root_of(merkle.leaf_hash(canonical_bytes(item)), path).hex()

    assert orjson.loads(rows[1][4]) == [root(first[0]), root(second[0])]
    assert rows[1][5] == 2
    assert log.count() == 5 and log.entries() == 2
    log.close()
    assert verify_chain(tmp_path / "evidence.sqlite3").ok


def test_memoised_merkle_walk_equals_root_of() -> None:
    """The verifier's memoised path walk gives merkle.root_of's root for every record of a batch, and its
    errors: a path whose tail is malformed after a step batch-mates share is refused as before."""
    verifier = _verifier()
    items = _signed([_envelope("voter_participation", "1.0.0", f"M-{i}") for i in range(64)])
    for item in items:
        _, _, path = split_signature(item["signature"])
        assert path is not None
        leaf = merkle.leaf_hash(canonical_bytes(item))
        assert verifier._root_of(leaf, path) == merkle.root_of(leaf, path)
        assert verifier.check_record(item, USER).root == merkle.root_of(leaf, path)
    head = items[5]["signature"].rpartition(":")[0]
    _, _, path = split_signature(items[5]["signature"])
    assert path is not None
    for bad in (path[:-1], path[:33] + b"\x07" + path[34:], path + path[:33] * 30):
        with pytest.raises(ValueError):
            merkle.root_of(merkle.leaf_hash(canonical_bytes(items[5])), bad)
        forged = {**items[5], "signature": f"{head}:{base64.b64encode(bad).decode()}"}
        with pytest.raises(RecordError) as exc:
            verifier.check_record(forged, USER)
        assert exc.value.reason == "signature_invalid"
