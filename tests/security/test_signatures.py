"""Envelope signatures: canonical form, tampering, unsigned records, key registry, rotation, revocation."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.errors import ConfigError, TrustError
from hub.trust.keys import KeyModel, KeyRegistry, RegistryModel, read_registry, write_registry
from hub.trust.signing import Signer, canonical_bytes, public_key_b64
from hub.trust.verify import TrustPolicy, Verifier
from schemas.envelope import Envelope, Hop
from tests.helpers import ENVELOPE_T0, make_envelope

NOW = ENVELOPE_T0 + timedelta(minutes=5)


def signed(signer: Signer, envelope: Envelope | None = None, **changes: Any) -> dict[str, Any]:
    """The wire dict of an envelope signed by ``signer`` (as the validator does it)."""
    data = (envelope or make_envelope(**changes)).model_dump(mode="json")
    data["signature"] = signer.sign(data)
    return orjson.loads(orjson.dumps(data))  # through the wire format, like the consumer sees it


def verifier(registry: KeyRegistry | None = None, now: datetime = NOW, **policy: Any) -> Verifier:
    return Verifier(registry or KeyRegistry(None, dev_mode=True), TrustPolicy(**policy), clock=lambda: now)


def registry_file(tmp_path: Path, keys: dict[str, KeyModel], users: dict[str, str] | None = None) -> Path:
    path = tmp_path / "keys.json"
    write_registry(path, RegistryModel(keys=keys, users=users or {}))
    return path


def reason(fn: Any, *args: Any) -> str:
    with pytest.raises(TrustError) as info:
        fn(*args)
    return info.value.reason


def test_signature_verifies_as_dict_and_as_envelope() -> None:
    """A signed envelope verifies from the wire dict and from the parsed Envelope (forwarder path)."""
    data = signed(Signer.development("32.01"))
    verifier().verify(data)
    verifier().verify(Envelope.model_validate(data))
    assert data["signature"].startswith("dev-32.01:")


def test_lineage_hops_do_not_break_the_signature() -> None:
    """Levels append hops to lineage; the signature stays valid."""
    data = signed(Signer.development("32.01"))
    data["lineage"] = [Hop(node="jabar", level="provinsi", at=NOW).model_dump(mode="json")]
    verifier().verify(data)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("kode_wilayah", "32.02"),
        ("revision", 7),
        ("received_at", "2024-03-06T03:01:00Z"),
        ("classification", "BIASA"),
        ("source", {"system": "sicantik-bogor", "office": "32", "adapter": "test"}),
    ],
)
def test_tampered_field_is_signature_invalid(field: str, value: Any) -> None:
    """Changing any signed field after signing is caught."""
    data = signed(Signer.development("32.01"))
    data[field] = value
    assert reason(verifier().verify, data) == "signature_invalid"


def test_tampered_payload_is_signature_invalid() -> None:
    """Changing a nested payload value is caught (the canonical form sorts keys at every depth)."""
    data = signed(Signer.development("32.01"))
    data["payload"]["judul"] = "something else"
    assert reason(verifier().verify, data) == "signature_invalid"


def test_canonical_form_ignores_key_order() -> None:
    """The same content in another key order has the same canonical bytes."""
    data = make_envelope().model_dump(mode="json")
    shuffled = dict(reversed(list(data.items())))
    shuffled["payload"] = dict(reversed(list(data["payload"].items())))
    assert canonical_bytes(shuffled) == canonical_bytes(data)


@pytest.mark.parametrize("bad", ["nokeyid", "dev-32.01:not*base64", "dev-32.01:AAAA", ":" + "A" * 88, 17])
def test_malformed_signature(bad: object) -> None:
    """Malformed signatures are signature_invalid, never a crash."""
    data = signed(Signer.development("32.01"))
    data["signature"] = bad
    assert reason(verifier().verify, data) == "signature_invalid"


def test_unsigned_record_refused_only_when_required() -> None:
    """Unsigned: signature_missing when required, passes when not (dev)."""
    data = make_envelope().model_dump(mode="json")
    assert reason(verifier(require_signatures=True).verify, data) == "signature_missing"
    verifier(require_signatures=False).verify(data)


def test_signature_of_other_key_under_this_key_id() -> None:
    """A record signed with a stranger's private key but naming a registered key id is refused."""
    forged = Signer("dev-32.01", Ed25519PrivateKey.generate(), "32.01")
    assert reason(verifier().verify, signed(forged)) == "signature_invalid"


def test_dev_keys_unknown_outside_dev_mode() -> None:
    """Development keys (public seed) are not trusted outside dev mode."""
    data = signed(Signer.development("32.01"))
    assert reason(verifier(KeyRegistry(None, dev_mode=False)).verify, data) == "key_unknown"


