"""``POST /v1/records/{schema}``: regional systems push records; 202 only after the broker confirmed.

Authentication is an API key (``Authorization: Bearer KEY`` or ``X-API-Key: KEY``) that names the source
system and its office; records must lie within the office's region. Bad records:

* ``on_invalid=reject`` (default): nothing is published, 422 lists every bad record's field issues;
* ``on_invalid=quarantine``: good records are published, bad ones quarantined, 202 says which is which.

While the broker is unreachable or blocked the answer is 503 with ``Retry-After``; nothing is buffered.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web

from hub.errors import FatalError, FieldIssue, Outcome, RecordError, RetriableError
from hub.http.ingest_body import BodyError, parse_body, to_source_record
from hub.http.responses import json_response, problem
from hub.pipeline import Pipeline
from hub.records import SourceRecord
from hub.settings import ApiKey, HttpSettings
from hub.transport.base import Transport
from hub.validation import Prepared
from schemas.catalog import get as get_schema
from schemas.envelope import SourceIdentity

log = structlog.get_logger(__name__)
ADAPTER = "http_ingest"


class IngestHandler:
    """The request handler; one per node."""

    def __init__(self, pipeline: Pipeline, transport: Transport, settings: HttpSettings) -> None:
        self._pipeline = pipeline
        self._transport = transport
        self._settings = settings
        self._active = 0

    def _authenticate(self, request: web.Request) -> ApiKey | None:
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("X-API-Key", "")
        return self._settings.api_keys.get(key) if key else None

    async def handle(self, request: web.Request) -> web.Response:
        schema_name = request.match_info["schema"]
        caller = self._authenticate(request)
        if caller is None:
            return problem(401, "unauthorized", "a valid API key is required")
        try:
            get_schema(schema_name)
        except RecordError:
            return problem(404, "unknown_schema", f"no schema named {schema_name!r}")
        if caller.schemas and schema_name not in caller.schemas:
            return problem(403, "forbidden", f"this key may not send {schema_name} records")
        mode = request.query.get("on_invalid", "reject")
        if mode not in ("reject", "quarantine"):
            return problem(400, "bad_parameter", "on_invalid must be reject or quarantine")
        if not self._transport.ready:
            return problem(503, "broker_unavailable", "the broker is unavailable; retry later", retry_after=5)
        # Admission control: a request in progress holds its parsed body and its records' publisher slots,
        # so past the limit the answer is 503 before the body is read, not more memory.
        if self._active >= self._settings.max_concurrent_requests:
            return problem(503, "busy", "too many requests in progress; retry later", retry_after=1)
        self._active += 1
        try:
            return await self._accept(request, caller, schema_name, mode)
        finally:
            self._active -= 1

    async def _accept(
        self, request: web.Request, caller: ApiKey, schema_name: str, mode: str
    ) -> web.Response:
        try:
            items = parse_body(await request.read(), request.content_type, self._settings.max_batch_records)
        except BodyError as exc:
            return problem(exc.status, "bad_body", str(exc))
        source = SourceIdentity(system=caller.system, office=caller.office, adapter=ADAPTER)
        records, checked = self._check(items, schema_name, source)
        failures = [(i, c) for i, c in enumerate(checked) if isinstance(c, RecordError)]
        if failures and mode == "reject":
            return problem(
                422,
                "validation_failed",
                f"{len(failures)} of {len(items)} records are invalid; none was accepted",
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
        self, items: list[Any], schema_name: str, source: SourceIdentity
    ) -> tuple[list[SourceRecord], list[Prepared | RecordError]]:
        records: list[SourceRecord] = []
        checked: list[Prepared | RecordError] = []
        for raw in items:
            record, error = to_source_record(raw, schema_name, source)
            records.append(record)
            if error is not None:
                checked.append(error)
                continue
            try:
                checked.append(self._pipeline.prepare(record))
            except RecordError as err:
                checked.append(err)
        return records, checked

    async def _deliver(
        self, records: list[SourceRecord], checked: list[Prepared | RecordError]
    ) -> list[Outcome]:
        tasks = []
        for record, item in zip(records, checked, strict=True):
            if isinstance(item, RecordError):
                tasks.append(self._pipeline.quarantine(record, item))
            else:
                tasks.append(self._pipeline.publish(record, item))
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [r for r in results if isinstance(r, Outcome)]


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
