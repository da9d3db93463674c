"""Ed25519 envelope signatures over a canonical form.

The canonical form of an envelope is its JSON form (``Envelope.model_dump(mode="json")``, or the dict read
off the wire) **without** ``signature`` and ``lineage`` (levels append hops on the way up), serialised as
compact JSON with keys sorted at every depth. The first hub that builds an envelope signs it once; the
central consumer (and a level forwarder) verify it. A signature is stored in ``Envelope.signature`` in one
of two forms:

* ``<key id>:<base64 signature>``: an Ed25519 signature over the record's canonical bytes (one record);
* ``<key id>:<base64 signature>:<base64 path>``: a batch signature (``hub.trust.merkle``): Ed25519 over
  the root of a Merkle tree of the batch's records, and this record's path to that root. One signature
  per batch of up to ``MAX_BATCH_LEAVES`` records, each record still verifiable alone.

The validator serialises an envelope's head and payload once each, keys sorted, and joins both the body
and the signed bytes from those parts (``canonical_joined``); one Ed25519 signature per record or per
batch (see ``bench/trust_sign.py`` for figures).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import ConfigError, FieldIssue, TrustError
from hub.trust import merkle
from schemas.envelope import Envelope

UNSIGNED_FIELDS = frozenset({"signature", "lineage"})
_NOT_IN_HEAD = ("signature", "lineage", "payload")
_ENVELOPE_KEYS = frozenset(Envelope.model_fields)
_SPLICE_KEYS = frozenset({"op", "pii"})
_PII_KEY = b',"pii":'
if [k for k in sorted(_ENVELOPE_KEYS) if "op" < k < "pii"] != ["payload"]:  # checked at import, never -O'd
    raise RuntimeError("the canonical splice needs payload to be the only envelope field between op and pii")
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEV_KEY_PREFIX = "dev-"
_DEV_SEED = b"simpul-development-signing-key-not-secret:"
# Records per batch signature: the path grows by 33 bytes (44 in base64) per doubling, so 64 leaves cost
# 264 characters per record and one Ed25519 signature per 64 records.
MAX_BATCH_LEAVES = 64


def canonical_bytes(data: Mapping[str, Any]) -> bytes:
    """The signed bytes: the envelope's JSON form minus ``signature`` and ``lineage``, keys sorted."""
    body = dict(data)  # a C-level copy, then two deletions: a filtering comprehension cost ~1 us a record
    for name in UNSIGNED_FIELDS:
        body.pop(name, None)
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def canonical_with_payload(data: Mapping[str, Any]) -> tuple[bytes, bytes | None]:
    """``canonical_bytes(data)`` and, when it comes for nothing more, the payload's own canonical bytes
    (what a warehouse hashes and stores), else None.

    For an envelope dict (its keys among ``Envelope``'s, ``op`` and ``pii`` present, so that ``payload``
    sorts right before ``pii``), the payload is serialised alone and spliced into the canonical bytes of
    the rest at ``,"pii":``, found exactly once there (so it is the key itself: a value holding those
    bytes makes two, and then the whole is serialised as ``canonical_bytes`` does). The result is the
    same bytes as ``canonical_bytes`` (tests compare them), for one serialisation of the payload instead
    of two: the signature check and the warehouse's content hash share it."""
    payload = data.get("payload")
    if type(payload) is not dict or not (data.keys() <= _ENVELOPE_KEYS and data.keys() >= _SPLICE_KEYS):
        return canonical_bytes(data), None
    head = dict(data)
    for name in _NOT_IN_HEAD:
        head.pop(name, None)
    head_json = orjson.dumps(head, option=orjson.OPT_SORT_KEYS)
    if head_json.count(_PII_KEY) != 1:
        return canonical_bytes(data), None
    payload_json = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return _spliced(head_json, payload_json), payload_json


def canonical_joined(head_json: bytes, payload_json: bytes) -> bytes | None:
    """The canonical bytes of an envelope from those of its two parts, or None if they cannot be joined.

    ``head_json``: the signed fields but the payload (``op`` and ``pii`` among them), serialised with keys
    sorted; ``payload_json``: the payload, likewise. The payload goes in at ``,"pii":`` when that occurs
    exactly once in the head (so it is the key itself, as in ``canonical_with_payload``): the same bytes
    as ``canonical_bytes`` of the whole (tests compare them). The validator serialises each part once for
    the body and joins the signed bytes from them, instead of serialising the envelope a second time."""
    if head_json.count(_PII_KEY) != 1:
        return None
    return _spliced(head_json, payload_json)


def _spliced(head_json: bytes, payload_json: bytes) -> bytes:
    at = head_json.index(_PII_KEY)
    return b"".join((head_json[:at], b',"payload":', payload_json, head_json[at:]))


