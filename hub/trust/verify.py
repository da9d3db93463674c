"""Verifying a record before it is trusted: signature, key validity, time window, sender identity.

``Verifier.verify(envelope)`` checks the signature and the key (for a level forwarder and the central
consumer); ``Verifier.check_delivery(item, user_id)`` adds the identity check the central consumer makes:
the broker-validated ``user_id`` of the delivery, the envelope's ``source.office`` and the signing key's
office must belong together. Both raise ``TrustError`` with a specific reason:

* ``signature_missing``   unsigned record while signatures are required;
* ``signature_invalid``   malformed, or not matching the canonical form (tampered, or another key's);
* ``key_unknown``         the key id is not in the registry;
* ``key_not_yet_valid``   signed before the key's ``not_before``;
* ``key_revoked``         signed at or after the key's ``revoked_at`` (back-dating is bounded by the window);
* ``outside_time_window`` the signing time (``received_at``) is older than ``max_age_s`` or in the future;
* ``identity_mismatch``   the broker user is unknown or does not cover the record's office; the key's office
  does not cover ``source.office``; the record's region lies outside ``source.office``.

"Covers" means equal to or an ancestor of (``pusat`` covers everything): records of lower levels reach the
centre through their parent's shovel user, and a node may sign for the offices below it (HTTP ingest).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.errors import FieldIssue, TrustError
from hub.trust import merkle
from hub.trust.keys import KeyEntry, KeyRegistry, covers
from hub.trust.signing import canonical_with_payload, split_signature, verify_message
from schemas.envelope import Envelope
from schemas.regions import default_index

_WALK_MEMO = 8192  # (node, rest of path) entries: ~2 per record, so a few thousand records in flight


@dataclass(frozen=True)
class TrustPolicy:
    """What the verifier insists on."""

    require_signatures: bool = True
    require_user: bool = True
    max_age_s: float = 14 * 86400.0
    max_future_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Verified:
    """What a record passed verification with: its signing key (None: unsigned, and allowed) and the root
    of the Merkle tree its signature covers (for a record signed alone, its leaf hash: the root of a
    one-leaf tree), which the evidence log names; and, for an envelope of the usual shape, its payload's
    canonical bytes, made on the way (``signing.canonical_with_payload``), else None."""

    key: KeyEntry | None
    root: bytes | None
    payload_json: bytes | None = None


class Verifier:
    """Checks envelopes against a key registry under a policy. Cheap to share; no I/O but the registry's
    occasional ``stat``."""

    def __init__(
        self,
        registry: KeyRegistry,
        policy: TrustPolicy | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        cache_size: int = 65_536,
    ) -> None:
        self.registry = registry
        self.policy = policy or TrustPolicy()
        self._clock = clock
        self._cache_size = cache_size
        # (raw signature, signed message) -> the public key it verified under.
        self._verified: dict[tuple[bytes, bytes], Ed25519PublicKey] = {}
        # "<key id>:<base64 signature>" -> (key id, raw signature): shared by every record of a batch.
        self._heads: dict[str, tuple[str, bytes]] = {}
        # (inner node, rest of its path) -> the root that walk leads to (see ``_root_of``).
        self._walked: dict[bytes, bytes] = {}

    def now(self) -> datetime:
        """The verifier's clock: a consumer reads it once per group and passes it to ``check_record``."""
        return self._clock()

    def verify(self, envelope: Envelope | Mapping[str, Any]) -> None:
        """Check signature, key and time window; raises ``TrustError`` (a ``RecordError``).

        The hook a level forwarder calls. Takes an ``Envelope`` or the envelope dict read off the wire
        (the consumer: no re-serialisation, and what is verified is exactly what arrived).
        """
        self.verify_key(envelope)

    def verify_key(self, envelope: Envelope | Mapping[str, Any]) -> KeyEntry | None:
        """``verify``, returning the signing key (None if unsigned and allowed)."""
        data = envelope.model_dump(mode="json") if isinstance(envelope, Envelope) else envelope
        return self._verify(data, self._clock()).key

    def _verify(self, data: Mapping[str, Any], now: datetime) -> Verified:
        signed_at = _signed_at(data)
        self._check_window(signed_at, now)
        signature = data.get("signature")
        if signature is None:
            if self.policy.require_signatures:
                raise _error("signature_missing", "the record is not signed", "signature")
            return Verified(None, None)
        if not isinstance(signature, str):
            raise _error("signature_invalid", "the signature is not a string", "signature")
        key_id, raw, path = self._split(signature)
        key = self.registry.key(key_id)
        if key is None:
            raise _error("key_unknown", f"signing key {key_id!r} is not in the key registry", "signature")
        if key.not_before is not None and signed_at < key.not_before:
            raise _error(
                "key_not_yet_valid", f"key {key_id!r} was not yet valid at signing time", "signature"
            )
        # Signed before revoked_at passes: records in transit when a key is retired still arrive. A thief
        # could back-date, but no further than the replay window (checked above).
        if key.revoked_at is not None and signed_at >= key.revoked_at:
            raise _error("key_revoked", f"key {key_id!r} is revoked", "signature")
        # Every record's own canonical bytes are hashed and, for a batch signature, walked up its path:
        # only the Ed25519 check of the root is shared with its batch-mates.
        canonical, payload_json = canonical_with_payload(data)
        if path is None:
            self._verify_cached(key, raw, canonical)
            return Verified(key, merkle.leaf_hash(canonical), payload_json)
        try:
            root = self._root_of(merkle.leaf_hash(canonical), path)
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        self._verify_cached(key, raw, merkle.signed_message(root))
        return Verified(key, root, payload_json)

    def _split(self, signature: str) -> tuple[str, bytes, bytes | None]:
        """``split_signature``, with the key id and signature part parsed once per batch (all records of
        a batch share them; only the path is each record's own)."""
        head, sep, encoded_path = signature.rpartition(":")
        if sep and head.count(":") == 1:  # <key id>:<signature>:<path>
            parsed = self._heads.get(head)
            if parsed is None:
                key_id, raw, _ = split_signature(head)
                parsed = self._heads[head] = (key_id, raw)
                if len(self._heads) > 4096:  # a bounded memo: many batches are in flight at most
                    del self._heads[next(iter(self._heads))]
            try:
                path = base64.b64decode(encoded_path, validate=True)
            except (binascii.Error, ValueError):
                raise _invalid("the signature is not valid base64") from None
            return parsed[0], parsed[1], path
        return split_signature(signature)

    def _root_of(self, leaf: bytes, path: bytes) -> bytes:
        """``merkle.root_of``, memoised: batch-mates share the upper part of their paths, so a walk stops
        at the first (node, rest of the path) already walked, whose root is then known. Exactly
        ``merkle.root_of``'s result and errors (a pure function's memo; the steps walked are checked as
        there, the rest were checked when first walked); about two hashes per record instead of six
        for a batch of 64."""
        if len(path) % merkle.STEP or len(path) // merkle.STEP > merkle.MAX_DEPTH:
            return merkle.root_of(leaf, path)  # raises
        memo = self._walked
        node = leaf
        seen: list[bytes] = []
        for at in range(0, len(path), merkle.STEP):
            node = merkle.root_of(node, path[at : at + merkle.STEP])  # one step
            token = node + path[at + merkle.STEP :]
            root = memo.get(token)
            if root is not None:
                break
            seen.append(token)
        else:
            root = node
        for token in seen:
            memo[token] = root
        if len(memo) > _WALK_MEMO:
            memo.clear()  # a memo only: the batches in flight refill it at once
        return root

    def _verify_cached(self, key: KeyEntry, raw: bytes, message: bytes) -> None:
        # Each signed message is checked cryptographically once per key: a dict look-up stands in for an
        # Ed25519 verification (~100 us). For a batch signature the message is the batch's root, so the
        # first record of a batch pays the verification and its batch-mates only their path; a record
        # reaching several consumers of this node, or redelivered, is verified once too. Only successes
        # are remembered, with the key object they verified under (a registry reload re-verifies); the
        # key's validity is re-checked every time.
        token = (raw, message)
        if self._verified.get(token) is key.public_key:
            return
        verify_message(key.public_key, raw, message)
        self._verified[token] = key.public_key
        if len(self._verified) > self._cache_size:
            del self._verified[next(iter(self._verified))]  # oldest first (dicts keep insertion order)

    def check_delivery(self, item: Mapping[str, Any], user_id: str | None) -> KeyEntry | None:
        """``verify`` plus the identity check of the central consumer (see the module docstring)."""
        return self.check_record(item, user_id).key

    def check_record(
        self, item: Mapping[str, Any], user_id: str | None, now: datetime | None = None
    ) -> Verified:
        """``check_delivery`` on the envelope dict as it arrived, at ``now`` (default: the clock), returning
        what the record was verified with."""
        verified = self._verify(item, self._clock() if now is None else now)
        key = verified.key
        source = item.get("source")
        office = source.get("office") if isinstance(source, dict) else None
        region = item.get("kode_wilayah")
        if not isinstance(office, str) or not isinstance(region, str):
            raise _error("identity_mismatch", "the record names no sending office or region", "source.office")
        if not covers(office, region) and not _split_off_from(office, region):
            raise _error(
                "identity_mismatch", "the record's region lies outside its sending office", "kode_wilayah"
            )
        if key is not None and not covers(key.office, office):
            raise _error(
                "identity_mismatch", f"key {key.key_id!r} does not speak for the sending office", "signature"
            )
        if user_id is None:
            if self.policy.require_user:
                raise _error("identity_mismatch", "the message carries no validated broker user", "user_id")
            return verified
        user_office = self.registry.office_of_user(user_id)
        if user_office is None:
            raise _error("identity_mismatch", f"broker user {user_id!r} is not registered", "user_id")
        if not covers(user_office, office) or (key is not None and not covers(user_office, key.office)):
            raise _error(
                "identity_mismatch",
                f"broker user {user_id!r} may not publish for the sending office",
                "user_id",
            )
        return verified

    def _check_window(self, signed_at: datetime, now: datetime) -> None:
        age = (now - signed_at).total_seconds()
        if age > self.policy.max_age_s:
            raise _error("outside_time_window", "the record is older than the replay window", "received_at")
        if -age > self.policy.max_future_s:
            raise _error("outside_time_window", "the record's signing time lies in the future", "received_at")


def _signed_at(data: Mapping[str, Any]) -> datetime:
    value = data.get("received_at")
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _error("signature_invalid", "the record has no usable signing time", "received_at")
    return at


def _error(reason: str, message: str, loc: str) -> TrustError:
    return TrustError(message, issues=[FieldIssue(loc, reason, message)], reason=reason)


def _invalid(message: str) -> TrustError:
    return _error("signature_invalid", message, "signature")


def _split_off_from(office: str, region: str) -> bool:
    """True if ``region`` lies in a kab/kota split off in 2022 from ``office``'s area (the office's old
    system still reports it; ``hub.ingest.offices.successor_note`` accepted it at ingest)."""
    move = default_index().succession_of(region)
    return move is not None and covers(office, move.old)
