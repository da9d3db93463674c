"""Admission control for HTTP ingest: at most ``limit`` requests in progress, a bounded line of requests
waiting for a place, and an honest ``Retry-After`` for the ones turned away.

A request in progress holds its parsed body and its records' publisher slots, so the number in progress
is the node's memory bound. A request *waiting* holds neither: it waits before its body is read (with
``Expect: 100-continue`` before the client even sends it), so holding it costs a connection, not memory.
Refusing at once instead (503 + ``Retry-After``) wastes the client's round trip and leaves the place it
could have taken idle until some client happens to retry: on election day (552 regions at once) the node
answered 46,183 of 47,839 requests 503 and ran at ~3,700 records/s.

Places pass in arrival order: ``leave`` hands its place straight to the first waiter, so a request
arriving meanwhile cannot overtake the line. A waiter gives up after ``max_wait_s`` (then 503); beyond
``max_waiting`` waiters a request is refused at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque


class Admission:
    """Places for ingest requests on one node (one event loop)."""

    def __init__(self, limit: int, max_waiting: int = 0, max_wait_s: float = 0.0) -> None:
        self._limit = limit
        self._max_waiting = max_waiting
        self._max_wait_s = max_wait_s
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        # Mean seconds a place is held (exponentially weighted), for Retry-After; 1 s until measured.
        self._mean_held_s = 1.0

    @property
    def active(self) -> int:
        """Requests holding a place."""
        return self._active

    @property
    def waiting(self) -> int:
        """Requests waiting for a place."""
        return len(self._waiters)

    def try_enter(self) -> bool:
        """Take a place if one is free and nobody waits for it; never waits."""
        if self._active < self._limit and not self._waiters:
            self._active += 1
            return True
        return False

    async def enter(self) -> bool:
        """Take a place, waiting in line at most ``max_wait_s``; False if refused (the line is full or the
        wait ran out). A caller that gets True must call ``leave`` exactly once. Cancelling the caller
        (the client went away) gives up its spot in line, or passes on a place handed to it meanwhile."""
        if self.try_enter():
            return True
        if len(self._waiters) >= self._max_waiting or self._max_wait_s <= 0:
            return False
        granted = asyncio.get_running_loop().create_future()
        self._waiters.append(granted)
        try:
            async with asyncio.timeout(self._max_wait_s):
                await granted
        except TimeoutError:
            if granted.done() and not granted.cancelled():
                return True  # handed a place just as the wait ran out: use it
            self._forget(granted)
            return False
        except BaseException:
            if granted.done() and not granted.cancelled():
                self.leave()  # handed a place, but the caller is gone: pass it on
            else:
                self._forget(granted)
            raise
        return True

    def leave(self, held_s: float | None = None) -> None:
        """Give a place back (``held_s``: how long it was held, for ``retry_after``): to the first
        waiter still waiting, else free."""
        if held_s is not None:
            self._mean_held_s += 0.2 * (held_s - self._mean_held_s)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the place passes on: the count in progress stays
                return
        self._active -= 1

    def retry_after(self) -> int:
        """Seconds a refused client should wait: about the time the line ahead of it takes to clear
        (1 to 60 s), so refused clients come back when there may be room rather than all at once."""
        ahead = len(self._waiters) + 1
        return max(1, min(60, math.ceil(ahead * self._mean_held_s / self._limit)))

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        waiter.cancel()
        with contextlib.suppress(ValueError):  # already skipped by leave()
            self._waiters.remove(waiter)
