"""``webhook`` reading a captured push: ``{"headers": {...}, "body": {...}}`` (as a capture tool saves it)
or the pushed JSON object itself, through the handler's own ``event_id_of`` and ``push_record``. A JSON
array of such pushes is read push by push. The signature is not checked (a capture has no secret)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from adapters.webhook.config import WebhookConfig
from adapters.webhook.handler import event_id_of, offset_zone, push_record
from hub.adapters.model import SampleRead, SkippedRow
from hub.errors import ConfigError
from hub.model.records import SourceRecord


def read_sample(
    config: WebhookConfig | None, data: bytes, *, name: str, make: Callable[..., SourceRecord]
) -> SampleRead:
    """The record of each captured push as the handler would make it."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"the push is not JSON ({exc.msg})", key=name) from None
    settings = {} if config is None else config.model_dump(mode="json", exclude_defaults=True)
    cfg = config or WebhookConfig(secret_env="TODO_WEBHOOK_SECRET")
    tz = offset_zone(cfg.source_utc_offset)
    pushes = document if isinstance(document, list) else [document]
    records: list[SourceRecord] = []
    skipped: list[SkippedRow] = []
    for number, push in enumerate(pushes, start=1):
        headers: dict[str, Any] = {}
        body: Any = push
        if isinstance(push, dict) and "body" in push and isinstance(push.get("headers"), dict):
            headers, body = push["headers"], push["body"]
        if not isinstance(body, dict):
            skipped.append(SkippedRow(f"push {number}", "not_an_object (answered 400)"))
            continue
        event_id = event_id_of(headers, body, cfg) or f"push-{number}"
        records.append(push_record(str(event_id), body, orjson.dumps(body), cfg, tz, make))
    if config is None:
        settings = {"secret_env": "TODO_WEBHOOK_SECRET"}
    return SampleRead(records, skipped, settings, [f"{len(records)} push(es)"])
