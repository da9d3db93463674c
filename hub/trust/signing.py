"""Ed25519 envelope signatures over a canonical form.

The canonical form of an envelope is its JSON form (``Envelope.model_dump(mode="json")``, or the dict read
off the wire) **without** ``signature`` and ``lineage`` (levels append hops on the way up), serialised as
compact JSON with keys sorted at every depth. A signature is stored in ``Envelope.signature`` as
``<key id>:<base64 signature>``. The first hub that builds an envelope signs it once; the central consumer
(and a level forwarder) verify it once.

Signing is done on the dict the validator serialises anyway, so it costs one extra sorted serialisation and
one Ed25519 signature per record (see ``bench/trust_sign.py`` for figures).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import ConfigError, FieldIssue, TrustError

UNSIGNED_FIELDS = frozenset({"signature", "lineage"})
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEV_KEY_PREFIX = "dev-"
_DEV_SEED = b"simpul-development-signing-key-not-secret:"


def canonical_bytes(data: Mapping[str, Any]) -> bytes:
    """The signed bytes: the envelope's JSON form minus ``signature`` and ``lineage``, keys sorted."""
    body = {k: v for k, v in data.items() if k not in UNSIGNED_FIELDS}
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def split_signature(signature: str) -> tuple[str, bytes]:
    """``key id`` and raw signature bytes from ``keyid:base64``; raises ``TrustError`` (signature_invalid)."""
    key_id, sep, encoded = signature.partition(":")
    if not sep or not KEY_ID.match(key_id):
        raise _invalid("the signature is not of the form <key id>:<base64>")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("the signature is not valid base64") from None
    if len(raw) != 64:
        raise _invalid("an Ed25519 signature is 64 bytes")
    return key_id, raw


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
