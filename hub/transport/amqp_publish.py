"""The publishing side of :class:`~hub.transport.amqp.AmqpTransport`: confirmed publishes on one channel of
the publish connection, and what keeps that channel and connection usable.

What it guarantees, and the broker facts behind each choice (see ``docs/reliability.md``):

- **Publish returns only after the broker's confirm.** The publisher channel has publisher confirms and
  ``on_return_raises``; messages are persistent, ``mandatory``, carry ``message_id`` and ``user_id`` (the
  login user, which RabbitMQ validates). A returned message raises :class:`~hub.errors.Unroutable`; a nack,
  a confirm that does not arrive within ``publish_timeout``, or a connection lost while waiting (aio-pika
  rejects pending confirms on reconnect) raise :class:`~hub.errors.BrokerUnavailable`, and the caller
  republishes (the consumer side dedupes; this is at-least-once).
- **Bounded**: at most ``max_inflight`` publishes wait for confirms at once (a semaphore; waiting for a
  slot counts against ``publish_timeout``).
- **A nack renews the publisher channel** (at most once per ``_RENEW_AFTER_NACK_S``). RabbitMQ 3.10's
  quorum-queue client lives in the channel, one per queue, and is set up on the channel's first publish to
  that queue with the leader the queue record names *then*. If that node is down (the record is updated
  only once the survivors have elected a new leader, and a hub that lost its node reconnects and publishes
  within that window), every publish on the channel asks that dead node first, gets ``nodedown`` and is
  nacked, until the node is back: measured, ~18-23 s of nacks while the killed node was restarted 15 s
  later (issue 19; upstream rabbitmq-server#9241 makes this less likely from 3.11.x on). A new channel
  starts from the record as it is now, so one nack costs one channel, not the outage. The old channel is
  closed ``publish_timeout`` later, when none of its publishes can still be waiting for a confirm.
- **A silent link is abandoned early.** A link cut without a FIN or RST (a partition, a pulled cable) is
  noticed by aiormq's heartbeat only after ``3 x (heartbeat + 1)`` s without a frame, checked every
  ``heartbeat // 2`` s: 18-20 s with ``heartbeat=5`` (measured 19.7 s, issue 19), while every publish on it
  times out. RabbitMQ sends a frame at least every ~``heartbeat`` s on a live connection (a heartbeat
  when it has sent nothing for ``heartbeat / 2`` s), so a publish confirm overdue (``publish_timeout``)
  *and* no frame at all for ``1.5 x heartbeat`` s (7.5 s at 5) means the link is dead, not the broker
  slow: the publishing connection is then dropped (``publisher_connection_abandoned``, at most once per
  ``max(heartbeat, publish_timeout)``) and the robust reconnect moves to the next address (with one
  address: tries it again). The publishes in flight fail with ``BrokerUnavailable`` and are republished
  (at-least-once; they were never confirmed).
- **Blocked publishers**: on a memory or disk alarm RabbitMQ sends ``connection.blocked`` and stops reading
  from publishing connections, so a publish would hang. While blocked, :attr:`AmqpPublishing.ready` is
  False and :meth:`AmqpPublishing.publish` raises :class:`~hub.errors.BrokerBlocked` at once; the timeout
  stays as a backstop for publishes already in flight.

:class:`AmqpPublishing` is a mixin of ``AmqpTransport``: it owns the publisher channel and the state listed
in its body; the transport owns the connections and the lifecycle (its part is declared there too, so
mypy checks both sides). One of the modules of the hub allowed to import aio-pika and aiormq (only
``hub.transport.amqp*`` may); of the hub it imports ``hub.errors`` and the transport modules below it.
Message bodies are never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime

import aio_pika
import structlog
from aio_pika.abc import AbstractExchange, AbstractRobustChannel, AbstractRobustConnection, FieldValue
from aiormq.exceptions import (
    ChannelAccessRefused,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    DeliveryError,
    PublishError,
)

from hub.errors import BrokerBlocked, BrokerUnavailable, FatalError, TopologyError, Unroutable
from hub.transport.amqp_connection import (
    address_of,
    close_quietly,
    drop_connection,
    is_blocked,
    is_connected,
    last_frame_at,
    link_is_silent,
)
from hub.transport.amqp_delivery import LINK_ERRORS
from hub.transport.base import HeaderValue
from hub.transport.topic import validate_routing_key

log = structlog.get_logger("hub.transport.amqp")  # the transport's logger name, as before the split

_CHANNEL_OPEN_ERRORS: tuple[type[BaseException], ...] = (*LINK_ERRORS, RuntimeError)


# At most one publisher channel renewal after a nack per this many seconds: a burst of nacks (every
# publish in flight) costs one new channel, and a queue that keeps refusing (a length limit with
# reject-publish) cannot make the transport churn channels at the publish rate.
_RENEW_AFTER_NACK_S = 1.0


class AmqpPublishing:
    """Publishing for :class:`~hub.transport.amqp.AmqpTransport` (a mixin; see the module doc)."""

    # The transport's, set by AmqpTransport (its __init__, start and close).
    name: str
    user: str
    heartbeat: int
    publish_timeout: float
    max_inflight: int
    _pub_conn: AbstractRobustConnection | None
    _started: bool
    _closing: bool
    _background: set[asyncio.Task[None]]

    # Publishing's own, set by _init_publishing (the channel also by AmqpTransport.start and cleared when
    # the transport closes its connections).
    _pub_channel: AbstractRobustChannel | None
    _exchanges: dict[str, AbstractExchange]
    _slots: asyncio.Semaphore
    _inflight: int
    _idle: asyncio.Event
    _blocked_logged: bool
    _renewed_at: float
    _overdue_at: float | None
    _abandoned_at: float

    def _init_publishing(self) -> None:
        self._pub_channel = None
        self._exchanges = {}
        self._slots = asyncio.Semaphore(self.max_inflight)
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._blocked_logged = False
        self._renewed_at = float("-inf")  # loop time of the last renewal after a nack
        self._overdue_at = None  # loop time of a confirm timeout not yet cleared (silent link)
        self._abandoned_at = float("-inf")  # loop time the publish connection was last dropped as silent

    async def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        message_id: str,
        headers: Mapping[str, HeaderValue] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Publish one persistent, mandatory message and return once the broker confirmed it.

        Raises ``BrokerBlocked`` at once while the broker blocks publishers, ``BrokerUnavailable`` when not
        connected, on nack, on a lost confirm or after ``publish_timeout``, ``Unroutable`` when the broker
        returns the message, ``TopologyError`` when the exchange does not exist, and ``FatalError`` when
        the broker refuses it (permissions, forged ``user_id``).
        """
        validate_routing_key(routing_key)
        if self._closing or not self._started:
            raise BrokerUnavailable(
                "transport is not started" if not self._closing else "transport is closed"
            )
        self._refuse_if_blocked(exchange)
        if not is_connected(self._pub_conn) or self._pub_channel is None or self._pub_channel.is_closed:
            raise BrokerUnavailable("not connected to the broker")
        amqp_headers: dict[str, FieldValue] = dict(headers or {})
        message = aio_pika.Message(
            body,
            headers=amqp_headers,
            content_type=content_type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
            user_id=self.user,
            timestamp=datetime.now(UTC),
            app_id=self.name,
        )
        task = asyncio.current_task()
        cancelling_before = task.cancelling() if task is not None else 0
        got_slot = False
        channel: AbstractRobustChannel | None = None  # the one this publish went out on
        try:
            async with asyncio.timeout(self.publish_timeout):
                async with self._slots:
                    got_slot = True
                    self._refuse_if_blocked(exchange)
                    self._inflight += 1
                    self._idle.clear()
                    try:
                        channel = self._pub_channel  # _exchange takes it without suspending
                        exchange_obj = await self._exchange(exchange)
                        await exchange_obj.publish(message, routing_key, mandatory=True)
                    finally:
                        self._inflight -= 1
                        if self._inflight == 0:
                            self._idle.set()
        except TimeoutError:
            if is_blocked(self._pub_conn):
                raise BrokerBlocked("broker blocked publishers; publish not confirmed") from None
            if not got_slot:
                raise BrokerUnavailable(
                    f"no free publish slot within {self.publish_timeout:g} s ({self.max_inflight} in flight)"
                ) from None
            self._confirm_overdue()
            raise BrokerUnavailable(f"no publisher confirm within {self.publish_timeout:g} s") from None
        except PublishError:
            raise Unroutable(
                f"broker returned the message: no queue bound on {exchange!r} for {routing_key!r}"
            ) from None
        except DeliveryError:
            self._renew_after_nack(channel)
            raise BrokerUnavailable("broker nacked the message (e.g. queue full, reject-publish)") from None
        except ChannelNotFoundEntity:
            raise TopologyError(f"exchange {exchange!r} does not exist") from None
        except (ChannelAccessRefused, ChannelPreconditionFailed) as exc:
            raise FatalError(f"broker refused the publish on {exchange!r}: {type(exc).__name__}") from None
        except LINK_ERRORS as exc:
            raise BrokerUnavailable(f"connection lost before the confirm ({type(exc).__name__})") from None
        except asyncio.CancelledError:
            # aiormq cancels pending confirm futures when its connection dies; that is not *our* cancellation.
            if task is not None and task.cancelling() > cancelling_before:
                raise
            raise BrokerUnavailable("confirm cancelled by a connection loss") from None

    @property
    def ready(self) -> bool:
        """True while started, connected for publishing and not blocked by a broker alarm."""
        return (
            self._started
            and not self._closing
            and is_connected(self._pub_conn)
            and self._pub_channel is not None
            and not self._pub_channel.is_closed
            and not is_blocked(self._pub_conn)
        )

    @property
    def blocked(self) -> bool:
        """True while the broker blocks this transport's publishing connection (memory or disk alarm)."""
        return is_blocked(self._pub_conn)

    @property
    def inflight(self) -> int:
        """Publishes currently holding a slot (written or about to be, awaiting their confirm)."""
        return self._inflight

    async def _exchange(self, name: str) -> AbstractExchange:
        exchange = self._exchanges.get(name)
        if exchange is None:
            if self._pub_channel is None:
                raise ChannelInvalidStateError("publisher channel is not open")
            # Not declared here (the topology owns exchanges); a missing one fails the publish with 404.
            exchange = await self._pub_channel.get_exchange(name, ensure=False)
            self._exchanges[name] = exchange
        return exchange

    def _refuse_if_blocked(self, exchange: str) -> None:
        if is_blocked(self._pub_conn):
            if not self._blocked_logged:
                self._blocked_logged = True
                log.warning("publish_refused_broker_blocked", connection=self.name, exchange=exchange)
            raise BrokerBlocked("the broker is blocking publishers (memory or disk alarm)")

    async def _watch(self) -> None:
        """Once a second: drop a silent publish link (see the module doc), log ``broker_blocked`` /
        ``broker_unblocked`` transitions for operators, and replace the publisher channel if it stayed
        closed for 3 s while the connection is up (aio-pika restores it by itself after a reconnect or a
        channel error, but a failed restore is final)."""
        was_blocked = False
        closed_for = 0
        while True:
            await asyncio.sleep(1.0)
            try:
                self._abandon_if_silent()
                blocked = is_blocked(self._pub_conn)
                if blocked != was_blocked:
                    was_blocked = blocked
                    self._blocked_logged = blocked
                    if blocked:
                        log.warning("broker_blocked", connection=f"{self.name}:publish")
                    else:
                        log.info("broker_unblocked", connection=f"{self.name}:publish")
                channel = self._pub_channel
                if channel is not None and channel.is_closed and is_connected(self._pub_conn):
                    closed_for += 1
                    if closed_for >= 3:
                        closed_for = 0
                        await self._replace_publisher_channel()
                else:
                    closed_for = 0
            except Exception as exc:  # the watcher must outlive any single failure
                log.warning("transport_watch_failed", connection=self.name, error=type(exc).__name__)

    def _confirm_overdue(self) -> None:
        """A publish confirm did not arrive within ``publish_timeout``: remember when (the first such
        moment since the last frame counts), and drop the link at once if it is already silent."""
        now = asyncio.get_running_loop().time()
        last = last_frame_at(self._pub_conn)
        if self._overdue_at is None or (last is not None and last > self._overdue_at):
            self._overdue_at = now
        self._abandon_if_silent()

    def _abandon_if_silent(self) -> None:
        """Drop the publish connection if the silent-link rule holds (module doc), at most once per
        ``max(heartbeat, publish_timeout)``, so a broker that keeps a link open without a word cannot make
        the transport reconnect faster than that."""
        overdue_at = self._overdue_at
        connection = self._pub_conn
        if overdue_at is None or connection is None or self._closing or not is_connected(connection):
            return
        last = last_frame_at(connection)
        if last is None:
            return
        now = asyncio.get_running_loop().time()
        if last > overdue_at:  # frames came after the timeout: a live link, a slow broker
            self._overdue_at = None
            return
        if not link_is_silent(now=now, last_frame_at=last, overdue_at=overdue_at, heartbeat=self.heartbeat):
            return
        if now - self._abandoned_at < max(self.heartbeat, self.publish_timeout):
            return
        if not drop_connection(connection):
            return
        self._abandoned_at = now
        self._overdue_at = None
        log.warning(
            "publisher_connection_abandoned",
            connection=f"{self.name}:publish",
            address=address_of(connection),
            silent_s=round(now - last, 1),
            reason="confirm overdue, no frame from the broker",
        )

    async def _replace_publisher_channel(self) -> None:
        if self._pub_conn is None or self._closing:
            return
        old = self._pub_channel
        channel = await self._pub_conn.channel(publisher_confirms=True, on_return_raises=True)
        self._pub_channel = channel
        self._exchanges.clear()
        if old is not None:
            await close_quietly(old)
        log.warning("publisher_channel_replaced", connection=f"{self.name}:publish")

    def _renew_after_nack(self, channel: AbstractRobustChannel | None) -> None:
        """Start renewing the publisher channel after a nack on ``channel`` (see the module doc), unless
        ``channel`` is no longer the current one (a nack from before the last renewal) or the last
        renewal is less than ``_RENEW_AFTER_NACK_S`` ago."""
        now = asyncio.get_running_loop().time()
        if (
            channel is None
            or channel is not self._pub_channel
            or self._closing
            or now - self._renewed_at < _RENEW_AFTER_NACK_S
        ):
            return
        self._renewed_at = now
        task = asyncio.create_task(self._renew_publisher_channel(channel), name=f"{self.name}:renew")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _renew_publisher_channel(self, old: AbstractRobustChannel) -> None:
        """Publish on a new channel from now on; close ``old`` once none of its publishes can still be
        waiting for a confirm (each waits at most ``publish_timeout``)."""
        connection = self._pub_conn
        if connection is None or self._closing or old is not self._pub_channel:
            return
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        except _CHANNEL_OPEN_ERRORS as exc:
            # Not connected right now: the reconnect restores (or the watcher replaces) the channel.
            log.warning("publisher_channel_renew_failed", connection=self.name, error=type(exc).__name__)
            return
        if self._closing or old is not self._pub_channel:  # closed or replaced meanwhile
            await close_quietly(channel)
            return
        self._pub_channel = channel
        self._exchanges.clear()
        log.warning("publisher_channel_renewed", connection=f"{self.name}:publish", reason="nack")
        await asyncio.sleep(self.publish_timeout)
        await close_quietly(old)
