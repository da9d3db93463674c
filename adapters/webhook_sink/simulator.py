"""A simulated webhook receiver (a ministry application taking Simpul's pushes), for tests and demos.

It verifies ``X-Signature`` (401 otherwise), dedupes whole batches by ``X-Simpul-Message-Id`` and single
envelopes by their ``idempotency_key``, and can be told to fail: ``fail_next(times, status)`` answers
with that status (e.g. 503, 429 with ``Retry-After``, 400), ``slow_next(times, seconds)`` answers late
(a client timeout), ``refuse(predicate)`` answers 400 to any batch holding an envelope the predicate
picks (a poison record). The same controls are reachable over HTTP: ``POST /_control`` with
``{"fail": n, "status": 503}`` or ``{"slow": n, "seconds": 2}``; ``GET /_stats`` returns the counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from adapters.webhook_sink.signing import MESSAGE_ID_HEADER, SIGNATURE_HEADER, verify

PATH = "/hooks/simpul"


@dataclass
class ReceiverStats:
    """Counters of what the receiver saw."""

    requests: int = 0
    accepted_batches: int = 0
    duplicate_batches: int = 0
    duplicate_envelopes: int = 0
    bad_signatures: int = 0
    failed_on_purpose: int = 0
    statuses: list[int] = field(default_factory=list)


class WebhookReceiver:
    """The receiver; ``envelopes`` maps idempotency key -> envelope (each stored once)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self.envelopes: dict[str, dict[str, Any]] = {}
        self.batches: set[str] = set()
        self.stats = ReceiverStats()
        self._failures: list[tuple[int, float]] = []  # (status, Retry-After)
        self._slow: list[float] = []
        self._refuse: Callable[[dict[str, Any]], bool] = lambda _e: False

    def fail_next(self, times: int, status: int = 503, retry_after: float = 0) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After`` when > 0)."""
        self._failures.extend([(status, retry_after)] * times)

    def slow_next(self, times: int, seconds: float) -> None:
        """Answer the next ``times`` requests only after ``seconds``."""
        self._slow.extend([seconds] * times)

    def refuse(self, predicate: Callable[[dict[str, Any]], bool]) -> None:
        """Answer 400 to every batch holding an envelope for which ``predicate`` is true."""
        self._refuse = predicate

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(PATH, self._receive)
        app.router.add_post("/_control", self._control)
        app.router.add_get("/_stats", self._stats)
        return app

    def _answer(self, status: int, **body: Any) -> web.Response:
        self.stats.statuses.append(status)
        return web.json_response(body, status=status)

    async def _receive(self, request: web.Request) -> web.Response:
        self.stats.requests += 1
        if self._slow:
            await asyncio.sleep(self._slow.pop(0))
        body = await request.read()
        if not verify(self._secret, body, request.headers.get(SIGNATURE_HEADER)):
            self.stats.bad_signatures += 1
            return self._answer(401, error="signature")
        if self._failures:
            status, retry_after = self._failures.pop(0)
            self.stats.failed_on_purpose += 1
            response = self._answer(status, error="simulated")
            if retry_after:
                response.headers["Retry-After"] = f"{retry_after:g}"
            return response
        try:
            envelopes = orjson.loads(body)
        except orjson.JSONDecodeError:
            return self._answer(400, error="json")
        if not isinstance(envelopes, list) or not all(isinstance(e, dict) for e in envelopes):
            return self._answer(400, error="not an array of envelopes")
        if any(self._refuse(e) for e in envelopes):
            return self._answer(400, error="refused")
        message_id = request.headers.get(MESSAGE_ID_HEADER, "")
        if message_id in self.batches:
            self.stats.duplicate_batches += 1
            return self._answer(200, duplicate=True)
        self.batches.add(message_id)
        new = 0
        for envelope in envelopes:
            key = str(envelope.get("idempotency_key"))
            if key in self.envelopes:
                self.stats.duplicate_envelopes += 1
            else:
                self.envelopes[key] = envelope
                new += 1
        self.stats.accepted_batches += 1
        return self._answer(200, received=len(envelopes), new=new)

    async def _control(self, request: web.Request) -> web.Response:
        order = await request.json()
        if "fail" in order:
            self.fail_next(
                int(order["fail"]), int(order.get("status", 503)), float(order.get("retry_after", 0))
            )
        if "slow" in order:
            self.slow_next(int(order["slow"]), float(order.get("seconds", 1)))
        return web.json_response({"ok": True})

    async def _stats(self, _request: web.Request) -> web.Response:
        s = self.stats
        return web.json_response(
            {"envelopes": len(self.envelopes), "requests": s.requests, "accepted_batches": s.accepted_batches}
        )


async def serve(
    receiver: WebhookReceiver, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Start ``receiver`` on ``host:port`` (0 = any free port); returns the runner and the hook URL."""
    runner = web.AppRunner(receiver.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []  # aiohttp keeps the bound socket here
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, f"http://{host}:{bound}{PATH}"