def canonical_unsigned(data: Mapping[str, Any]) -> bytes:
    """``canonical_bytes`` of a JSON form that holds no unsigned field (``signature``, ``lineage``), as
    the validator builds it: the same bytes without the filtering copy. Raises ``ValueError`` if it does
    hold one (a caller's bug: those fields must never be signed)."""
    if not UNSIGNED_FIELDS.isdisjoint(data):
        raise ValueError("canonical_unsigned was given a signature or lineage")
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def split_signature(signature: str) -> tuple[str, bytes, bytes | None]:
    """``key id``, raw signature bytes and Merkle path (None for a single-record signature) from
    ``keyid:base64[:base64 path]``; raises ``TrustError`` (signature_invalid)."""
    key_id, sep, rest = signature.partition(":")
    if not sep or not KEY_ID.match(key_id):
        raise _invalid("the signature is not of the form <key id>:<base64>[:<base64 path>]")
    encoded, has_path, encoded_path = rest.partition(":")
    raw = _b64(encoded)
    if len(raw) != 64:
        raise _invalid("an Ed25519 signature is 64 bytes")
    if not has_path:
        return key_id, raw, None
    return key_id, raw, _b64(encoded_path)  # its shape is checked where it is walked (signed_bytes)


def signed_bytes(data: Mapping[str, Any], path: bytes | None) -> bytes:
    """What the signature of ``data`` covers: its canonical bytes, or the batch root its path leads to."""
    canonical = canonical_bytes(data)
    if path is None:
        return canonical
    try:
        return merkle.signed_message(merkle.root_of(merkle.leaf_hash(canonical), path))
    except ValueError as exc:
        raise _invalid(str(exc)) from None


def _b64(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("the signature is not valid base64") from None


def key_id_of(signature: object) -> str | None:
    """The key id named by a signature string, or None (for evidence entries; not a verification)."""
    if not isinstance(signature, str):
        return None
    key_id = signature.partition(":")[0]
    return key_id if KEY_ID.match(key_id) else None


def verify_message(public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
    """Check ``signature`` over ``message`` (canonical bytes); raises ``TrustError`` (signature_invalid)."""
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise _invalid(
            "the signature does not match the record (altered, or signed by another key)"
        ) from None


class Signer:
    """Signs envelopes with one office's private key under ``key_id``."""

    def __init__(self, key_id: str, private_key: Ed25519PrivateKey, office: str) -> None:
        if not KEY_ID.match(key_id):
            raise ConfigError(
                "a key id is 1-64 letters, digits, dots, dashes or underscores", key="trust.key_id"
            )
        self.key_id = key_id
        self.office = office
        self._key = private_key

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def sign(self, data: Mapping[str, Any]) -> str:
        """The ``keyid:base64`` signature of an envelope's JSON form."""
        raw = self._key.sign(canonical_bytes(data))
        return f"{self.key_id}:{base64.b64encode(raw).decode()}"

    def sign_many(self, datas: Sequence[Mapping[str, Any]]) -> list[str]:
        """Signatures for several envelopes, in order: one Ed25519 signature per ``MAX_BATCH_LEAVES``
        records (``keyid:base64:path``); a lone record gets the single form."""
        return self.sign_canonical([canonical_bytes(d) for d in datas])

    def sign_canonical(self, canonicals: Sequence[bytes]) -> list[str]:
        """``sign_many`` for records whose canonical bytes (``canonical_bytes``) are already made."""
        if len(canonicals) == 1:
            raw = self._key.sign(canonicals[0])
            return [f"{self.key_id}:{base64.b64encode(raw).decode()}"]
        signatures: list[str] = []
        for start in range(0, len(canonicals), MAX_BATCH_LEAVES):
            chunk = canonicals[start : start + MAX_BATCH_LEAVES]
            root, paths = merkle.build([merkle.leaf_hash(c) for c in chunk])
            head = f"{self.key_id}:{base64.b64encode(self._key.sign(merkle.signed_message(root))).decode()}:"
            signatures.extend(head + base64.b64encode(path).decode() for path in paths)
        return signatures

    @classmethod
    def from_file(cls, path: Path, key_id: str, office: str) -> Signer:
        """Load a PEM (PKCS#8) Ed25519 private key; raises ``ConfigError``."""
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except FileNotFoundError:
            raise ConfigError("signing key file not found", key="trust.signing_key_path") from None
        except ValueError:
            raise ConfigError("not a PEM private key", key="trust.signing_key_path") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError("the signing key must be Ed25519", key="trust.signing_key_path")
        return cls(key_id, key, office)

    @classmethod
    def development(cls, office: str) -> Signer:
        """The development key of ``office`` (derived from a public seed: anyone can forge it; dev only)."""
        return cls(dev_key_id(office), dev_private_key(office), office)


def dev_key_id(office: str) -> str:
    """The key id of an office's development key, e.g. ``dev-32.01``."""
    return f"{DEV_KEY_PREFIX}{office}"


def dev_private_key(office: str) -> Ed25519PrivateKey:
    """An office's development key, derived from a fixed public seed so every dev node knows every other."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(_DEV_SEED + office.encode()).digest())


def public_key_b64(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64: the form the key registry stores."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (unencrypted: protect the file, mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _invalid(message: str) -> TrustError:
    return TrustError(
        message, issues=[FieldIssue("signature", "signature_invalid", message)], reason="signature_invalid"
    )
