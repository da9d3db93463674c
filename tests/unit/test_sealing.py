"""Sealing of quarantined originals with AES-256-GCM."""

from __future__ import annotations

import base64

import pytest

from hub.errors import ConfigError, FatalError
from hub.quarantine.sealing import Sealer, generate_key

SECRET = b'{"nik": "3201051234560001", "nama": "Budi"}'


def test_round_trip_and_fresh_nonce() -> None:
    """Unsealing gives the original bytes; sealing twice gives different tokens without the plaintext."""
    sealer = Sealer.from_b64(generate_key())
    a, b = sealer.seal(SECRET), sealer.seal(SECRET)
    assert a != b
    assert sealer.unseal(a) == SECRET and sealer.unseal(b) == SECRET
    assert b"3201051234560001" not in base64.urlsafe_b64decode(a + "=" * (-len(a) % 4))
    assert sealer.unseal(sealer.seal(b"")) == b""


def test_from_b64_accepts_standard_and_url_safe_base64() -> None:
    """Both base64 alphabets load the same key."""
    key = bytes(range(32))
    token = Sealer(key).seal(SECRET)
    assert Sealer.from_b64(base64.b64encode(key).decode()).unseal(token) == SECRET
    assert Sealer.from_b64(base64.urlsafe_b64encode(key).decode().rstrip("=")).unseal(token) == SECRET


def test_tampering_is_detected() -> None:
    """Flipping any byte of the ciphertext, or relabelling the key id, makes unseal fail."""
    sealer = Sealer(b"k" * 32)
    raw = bytearray(base64.urlsafe_b64decode(sealer.seal(SECRET) + "=="))
    for pos in (len(raw) - 1, 1 + 2 + 12 + 3):  # tag byte, ciphertext byte
        bad = bytearray(raw)
        bad[pos] ^= 0x01
        with pytest.raises(FatalError, match="'q1'"):
            sealer.unseal(base64.urlsafe_b64encode(bytes(bad)).decode())
    relabelled = bytes([2]) + b"q2" + bytes(raw[3:])
    with pytest.raises(FatalError, match="sealed with key 'q2'"):
        sealer.unseal(base64.urlsafe_b64encode(relabelled).decode())
    for garbage in ("", "!!!", "AAAA", base64.urlsafe_b64encode(bytes(raw[:20])).decode()):
        with pytest.raises(FatalError, match="malformed"):
            sealer.unseal(garbage)


def test_wrong_key_fails_naming_only_the_key_id() -> None:
    """Another key under the same id cannot open the token, and the error holds no secret."""
    token = Sealer(b"a" * 32).seal(SECRET)
    with pytest.raises(FatalError) as info:
        Sealer(b"b" * 32).unseal(token)
    text = str(info.value)
    assert "'q1'" in text and "Budi" not in text and "bbbb" not in text
    with pytest.raises(FatalError, match="cannot be opened with key 'q2'"):
        Sealer(b"a" * 32, key_id="q2").unseal(token)


def test_bad_keys_are_config_errors() -> None:
    """A key of the wrong length, a non-base64 key or a bad key id is refused at startup."""
    with pytest.raises(ConfigError, match="32 bytes"):
        Sealer(b"short")
    with pytest.raises(ConfigError, match="base64"):
        Sealer.from_b64("not base64 at all!")
    with pytest.raises(ConfigError, match="key id"):
        Sealer(b"k" * 32, key_id="has space")
    assert len(base64.urlsafe_b64decode(generate_key())) == 32
