"""The ``webhook_sink``: POSTs envelopes as signed JSON arrays to a receiver.

Per batch of at most ``batch_max_records`` envelopes (in order): body = a JSON array of envelopes (the
hub's wire format), headers ``X-Signature: sha256=<hmac hex>``, ``X-Simpul-Message-Id`` and
``X-Simpul-Count`` (see ``adapters.webhook_sink.signing``).

=====================================  ===========================================================
receiver answers                        what happens
=====================================  ===========================================================
2xx                                     every envelope of the batch is ``applied``
5xx, 408, 429, timeout, reset           retried within the write with jittered exponential back-off
                                        (``Retry-After`` honoured up to ``backoff_cap_s``), up to
                                        ``max_attempts``; then the write raises ``RetriableError``
other 4xx, 3xx                          the receiver refuses: the write raises ``FatalError`` at once
=====================================  ===========================================================

The chain after a failed write (nothing is lost): the node's consumer does not ack. A ``RetriableError``
(``SinkUnavailable``: the receiver is down) is not the messages' fault, so the consumer holds the group
and retries it with back-off for as long as the outage lasts (until the broker's consumer timeout, which
redelivers it); a ``FatalError`` (the receiver refuses) makes the sink worker halve the group until
the refused envelope stands alone (its neighbours are delivered), and on its message's last delivery
before the queue's ``delivery_limit`` that envelope is quarantined (``sink_refused``), where it waits
for an operator with its sealed original.

A redelivered envelope is POSTed again with the same ``X-Simpul-Message-Id`` (for a batch of one) and
the same envelope ``message_id`` / ``idempotency_key`` inside: the receiver must dedupe on them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
import structlog

from adapters.webhook_sink.config import WebhookSinkConfig
from adapters.webhook_sink.signing import (
    COUNT_HEADER,
    MESSAGE_ID_HEADER,
    SIGNATURE_HEADER,
    batch_message_id,
    sign,
)
from hub.adapters.model import AdapterContext
from hub.consume.sink import APPLIED
from hub.errors import FatalError, SinkUnavailable
from hub.model import codec
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

_RETRY_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class WebhookResult:
    """The outcome of one envelope: the receiver accepted its batch (``applied``)."""

    idempotency_key: str
    status: str = APPLIED


@dataclass(frozen=True)
class _Answer:
    """What one POST got: a status and its ``Retry-After``, or the name of the error (no answer)."""

    status: int | None
    retry_after: float | None = None
    error: str | None = None


class WebhookSink:
    """A ``SinkAdapter`` POSTing to ``config.url``."""

    def __init__(self, config: WebhookSinkConfig, context: AdapterContext) -> None:
        self.name = context.name
        self._config = config
        self._secret = config.secret.get_secret_value().encode()
        self._session: aiohttp.ClientSession | None = None
        self.posts = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[WebhookResult]:
        """POST every batch; returns once the receiver accepted all of them (see the module docstring)."""
        size = self._config.batch_max_records
        for i in range(0, len(envelopes), size):
            chunk = envelopes[i : i + size]
            body = codec.join_batch([codec.dumps(e.model_dump(mode="json")) for e in chunk])
            await self._deliver(body, batch_message_id(chunk), len(chunk))
        return [WebhookResult(e.idempotency_key) for e in envelopes]

    async def _deliver(self, body: bytes, message_id: str, count: int) -> None:
        c = self._config
        headers = {
            **c.headers,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body),
            MESSAGE_ID_HEADER: message_id,
            COUNT_HEADER: str(count),
        }
        last = ""
        for attempt in range(1, c.max_attempts + 1):
            answer = await self._post(body, headers)
            status = answer.status
            if status is not None and 200 <= status < 300:
                log.info(
                    "webhook_delivered", sink=self.name, message_id=message_id, records=count, attempt=attempt
                )
                return
            if status is not None and status < 500 and status not in _RETRY_STATUSES:
                log.error("webhook_refused", sink=self.name, message_id=message_id, status=status)
                raise FatalError(f"webhook receiver refused the batch: HTTP {status}")
            last = f"HTTP {status}" if status is not None else str(answer.error)
            delay = random.uniform(0, min(c.backoff_cap_s, c.backoff_s * 2 ** (attempt - 1)))
            if answer.retry_after is not None:
                delay = max(delay, min(answer.retry_after, c.backoff_cap_s))
            log.warning(
                "webhook_retry",
                sink=self.name,
                message_id=message_id,
                attempt=attempt,
                last=last,
                delay_s=round(delay, 3),
            )
            if attempt < c.max_attempts:
                await asyncio.sleep(delay)
        raise SinkUnavailable(
            f"webhook receiver did not accept the batch after {c.max_attempts} attempts ({last})"
        )

    async def _post(self, body: bytes, headers: dict[str, str]) -> _Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        self.posts += 1
        try:
            async with self._session.post(
                self._config.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self._config.timeout_s),
            ) as response:
                await response.read()  # drain, so the connection can be reused
                return _Answer(response.status, _seconds(response.headers.get("Retry-After")))
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return _Answer(None, None, type(exc).__name__)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (the delta-seconds form; an HTTP date is ignored)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
