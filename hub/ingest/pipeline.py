"""The pipeline: map -> validate -> envelope -> route -> publish (confirm) -> outcome.

``offer`` returns only once the record is durable at the broker: published and confirmed, or quarantined
and confirmed. Only then may the source acknowledge it (cursor, HTTP 202, file move). Errors decide by
class: a ``RecordError`` quarantines the record and returns; a ``RetriableError`` (broker down or blocked)
and a ``FatalError`` (unroutable, unsafe topology) propagate to the source, which backs off or stops.

A row that a mapping's ``skip`` rule drops (``RecordSkipped``) is done as soon as it is mapped: neither
published nor quarantined, its outcome is ``skipped`` (so the source acknowledges it with its batch), it
counts in ``simpul_records_skipped_total{adapter}`` and one info line per batch gives the counts by reason
(the rules' own words, never a value).

Push sources that want to refuse a bad batch whole (HTTP ingest's ``on_invalid=reject``) call
``prepare_many`` first and ``deliver`` only when all passed. Records prepared together share one batch
signature (``hub.trust.merkle``).

With an ``evidence`` log (the node that keeps one), every record refused here is noted in its hash chain
too: ``quarantined_at_ingest`` or, for a refused batch, ``refused_at_ingest`` (with the reason).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Sequence

import structlog
from pydantic import BaseModel

from hub.errors import MappingError, Outcome, RecordError, RecordSkipped
from hub.ingest.prepared import Draft, Prepared
from hub.ingest.publisher import BatchingPublisher
from hub.ingest.validation import Validator
from hub.metrics import Metrics
from hub.model import codec
from hub.model.records import Mapper, SourceRecord, passthrough
from hub.quarantine.entry import now_utc, province_of
from hub.quarantine.filer import Quarantiner
from hub.trust.evidence import Evidence, EvidenceLog
from hub.trust.pii import catalogue_pii_keys
from schemas.registry import SchemaSpec

log = structlog.get_logger(__name__)


class Pipeline:
    """Carries records from sources to the broker for one node."""

    def __init__(
        self,
        validator: Validator,
        publisher: BatchingPublisher,
        quarantiner: Quarantiner,
        metrics: Metrics,
        *,
        evidence: EvidenceLog | None = None,
    ) -> None:
        self._evidence = evidence
        self._validator = validator
        self._publisher = publisher
        self._quarantiner = quarantiner
        self._metrics = metrics

    @property
    def broker_ready(self) -> bool:
        """Whether the broker takes publishes now (``Transport.ready``): a source backing off after a
        ``BrokerUnavailable`` looks at it to resume as soon as the link is back. No I/O."""
        return self._publisher.ready

    @property
    def validation_context(self) -> dict[str, object]:
        """The context payloads are validated with (``Validator.context``)."""
        return self._validator.context

    def prepare(self, record: SourceRecord, mapper: Mapper = passthrough) -> Prepared:
        """Map and validate one record into a publishable envelope; raises a ``RecordError``."""
        prepared = self.prepare_many([record], mapper)[0]
        if isinstance(prepared, Exception):
            raise prepared
        return prepared

    def prepare_many(
        self,
        records: Sequence[SourceRecord],
        mapper: Mapper = passthrough,
        *,
        models: Sequence[BaseModel] | None = None,
    ) -> list[Prepared | Exception]:
        """Map and validate records into publishable envelopes signed together; per record, in order, the
        envelope or the exception refusing it (a ``RecordError``, or what the mapper raised).

        ``models``: per record its payload already validated as its schema's model, from the payload the
        mapper passes on (``passthrough``), with ``Validator.context`` (HTTP ingest validates a request
        in one call); then it is not validated again."""
        checked: list[Prepared | Exception | None] = [None] * len(records)
        drafts: list[Draft] = []
        drafted_at: list[int] = []
        received_at = now_utc()
        offered: Counter[tuple[str, str]] = Counter()  # counted per batch: labels() costs ~2 us a call
        specs: dict[tuple[str, str | None], SchemaSpec] = {}  # a catalogue look-up cost ~4 us a record
        for i, record in enumerate(records):
            offered[record.source.adapter, record.schema] += 1
            try:
                wanted = (record.schema, record.schema_version)
                spec = (
                    specs[wanted]
                    if wanted in specs
                    else specs.setdefault(wanted, self._validator.spec_for(record))
                )
                try:
                    mapped = mapper(record)
                except MappingError as exc:  # list the schema's issues with what was made too
                    partial = getattr(exc, "partial_payload", None)
                    if isinstance(partial, dict):
                        exc.issues.extend(self._validator.schema_issues(spec, partial, exc.issues))
                    raise
                model = models[i] if models is not None else None
                drafts.append(self._validator.draft(record, mapped, spec, received_at, model))
            except Exception as exc:  # the caller decides: quarantine a RecordError, raise the rest
                checked[i] = exc
                continue
            drafted_at.append(i)
            if spec.status == "deprecated":  # the sender is told (HTTP warnings); operators see who by this
                self._metrics.deprecated_records.labels(schema=spec.ref, adapter=record.source.adapter).inc()
        flush = getattr(mapper, "flush", None)
        if callable(flush):  # a mapper's state (content revisions): one write per batch, not per record
            flush()
        for (adapter, schema), count in offered.items():
            self._metrics.records_in.labels(adapter=adapter, schema=schema).inc(count)
        for i, sealed in zip(drafted_at, self._validator.seal(drafts), strict=True):
            checked[i] = sealed
        return [c for c in checked if c is not None]

    async def publish(self, record: SourceRecord, prepared: Prepared) -> Outcome:
        """Publish a prepared record and wait for the confirm."""
        await self._publisher.submit(prepared.routing_key, prepared.body, prepared.message_id)
        (outcome,) = self._published([(record, prepared)])
        log.info("records_published", adapter=record.source.adapter, schema=record.schema, records=1)
        return outcome

    def _published(self, confirmed: Sequence[tuple[SourceRecord, Prepared]]) -> list[Outcome]:
        """Count and log confirmed records; their outcomes, in order."""
        counts: Counter[tuple[str, str, str | None]] = Counter()
        latest: set[tuple[str, str | None]] = set()
        debug = log.bind()  # once: each call on the module's lazy logger binds anew (~3 us)
        # One line per record only at debug level: at thousands of records a second a line each cost
        # ~20 us of CPU per record (docs/performance.md); at info callers log one summary line. Asked
        # once, so that below debug not even the arguments are built.
        enabled = getattr(debug, "is_enabled_for", None)  # structlog's filtering loggers; others: log
        per_record = enabled(logging.DEBUG) if callable(enabled) else True
        outcomes = []
        for record, prepared in confirmed:
            # The fields kept on Prepared: building the Envelope model here cost ~10 us a record.
            province = province_of(prepared.kode_wilayah)
            counts[record.source.adapter, prepared.schema_name, province] += 1
            latest.add((record.source.adapter, province))
            if per_record:
                debug.debug(
                    "record_published",
                    adapter=record.source.adapter,
                    schema=prepared.schema_name,
                    version=prepared.schema_version,
                    province=province,
                    message_id=prepared.message_id,
                    revision=prepared.revision,
                    op=prepared.op,
                )
            outcomes.append(Outcome("published", message_id=prepared.message_id))
        for (adapter, schema, province), count in counts.items():
            self._metrics.records.labels(
                adapter=adapter, schema=schema, province=province, outcome="published"
            ).inc(count)
        for adapter, province in latest:
            self._metrics.last_record.labels(adapter=adapter, province=province).set_to_current_time()
        return outcomes

    async def quarantine(self, record: SourceRecord, err: RecordError) -> Outcome:
        """File a record that failed ``prepare``; returns after the entry is confirmed."""
        office = record.source.office
        entry = await self._quarantiner.put(
            err,
            stage="ingest",
            adapter=record.source.adapter,
            source_system=record.source.system,
            office=office,
            raw=record.raw,
            original=record.original or codec.dumps(dict(record.raw)),
            schema_name=record.schema,
            schema_version=record.schema_version,
            # The record's own region is unknown or untrusted here: file it under the sending office.
            kode_wilayah=None if office == "pusat" else office,
            source_record_id=record.source_record_id,
            revision=record.revision,
            correlation_id=record.correlation_id,
            pii_keys=catalogue_pii_keys(),  # free text of any schema is masked in the preview
        )
        self._metrics.records.labels(
            adapter=record.source.adapter,
            schema=record.schema,
            province=province_of(office) or "xx",
            outcome="quarantined",
        ).inc()
        await self.note_refused([(record, err)], "quarantined_at_ingest")
        return Outcome("quarantined", error=err.as_dict(), entry_id=entry.entry_id)

    async def note_refused(self, refused: Sequence[tuple[SourceRecord, RecordError]], decision: str) -> None:
        """Note records refused at this hub in the evidence log, if this node keeps one (no payload)."""
        if self._evidence is None or not refused:
            return
        entries = [Evidence(None, r.source.office, None, r.schema, decision, e.reason) for r, e in refused]
        await asyncio.to_thread(self._evidence.append, entries)

    async def offer(self, record: SourceRecord, mapper: Mapper = passthrough) -> Outcome:
        """Carry one record to the broker; see the module docstring for what is raised."""
        try:
            prepared = self.prepare(record, mapper)
        except RecordError as err:
            return await self.quarantine(record, err)
        except RecordSkipped as skip:
            return self._skipped([(record, skip)])[0]
        return await self.publish(record, prepared)

    def _skipped(self, skipped: Sequence[tuple[SourceRecord, RecordSkipped]]) -> list[Outcome]:
        """Count and log rows dropped by a skip rule (one line per adapter); their outcomes, in order."""
        by_adapter: dict[str, Counter[str]] = {}
        for record, skip in skipped:
            by_adapter.setdefault(record.source.adapter, Counter())[skip.reason] += 1
        for adapter, reasons in by_adapter.items():
            total = sum(reasons.values())
            self._metrics.records_skipped.labels(adapter=adapter).inc(total)
            log.info("records_skipped", adapter=adapter, records=total, reasons=dict(reasons))
        return [Outcome("skipped", error={"reason": "skipped", "message": s.reason}) for _, s in skipped]

    async def offer_many(
        self, records: Sequence[SourceRecord], mapper: Mapper = passthrough
    ) -> list[Outcome]:
        """Offer records together (so they share a batch signature and AMQP messages); outcomes in input
        order. If any record hits a retriable or fatal error, that error is raised after all have settled."""
        return await self.deliver(records, self.prepare_many(records, mapper))

    async def deliver(
        self, records: Sequence[SourceRecord], checked: Sequence[Prepared | Exception]
    ) -> list[Outcome]:
        """Publish the prepared records and quarantine the refused ones (``checked`` as ``prepare_many``
        returns it); outcomes in input order, once every record is confirmed or quarantined.

        An exception other than a ``RecordError`` (a mapper's bug), or a retriable or fatal publish error,
        is raised after all have settled. All prepared records go to the publisher in one call (one waiter
        per AMQP message, no task per record: that asyncio work cost more per record than the publish
        itself); the refused ones are quarantined meanwhile.
        """
        results: list[Outcome | BaseException | None] = [None] * len(records)
        ready: list[tuple[int, Prepared]] = []
        refused: list[Awaitable[Outcome]] = []
        refused_at: list[int] = []
        skipped: list[tuple[int, RecordSkipped]] = []
        for i, (record, item) in enumerate(zip(records, checked, strict=True)):
            if isinstance(item, Prepared):
                ready.append((i, item))
            elif isinstance(item, RecordError):
                refused.append(self.quarantine(record, item))
                refused_at.append(i)
            elif isinstance(item, RecordSkipped):  # done: the configured outcome, acked with the batch
                skipped.append((i, item))
            else:  # as offer() would raise it: reported after all have settled
                results[i] = item
        if skipped:
            dropped = self._skipped([(records[i], s) for i, s in skipped])
            for (i, _), done_row in zip(skipped, dropped, strict=True):
                results[i] = done_row

        async def publish_ready() -> None:
            errors = await self._publisher.submit_many(
                [(p.routing_key, p.body, p.message_id) for _, p in ready]
            )
            confirmed = [(i, p) for (i, p), error in zip(ready, errors, strict=True) if error is None]
            for (i, _), error in zip(ready, errors, strict=True):
                if error is not None:
                    results[i] = error
            outcomes = self._published([(records[i], p) for i, p in confirmed])
            for (i, _), outcome in zip(confirmed, outcomes, strict=True):
                results[i] = outcome
            published = len(confirmed)
            if published:
                first = records[ready[0][0]]
                log.info(
                    "records_published",
                    adapter=first.source.adapter,
                    schema=first.schema,
                    records=published,
                    failed=len(errors) - published,
                )

        if refused:
            settled = await asyncio.gather(publish_ready(), *refused, return_exceptions=True)
            if isinstance(settled[0], BaseException):
                raise settled[0]
            for i, outcome in zip(refused_at, settled[1:], strict=True):
                results[i] = outcome
        else:  # the usual batch: awaited in place, no task and no gather for a lone coroutine
            await publish_ready()
        done = [r for r in results if r is not None]
        assert len(done) == len(records), "every record has an outcome"
        return _unwrap(done)


def _unwrap(results: Sequence[Outcome | BaseException]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        outcomes.append(result)
    return outcomes
