"""A whole node (in-memory transport) with signatures required: signed at ingest, verified at the consumer,
untrusted messages injected on the bus quarantined with their reason, every decision in the evidence log."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapters.sqlite_sink.sink import SqliteSink
from hub.model.router import routing_key
from hub.node import Node
from hub.transport.factory import topology_for
from hub.transport.memory import MemoryTransport
from hub.trust.evidence import covered, verify_chain
from hub.trust.signing import Signer
from schemas.envelope import Envelope, make_record_key
from tests.helpers import item, make_envelope, node_settings, until
from tests.unit.test_http_ingest import post

STRICT = {"trust": {"require_signatures": True, "require_user": True}}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    """A started dev node that nevertheless requires signatures and broker users."""
    settings = node_settings(tmp_path, **STRICT)
    n = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await n.start()
    try:
        yield n
    finally:
        await n.stop()


def store(node: Node) -> Any:
    sink = node.sink
    assert isinstance(sink, SqliteSink)
    return sink.store


def applied(node: Node) -> int:
    return sum(store(node).delivery_counts().values())


async def inject(node: Node, envelope: Envelope | dict[str, Any]) -> None:
    """Publish one envelope straight onto the ingest exchange, as a rogue publisher with bus access would."""
    data = envelope.model_dump(mode="json") if isinstance(envelope, Envelope) else envelope
    key = routing_key(data["schema_name"], int(data["schema_version"].split(".")[0]), data["kode_wilayah"])
    await node.transport.publish(
        node.topology.ingest_exchange, key, b"[" + orjson.dumps(data) + b"]", message_id=data["message_id"]
    )


def now_envelope(rid: str, **changes: Any) -> Envelope:
    at = datetime.now(UTC)
    return make_envelope("conflict_incident", rid=rid).model_copy(
        update={"received_at": at, "reported_at": at, **changes}
    )


def signed(signer: Signer, envelope: Envelope) -> dict[str, Any]:
    data = envelope.model_dump(mode="json")
    data["signature"] = signer.sign(data)
    return data


async def quarantined(node: Node, reason: str, n: int = 1) -> None:
    await until(lambda: node.quarantine_store.count(reason=reason) == n)


async def test_ingested_records_are_signed_and_accepted(node: Node) -> None:
    """HTTP ingest signs with the node's key; the consumer verifies and applies; evidence says accepted."""
    status, _, _ = await post(
        node, "ormas_registration", [item("ormas_registration", f"S{i}") for i in range(5)]
    )
    assert status == 202
    await until(lambda: applied(node) == 5)
    assert node.evidence is not None
    await until(lambda: node.evidence is not None and node.evidence.count() == 5)
    row = store(node).get(make_record_key("ormas_registration", "sitimdu-bogor", "S0"))
    assert row is not None and row["envelope"]["signature"].startswith("dev-pusat:")  # kept for later proof
    report = verify_chain(node.evidence.path)
    # Accepted together: batch entries (one per group) covering the five records, not five entries.
    assert report.ok and report.entries == node.evidence.entries() < 5
    assert row is not None and covered(node.evidence.path, row["envelope"]["message_id"])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: now_envelope("U1").model_dump(mode="json"), "signature_missing"),
        (
            lambda: {**signed(Signer.development("32.01"), now_envelope("T1")), "revision": 9},
            "signature_invalid",
        ),
        (lambda: signed(Signer.development("33"), now_envelope("K1")), "identity_mismatch"),
        (
            lambda: signed(
                Signer.development("32.01"),
                now_envelope("O1", received_at=datetime.now(UTC) - timedelta(days=20)),
            ),
            "outside_time_window",
        ),
    ],
    ids=["unsigned", "tampered", "key-of-another-region", "replay-outside-window"],
)
async def test_untrusted_message_on_the_bus_is_quarantined(node: Node, make: Any, expected: str) -> None:
    """A message injected past ingest is quarantined with its specific reason, never applied."""
    await inject(node, make())
    await quarantined(node, expected)
    assert applied(node) == 0
    entry = node.quarantine_store.list(reason=expected)[0]
    assert entry.stage == "consume"
    assert node.evidence is not None
    await until(lambda: node.evidence is not None and node.evidence.count() == 1)
    assert verify_chain(node.evidence.path).ok


async def test_replay_inside_window_is_a_duplicate(node: Node) -> None:
    """The same signed message replayed within the window is deduplicated by the sink, not applied twice."""
    data = signed(Signer.development("32.01"), now_envelope("R1"))
    await inject(node, data)
    await inject(node, data)
    await until(lambda: applied(node) == 2)
    assert store(node).count() == 1
    assert node.quarantine_store.count() == 0


async def test_good_neighbours_survive_a_bad_record_in_the_same_message(node: Node) -> None:
    """A tampered record next to a good one in one AMQP message: the good one is applied."""
    good = signed(Signer.development("32.01"), now_envelope("G1"))
    bad = {**signed(Signer.development("32.01"), now_envelope("B1")), "kode_wilayah": "32.01"}
    bad["payload"] = {**bad["payload"], "kronologi": "diubah di jalan"}
    key = routing_key(good["schema_name"], 1, good["kode_wilayah"])
    body = b"[" + orjson.dumps(good) + b"," + orjson.dumps(bad) + b"]"
    await node.transport.publish(node.topology.ingest_exchange, key, body, message_id="pair")
    await quarantined(node, "signature_invalid")
    await until(lambda: applied(node) == 1)


