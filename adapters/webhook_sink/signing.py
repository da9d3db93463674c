"""The webhook signature: ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body with the shared secret>``
(the same scheme the regional early-warning apps use towards Simpul), plus the batch's message id."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence

from schemas.envelope import Envelope

SIGNATURE_HEADER = "X-Signature"
MESSAGE_ID_HEADER = "X-Simpul-Message-Id"
COUNT_HEADER = "X-Simpul-Count"
_BATCH_NAMESPACE = uuid.UUID("8d1f0c2a-3c55-4a8e-bf0e-776562686f6b")


def sign(secret: bytes, body: bytes) -> str:
    """The ``X-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """True if ``header`` is the signature of ``body`` (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def batch_message_id(envelopes: Sequence[Envelope]) -> str:
    """The batch's ``X-Simpul-Message-Id``: the envelope's own message id for a batch of one, else a
    UUIDv5 of the idempotency keys (equal for an equal batch; receivers should dedupe per envelope too,
    because a redelivery can group envelopes differently)."""
    if len(envelopes) == 1:
        return envelopes[0].message_id
    return str(uuid.uuid5(_BATCH_NAMESPACE, ",".join(e.idempotency_key for e in envelopes)))
