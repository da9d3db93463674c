"""``POST /v1/records/{schema}``: regional systems push records; 202 only after the broker confirmed.

Authentication is an API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``) that names the source
system and its office; records must lie within the office's region. Bad records:

* ``on_invalid=reject`` (default): nothing is published, 422 lists every bad record's field issues;
* ``on_invalid=quarantine``: good records are published, bad ones quarantined, 202 says which is which.

``{schema}`` is a name (the current version) or ``name@version`` with a full or partial version
(``ormas_registration@1`` = the newest non-draft 1.x): senders pin the major they were built against and
keep working when the centre publishes the next one. Drafts are not accepted. A version that is deprecated
is still accepted, and every answer (202 and 422) says so: ``Deprecation`` and ``Sunset`` headers
(RFC 9745, RFC 8594) and a ``warnings`` entry in the JSON body.

At most ``http.max_concurrent_requests`` requests are handled at once; up to ``http.max_waiting_requests``
more wait in line (at most ``http.max_wait_s``) for a place *before* their body is read (with ``Expect:
100-continue``, before the 100), the rest get 503 ``busy`` with a ``Retry-After`` of about the line's
length (``hub.http.admission``). While the broker is unreachable or blocked the answer is 503 with
``Retry-After``; nothing is buffered.
An office over its rate (``trust.ingest_rate_per_s``, per API key's office) gets 429 with ``Retry-After``
before its body is read; an item nested deeper than ``trust.max_nesting_depth`` makes the body a 400.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as day_time
from email.utils import format_datetime
from typing import Any, cast

import orjson
import structlog
from aiohttp import web
from pydantic import BaseModel

from hub.errors import FatalError, FieldIssue, Outcome, RecordError, RetriableError
from hub.http.admission import Admission
from hub.ingest.issues import mask_name
from hub.ingest.items import (
    BodyError,
    BodyItems,
    IngestItem,
    ItemPayload,
    parse_body,
    record_of,
    to_source_record,
    validate_batch,
    validate_body,
)
from hub.ingest.pipeline import Pipeline
from hub.ingest.prepared import Prepared
from hub.model.records import SourceRecord
from hub.responses import MAX_BODY_KEY, json_response, problem, read_body
from hub.settings import ApiKey, HttpSettings
from hub.transport.base import Transport
from hub.trust.limits import depth_exceeds
from hub.trust.ratelimit import RegionRateLimiter
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity
from schemas.registry import SchemaSpec

log = structlog.get_logger(__name__)
ADAPTER = "http_ingest"
# Set on a request while it holds an admission place: when it was admitted (time.monotonic()).
_ADMITTED = web.RequestKey("simpul.ingest.admitted", float)


class IngestHandler:
    """The request handler; one per node."""

    def __init__(
        self,
        pipeline: Pipeline,
        transport: Transport,
        settings: HttpSettings,
        *,
        limiter: RegionRateLimiter | None = None,
        max_depth: int = 32,
    ) -> None:
        self._pipeline = pipeline
        self._transport = transport
        self._settings = settings
        self._admission = Admission(
            settings.max_concurrent_requests, settings.max_waiting_requests, settings.max_wait_s
        )
        self._limiter = limiter
        self._max_depth = max_depth

    def _authenticate(self, request: web.Request) -> ApiKey | None:
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
        return self._settings.api_keys.get(key) if key else None

    async def expect(self, request: web.Request) -> web.Response | None:
        """Answer ``Expect: 100-continue`` before the body is sent: refuse an unknown key (401), a down
        broker or a full house (503, ``Connection: close``) without receiving a byte of the body, else
        take a place (waiting in line for one if need be) and let the client send it. On election day
        hundreds of clients each hold a 300 KB batch; waiting or refusing here keeps those bodies out of
        the node's memory (and off the wire). A declared ``Content-Length`` over the body limit is refused
        the same way (413), before any key check. The place taken here is the one ``handle`` uses."""
        if request.headers.get("Expect", "").lower() != "100-continue" or request.version < (1, 1):
            return problem(417, "expectation_failed", "only Expect: 100-continue (HTTP/1.1) is understood")
        refusal: web.Response | None = None
        limit = request.app.get(MAX_BODY_KEY)
        if limit is not None and (request.content_length or 0) > limit:
            # The declared size alone settles it: answering 100 Continue would invite the whole upload.
            refusal = problem(413, "body_too_large", f"the body exceeds the limit of {limit} bytes")
        elif self._authenticate(request) is None:
            refusal = problem(401, "unauthorized", "a valid API key is required")
        else:
            refusal = await self._admit(request)
        if refusal is not None:
            refusal.force_close()  # the body was never sent: the connection cannot carry another request
            return refusal
        try:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        except BaseException:
            self._leave(request)
            raise
        request.writer.output_size = 0  # as aiohttp's own handler: the response proper has not started
        return None

    async def _admit(self, request: web.Request) -> web.Response | None:
        """Take a place for ``request`` (waiting in line for one); the 503 refusing it, or None."""
        if not self._transport.ready:
            return _broker_unavailable()
        if not await self._admission.enter():
            return problem(
                503,
                "busy",
                "too many requests in progress; retry later",
                retry_after=self._admission.retry_after(),
            )
        request[_ADMITTED] = time.monotonic()
        if not self._transport.ready:  # the broker went away while the request waited
            self._leave(request)
            return _broker_unavailable()
        return None

    def _leave(self, request: web.Request) -> None:
        """Give back the place ``request`` holds, if any (exactly once)."""
        admitted = request.pop(_ADMITTED, None)
        if admitted is not None:
            self._admission.leave(time.monotonic() - admitted)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        finally:
            self._leave(request)  # the place taken in expect() or below, whatever the answer

    async def _handle(self, request: web.Request) -> web.Response:
        wanted = request.match_info["schema"]
        caller = self._authenticate(request)
        if caller is None:
            return problem(401, "unauthorized", "a valid API key is required")
        try:
            spec = get_schema(wanted)
        except RecordError:
            return problem(404, "unknown_schema", f"no schema {mask_name(wanted)!r}")
        if spec.status == "draft":
            return problem(404, "draft_schema", f"{spec.ref} is a draft and not accepted for ingest yet")
        schema_name = spec.name
        if caller.schemas and schema_name not in caller.schemas:
            return problem(403, "forbidden", f"this key may not send {schema_name} records")
        if self._limiter is not None and (wait := self._limiter.take(caller.office)) > 0:
            return problem(
                429,
                "rate_limited",
                "this office is sending faster than its rate; retry later",
                retry_after=RegionRateLimiter.retry_after(wait),
            )
        mode = request.query.get("on_invalid", "reject")
        if mode not in ("reject", "quarantine"):
            return problem(400, "bad_parameter", "on_invalid must be reject or quarantine")
        # Admission control: a request in progress holds its parsed body and its records' publisher slots,
        # so past the limit a request waits for a place (bounded) before its body is read, or gets 503:
        # not more memory. With Expect: 100-continue the place was taken in expect().
        if _ADMITTED not in request and (refusal := await self._admit(request)) is not None:
            return refusal
        if not self._transport.ready:
            return _broker_unavailable()
        response = await self._accept(request, caller, spec, mode)
        return _with_deprecation(response, spec)

    async def _accept(
        self, request: web.Request, caller: ApiKey, spec: SchemaSpec, mode: str
    ) -> web.Response:
        schema_name = spec.name
        # Pinned (name@version): records carry that version; else the current one is used at validation.
        pinned = spec.version if "@" in request.match_info["schema"] else None
        body = await read_body(request)
        limit, context = self._settings.max_batch_records, self._pipeline.validation_context
        # All items valid (the common case): one validation call for the request, on the body's bytes
        # (its items parsed as dicts only if something asks for them). Else the body is parsed and item
        # by item, depth first, for the answer that names every issue (the fast ways decide no error).
        typed = validate_body(body, request.content_type, spec, context, self._max_depth, limit)
        if typed is not None:
            items = BodyItems(body, request.content_type, limit)
        else:
            try:
                parsed = parse_body(body, request.content_type, limit)
            except BodyError as exc:
                return problem(exc.status, "bad_body", str(exc))
            typed = validate_batch(parsed, spec, context, self._max_depth)
            if typed is None and any(depth_exceeds(item, self._max_depth) for item in parsed):
                return problem(400, "bad_body", f"an item nests deeper than {self._max_depth} levels")
            items = BodyItems.of(parsed)
        source = SourceIdentity(system=caller.system, office=caller.office, adapter=ADAPTER)
        if typed is not None:
            records, checked = self._check_typed(items, typed, schema_name, source, pinned)
        else:
            records, checked = self._check(parsed, schema_name, source, pinned)
        failures = [(i, c) for i, c in enumerate(checked) if isinstance(c, RecordError)]
        if failures and mode == "reject":
            await self._pipeline.note_refused([(records[i], e) for i, e in failures], "refused_at_ingest")
            return problem(
                422,
                "validation_failed",
                f"{len(failures)} of {len(records)} records are invalid; none was accepted",
                records=[_failure(i, e) for i, e in failures],
            )
        try:
            outcomes = await self._deliver(records, checked)
        except RetriableError as exc:
            return problem(
                503,
                "broker_unavailable",
                "the broker did not confirm in time; resend the request (records are deduplicated)",
                retry_after=exc.retry_after_s,
            )
        except FatalError as exc:
            log.error("ingest_fatal", schema=schema_name, error=type(exc).__name__, detail=str(exc))
            return problem(503, "hub_misconfigured", "the hub cannot route records now", retry_after=60)
        published = sum(1 for o in outcomes if o.status == "published")
        return json_response(
            {
                "accepted": published,
                "quarantined": len(outcomes) - published,
                "results": [_result(i, o) for i, o in enumerate(outcomes)],
            },
            status=202,
        )

    def _check(
        self, items: list[Any], schema_name: str, source: SourceIdentity, version: str | None
    ) -> tuple[list[SourceRecord], list[Prepared | RecordError]]:
        """Per item its source record and its check: the signed envelope or why it is refused. The
        request's valid records are prepared together, so they share one batch signature."""
        records: list[SourceRecord] = []
        checked: list[Prepared | RecordError | None] = []
        valid: list[SourceRecord] = []
        valid_at: list[int] = []
        for i, raw in enumerate(items):
            record, error = to_source_record(raw, schema_name, source, version)
            records.append(record)
            checked.append(error)
            if error is None:
                valid.append(record)
                valid_at.append(i)
        for i, prepared in zip(valid_at, self._pipeline.prepare_many(valid), strict=True):
            if not isinstance(prepared, Prepared | RecordError):
                raise prepared  # not the record's fault (the passthrough mapper raises nothing else)
            checked[i] = prepared
        return records, [c for c in checked if c is not None]

    def _check_typed(
        self,
        items: BodyItems,
        typed: list[IngestItem],
        schema_name: str,
        source: SourceIdentity,
        version: str | None,
    ) -> tuple[list[SourceRecord], list[Prepared | RecordError]]:
        """``_check`` for items already validated (``validate_batch``): their payload models go to the
        pipeline as they are. A record refused after all (region, size) is given the source record the
        per-item way makes, so that its quarantine entry or evidence is the same (``original`` included).
        Each record's ``raw`` is its item's ``data`` as sent, parsed from the body only if read."""
        records = [
            record_of(item, ItemPayload(items, i), schema_name, source, version)
            for i, item in enumerate(typed)
        ]
        models = [cast(BaseModel, item.data) for item in typed]
        checked: list[Prepared | RecordError] = []
        for i, prepared in enumerate(self._pipeline.prepare_many(records, models=models)):
            if not isinstance(prepared, Prepared | RecordError):
                raise prepared  # not the record's fault (the passthrough mapper raises nothing else)
            if isinstance(prepared, RecordError):
                records[i] = to_source_record(items[i], schema_name, source, version)[0]
            checked.append(prepared)
        return records, checked

    async def _deliver(
        self, records: list[SourceRecord], checked: list[Prepared | RecordError]
    ) -> list[Outcome]:
        return await self._pipeline.deliver(records, checked)


