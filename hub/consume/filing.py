"""Filing a consumed envelope in quarantine: what the sink worker and a level forwarder refuse.

The envelope is kept as it was decoded (``original``), possibly malformed, so every field is read
defensively; its payload is masked by every schema's PII keys, not only the ones it declares.
"""

from __future__ import annotations

from typing import Any

from hub.errors import RecordError
from hub.model import codec
from hub.quarantine.filer import Quarantiner
from hub.trust.pii import preview_pii_keys


async def quarantine_item(
    quarantiner: Quarantiner, consumer: str, item: dict[str, Any], err: RecordError
) -> None:
    """File one consumed envelope (``item``, as decoded) in quarantine at stage ``consume``, with
    ``err`` as the reason; returns after the broker confirmed the entry."""
    source = item.get("source") if isinstance(item.get("source"), dict) else {}
    assert isinstance(source, dict)
    payload = item.get("payload")
    await quarantiner.put(
        err,
        stage="consume",
        adapter=consumer,
        source_system=str(source.get("system", "unknown")),
        office=str_or_none(source.get("office")),
        raw=payload if isinstance(payload, dict) else {},
        original=codec.dumps(item),
        schema_name=str_or_none(item.get("schema_name")),
        schema_version=str_or_none(item.get("schema_version")),
        kode_wilayah=str_or_none(item.get("kode_wilayah")),
        source_record_id=str_or_none(item.get("source_record_id")),
        revision=item.get("revision") if isinstance(item.get("revision"), int) else None,
        correlation_id=str_or_none(item.get("correlation_id")),
        # Not only what the (untrusted) envelope declares: every schema's PII keys are masked.
        pii_keys=preview_pii_keys(declared if isinstance(declared := item.get("pii"), list) else ()),
    )


def str_or_none(value: object) -> str | None:
    """``value`` if it is a string, else None: for fields of an envelope that may be malformed."""
    return value if isinstance(value, str) else None
