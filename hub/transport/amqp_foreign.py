"""AMQP on a broker Simpul does not own: consuming one queue of a source system's own RabbitMQ (its broker,
its vhost), and publishing to one exchange there (the simulated source systems of the demo and tests).

Why not :class:`~hub.transport.amqp.AmqpTransport`: it owns its topology (quorum queues with dead-letter
policies set through the management API, verified at start), while here the broker and the queue belong to
another system. So :class:`ForeignConsumer` declares no topology of its own beyond one queue, needs no
management rights, and takes the queue as it is:

- **The queue**: an existing one is only checked (a passive declare; it may be classic), or Simpul's own
  queue is declared durable, of the type asked, and bound to an existing exchange (:class:`ForeignQueue`).
- **Bounded**: at most ``prefetch`` messages are unacknowledged at once (``basic.qos``); each is handed to
  ``on_message`` as a :class:`ForeignMessage` and stays unacknowledged until its ``ack``.
- **Acks never raise**: a message whose channel has closed since it was delivered (a reconnect) is *stale*
  (:attr:`ForeignMessage.stale`); its ack is skipped (``upstream_stale_ack_skipped``) because the broker
  has already put it back and will deliver it again. Dropping stale messages still buffered is the
  caller's part.
- **One robust connection**, re-subscribing after a reconnect, retried every second (aio-pika waits 5 s by
  default; a source should resume quickly). A connection that did not open is closed whatever the reason
  (refused, unreachable, cancelled), as :func:`hub.transport.amqp_connection.connect` does.
- **Errors** are Simpul's: :class:`~hub.errors.FatalError` when the broker refuses the login or the vhost
  (:func:`~hub.transport.amqp_connection.refused_the_vhost`), or the queue or exchange does not exist;
  :class:`~hub.errors.SourceUnavailable` when the broker cannot be reached. A refused vhost is a setting
  to fix, so it is not retried as an outage would be.

:class:`ForeignPublisher` is the other side of such a broker: confirmed, persistent publishes to one
durable topic exchange it declares (as the broker's owner would). Failures raise
:class:`~hub.errors.ConfigError` (login or vhost refused) or :class:`~hub.errors.BrokerUnavailable`.

Used by the ``amqp_source`` adapter (``adapters.amqp_source.upstream``, ``simulator``), which thereby
imports no AMQP client: one of the modules allowed to import aio-pika and aiormq (only
``hub.transport.amqp*`` may, the import-linter contract ``amqp-client`` over ``hub``, ``schemas`` and
``adapters``); of the hub it imports ``hub.errors``, ``amqp_delivery``'s link errors and
``amqp_connection``'s quiet close, vhost test and frame redaction. Message bodies are never logged, not
even by aiormq at DEBUG (its frame logging is redacted as on the hub's own broker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aiormq.exceptions import ChannelInvalidStateError, ChannelNotFoundEntity, ProbableAuthenticationError
from yarl import URL

from hub.errors import BrokerUnavailable, ConfigError, FatalError, SourceUnavailable
from hub.transport.amqp_connection import (
    close_connection_quietly,
    install_frame_redaction,
    refused_the_vhost,
)
from hub.transport.amqp_delivery import LINK_ERRORS

log = structlog.get_logger(__name__)

# The link is not usable right now; RuntimeError covers aio-pika's "connection was not opened".
_LINK_ERRORS: tuple[type[BaseException], ...] = (*LINK_ERRORS, RuntimeError)
_VHOST_REFUSED = "unknown vhost, no access to it for this user, or its connection limit reached"


class ForeignMessage:
    """One delivery from a foreign queue, unacknowledged until :meth:`ack`; ``body`` is never logged."""

    def __init__(self, message: AbstractIncomingMessage) -> None:
        self._message = message
        self.body: bytes = message.body
        self.message_id: str | None = message.message_id

    @property
    def stale(self) -> bool:
        """True once the channel that delivered it has closed (the broker redelivers it)."""
        try:
            return self._message.channel.is_closed
        except ChannelInvalidStateError:
            return True

    async def ack(self) -> None:
        """Acknowledge; never raises: an ack the link cannot carry is logged and skipped (the message is
        stale and will be delivered again)."""
        try:
            await self._message.ack()
        except _LINK_ERRORS as exc:
            log.info("upstream_stale_ack_skipped", message_id=self.message_id, error=type(exc).__name__)


@dataclass(frozen=True)
class ForeignQueue:
    """The queue to consume: with ``exchange`` None, the existing queue ``name`` (checked, not declared);
    otherwise Simpul's own queue ``name``, declared durable of ``queue_type`` and bound to the existing
    ``exchange`` with each of ``binding_keys``."""

    name: str
    exchange: str | None = None
    binding_keys: tuple[str, ...] = ()
    queue_type: str = "quorum"

    def missing(self) -> str:
        """What a 'not found' from the broker is about: the existing queue, or the exchange to bind to."""
        return f"queue {self.name!r}" if self.exchange is None else f"exchange {self.exchange!r}"


class ForeignConsumer:
    """Consumes ``queue`` on the broker at ``url`` (``amqp://`` or ``amqps://``, vhost included) over one
    robust connection named ``connection_name``, handing each delivery to ``on_message``.

    ``start`` connects and subscribes (idempotent); ``close`` closes the connection, and every message not
    yet acked goes back to the queue.
    """

    def __init__(
        self,
        url: str,
        queue: ForeignQueue,
        on_message: Callable[[ForeignMessage], None],
        *,
        connection_name: str,
        prefetch: int,
        heartbeat_s: int,
        connect_timeout_s: float,
        reconnect_interval_s: float = 1.0,
    ) -> None:
        self._url = url  # holds a password: never in a repr or a log
        self._queue = queue
        self._on_message = on_message
        self._connection_name = connection_name
        self._prefetch = prefetch
        self._heartbeat_s = heartbeat_s
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_interval_s = reconnect_interval_s
        self._connection: AbstractRobustConnection | None = None

    @property
    def started(self) -> bool:
        """True while a connection is held: from :meth:`start` (a failed one lets it go) to :meth:`close`."""
        return self._connection is not None

    async def start(self) -> None:
        """Connect, check or declare the queue, subscribe. Idempotent; ``SourceUnavailable`` if the broker
        cannot be reached, ``FatalError`` if the login, the vhost, the queue or the exchange is wrong.
        Whatever ends it early (an error, a cancel) closes the connection first."""
        if self._connection is not None:
            return
        install_frame_redaction()  # this link's frames carry source records too
        url = URL(self._url).update_query(
            heartbeat=str(self._heartbeat_s),
            name=self._connection_name,
            reconnect_interval=f"{self._reconnect_interval_s:g}",
        )
        # Made here rather than by aio_pika.connect_robust, which drops a connection whose connect raised
        # without closing it: its reconnect task could go on (after a cancel) and its __del__ schedule a
        # close() that no one awaits.
        self._connection = connection = aio_pika.RobustConnection(url, loop=asyncio.get_running_loop())
        try:
            await connection.connect(timeout=self._connect_timeout_s)
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=self._prefetch)
            queue = await self._declare(channel)
            await queue.consume(self._deliver, no_ack=False)
        except ProbableAuthenticationError:
            await self.close()
            raise FatalError("upstream broker refused the login (wrong user name or password)") from None
        except ChannelNotFoundEntity:
            await self.close()
            raise FatalError(f"upstream {self._queue.missing()} does not exist") from None
        except _LINK_ERRORS as exc:
            await self.close()
            if refused_the_vhost(exc):
                raise FatalError(f"upstream broker refused the vhost ({_VHOST_REFUSED})") from None
            raise SourceUnavailable(f"cannot reach the upstream broker ({type(exc).__name__})") from None
        except BaseException:
            await self.close()  # cancelled (the caller's timeout, a stop) or anything else
            raise

    async def _declare(self, channel: AbstractRobustChannel) -> AbstractQueue:
        q = self._queue
        if q.exchange is None:
            return await channel.declare_queue(q.name, passive=True)
        queue = await channel.declare_queue(q.name, durable=True, arguments={"x-queue-type": q.queue_type})
        for key in q.binding_keys:
            await queue.bind(q.exchange, key)
        return queue

    async def _deliver(self, message: AbstractIncomingMessage) -> None:
        self._on_message(ForeignMessage(message))

    async def close(self) -> None:
        """Close the connection (within 5 s, ignoring a link already gone); unacked messages go back to
        the queue."""
        connection, self._connection = self._connection, None
        if connection is not None:
            await close_connection_quietly(connection)


class ForeignPublisher:
    """Publishes to the durable topic ``exchange`` on the broker at ``url``, persistent and confirmed.
    ``await start()``, ``publish(...)``, ``close()``."""

    def __init__(self, url: str, exchange: str) -> None:
        self._url = url  # holds a password: never in a repr or a log
        self._exchange_name = exchange
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None

    async def start(self) -> None:
        """Connect (one plain connection, no reconnect) and declare the exchange. ``ConfigError`` if the
        broker refuses the login or the vhost, ``BrokerUnavailable`` if it cannot be reached; a connection
        that did not open is closed whatever the reason."""
        install_frame_redaction()
        self._connection = connection = aio_pika.Connection(URL(self._url), loop=asyncio.get_running_loop())
        try:
            await connection.connect()
            self._channel = await connection.channel(publisher_confirms=True)
            self._exchange = await self._channel.declare_exchange(
                self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
            )
        except ProbableAuthenticationError:
            await self.close()
            raise ConfigError("broker refused the login (wrong user name or password)") from None
        except _LINK_ERRORS as exc:
            await self.close()
            if refused_the_vhost(exc):
                raise ConfigError(f"broker refused the vhost ({_VHOST_REFUSED})") from None
            raise BrokerUnavailable(f"cannot connect to the broker ({type(exc).__name__})") from None
        except BaseException:
            await self.close()
            raise

    async def publish(
        self, body: bytes, routing_key: str, *, message_id: str | None = None, content_type: str | None = None
    ) -> None:
        """Publish one persistent message; returns after the broker's confirm (``BrokerUnavailable`` on a
        nack or a lost link)."""
        assert self._exchange is not None, "start() first"
        message = aio_pika.Message(
            body,
            content_type=content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
        )
        try:
            await self._exchange.publish(message, routing_key)
        except _LINK_ERRORS as exc:
            raise BrokerUnavailable(f"publish failed ({type(exc).__name__})") from None

    async def close(self) -> None:
        """Close the connection (within 5 s, ignoring a link already gone)."""
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None:
            await close_connection_quietly(connection)
