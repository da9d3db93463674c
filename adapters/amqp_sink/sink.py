"""The ``amqp_sink``: forwards envelopes to an exchange on another broker (or vhost), confirmed.

``write`` returns only after the receiving broker confirmed every message (persistent, mandatory, on a
confirm channel: ``hub.transport.amqp.AmqpTransport`` with an empty topology, so nothing is declared on
the receiver unless ``declare_exchange`` is set). The body is Simpul's wire format (a JSON array of
envelopes, ``hub.model.codec``), so a downstream Simpul node can consume it as it is.

Idempotency is the receiver's: in ``per_envelope`` mode the AMQP ``message_id`` is the envelope's own
(UUIDv5 of its idempotency key), so a receiver that dedupes by message id, or a Simpul sink that dedupes
by ``idempotency_key``, sees a redelivered envelope as the duplicate it is. In ``batched`` mode the
message id is derived from the envelopes it carries, but a redelivery may group them differently, so a
receiver must dedupe by the envelopes' ``idempotency_key``. This sink cannot know what the receiver had,
so every envelope it forwarded is reported ``applied``.

Failures: unconfirmed messages are re-published within the write, up to ``max_attempts`` with jittered
back-off; then the write raises ``BrokerUnavailable`` and the node's consumer requeues the delivery
(after its delivery limit, the message waits in the dead queue). A message the receiver cannot route
(``Unroutable``) or refuses (``FatalError``) fails the write at once: the consumer's per-message retry
isolates it and the delivery limit parks it in the dead queue.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from adapters.amqp_sink.config import AmqpSinkConfig
from hub.adapters.model import AdapterContext
from hub.consume.sink import APPLIED
from hub.errors import BrokerUnavailable
from hub.model import codec
from hub.model.router import routing_key
from hub.transport.base import HeaderValue, Transport
from hub.transport.topology import ExchangeSpec, Topology
from schemas.envelope import Envelope

log = structlog.get_logger(__name__)

_BATCH_NAMESPACE = uuid.UUID("2b0c7f4e-51d6-4f0b-9a49-73696d70756c")


@dataclass(frozen=True)
class ForwardResult:
    """The outcome of one envelope: forwarded and confirmed (``applied``)."""

    idempotency_key: str
    status: str = APPLIED


@dataclass(frozen=True)
class Outgoing:
    """One AMQP message to publish."""

    routing_key: str
    body: bytes
    message_id: str
    count: int


class AmqpSink:
    """A ``SinkAdapter`` forwarding to ``config.exchange``. ``transport`` may be injected (tests)."""

    def __init__(
        self, config: AmqpSinkConfig, context: AdapterContext, *, transport: Transport | None = None
    ) -> None:
        self.name = context.name
        self._config = config
        self._node = context.identity.system
        self._transport = transport
        self._started = False

    async def start(self) -> None:
        """Connect now if the receiver answers; if not, the first write connects (a wrong login raises)."""
        try:
            await self._ensure()
        except BrokerUnavailable as exc:
            log.warning("forward_broker_unreachable", sink=self.name, detail=str(exc))

    async def _ensure(self) -> Transport:
        if self._transport is None:
            from hub.transport.amqp import AmqpTransport

            c = self._config
            exchanges = (ExchangeSpec(c.exchange, c.exchange_type),) if c.declare_exchange else ()
            self._transport = AmqpTransport(
                c.url.get_secret_value(),
                Topology(prefix="forward", exchanges=exchanges),
                heartbeat=c.heartbeat_s,
                publish_timeout=c.publish_timeout_s,
                name=f"simpul-forward/{self.name}",
            )
        if not self._started:
            await self._transport.start()
            self._started = True
        return self._transport

    async def write(self, envelopes: Sequence[Envelope]) -> Sequence[ForwardResult]:
        """Publish ``envelopes`` and return once every message is confirmed (see the module docstring)."""
        pending = self.pack(envelopes)
        c = self._config
        for attempt in range(1, c.max_attempts + 1):
            try:
                transport = await self._ensure()
                outcomes = await asyncio.gather(
                    *(self._publish(transport, m) for m in pending), return_exceptions=True
                )
            except BrokerUnavailable as exc:
                outcomes = [exc] * len(pending)
            errors = [o for o in outcomes if isinstance(o, BaseException)]
            fatal = next((e for e in errors if not isinstance(e, BrokerUnavailable)), None)
            if fatal is not None:
                raise fatal
            if not errors:
                return [ForwardResult(e.idempotency_key) for e in envelopes]
            pending = [m for m, o in zip(pending, outcomes, strict=True) if isinstance(o, BaseException)]
            delay = random.uniform(0, min(c.backoff_cap_s, c.backoff_s * 2 ** (attempt - 1)))
            log.warning(
                "forward_retry",
                sink=self.name,
                attempt=attempt,
                unconfirmed=len(pending),
                error=type(errors[0]).__name__,
                delay_s=round(delay, 3),
            )
            if attempt < c.max_attempts:
                await asyncio.sleep(delay)
        raise BrokerUnavailable(f"{len(pending)} message(s) not confirmed after {c.max_attempts} attempts")

    async def _publish(self, transport: Transport, message: Outgoing) -> None:
        headers: dict[str, HeaderValue] = {
            codec.FORMAT_HEADER: codec.FORMAT,
            codec.COUNT_HEADER: message.count,
            "x-simpul-forwarded-by": self._node,
        }
        await transport.publish(
            self._config.exchange,
            message.routing_key,
            message.body,
            message_id=message.message_id,
            headers=headers,
            content_type=codec.CONTENT_TYPE,
        )

    def pack(self, envelopes: Sequence[Envelope]) -> list[Outgoing]:
        """The messages for ``envelopes``: one each, or grouped by routing key within the batch caps."""
        c = self._config
        items = [(self._key(e), e.idempotency_key, e.message_id, _json(e)) for e in envelopes]
        if c.mode == "per_envelope":
            return [Outgoing(key, codec.join_batch([body]), mid, 1) for key, _ik, mid, body in items]
        groups: dict[str, list[list[tuple[str, bytes]]]] = {}
        for key, ikey, _mid, body in items:
            chunks = groups.setdefault(key, [[]])
            size = sum(len(b) + 1 for _k, b in chunks[-1])
            if chunks[-1] and (
                len(chunks[-1]) >= c.batch_max_records or size + len(body) > c.batch_max_bytes
            ):
                chunks.append([])
            chunks[-1].append((ikey, body))
        return [
            Outgoing(
                key,
                codec.join_batch([b for _k, b in chunk]),
                str(uuid.uuid5(_BATCH_NAMESPACE, ",".join(k for k, _b in chunk))),
                len(chunk),
            )
            for key, chunks in groups.items()
            for chunk in chunks
        ]

    def _key(self, envelope: Envelope) -> str:
        if self._config.routing_key is not None:
            return self._config.routing_key
        return routing_key(envelope.schema_name, envelope.schema_major, envelope.kode_wilayah)

    async def close(self) -> None:
        if self._transport is not None:
            await self._transport.close()


def _json(envelope: Envelope) -> bytes:
    return codec.dumps(envelope.model_dump(mode="json"))
