"""Runs one source adapter: read a batch, offer it, commit it; back off on retriable errors.

Per batch: ``pipeline.offer_many`` returns once every record is confirmed (published or quarantined).
Only then is ``batch.commit()`` awaited, so the source's cursor never passes an unconfirmed record. A
``RetriableError`` (broker down or blocked) retries the *same* batch after an exponential back-off with
jitter (duplicates are harmless: identity is deterministic); a pause for a broker that is down ends as
soon as it is back (``_wait``). A ``FatalError`` while offering (the broker
routes the records nowhere: a binding was removed) needs an operator: the adapter shows ``failed`` with the
error, nothing is acked, and the same batch is tried again every ``fatal_retry_s``, so the source resumes by
itself once the topology is fixed. A ``FatalError`` from the adapter itself stops it with one clear log
line and leaves the others running.

A run that ends by any other exception is never silent: the runner shows ``failed`` with the error's type
and where it was raised (not its message, which may quote a record), logs one ``source_failed`` line,
counts it in ``simpul_source_failures_total{adapter,kind}`` and starts the adapter again after a back-off
capped at ``fatal_retry_s``. ``kind`` is ``retriable`` for a ``RetriableError`` that escaped the adapter
(its ``retry_after_s`` is a floor under the wait) and ``unexpected`` for anything else. Restarting an
unexpected failure too is deliberate: the cursor only ever moves past confirmed records, so a fresh
instance re-reads from the last commit and loses nothing, and most such failures (a driver hiccup, an odd
answer from the source system) pass; one that does not keeps the adapter ``failed`` (so ``/readyz`` fails
and the counter climbs, at most one line per ``fatal_retry_s``) until an operator looks, instead of a dead
task that needs one.
"""

from __future__ import annotations

import asyncio
import itertools
import traceback
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Literal

import structlog

from hub import faultpoints
from hub.adapters.model import SourceAdapter, SourceBatch
from hub.backoff import Backoff
from hub.errors import BrokerUnavailable, FatalError, RetriableError, SourceUnavailable
from hub.ingest.pipeline import Pipeline
from hub.metrics import Metrics
from hub.model.records import Mapper

__all__ = ["Backoff", "FailureKind", "SourceRunner", "State"]

log = structlog.get_logger(__name__)

_READY_POLL_S = 0.25  # how often a pause for a broker that is down looks whether it is back

State = Literal["created", "running", "paused", "backing_off", "stopped", "failed"]
FailureKind = Literal["retriable", "unexpected", "fatal"]


