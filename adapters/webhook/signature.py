"""HMAC-SHA256 request signatures: ``X-Signature: sha256=<hex>`` over the raw body bytes."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(secret: bytes, body: bytes) -> str:
    """The header value a sender puts on ``body``."""
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True if ``header`` is the signature of ``body``; compared in constant time, hex case ignored."""
    if not header:
        return False
    presented = header.strip()
    if presented[: len(PREFIX)].lower() != PREFIX:
        return False
    expected = sign(secret, body).encode()
    # Non-ASCII bytes in a forged header simply never match; compare_digest needs equal types only.
    return hmac.compare_digest(
        expected, (PREFIX + presented[len(PREFIX) :].lower()).encode("utf-8", "replace")
    )
