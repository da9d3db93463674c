"""Embedding JSON Schemas into OpenAPI and AsyncAPI documents.

A pydantic schema keeps its nested models in ``$defs`` and points at them with ``#/$defs/X``, which inside a
bigger document would resolve against that document's root. :func:`hoist` moves the definitions into the
document's ``components/schemas`` under prefixed names and rewrites every ``$ref`` to match.
"""

from __future__ import annotations

import copy
from typing import Any

_DROP = ("$schema", "$id")


def hoist(schema: dict[str, Any], prefix: str, components: dict[str, Any], base: str) -> dict[str, Any]:
    """``schema`` without ``$defs``/``$schema``/``$id``; its definitions are added to ``components`` as
    ``<prefix>.<Name>`` (``base`` is the ref path of ``components``, e.g. ``#/components/schemas/``)."""
    body = copy.deepcopy(schema)
    defs = body.pop("$defs", {})
    for key in _DROP:
        body.pop(key, None)
    names = {name: f"{prefix}.{name}" for name in defs}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v) for k, v in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                out["$ref"] = base + names[ref.rsplit("/", 1)[-1]]
            return out
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    for name, definition in defs.items():
        components[names[name]] = rewrite(definition)
    result: dict[str, Any] = rewrite(body)
    return result