async def test_revocation_takes_effect_in_a_running_node(tmp_path: Path) -> None:
    """Revoking a key in the registry file: records it signs are quarantined as key_revoked once the
    registry was re-read (reload_s = 0.5 here; 30 s by default)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.trust.keys import KeyModel, RegistryModel, write_registry
    from hub.trust.signing import public_key_b64

    key = Ed25519PrivateKey.generate()
    model = KeyModel(office="32.01", public_key=public_key_b64(key.public_key()))
    registry = tmp_path / "keys.json"
    write_registry(registry, RegistryModel(keys={"bogor-2026": model}))
    trust = {**STRICT["trust"], "registry_path": str(registry), "registry_reload_s": 0.5}
    settings = node_settings(tmp_path, trust=trust)
    node = Node(settings, transport=MemoryTransport(topology_for(settings)))
    await node.start()
    try:
        signer = Signer("bogor-2026", key, "32.01")
        await inject(node, signed(signer, now_envelope("V1")))
        await until(lambda: applied(node) == 1)
        revoked_at = datetime.now(UTC)
        write_registry(
            registry, RegistryModel(keys={"bogor-2026": model.model_copy(update={"revoked_at": revoked_at})})
        )
        await asyncio.sleep(0.6)  # the stated delay: one reload interval
        await inject(node, signed(signer, now_envelope("V2")))
        await quarantined(node, "key_revoked")
        assert applied(node) == 1
    finally:
        await node.stop()


async def test_redrive_keeps_or_renews_the_signature(node: Node) -> None:
    """A tampered record redriven as it was is refused again; corrected by an operator, it is re-signed by
    this node and accepted."""
    originals = {}
    for rid in ("RD1", "RD2"):
        good = signed(Signer.development("32.01"), now_envelope(rid))
        originals[rid] = {**good, "revision": 2}  # altered after signing
        await inject(node, originals[rid])
    await quarantined(node, "signature_invalid", 2)
    entries = {e.source_record_id: e for e in node.quarantine_store.list(reason="signature_invalid")}
    await node.redriver.redrive(entries["RD1"].entry_id)
    evidence = node.evidence
    assert evidence is not None
    await until(lambda: evidence.count() == 3)
    assert applied(node) == 0
    assert evidence.decisions()[-1] == ("quarantined", "signature_invalid")
    correction = {**originals["RD2"], "signature": None}
    await node.redriver.redrive(entries["RD2"].entry_id, correction)
    await until(lambda: applied(node) == 1)
    row = store(node).get(correction["record_key"])
    assert row is not None and row["revision"] == 2
    assert row["envelope"]["signature"].startswith("dev-pusat:")  # vouched for by this node


async def test_redrive_does_not_sign_a_correction_whose_payload_does_not_fit(node: Node) -> None:
    """The sink does not validate a verified payload again, so this node validates a correction before it
    signs it: a payload that does not fit its schema is refused with the field, the entry stays open."""
    from hub.errors import RequestError

    original = {**signed(Signer.development("32.01"), now_envelope("RD3")), "revision": 2}
    await inject(node, original)
    await quarantined(node, "signature_invalid")
    entry = node.quarantine_store.list(reason="signature_invalid")[0]
    correction = {**original, "signature": None, "payload": {**original["payload"], "kronologi": 7}}
    with pytest.raises(RequestError, match=r"payload\.kronologi"):
        await node.redriver.redrive(entry.entry_id, correction)
    assert node.quarantine_store.status_of(entry.entry_id)[0] == "open"  # type: ignore[index]
    assert applied(node) == 0


async def test_a_level_verifies_before_forwarding(tmp_path: Path) -> None:
    """A kab/kota node's level worker refuses a tampered or unsigned record (quarantined, not forwarded)
    and forwards a signed one whose signature still verifies at pusat after the hop was appended."""
    settings = node_settings(
        tmp_path,
        node="kab-bogor",
        level="kabkota",
        region="32.01",
        uplink={"enabled": True},
        sink={"enabled": False},
        **STRICT,
    )
    transport = MemoryTransport(topology_for(settings))
    kab = Node(settings, transport=transport)
    await kab.start()
    try:
        good = signed(Signer.development("32.01"), now_envelope("LV1"))
        await inject(kab, good)
        await inject(kab, {**signed(Signer.development("32.01"), now_envelope("LV2")), "revision": 3})
        await inject(kab, now_envelope("LV3").model_dump(mode="json"))
        uplink = kab.topology.uplink_queue
        await until(lambda: kab.quarantine_store.count() == 2)
        assert kab.quarantine_store.counts_by_reason() == {"signature_invalid": 1, "signature_missing": 1}
        await until(lambda: transport.depth(uplink) == 1)
        (forwarded,) = [env for body in transport.bodies(uplink) for env in orjson.loads(body)]
        assert forwarded["source_record_id"] == "LV1" and len(forwarded["lineage"]) == 1
        kab.verifier.verify(forwarded)  # what pusat will check: the hop did not break the signature
    finally:
        await kab.stop()
