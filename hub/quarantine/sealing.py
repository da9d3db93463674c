"""Sealing: authenticated encryption (AES-256-GCM) of quarantined originals.

A sealed token is the url-safe base64 (no padding) of::

    len(key_id) (1 byte) | key_id (ASCII) | nonce (12 bytes) | ciphertext with the 16-byte GCM tag

The key id is also the associated data, so a token cannot be re-labelled to another key id without
failing authentication. ``unseal`` raises ``FatalError`` for a malformed, tampered or foreign token; its
message names key ids only, never any of the sealed bytes or the key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import ConfigError, FatalError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def generate_key() -> str:
    """A fresh random 256-bit key, url-safe base64, for settings (``Sealer.from_b64`` reads it)."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii")


def _b64decode(text: str) -> bytes:
    """Decode standard or url-safe base64, with or without padding; any other character is an error."""
    raw = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    return base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)


class Sealer:
    """Seals and unseals byte strings with one AES-256-GCM key, labelled by ``key_id``.

    Thread-safe: it holds no mutable state; every ``seal`` draws a fresh random 96-bit nonce (safe well
    beyond any quarantine volume, as the GCM limit is about 2**32 messages per key).
    """

    def __init__(self, key: bytes, key_id: str = "q1") -> None:
        if len(key) != KEY_BYTES:
            # Name the length only: the key itself must never reach a log line.
            raise ConfigError(f"sealing key must be {KEY_BYTES} bytes, got {len(key)}", key="quarantine_key")
        if not _KEY_ID.fullmatch(key_id):
            raise ConfigError("key id must be 1-64 characters of [A-Za-z0-9._-]", key="quarantine_key_id")
        self._aead = AESGCM(key)
        self.key_id = key_id
        self._key_id_bytes = key_id.encode("ascii")

    @classmethod
    def from_b64(cls, key_b64: str, key_id: str = "q1") -> Sealer:
        """Build from a base64 key (standard or url-safe, as ``generate_key`` writes) held in settings."""
        try:
            key = _b64decode(key_b64)
        except (binascii.Error, ValueError):
            raise ConfigError("sealing key is not valid base64", key="quarantine_key") from None
        return cls(key, key_id)

    def seal(self, data: bytes) -> str:
        """Encrypt and authenticate ``data``; returns an ASCII token safe for JSON and URLs."""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, data, self._key_id_bytes)
        token = bytes([len(self._key_id_bytes)]) + self._key_id_bytes + nonce + ciphertext
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def unseal(self, token: str) -> bytes:
        """The original bytes of a token made by ``seal`` with this key.

        Raises ``FatalError`` when the token is malformed, was sealed under another key id, or fails
        authentication (tampered, or sealed with a different key under the same id).
        """
        try:
            raw = _b64decode(token)
        except (binascii.Error, ValueError):
            raise FatalError(f"sealed data is malformed (expected key {self.key_id!r})") from None
        id_len = raw[0] if raw else 0
        body_at = 1 + id_len
        if id_len == 0 or len(raw) < body_at + NONCE_BYTES + TAG_BYTES:
            raise FatalError(f"sealed data is malformed (expected key {self.key_id!r})")
        token_key_id = raw[1:body_at]
        if token_key_id != self._key_id_bytes:
            raise FatalError(
                f"sealed data cannot be opened with key {self.key_id!r}: "
                f"it was sealed with key {_safe_key_id(token_key_id)}"
            )
        nonce = raw[body_at : body_at + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, raw[body_at + NONCE_BYTES :], token_key_id)
        except InvalidTag:
            raise FatalError(
                f"sealed data cannot be opened with key {self.key_id!r} (wrong key or tampered)"
            ) from None


def _safe_key_id(raw: bytes) -> str:
    """The token's key id for an error message, only if it looks like a key id (the token is input)."""
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return "<unreadable>"
    return repr(text) if _KEY_ID.fullmatch(text) else "<unreadable>"