def _broker_unavailable() -> web.Response:
    return problem(503, "broker_unavailable", "the broker is unavailable; retry later", retry_after=5)


def deprecation_warning(spec: SchemaSpec) -> dict[str, Any]:
    """The ``warnings`` entry for a record sent in a deprecated version."""
    current = get_schema(spec.name)
    return {
        "code": "deprecated_schema_version",
        "schema": spec.ref,
        "deprecated_since": spec.deprecated_since.isoformat() if spec.deprecated_since else None,
        "sunset": spec.deprecated_after.isoformat() if spec.deprecated_after else None,
        "current": current.ref if current.ref != spec.ref else None,
        "message": spec.deprecation_notice(datetime.now(UTC).date()),
    }


def _with_deprecation(response: web.Response, spec: SchemaSpec) -> web.Response:
    """To a 202 or 422 in a deprecated version: ``Deprecation`` (RFC 9745: ``@<unix time>`` of
    ``deprecated_since``; the earlier draft's ``true`` when that date is not recorded), ``Sunset``
    (RFC 8594: the end of the ``deprecated_after`` day, UTC), a ``successor-version`` link, and the
    ``warnings`` entry in the JSON body. Other answers pass unchanged."""
    if spec.status != "deprecated" or response.status not in (202, 422):
        return response
    since = spec.deprecated_since
    response.headers["Deprecation"] = (
        f"@{int(datetime.combine(since, day_time(0), tzinfo=UTC).timestamp())}" if since else "true"
    )
    if spec.deprecated_after is not None:
        # Support ends after that day: the sunset is the end of it (UTC), as an HTTP date.
        end = datetime.combine(spec.deprecated_after, day_time(23, 59, 59), tzinfo=UTC)
        response.headers["Sunset"] = format_datetime(end, usegmt=True)
    current = get_schema(spec.name)
    if current.ref != spec.ref:
        response.headers["Link"] = f'</v1/records/{current.name}@{current.major}>; rel="successor-version"'
    if isinstance(response.body, bytes):
        body = orjson.loads(response.body)
        if isinstance(body, dict):
            body["warnings"] = [*body.get("warnings", []), deprecation_warning(spec)]
            response.body = orjson.dumps(body)
    return response


def _failure(index: int, err: RecordError) -> dict[str, Any]:
    issues = err.issues or [FieldIssue("$", err.reason, str(err))]
    return {
        "index": index,
        "reason": err.reason,
        "message": str(err),
        "issues": [i.as_dict() for i in issues],
    }


def _result(index: int, outcome: Outcome) -> dict[str, Any]:
    if outcome.status == "published":
        return {"index": index, "status": "published", "message_id": outcome.message_id}
    return {"index": index, "status": outcome.status, **(outcome.error or {})}
