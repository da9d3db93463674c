"""Structural limits on submitted JSON that the parser does not enforce itself.

orjson refuses nesting beyond 1024 levels; far less than that already makes validation and error
reporting expensive, and no schema nests deeper than a handful of levels.
"""

from __future__ import annotations

from typing import Any


def depth_exceeds(value: Any, limit: int) -> bool:
    """True if ``value`` nests objects/arrays deeper than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node  # type: ignore[assignment]
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