def test_registered_key_rotation_two_keys_valid(tmp_path: Path) -> None:
    """Rotation: an office's old and new keys are both valid until the old one is revoked."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path = registry_file(
        tmp_path,
        {
            "bogor-2025": KeyModel(office="32.01", public_key=public_key_b64(old.public_key())),
            "bogor-2026": KeyModel(
                office="32.01", public_key=public_key_b64(new.public_key()), not_before=ENVELOPE_T0
            ),
        },
    )
    v = verifier(KeyRegistry(path))
    v.verify(signed(Signer("bogor-2025", old, "32.01")))
    v.verify(signed(Signer("bogor-2026", new, "32.01")))
    early = make_envelope().model_copy(update={"received_at": ENVELOPE_T0 - timedelta(seconds=1)})
    assert reason(v.verify, signed(Signer("bogor-2026", new, "32.01"), early)) == "key_not_yet_valid"
    assert reason(v.verify, signed(Signer("bogor-2027", new, "32.01"))) == "key_unknown"


def test_revoked_key(tmp_path: Path) -> None:
    """Signed at/after revoked_at: key_revoked; signed before it: accepted until the replay window ends."""
    key = Ed25519PrivateKey.generate()
    revoked_at = ENVELOPE_T0 + timedelta(minutes=1)
    path = registry_file(
        tmp_path,
        {
            "bogor": KeyModel(
                office="32.01", public_key=public_key_b64(key.public_key()), revoked_at=revoked_at
            )
        },
    )
    signer = Signer("bogor", key, "32.01")
    before = signed(signer)  # received_at = ENVELOPE_T0, before the revocation
    after = signed(signer, make_envelope().model_copy(update={"received_at": revoked_at}))
    v = verifier(KeyRegistry(path))
    v.verify(before)
    assert reason(v.verify, after) == "key_revoked"
    late = verifier(KeyRegistry(path), now=revoked_at + timedelta(days=15))  # window: 14 days
    assert reason(late.verify, before) == "outside_time_window"  # back-dating ends with the window


def test_revocation_takes_effect_within_reload_interval(tmp_path: Path) -> None:
    """The registry is re-read when its file changed, checked every reload_s (a fake clock here)."""
    key = Ed25519PrivateKey.generate()
    model = KeyModel(office="32.01", public_key=public_key_b64(key.public_key()))
    path = registry_file(tmp_path, {"bogor": model})
    clock = [0.0]
    registry = KeyRegistry(path, reload_s=30, clock=lambda: clock[0])
    v = verifier(registry)
    data = signed(Signer("bogor", key, "32.01"))
    v.verify(data)
    registry_file(tmp_path, {"bogor": model.model_copy(update={"revoked_at": ENVELOPE_T0})})
    clock[0] = 29.0
    v.verify(data)  # not yet re-read: the stated delay
    clock[0] = 30.0
    assert reason(v.verify, data) == "key_revoked"


def test_broken_registry_file_keeps_previous_registry(tmp_path: Path) -> None:
    """A bad edit of the registry keeps the last good one in force (and fails at start)."""
    key = Ed25519PrivateKey.generate()
    path = registry_file(
        tmp_path, {"bogor": KeyModel(office="32.01", public_key=public_key_b64(key.public_key()))}
    )
    clock = [0.0]
    registry = KeyRegistry(path, reload_s=1, clock=lambda: clock[0])
    path.write_text('{"keys": {"bogor": {"office": "32.01", "public_key": "short"}}}')
    clock[0] = 5.0
    assert registry.key("bogor") is not None
    with pytest.raises(ConfigError):
        read_registry(path)


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [(NOW - timedelta(days=15), "outside_time_window"), (NOW + timedelta(minutes=10), "outside_time_window")],
)
def test_replay_outside_time_window(received_at: datetime, expected: str) -> None:
    """A signed record older than the replay window, or from the future, is refused."""
    data = signed(
        Signer.development("32.01"), make_envelope().model_copy(update={"received_at": received_at})
    )
    assert reason(verifier().verify, data) == expected


def test_verification_cache_remembers_only_exact_successes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record verified once is not verified cryptographically again; any change still is (and fails)."""
    import hub.trust.verify as verify_module

    calls = []
    real = verify_module.verify_message

    def counting(*args: Any) -> None:
        calls.append(1)
        real(*args)

    monkeypatch.setattr(verify_module, "verify_message", counting)
    v = verifier()
    data = signed(Signer.development("32.01"))
    v.verify(data)
    v.verify(dict(data))
    assert len(calls) == 1
    assert reason(v.verify, {**data, "revision": 5}) == "signature_invalid"
    assert len(calls) == 2
