"""Topic-pattern matching, checked against RabbitMQ's rules and a brute-force reference."""

from __future__ import annotations

import itertools

import pytest

from hub.transport.topic import split_words, topic_matches, validate_routing_key

CASES = [
    # (pattern, routing key, matches)
    ("3171.ormas.anggota", "3171.ormas.anggota", True),
    ("3171.ormas.anggota", "3171.ormas", False),
    ("3171.*.anggota", "3171.ormas.anggota", True),
    ("3171.*.anggota", "3171.anggota", False),
    ("3171.*", "3171", False),
    ("3171.*", "3171.a.b", False),
    ("*", "3171", True),
    ("*", "", False),
    ("*.*", "a.", True),  # an empty word is still a word
    ("#", "", True),
    ("#", "a.b.c", True),
    ("", "", True),
    ("", "a", False),
    ("3171.#", "3171", True),
    ("3171.#", "3171.a.b.c", True),
    ("3171.#", "3172.a", False),
    ("#.anggota", "anggota", True),
    ("#.anggota", "3171.ormas.anggota", True),
    ("#.anggota", "3171.anggota.x", False),
    ("a.#.b", "a.b", True),
    ("a.#.b", "a.x.y.b", True),
    ("a.#.b", "a.x.y.c", False),
    ("#.*", "", False),
    ("#.*", "a", True),
    ("*.#", "a.b", True),
    ("#.#", "", True),
    ("#.a.#", "x.a.y", True),
    ("#.a.#.a", "a.a", True),
    ("#.a.#.a", "a.b.c", False),
    ("a*", "ab", False),  # wildcards only as whole words
    ("a*", "a*", True),
    ("a.#", "a#", False),
    ("32.01.*", "32.01.ormas", True),
    ("32.01.*", "32.010.ormas", False),
]


@pytest.mark.parametrize(("pattern", "key", "expected"), CASES)
def test_topic_table(pattern: str, key: str, expected: bool) -> None:
    """Each row of the table matches (or not) exactly as a RabbitMQ topic exchange routes."""
    assert topic_matches(pattern, key) is expected


def _reference(pattern: tuple[str, ...], key: tuple[str, ...]) -> bool:
    if not pattern:
        return not key
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_reference(rest, key[i:]) for i in range(len(key) + 1))
    if not key:
        return False
    return (head == "*" or head == key[0]) and _reference(rest, key[1:])


def test_matches_brute_force_reference() -> None:
    """The iterative matcher agrees with a recursive reference on every small pattern/key combination."""
    pattern_words = ["a", "b", "*", "#"]
    key_words = ["a", "b", ""]
    checked = 0
    for plen in range(0, 5):
        for pattern in itertools.product(pattern_words, repeat=plen):
            for klen in range(0, 4):
                for key in itertools.product(key_words, repeat=klen):
                    p, k = ".".join(pattern), ".".join(key)
                    # an empty-string join cannot express a single empty word; keep the split consistent
                    if split_words(k) != key or split_words(p) != pattern:
                        continue
                    assert topic_matches(p, k) is _reference(pattern, key), (p, k)
                    checked += 1
    assert checked > 5000


def test_split_words_empty_key_has_no_words() -> None:
    """The empty routing key has zero words; a trailing dot makes an empty last word."""
    assert split_words("") == ()
    assert split_words("a.") == ("a", "")


def test_validate_routing_key_length() -> None:
    """Keys over 255 UTF-8 bytes are refused before reaching the broker; 255 bytes are fine."""
    validate_routing_key("a" * 255)
    with pytest.raises(ValueError, match="255"):
        validate_routing_key("é" * 128)  # 256 bytes
