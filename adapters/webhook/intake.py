"""The bounded hand-over between HTTP handlers and the source's ``read``.

A handler ``offer``s a ``Pending`` (event id, record, future) and awaits its future; ``take`` hands up to
``n`` queued ones to ``read`` as one batch (they become in flight); ``confirm`` resolves their futures
after the broker confirmed them. A handler that gives up (``abandon``) takes a still-queued item out at
once; an in-flight one stays until its commit, so a retry of it meanwhile is recognised (409).

Bounded: at most ``max_pending`` items are queued or in flight; ``offer`` raises ``IntakeFull`` beyond.
``stalled`` is True while the oldest in-flight batch has waited longer than the confirm timeout (the
broker is down or blocked: answer 503 at once rather than queue more).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from hub.errors import SourceUnavailable
from hub.model.records import SourceRecord

State = Literal["queued", "inflight", "done", "abandoned"]


class IntakeFull(Exception):
    """No room for another pending request."""


class IntakeClosed(SourceUnavailable):
    """The source is stopping; pending requests are answered 503."""


@dataclass(eq=False)
class Pending:
    """One request waiting for its record's confirm."""

    event_id: str
    record: SourceRecord
    future: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    state: State = "queued"


class Intake:
    """See the module docstring."""

    def __init__(self, max_pending: int) -> None:
        self._max = max_pending
        self._by_id: dict[str, Pending] = {}
        self._queued: deque[Pending] = deque()
        self._wakeup = asyncio.Event()
        self._inflight_since: float | None = None
        self.closed = False

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def offer(self, event_id: str, record: SourceRecord) -> Pending:
        """Queue a request; ``IntakeFull`` if ``max_pending`` are waiting, ``IntakeClosed`` if stopping."""
        if self.closed:
            raise IntakeClosed("the webhook source is stopping")
        if len(self._by_id) >= self._max:
            raise IntakeFull
        pending = Pending(event_id, record)
        self._by_id[event_id] = pending
        self._queued.append(pending)
        self._wakeup.set()
        return pending

    async def take(self, n: int) -> list[Pending] | None:
        """Up to ``n`` queued requests, now in flight (waits for one); None once closed."""
        while not self._queued:
            if self.closed:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        batch = [self._queued.popleft() for _ in range(min(n, len(self._queued)))]
        for pending in batch:
            pending.state = "inflight"
        self._inflight_since = time.monotonic()
        return batch

    def confirm(self, batch: list[Pending]) -> None:
        """The batch is safe at the broker (and marked processed): answer its requests."""
        for pending in batch:
            pending.state = "done"
            self._by_id.pop(pending.event_id, None)
            if not pending.future.done():
                pending.future.set_result(None)
        self._inflight_since = None

    def abandon(self, pending: Pending) -> None:
        """The handler answered 503; a still-queued request is dropped (its sender will retry)."""
        if pending.state == "queued":
            pending.state = "abandoned"
            self._queued.remove(pending)
            self._by_id.pop(pending.event_id, None)

    def stalled(self, timeout_s: float) -> bool:
        """True while an in-flight batch has waited for its confirm longer than ``timeout_s``."""
        since = self._inflight_since
        return since is not None and time.monotonic() - since > timeout_s

    def close(self) -> None:
        """Stop taking requests; every waiting handler gets ``IntakeClosed`` (-> 503)."""
        self.closed = True
        for pending in self._by_id.values():
            if not pending.future.done():
                pending.future.set_exception(IntakeClosed("the webhook source stopped"))
                pending.future.exception()  # retrieved: a handler that already gave up must not warn
        self._by_id.clear()
        self._queued.clear()
        self._wakeup.set()
