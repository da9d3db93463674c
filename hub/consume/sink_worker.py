"""The sink worker: decode, check, write durably, then ack.

Per AMQP message (which may carry many records): a body that is not a batch of envelopes is
dead-lettered (kept in the dead queue); an envelope that fails its checks, or whose revision conflicts
with what is stored, is quarantined (stage ``consume``); the rest are written in one call to the sink.
Every delivery of the group is acked only after the sink's commit and the quarantine confirms.

When the sink fails on a group (any error but a ``RetriableError``, which holds the group), the group is
split in halves until the healthy records are written and the failing ones stand alone, so one record the
sink cannot store never takes its message-mates down. Such a record is retried with its message like any
failure; on its message's last delivery before the delivery limit it is quarantined (``sink_refused``)
instead, and the message is acked: the rest of it was applied.

With a ``verifier`` (``hub.trust``) every envelope's signature, signing key, time window and sender
identity (the delivery's broker-validated ``user_id``) are checked before anything else; a failure is
quarantined with its specific reason (``signature_invalid``, ``key_revoked``, ``identity_mismatch`` ...),
or as ``validation_failed`` with field details if the record is not an envelope at all.

Validated once: a record is validated where it enters the hub, and the node that validated it signed it.
A record whose signature verified here is exactly that record, so its payload is not validated again
(~15-20 us per record); only a payload upcast to a newer schema version is, by the upcast itself
(``schemas.evolution.upcast_payload`` validates its result against the current version). Without a
verifier, and for an unsigned record, the payload is validated as before.

For a sink working on models, the envelope is still validated with pydantic (``Envelope.model_validate``,
~6-9 us): building the model with ``model_construct`` after hand-written checks measured slower (~13
us; a builder from the verified form, 10.6 against 8.6 us, issue 21), and the validation names the
fields of a malformed envelope. A sink that stores JSON (``hub.consume.sink.CheckedSink``: the
PostgreSQL warehouse) is handed no model at all: a verified record of the current schema version whose
envelope dict has the plain shape the model would pass through unchanged (``hub.consume.checked``, ~2-4
us of checks, no model built) goes to it as it arrived. Measured with ``bench.sustained --records 150000
--procs 2``: the sink's CPU 62-68 -> 52-53 us per record. Anything else goes the model's way as above and
is handed over in its JSON form (``CheckedRecord.of``).

With an ``evidence`` log, every decision is appended to the hash chain before the group is acked:
each quarantine and dead-letter as its own entry, the accepted records as one entry per (office, key,
schema, outcome) of the group, covering their message ids and the Merkle roots of their signatures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import structlog
from pydantic import ValidationError

from hub import faultpoints
from hub.consume.checked import CheckedRecord, checked_form
from hub.consume.filing import quarantine_item, str_or_none
from hub.consume.sink import CONFLICT, CheckedSink, Sink, SinkResult
from hub.consume.upcast import VersionsSeen, upcast_for_sink
from hub.errors import FieldIssue, RecordError, RetriableError, ValidationFailed
from hub.ingest.issues import issues_from
from hub.metrics import Metrics, observe_many
from hub.model import codec
from hub.quarantine.filer import Quarantiner
from hub.transport.base import Delivery
from hub.trust.evidence import Evidence, EvidenceLog
from hub.trust.signing import key_id_of
from hub.trust.verify import Verified, Verifier
from schemas.catalog import get as get_schema
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)
_DECISIONS: ContextVar[list[Evidence] | None] = ContextVar("simpul_sink_worker_decisions", default=None)


class SinkWorker:
    """The ``BatchConsumer`` handler that feeds one sink."""

    def __init__(
        self,
        sink: Sink,
        quarantiner: Quarantiner,
        metrics: Metrics,
        *,
        verifier: Verifier | None = None,
        evidence: EvidenceLog | None = None,
        delivery_limit: int | None = None,
    ) -> None:
        self._sink = sink
        self._delivery_limit = delivery_limit
        self._quarantiner = quarantiner
        self._metrics = metrics
        self._verifier = verifier
        self._evidence = evidence
        # A sink storing JSON takes verified records as they arrived, without a model (module docstring).
        self._takes_checked = isinstance(sink, CheckedSink)

    # The decisions of the call in progress live in a context variable: each group a BatchConsumer
    # handles at once runs in its own task (``concurrency`` > 1), so each keeps its own list and writes
    # exactly its own evidence before its own ack.
    @property
    def _decisions(self) -> list[Evidence]:
        decisions = _DECISIONS.get()
        if decisions is None:
            decisions = []
            _DECISIONS.set(decisions)
        return decisions

    @_decisions.setter
    def _decisions(self, value: list[Evidence]) -> None:
        _DECISIONS.set(value)

    async def __call__(self, deliveries: Sequence[Delivery]) -> None:
        self._decisions = []
        envelopes: list[Envelope | CheckedRecord] = []
        roots: list[bytes | None] = []  # per envelope: the Merkle root its verified signature covers
        last_chance: list[bool] = []  # per envelope: its message will not be delivered again
        keep: list[Delivery] = []
        seen = VersionsSeen(self._metrics)
        now = self._verifier.now() if self._verifier is not None else None  # one clock read per group
        try:
            for delivery in deliveries:
                try:
                    items = codec.split_batch(delivery.body)
                except ValueError as exc:
                    log.error(
                        "message_dead_lettered",
                        sink=self._sink.name,
                        message_id=delivery.message_id,
                        reason=str(exc),
                    )
                    self._decide(None, "dead_lettered", "not_a_batch", message_id=delivery.message_id)
                    await self._write_evidence()
                    await delivery.reject(requeue=False)
                    continue
                keep.append(delivery)
                final = (
                    self._delivery_limit is not None and delivery.delivery_count >= self._delivery_limit - 1
                )
                user_id = delivery.user_id
                for item in items:
                    checked = self._check(item, user_id, now, seen)
                    if isinstance(checked, RecordError):  # the only await per record: a rare one
                        await self._quarantine(item, checked)
                        continue
                    envelopes.append(checked[0])
                    roots.append(checked[1])
                    last_chance.append(final)
        finally:
            seen.flush()
        if envelopes:
            faultpoints.reach("sink_before_commit")
            written = await self._write(envelopes, last_chance)
            faultpoints.reach("sink_committed_before_ack")
            await self._settle(written, roots)
        await self._write_evidence()
        for delivery in keep:
            await delivery.ack()

    async def _settle(
        self, written: list[tuple[Envelope | CheckedRecord, SinkResult | None]], roots: list[bytes | None]
    ) -> None:
        """Count, log and note evidence for what the sink reported; quarantine what it refused or found
        in conflict. Accepted records are noted per (office, key, schema, outcome): one evidence entry
        each, covering their message ids."""
        now = datetime.now(UTC)
        # Metric children and the debug logger are looked up once per group (~2-5 us a lookup).
        latencies: list[float] = []  # observed together below (``observe_many``)
        counted: dict[tuple[str, str], int] = {}
        outcomes: dict[str, int] = {}
        accepted: dict[tuple[str, str | None, str, str], tuple[list[str], dict[bytes, None]]] = {}
        debug = log.bind()
        # Per record only at debug level, and not even the call unless debug is on; one summary below.
        per_record = _debug_enabled(debug)
        for (record, result), root in zip(written, roots, strict=True):
            if type(record) is CheckedRecord:
                data = record.data
                schema_name, message_id, received_at = (
                    data["schema_name"],
                    data["message_id"],
                    record.received_at,
                )
                office, signature = data["source"]["office"], data["signature"]
            else:
                assert isinstance(record, Envelope)
                schema_name, message_id, received_at = (
                    record.schema_name,
                    record.message_id,
                    record.received_at,
                )
                office, signature = record.source.office, record.signature
            if result is None:
                outcomes["refused"] = outcomes.get("refused", 0) + 1
                await self._quarantine(
                    _json_form(record),
                    RecordError(
                        f"the sink {self._sink.name} could not store this record",
                        reason="sink_refused",
                    ),
                )
                continue
            status = result.status
            outcomes[status] = outcomes.get(status, 0) + 1
            key = (schema_name, status)
            counted[key] = counted.get(key, 0) + 1
            if status == CONFLICT:
                await self._quarantine(
                    _json_form(record),
                    RecordError(
                        "a different record was already stored under the same revision",
                        issues=[FieldIssue("revision", "revision_conflict", "bump the revision on change")],
                        reason="revision_conflict",
                    ),
                )
            else:
                if self._evidence is not None:
                    group = (office, key_id_of(signature), schema_name, status)
                    ids, group_roots = accepted.setdefault(group, ([], {}))
                    ids.append(message_id)
                    if root is not None:
                        group_roots[root] = None
                latencies.append((now - received_at).total_seconds())
            if per_record:
                debug.debug(
                    "record_applied",
                    sink=self._sink.name,
                    schema=schema_name,
                    message_id=message_id,
                    outcome=status,
                )
        for (office, key_id, schema, status), (ids, group_roots) in accepted.items():
            self._decisions.append(
                Evidence(
                    None,
                    office,
                    key_id,
                    schema,
                    "accepted",
                    status,
                    covers=tuple(ids),
                    roots=tuple(r.hex() for r in group_roots),
                )
            )
        observe_many(self._metrics.end_to_end_latency.labels(adapter=self._sink.name), latencies)
        for (schema, status), count in counted.items():
            self._metrics.sink_records.labels(adapter=self._sink.name, schema=schema, outcome=status).inc(
                count
            )
        log.info("records_applied", sink=self._sink.name, records=len(written), **outcomes)

    async def _write(
        self, envelopes: list[Envelope | CheckedRecord], last_chance: list[bool]
    ) -> list[tuple[Envelope | CheckedRecord, SinkResult | None]]:
        """Write ``envelopes`` (all ``CheckedRecord``s for a ``CheckedSink``, all models otherwise); on a
        failure of the sink, halve the group (see the module docstring). A result of ``None`` marks a
        record the sink refused on its last chance."""
        try:
            if self._takes_checked:
                results = await self._sink.write_checked(envelopes)  # type: ignore[attr-defined]
            else:
                results = await self._sink.write(envelopes)  # type: ignore[arg-type]
            return list(zip(envelopes, results, strict=True))
        except RetriableError:
            raise
        except Exception as exc:
            if len(envelopes) > 1:
                mid = len(envelopes) // 2
                head = await self._write(envelopes[:mid], last_chance[:mid])
                return head + await self._write(envelopes[mid:], last_chance[mid:])
            if not last_chance[0]:
                raise
            log.error(
                "record_refused_by_sink",
                sink=self._sink.name,
                message_id=_message_id(envelopes[0]),
                error=type(exc).__name__,  # the class only: a message could quote the record
            )
            return [(envelopes[0], None)]

    def _check(
        self,
        item: dict[str, Any],
        user_id: str | None,
        now: datetime | None = None,
        seen: VersionsSeen | None = None,
    ) -> tuple[Envelope | CheckedRecord, bytes | None] | RecordError:
        """The record to write (in the current schema version; a ``CheckedRecord`` for a ``CheckedSink``,
        an ``Envelope`` otherwise) and the Merkle root its verified signature covers, or the error to
        quarantine it with. No I/O: the caller awaits the quarantine.

        The payload of a record whose signature verified is not validated again unless it was upcast;
        for a ``CheckedSink`` its envelope is not built as a model either (see the module docstring)."""
        verified: Verified | None = None
        if self._takes_checked and self._verifier is not None and (form := checked_form(item)) is not None:
            try:
                verified = self._verifier.check_record(item, user_id, now)
                if verified.key is not None and self._is_current(item, seen):
                    form.payload_json = verified.payload_json  # the warehouse hashes and stores it
                    return form, verified.root
            except RecordError as err:
                return err
        try:
            envelope = Envelope.model_validate(item)
        except ValidationError as exc:
            return ValidationFailed("not a valid envelope", issues=issues_from(exc))
        root = None
        try:
            trusted = False
            if self._verifier is not None:  # on the dict as it arrived, before any upcast changes it
                if verified is None:
                    verified = self._verifier.check_record(item, user_id, now)
                trusted, root = verified.key is not None, verified.root
            # Sinks see the current version only. An upcast payload is validated against the current
            # version by the upcast itself (``schemas.evolution.upcast_payload``): nobody had seen it.
            current = upcast_for_sink(envelope, self._metrics, seen)
            if not trusted:  # no verifier, or unsigned: validated here as before
                get_schema(current.schema_name).model.model_validate(current.payload)
        except RecordError as err:
            return err
        except ValidationError as exc:
            return ValidationFailed(
                "payload does not fit its schema at the sink", issues=issues_from(exc, "payload.")
            )
        return (CheckedRecord.of(current) if self._takes_checked else current), root

    def _is_current(self, item: dict[str, Any], seen: VersionsSeen | None) -> bool:
        """Whether a plain envelope dict is at the current version of its schema, counted as ``current``
        in ``seen`` if so (as ``upcast_for_sink`` counts a model); raises ``UnknownSchema``."""
        tally = seen if seen is not None else VersionsSeen(self._metrics)
        name, version = item["schema_name"], item["schema_version"]
        if tally.current(name).version != version:
            return False
        tally.add_json(name, version, item["kode_wilayah"], item["source"]["adapter"], "current")
        if seen is None:
            tally.flush()
        return True

    def _decide(
        self, item: dict[str, Any] | None, decision: str, reason: str | None, message_id: str | None = None
    ) -> None:
        """Note a decision about a record (as decoded, maybe malformed) for the evidence log."""
        if self._evidence is None:
            return
        item = item or {}
        source = item.get("source")
        self._decisions.append(
            Evidence(
                message_id=str_or_none(item.get("message_id")) or message_id,
                office=str_or_none(source.get("office")) if isinstance(source, dict) else None,
                key_id=key_id_of(item.get("signature")),
                schema_name=str_or_none(item.get("schema_name")),
                decision=decision,
                reason=reason,
            )
        )

    async def _write_evidence(self) -> None:
        """Append the noted decisions in one transaction (before the group is acked)."""
        if self._evidence is not None and self._decisions:
            decisions, self._decisions = self._decisions, []
            await asyncio.to_thread(self._evidence.append, decisions)

    async def _quarantine(self, item: dict[str, Any], err: RecordError) -> None:
        self._decide(item, "quarantined", err.reason)
        self._metrics.sink_records.labels(
            adapter=self._sink.name, schema=str(item.get("schema_name")), outcome="quarantined"
        ).inc()
        await quarantine_item(self._quarantiner, self._sink.name, item, err)


def _debug_enabled(logger: Any) -> bool:
    """Whether ``logger`` emits debug events (structlog's filtering loggers say; others are asked to)."""
    check = getattr(logger, "is_enabled_for", None)
    return bool(check(logging.DEBUG)) if check is not None else True


def _json_form(record: Envelope | CheckedRecord) -> dict[str, Any]:
    """A written record's JSON form, for its quarantine entry."""
    return record.data if isinstance(record, CheckedRecord) else record.model_dump(mode="json")


def _message_id(record: Envelope | CheckedRecord) -> str:
    return str(record.data["message_id"]) if isinstance(record, CheckedRecord) else record.message_id