class SourceRunner:
    """Drives one source adapter through the pipeline.

    ``failures`` counts runs ended by an error, ``failure_kind`` says how the last one ended while the
    runner is ``failed`` (None otherwise). ``fresh``, if given, builds the instance each restart after a
    failure runs (otherwise the same instance is started again).
    """

    def __init__(
        self,
        name: str,
        adapter: SourceAdapter,
        pipeline: Pipeline,
        mapper: Mapper,
        backoff: Backoff | None = None,
        fatal_retry_s: float = 30.0,
        *,
        metrics: Metrics | None = None,
        restart_backoff: Backoff | None = None,
        fresh: Callable[[], SourceAdapter] | None = None,
    ) -> None:
        self.name = name
        self._adapter = adapter
        self._pipeline = pipeline
        self._mapper = mapper
        self._backoff = backoff or Backoff()
        self._fatal_retry_s = fatal_retry_s
        self._metrics = metrics
        self._fresh = fresh
        self._restart_backoff = restart_backoff or Backoff(base_s=1.0, cap_s=max(fatal_retry_s, 1.0))
        self.state: State = "created"
        self.last_error: str | None = None
        self.failure_kind: FailureKind | None = None
        self.failures = 0
        self.records_offered = 0
        self._progressed = False  # the current run committed a batch
        self._resumed = asyncio.Event()
        self._resumed.set()

    def pause(self) -> None:
        """Stop taking new batches after the one in hand (its records are still delivered and committed)."""
        self._resumed.clear()
        if self.state in ("running", "backing_off"):
            self.state = "paused"

    def resume(self) -> None:
        """Take batches again."""
        self._resumed.set()
        if self.state == "paused":
            self.state = "running"

    @property
    def adapter(self) -> SourceAdapter:
        """The adapter instance this runner drives (for operators and tests)."""
        return self._adapter

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    async def run(self) -> None:
        """Run until the source ends, the task is cancelled, or the adapter raises a ``FatalError``; a run
        ended by any other exception is marked ``failed`` and started again after a back-off."""
        restarts = 0
        for run in itertools.count():
            try:
                if run and self._fresh is not None:  # a new instance: the failed one's state is suspect
                    self._adapter = self._fresh()
                await self._run_once()
            except FatalError as exc:  # from the adapter itself: only an operator can mend it
                self._fail(exc, "fatal")
                log.error("adapter_stopped", adapter=self.name, error=type(exc).__name__, detail=str(exc))
                return
            except Exception as exc:
                kind: FailureKind = "unexpected"
                floor = 0.0
                if isinstance(exc, RetriableError):  # its own hint is a floor under the wait
                    kind, floor = "retriable", min(exc.retry_after_s, self._restart_backoff.cap_s)
                delay = self._restart_backoff.delay(restarts, floor=floor)
                self._fail(exc, kind)
                # One line per ended run; the error's type and place, never its message (it may quote data).
                log.error(
                    "source_failed",
                    adapter=self.name,
                    kind=kind,
                    error=type(exc).__name__,
                    at=_raised_at(exc),
                    failures=self.failures,
                    restart_in_s=round(delay, 3),
                )
                await asyncio.sleep(delay)
                restarts = 0 if self._progressed else restarts + 1
                continue
            self.state = "stopped"
            self.failure_kind = None
            return

    async def _run_once(self) -> None:
        """One life of the adapter: start, read, deliver and commit until its batches end."""
        self._progressed = False
        try:
            await self._start_adapter()
            self.state = "running"
            self.failure_kind = None
            async for batch in self._read():
                await self._resumed.wait()
                await self._deliver(batch)
                faultpoints.reach("source_confirmed_before_commit")
                await batch.commit()
                self.records_offered += len(batch.records)
                self._progressed = True  # a later failure starts its back-off afresh
        finally:
            await self._stop_adapter()

    def _fail(self, exc: Exception, kind: FailureKind) -> None:
        self.state = "failed"
        self.failure_kind = kind
        self.failures += 1
        if kind == "unexpected":  # its message may quote a record: the type and the place only
            self.last_error = f"{type(exc).__name__} at {_raised_at(exc)}"
        else:  # the hub's own errors carry messages written for operators
            self.last_error = f"{type(exc).__name__}: {exc}"
        if self._metrics is not None:
            self._metrics.source_failures.labels(adapter=self.name, kind=kind).inc()

    async def _stop_adapter(self) -> None:
        """Stop the adapter; a failing ``stop`` is logged, so it cannot hide why the run ended."""
        try:
            await self._adapter.stop()
        except Exception as exc:
            log.warning(
                "adapter_stop_failed", adapter=self.name, error=type(exc).__name__, at=_raised_at(exc)
            )

    async def _start_adapter(self) -> None:
        """Start the adapter; a source system that is down at start is waited for, like during reads."""
        attempt = 0
        while True:
            try:
                await self._adapter.start()
                return
            except SourceUnavailable as exc:
                await self._pause(exc, attempt)
                attempt += 1

    async def _read(self) -> AsyncIterator[SourceBatch]:
        """The adapter's batches; a source that fails to answer is retried with back-off, not fatal."""
        attempt = 0
        while True:
            try:
                async for batch in self._adapter.read():
                    attempt = 0
                    yield batch
                return
            except SourceUnavailable as exc:
                await self._pause(exc, attempt)
                attempt += 1

    async def _deliver(self, batch: SourceBatch) -> None:
        attempt = 0
        while True:
            try:
                await self._pipeline.offer_many(batch.records, self._mapper)
                self.state = "paused" if self.paused else "running"
                return
            except RetriableError as exc:
                await self._pause(exc, attempt)
                attempt += 1
            except FatalError as exc:  # e.g. Unroutable: wait for an operator's fix, keep the batch
                self.state = "failed"
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.error(
                    "adapter_blocked",
                    adapter=self.name,
                    error=type(exc).__name__,
                    detail=str(exc),
                    retry_in_s=self._fatal_retry_s,
                )
                await asyncio.sleep(self._fatal_retry_s)

    async def _pause(self, exc: RetriableError, attempt: int) -> None:
        self.state = "backing_off"
        self.last_error = f"{type(exc).__name__}: {exc}"
        # The error's own hint (e.g. 5 s for a blocked broker) is a floor under the jittered delay.
        delay = self._backoff.delay(attempt, floor=min(exc.retry_after_s, self._backoff.cap_s))
        log.warning(
            "adapter_backing_off",
            adapter=self.name,
            error=type(exc).__name__,
            detail=str(exc),
            attempt=attempt,
            delay_s=round(delay, 3),
        )
        await self._wait(delay, exc)

    async def _wait(self, delay: float, exc: RetriableError) -> None:
        """Sleep ``delay`` seconds, but wake as soon as a broker that was down is back.

        The back-off protects a source system and a struggling broker from being hammered; it should not
        keep records waiting once the link has returned. After a restart of the broker (~15 s down) the
        jittered delay had grown to anywhere in 5-30 s, so records resumed up to half a minute after the
        broker did (the fault suite measured 2.9-25.5 s). So when the pause is for a broker that is not
        ready as it starts (disconnected, or blocked by an alarm), ``Pipeline.broker_ready`` (a property,
        no I/O) is looked at every ``_READY_POLL_S`` and the pause ends when it turns true. A broker that
        is ready yet failed the publish (a nack, a confirm timeout) gets the plain back-off: waking on
        readiness there would retry at once, again and again."""
        if not isinstance(exc, BrokerUnavailable) or self._pipeline.broker_ready:
            await asyncio.sleep(delay)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, _READY_POLL_S))
            if self._pipeline.broker_ready:
                log.info("adapter_resuming", adapter=self.name, reason="broker_ready")
                return


def _raised_at(exc: BaseException) -> str:
    """``file.py:line in function`` of the frame that raised ``exc`` (no values, so no data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"
