"""Who may read what in the feeds, and what of it they see.

* **Scope**: a consumer reads only its ``schemas`` and ``regions``. A request for a region outside its
  scope is refused (403); a request without a region is narrowed to the scope, so rows of other regions
  are never read at all (the filter is in the database query).
* **Classification**: a record classified above the consumer's clearance is withheld (also in the query).
* **Personal fields**: each field the schema marks ``personal`` or ``specific`` (``schemas.pii``; plus any
  path the record's own envelope lists in ``pii``) is set to null and named in the item's ``redacted``
  unless the consumer's clearance reaches the level ``[feeds]`` sets for that class. A record of a schema
  version the catalogue does not know has every path of its envelope's ``pii`` redacted.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from hub.adapters.warehouse import FeedRow
from hub.errors import UnknownSchema
from hub.settings import FeedApiSettings, FeedConsumer
from schemas import catalog
from schemas.classification import Classification
from schemas.pii import PiiClass, pii_map


def allowed_classifications(clearance: Classification) -> tuple[str, ...]:
    """The classifications a consumer with ``clearance`` may read (its own and below)."""
    return tuple(c.value for c in Classification if c.rank <= clearance.rank)


def within(code: str, scope: str) -> bool:
    """True if kode wilayah ``code`` is ``scope`` or lies under it."""
    return code == scope or code.startswith(scope + ".")


def narrow(consumer: FeedConsumer, requested: str | None) -> tuple[str, ...] | None:
    """The region prefixes to query: the requested one if the scope covers it, else the scope itself.
    None when the request is outside the scope (the caller answers 403)."""
    if requested is None:
        return tuple(consumer.regions)
    if not consumer.regions or any(within(requested, s) for s in consumer.regions):
        return (requested,)
    return None


@functools.lru_cache(maxsize=256)
def _pii_classes(schema: str, version: str) -> dict[str, PiiClass] | None:
    try:
        spec = catalog.get(schema, version)
    except UnknownSchema:
        return None
    return pii_map(spec.model)


def hidden_paths(row: FeedRow, consumer: FeedConsumer, settings: FeedApiSettings) -> list[str]:
    """The payload paths of ``row`` this consumer may not see (``*`` = every item of a list)."""
    classes = _pii_classes(row.schema_name, row.schema_version)
    listed = [str(p) for p in row.envelope.get("pii") or ()]
    if classes is None:
        return sorted(set(listed))
    paths = dict(classes)
    for path in listed:
        paths.setdefault(path, PiiClass.PERSONAL)
    needed = {PiiClass.PERSONAL: settings.personal_clearance, PiiClass.SPECIFIC: settings.specific_clearance}
    return sorted(p for p, cls in paths.items() if consumer.clearance.rank < needed[cls].rank)


def redact(payload: dict[str, Any], paths: list[str]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``payload`` with every value at ``paths`` set to None; returns it and the paths that
    held a value (absent or null fields are not reported as redacted)."""
    out = copy.deepcopy(payload)
    hit: list[str] = []
    for path in paths:
        if _clear(out, path.split(".")):
            hit.append(path)
    return out, hit


def _clear(node: Any, parts: list[str]) -> bool:
    if not parts:
        return False
    head, rest = parts[0], parts[1:]
    if head == "*":
        if not isinstance(node, list):
            return False
        return any([_clear(item, rest) for item in node]) if rest else False
    if not isinstance(node, dict) or head not in node:
        return False
    if rest:
        return _clear(node[head], rest)
    if node[head] is None:
        return False
    node[head] = None
    return True


_ENVELOPE_FIELDS = ("message_id", "idempotency_key", "record_key", "classification", "occurred_at",
                    "reported_at", "received_at", "correlation_id")  # fmt: skip


def item_view(row: FeedRow, consumer: FeedConsumer, settings: FeedApiSettings) -> dict[str, Any]:
    """One feed item: identity, region, state, times and the payload as this consumer may see it."""
    payload, redacted = redact(row.payload, hidden_paths(row, consumer, settings))
    envelope = row.envelope
    source = envelope.get("source") or {}
    item: dict[str, Any] = {
        "cursor": str(row.position),
        "schema": row.schema_name,
        "schema_version": row.schema_version,
        "kode_wilayah": row.kode_wilayah,
        "revision": row.revision,
        "op": row.op,
        "state": row.state,
        **{k: envelope.get(k) for k in _ENVELOPE_FIELDS},
        "source": {"system": source.get("system"), "office": source.get("office")},
        "applied_at": row.applied_at.isoformat(),
        "payload": payload,
        "redacted": redacted,
    }
    return item
