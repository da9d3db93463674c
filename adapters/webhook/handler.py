"""The webhook's HTTP handler: verify, dedupe, queue, and answer only once the broker confirmed.

Answers (JSON bodies; a body is never logged or echoed):

* **202** ``accepted``: the record was confirmed by the broker (published, or filed in quarantine, which
  is as durable) and the event id is marked processed;
* **200** ``duplicate``: the event id was processed before. 200, not 409, because the usual cause is
  the sender retrying a request we answered 503 (or that timed out on its side) after its record did
  get through: the data is safe, and a 2xx is what makes a retrying sender stop;
* **409** ``in_progress`` + Retry-After: the same event id is being processed right now (a retry racing
  its original); retried later it gets 200 or, if the original failed, a fresh attempt;
* **400** malformed JSON, a body that is not an object, or no usable event id;
* **401** a missing or wrong signature (checked over the raw bytes before anything is parsed);
* **413** a body over ``max_body_bytes``;
* **503** + Retry-After: too many requests waiting (backpressure), the hub not ready (broker down or
  blocked: a batch waits longer than ``confirm_timeout_s``, or the node says so), the confirm did not
  come within ``confirm_timeout_s``, or the source is stopping. Nothing was acknowledged: resend.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import structlog
from aiohttp import web

from adapters.webhook.config import WebhookConfig
from adapters.webhook.intake import Intake, IntakeClosed, IntakeFull
from adapters.webhook.signature import verify
from hub.adapters.model import AdapterContext
from hub.model.records import SourceRecord
from hub.responses import json_response, problem, read_body

log = structlog.get_logger(__name__)
_EVENT_ID = re.compile(r"^[\x21-\x7e]{1,128}$")  # visible ASCII: UUIDs, ULIDs, numbers


class WebhookHandler:
    """Handles ``POST <path>``; see the module docstring for every answer."""

    def __init__(
        self,
        config: WebhookConfig,
        secret: bytes,
        intake: Intake,
        context: AdapterContext,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        self._config = config
        self._secret = secret
        self._intake = intake
        self._context = context
        self._ready = ready
        self._tz = offset_zone(config.source_utc_offset)

    async def handle(self, request: web.Request) -> web.Response:
        response, event_id = await self._answer(request)
        log.info("webhook_answered", adapter=self._context.name, status=response.status, event_id=event_id)
        return response

    async def _answer(self, request: web.Request) -> tuple[web.Response, str | None]:
        cfg = self._config
        if request.content_length is not None and request.content_length > cfg.max_body_bytes:
            return _too_large(cfg.max_body_bytes), None
        try:
            body = await read_body(request)
        except web.HTTPRequestEntityTooLarge:  # a chunked body that grew past client_max_size
            return _too_large(cfg.max_body_bytes), None
        if not verify(self._secret, body, request.headers.get(cfg.signature_header)):
            reason = "missing" if not request.headers.get(cfg.signature_header) else "mismatch"
            return problem(
                401, "bad_signature", f"signature {reason}: sign the raw body with HMAC-SHA256"
            ), None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            return problem(
                400, "malformed_json", f"the body is not valid JSON ({exc.msg} at byte {exc.pos})"
            ), None
        if not isinstance(data, dict):
            return problem(400, "not_an_object", "the body must be a JSON object"), None
        event_id = event_id_of(request.headers, data, cfg)
        if not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
            return problem(
                400, "bad_event_id", f"send 1-128 visible ASCII characters in {cfg.event_id_header}"
            ), None
        return await self._accept(event_id, data, body), event_id

    async def _accept(self, event_id: str, data: dict[str, Any], body: bytes) -> web.Response:
        cfg, intake = self._config, self._intake
        # In flight first, then processed: a commit marks processed before it leaves the intake.
        if event_id in intake:
            return _busy(409, "in_progress", "this event is being processed; retry later", cfg.retry_after_s)
        if await asyncio.to_thread(self._context.state.is_processed, self._context.name, event_id):
            return json_response({"status": "duplicate", "event_id": event_id}, status=200)
        if event_id in intake:  # it arrived while we looked
            return _busy(409, "in_progress", "this event is being processed; retry later", cfg.retry_after_s)
        if intake.stalled(cfg.confirm_timeout_s) or (self._ready is not None and not self._ready()):
            return _busy(
                503, "not_ready", "the hub cannot reach its broker now; retry later", cfg.retry_after_s
            )
        try:
            pending = intake.offer(event_id, self._record(event_id, data, body))
        except IntakeFull:
            return _busy(503, "busy", "too many requests are waiting; retry later", cfg.retry_after_s)
        except IntakeClosed:
            return _busy(503, "stopping", "the receiver is stopping; retry later", cfg.retry_after_s)
        try:
            await asyncio.wait_for(asyncio.shield(pending.future), cfg.confirm_timeout_s)
        except TimeoutError:
            intake.abandon(pending)
            return _busy(503, "not_confirmed", "the broker did not confirm in time; retry", cfg.retry_after_s)
        except IntakeClosed:
            return _busy(503, "stopping", "the receiver is stopping; retry later", cfg.retry_after_s)
        except asyncio.CancelledError:  # the server is shutting down under us
            intake.abandon(pending)
            raise
        return json_response({"status": "accepted", "event_id": event_id}, status=202)

    def _record(self, event_id: str, data: dict[str, Any], body: bytes) -> Any:
        return push_record(event_id, data, body, self._config, self._tz, self._context.record)


def push_record(
    event_id: str,
    data: dict[str, Any],
    body: bytes,
    config: WebhookConfig,
    tz: timezone,
    make: Callable[..., SourceRecord],
) -> SourceRecord:
    """The ``SourceRecord`` of one accepted push: id and revision from the configured paths."""
    record_id = _path(data, config.record_id_path) if config.record_id_path else event_id
    revision = _revision(_path(data, config.revision_path), tz) if config.revision_path else 0
    return make(
        data,
        source_record_id=str(record_id) if isinstance(record_id, str | int) else None,
        revision=revision,
        correlation_id=event_id,
        original=body,  # the pushed bytes, exactly: what quarantine keeps and a redrive re-offers
    )


def event_id_of(headers: Mapping[str, str], data: dict[str, Any], config: WebhookConfig) -> Any:
    """The push's event id: the header, else the body path (validated by the caller)."""
    return headers.get(config.event_id_header) or _path(data, config.event_id_path)


def offset_zone(offset: str) -> timezone:
    """``+07:00`` -> a fixed-offset zone."""
    sign, minutes = offset[0], offset[1:].split(":")
    delta = timedelta(hours=int(minutes[0]), minutes=int(minutes[1]))
    return timezone(-delta if sign == "-" else delta)


def _path(data: Any, path: str | None) -> Any:
    node = data
    for step in (path or "").split(".") if path else ():
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node if path else None


def _revision(value: Any, tz: timezone) -> int | None:
    """Epoch ms of a time (ISO 8601, naive ones in ``tz``), or a non-negative integer as it is."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=tz)).timestamp() * 1000)


def _busy(status: int, error: str, message: str, retry_after: int) -> web.Response:
    return problem(status, error, message, retry_after=retry_after)


def _too_large(limit: int) -> web.Response:
    return problem(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
