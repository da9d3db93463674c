"""Merkle trees over records: one Ed25519 signature covers a batch, and each record stays provable alone.

A source batch of n records is signed once: the signer hashes each record's canonical form into a leaf,
builds a binary hash tree, and signs its root. Each record carries its *path*, the sibling hashes from its
leaf up to the root, so any level can verify it without its batch-mates, even after records were regrouped,
held, quarantined or redriven one by one. This is the scheme of RFC 6962 (Certificate Transparency) and of
X-Road's batch signatures: leaves and inner nodes are hashed with different prefixes (0x00, 0x01) so that
an inner node can never pass for a record.

A path is a byte string of steps, 33 bytes each: one side byte (0x00: the sibling is on the right,
0x01: on the left) and the sibling's SHA-256. A node without a sibling on its level (odd count) moves up
unchanged and adds no step. The root is signed with a context prefix (``ROOT_CONTEXT``), so a root
signature can never be mistaken for the signature of a single record's canonical form (which starts
with ``{``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

ROOT_CONTEXT = b"simpul/merkle-root/1\x00"
STEP = 33
MAX_DEPTH = 32
_RIGHT = 0  # the sibling is on the right: parent = H(0x01 || node || sibling)
_LEFT = 1  # the sibling is on the left:  parent = H(0x01 || sibling || node)
_RIGHT_STEP, _LEFT_STEP = bytes((_RIGHT,)), bytes((_LEFT,))


def leaf_hash(canonical: bytes) -> bytes:
    """The leaf of one record: SHA-256 of 0x00 and its canonical bytes."""
    return hashlib.sha256(b"\x00" + canonical).digest()


def _parent(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def build(leaves: Sequence[bytes]) -> tuple[bytes, list[bytes]]:
    """The root over ``leaves`` (at least one) and each leaf's path, in order."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    paths: list[bytearray] = [bytearray() for _ in leaves]
    # members[i]: the leaves below node i of the current level; every one of them gains a step when
    # node i is paired with a sibling.
    level = list(leaves)
    members: list[list[int]] = [[i] for i in range(len(leaves))]
    while len(level) > 1:
        up: list[bytes] = []
        up_members: list[list[int]] = []
        for i in range(0, len(level) - 1, 2):
            left, right = level[i], level[i + 1]
            step = _RIGHT_STEP + right  # made once per pair, appended to every leaf below it
            for leaf in members[i]:
                paths[leaf] += step
            step = _LEFT_STEP + left
            for leaf in members[i + 1]:
                paths[leaf] += step
            up.append(_parent(left, right))
            up_members.append(members[i] + members[i + 1])
        if len(level) % 2:  # the odd node out moves up unchanged
            up.append(level[-1])
            up_members.append(members[-1])
        level, members = up, up_members
    return level[0], [bytes(p) for p in paths]


def root_of(leaf: bytes, path: bytes) -> bytes:
    """The root a leaf's path leads to; raises ``ValueError`` if the path is malformed."""
    if len(path) % STEP or len(path) // STEP > MAX_DEPTH:
        raise ValueError("a Merkle path is a whole number of 33-byte steps, at most 32")
    node = leaf
    for at in range(0, len(path), STEP):
        side, sibling = path[at], path[at + 1 : at + STEP]
        if side == _RIGHT:
            node = _parent(node, sibling)
        elif side == _LEFT:
            node = _parent(sibling, node)
        else:
            raise ValueError("a Merkle path step starts with 0x00 or 0x01")
    return node


def signed_message(root: bytes) -> bytes:
    """The bytes an Ed25519 batch signature covers: the context prefix and the root."""
    return ROOT_CONTEXT + root
