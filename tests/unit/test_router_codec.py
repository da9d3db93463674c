"""Routing keys and the batch wire format."""

from __future__ import annotations

import pytest

from hub.model import codec
from hub.model.router import binding_for_region, quarantine_key, routing_key
from hub.transport.topic import topic_matches


def test_routing_key_carries_schema_major_and_region_words() -> None:
    """The key is schema.vMAJOR.region words, cut at the configured depth."""
    assert routing_key("conflict_incident", 1, "32.01.05") == "conflict_incident.v1.32.01.05"
    assert routing_key("conflict_incident", 2, "32.01.05.2001", depth=2) == "conflict_incident.v2.32.01"


def test_region_binding_selects_the_region_and_below_only() -> None:
    """``*.*.32.#`` matches Jawa Barat records at any depth and nothing from 33."""
    pattern = binding_for_region("32")
    assert topic_matches(pattern, "early_warning.v1.32")
    assert topic_matches(pattern, "early_warning.v1.32.01.05")
    assert not topic_matches(pattern, "early_warning.v1.33.01")


def test_quarantine_key_has_fallbacks() -> None:
    """Unknown schema and province still give a routable key."""
    assert quarantine_key(None, None) == "q.unknown.xx"
    assert quarantine_key("ormas_registration", "32") == "q.ormas_registration.32"


def test_batch_round_trip() -> None:
    """Joined serialised envelopes parse back into the same objects."""
    items = [codec.dumps({"a": i, "s": "é"}) for i in range(3)]
    assert codec.split_batch(codec.join_batch(items)) == [
        {"a": 0, "s": "é"},
        {"a": 1, "s": "é"},
        {"a": 2, "s": "é"},
    ]


@pytest.mark.parametrize("body", [b"not json", b'{"a": 1}', b"[1, 2]", b""])
def test_split_batch_refuses_what_is_not_an_envelope_array(body: bytes) -> None:
    """Garbage, a bare object or an array of scalars is refused with ValueError."""
    with pytest.raises(ValueError):
        codec.split_batch(body)
