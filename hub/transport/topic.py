"""AMQP topic-exchange matching, exactly as RabbitMQ does it, without a broker.

A routing key and a binding pattern are lists of *words* separated by ``.``. In a pattern, ``*`` matches
exactly one word and ``#`` matches zero or more words; every other word must be equal. Some edges that
surprise people, all as in RabbitMQ's ``rabbit_exchange_type_topic``:

- the empty key ``""`` has zero words: ``#`` matches it, ``*`` does not, the empty pattern ``""`` does;
- ``a.`` and ``.a`` have an empty word, which ``*`` matches (``*.*`` matches ``a.``);
- ``#`` in the middle can swallow nothing: ``a.#.b`` matches ``a.b``;
- ``*`` and ``#`` are wildcards only as whole words: ``a*`` and ``a#`` are literal words.

Used by :class:`hub.transport.memory.MemoryTransport` and by anyone who needs to predict routing (for
example to check that a configured binding covers a region's routing keys).
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["MAX_ROUTING_KEY_BYTES", "split_words", "topic_matches", "validate_routing_key"]

MAX_ROUTING_KEY_BYTES = 255
"""AMQP 0-9-1 limits a routing key (a ``shortstr``) to 255 bytes of UTF-8."""


def split_words(key: str) -> tuple[str, ...]:
    """Split a routing key or pattern into words; the empty string has no words."""
    return () if key == "" else tuple(key.split("."))


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> tuple[str, ...]:
    words = split_words(pattern)
    # Consecutive '#' words are equivalent to one; collapsing them keeps the matcher linear-ish.
    collapsed: list[str] = []
    for word in words:
        if word == "#" and collapsed and collapsed[-1] == "#":
            continue
        collapsed.append(word)
    return tuple(collapsed)


def topic_matches(pattern: str, routing_key: str) -> bool:
    """Return True if a topic binding with ``pattern`` routes a message published with ``routing_key``.

    >>> topic_matches("3171.*.anggota", "3171.ormas.anggota")
    True
    >>> topic_matches("3171.#", "3171")
    True
    >>> topic_matches("3171.*", "3171")
    False
    """
    pat = _compile(pattern)
    key = split_words(routing_key)
    # Iterative matcher with single-point backtracking to the last '#', like glob matching: O(len(p) * len(k))
    # in the worst case, no recursion, no regex.
    p = k = 0
    star_p = -1  # index of the last '#' seen in the pattern
    star_k = 0  # key index that '#' is currently assumed to extend to
    while k < len(key):
        if p < len(pat) and pat[p] == "#":
            star_p, star_k = p, k
            p += 1
        elif p < len(pat) and (pat[p] == "*" or pat[p] == key[k]):
            p += 1
            k += 1
        elif star_p >= 0:
            # Let the last '#' swallow one more word and retry after it.
            star_k += 1
            k = star_k
            p = star_p + 1
        else:
            return False
    while p < len(pat) and pat[p] == "#":
        p += 1
    return p == len(pat)


def validate_routing_key(routing_key: str) -> None:
    """Raise ``ValueError`` if ``routing_key`` cannot be sent over AMQP (longer than 255 UTF-8 bytes).

    Wildcards are legal in a published key (they are plain words there), so they are not rejected.
    """
    size = len(routing_key.encode("utf-8"))
    if size > MAX_ROUTING_KEY_BYTES:
        raise ValueError(f"routing key is {size} bytes; AMQP allows at most {MAX_ROUTING_KEY_BYTES}")
