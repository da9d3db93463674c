"""Runs one source adapter: read a batch, offer it, commit it; back off on retriable errors.

Per batch: ``pipeline.offer_many`` returns once every record is confirmed (published or quarantined).
Only then is ``batch.commit()`` awaited, so the source's cursor never passes an unconfirmed record. A
``RetriableError`` (broker down or blocked) retries the *same* batch after an exponential back-off with
jitter (duplicates are harmless: identity is deterministic). A ``FatalError`` while offering (the broker
routes the records nowhere: a binding was removed) needs an operator: the adapter shows ``failed`` with the
error, nothing is acked, and the same batch is tried again every ``fatal_retry_s``, so the source resumes by
itself once the topology is fixed. A ``FatalError`` from the adapter itself stops it with one clear log
line and leaves the others running.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import structlog

from hub import faultpoints
from hub.adapters.model import SourceAdapter, SourceBatch
from hub.errors import FatalError, RetriableError, SourceUnavailable
from hub.ingest.pipeline import Pipeline
from hub.model.records import Mapper

log = structlog.get_logger(__name__)

State = Literal["created", "running", "paused", "backing_off", "stopped", "failed"]


@dataclass
class Backoff:
    """Exponential back-off with full jitter: ``random(0, min(cap, base * 2**attempt))``."""

    base_s: float = 0.2
    cap_s: float = 30.0

    def delay(self, attempt: int, floor: float = 0.0) -> float:
        return max(floor, random.uniform(0, min(self.cap_s, self.base_s * 2**attempt)))


class SourceRunner:
    """Drives one source adapter through the pipeline."""

    def __init__(
        self,
        name: str,
        adapter: SourceAdapter,
        pipeline: Pipeline,
        mapper: Mapper,
        backoff: Backoff | None = None,
        fatal_retry_s: float = 30.0,
    ) -> None:
        self.name = name
        self._adapter = adapter
        self._pipeline = pipeline
        self._mapper = mapper
        self._backoff = backoff or Backoff()
        self._fatal_retry_s = fatal_retry_s
        self.state: State = "created"
        self.last_error: str | None = None
        self.records_offered = 0
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
        """Run until the source ends, ``stop`` is called, or a fatal error."""
        try:
            await self._start_adapter()
            self.state = "running"
            async for batch in self._read():
                await self._resumed.wait()
                await self._deliver(batch)
                faultpoints.reach("source_confirmed_before_commit")
                await batch.commit()
                self.records_offered += len(batch.records)
        except FatalError as exc:
            self.state = "failed"
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.error("adapter_stopped", adapter=self.name, error=type(exc).__name__, detail=str(exc))
            return
        finally:
            await self._adapter.stop()
        self.state = "stopped"

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
        await asyncio.sleep(delay)
