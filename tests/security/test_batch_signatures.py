"""Batch signatures: one Ed25519 signature per batch over a Merkle root, each record verifiable alone."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from unittest import mock

import orjson
import pytest

from hub.errors import TrustError
from hub.trust import merkle, signing
from hub.trust.keys import KeyRegistry
from hub.trust.signing import MAX_BATCH_LEAVES, Signer, split_signature
from hub.trust.verify import TrustPolicy, Verifier
from tests.helpers import make_envelope
from tests.security.test_signatures import NOW


def batch(signer: Signer, n: int) -> list[dict[str, Any]]:
    """``n`` distinct envelopes signed together, through the wire format."""
    datas = [make_envelope(source_record_id=f"r-{i}").model_dump(mode="json") for i in range(n)]
    for data, signature in zip(datas, signer.sign_many(datas), strict=True):
        data["signature"] = signature
    return [orjson.loads(orjson.dumps(d)) for d in datas]


def verifier() -> Verifier:
    return Verifier(KeyRegistry(None, dev_mode=True), TrustPolicy(), clock=lambda: NOW)


def reason(data: dict[str, Any]) -> str:
    with pytest.raises(TrustError) as info:
        verifier().verify(data)
    return info.value.reason


@pytest.mark.parametrize("n", [2, 3, 5, 64, 65, 130])
def test_every_record_of_a_batch_verifies_alone(n: int) -> None:
    """Each record verifies with a fresh verifier (no batch-mate seen), for even, odd and split batches."""
    records = batch(Signer.development("32.01"), n)
    for data in records:
        verifier().verify(data)
    roots = {split_signature(d["signature"])[1] for d in records}
    assert len(roots) == -(-n // MAX_BATCH_LEAVES)  # one Ed25519 signature per 64 records


def test_a_lone_record_gets_the_single_form() -> None:
    (data,) = batch(Signer.development("32.01"), 1)
    assert split_signature(data["signature"])[2] is None
    verifier().verify(data)


def test_one_ed25519_verification_per_batch() -> None:
    """The first record of a batch pays the Ed25519 check, its batch-mates only their path."""
    records = batch(Signer.development("32.01"), 40)
    check = verifier()
    with mock.patch("hub.trust.verify.verify_message", wraps=signing.verify_message) as spy:
        for data in records:
            check.verify(data)
    assert spy.call_count == 1


def test_tampered_record_in_a_batch_is_refused_and_its_mates_pass() -> None:
    records = batch(Signer.development("32.01"), 8)
    records[3]["kode_wilayah"] = "32.02"
    check = verifier()
    for i, data in enumerate(records):
        if i == 3:
            with pytest.raises(TrustError) as info:
                check.verify(data)
            assert info.value.reason == "signature_invalid"
        else:
            check.verify(data)


def test_tampered_record_refused_even_after_its_root_was_verified() -> None:
    """A cached root does not let a changed record through: the path no longer leads to it."""
    records = batch(Signer.development("32.01"), 4)
    check = verifier()
    check.verify(records[0])
    records[1]["revision"] = 99
    with pytest.raises(TrustError):
        check.verify(records[1])


def test_swapped_paths_are_refused() -> None:
    """A record carrying a batch-mate's path does not verify."""
    a, b = batch(Signer.development("32.01"), 2)
    a["signature"], b["signature"] = b["signature"], a["signature"]
    assert reason(a) == "signature_invalid"
    assert reason(b) == "signature_invalid"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda path: path[:-1],  # not a whole step
        lambda path: bytes([2]) + path[1:],  # unknown side byte
        lambda path: bytes([1 - path[0]]) + path[1:],  # wrong side
        lambda path: b"",  # no path: the leaf is not the root
        lambda path: path * 40,  # deeper than any tree
    ],
)
def test_malformed_paths_are_refused(mangle: Any) -> None:
    data = batch(Signer.development("32.01"), 4)[0]
    key_id, sig, path = data["signature"].split(":")
    bad = base64.b64encode(mangle(base64.b64decode(path))).decode()
    data["signature"] = f"{key_id}:{sig}:{bad}"
    assert reason(data) == "signature_invalid"


def test_a_single_signature_cannot_pass_as_a_root() -> None:
    """The root is signed with a context prefix, so no record's signature is a root signature and no
    root signature is a record's: an inner node (0x01 prefix) is never a leaf (0x00 prefix)."""
    signer = Signer.development("32.01")
    records = batch(signer, 2)
    key_id, sig, _ = records[0]["signature"].split(":")
    records[0]["signature"] = f"{key_id}:{sig}"  # the batch signature offered as a single one
    assert reason(records[0]) == "signature_invalid"
    # and the leaf hash of a record never equals a parent hash over the same bytes
    canonical = b"{}"
    assert merkle.leaf_hash(canonical) != hashlib.sha256(b"\x01" + canonical).digest()


def test_another_offices_key_over_the_root_is_refused() -> None:
    """A path from one office's batch with another key's root signature does not verify."""
    records = batch(Signer.development("32.01"), 2)
    other = batch(Signer.development("32.02"), 2)
    key_id, _, path = records[0]["signature"].split(":")
    _, other_sig, _ = other[0]["signature"].split(":")
    records[0]["signature"] = f"{key_id}:{other_sig}:{path}"
    assert reason(records[0]) == "signature_invalid"


def test_build_and_root_of_agree_for_every_size() -> None:
    for n in range(1, 70):
        leaves = [merkle.leaf_hash(str(i).encode()) for i in range(n)]
        root, paths = merkle.build(leaves)
        assert all(merkle.root_of(leaf, path) == root for leaf, path in zip(leaves, paths, strict=True))
        assert max(len(p) for p in paths) <= merkle.STEP * max(1, (n - 1).bit_length())
