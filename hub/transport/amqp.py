"""The RabbitMQ transport (aio-pika / aiormq). With ``amqp_delivery`` (what a consumer holds) and
``amqp_stream`` (stream reads), the only modules of the hub that import them.

What it guarantees, and the broker facts behind each choice (see ``/work/shared/RELIABILITY.md``):

- **Publish returns only after the broker's confirm.** The publisher channel has publisher confirms and
  ``on_return_raises``; messages are persistent, ``mandatory``, carry ``message_id`` and ``user_id`` (the
  login user, which RabbitMQ validates). A returned message raises :class:`~hub.errors.Unroutable`; a nack,
  a confirm that does not arrive within ``publish_timeout``, or a connection lost while waiting (aio-pika
  rejects pending confirms on reconnect) raise :class:`~hub.errors.BrokerUnavailable`, and the caller
  republishes (the consumer side dedupes; this is at-least-once).
- **Bounded**: at most ``max_inflight`` publishes wait for confirms at once (a semaphore; waiting for a
  slot counts against ``publish_timeout``); each consumer buffers at most ``prefetch`` deliveries.
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
  from publishing connections, so a publish would hang. While blocked, :attr:`AmqpTransport.ready` is
  False and :meth:`AmqpTransport.publish` raises :class:`~hub.errors.BrokerBlocked` at once; the timeout
  stays as a backstop for publishes already in flight.
- **Two connections** (``<name>:publish`` and ``<name>:consume``), both robust (aio-pika restores their
  channels) with a 10-20 s heartbeat, so a blocked publisher never stops acks, and a dead peer is noticed in
  well under a minute.
- **A cluster**: given several addresses (``url`` and ``urls``, nodes of one RabbitMQ cluster), each
  connection starts on a shuffled order of them (so hubs spread over the nodes), and every reconnect attempt
  after a loss goes to the *next* address, waiting ``reconnect_interval`` between attempts and doubling it
  (up to 10 s) after each full round of failures. Publishes in flight when the node went away fail with
  ``BrokerUnavailable`` (their confirms are lost) and are republished by the caller; consumers re-subscribe
  on the new connection, and the topology is re-declared there. The management API is tried in the order of
  ``management_url`` and ``management_urls`` until one answers.
- **Consumers are ours, not aio-pika's**: each subscription runs on its own channel of the consume
  connection, supervised by a task that re-subscribes after a reconnect or a channel error, and re-declares
  the topology when the broker cancels the consumer because the queue was deleted (aio-pika does not
  reliably recover a server-side cancel). Deliveries remember their channel: acking one from a channel that
  has since closed is logged (``stale_ack_skipped``) and skipped, never sent, because delivery tags restart
  on a new channel and a stale tag would ack a different message. The broker redelivers those messages.
- **Topology**: :meth:`AmqpTransport.start` PUTs the dead-letter policies through the management API
  *first*, then declares durable topic exchanges, durable quorum queues and bindings, then checks through
  the management API that every work queue shows the policy as effective, or raises
  :class:`~hub.errors.TopologyError`.

Why policies and not queue arguments for the dead-letter exchange and delivery limit: queue arguments are
fixed when a queue is created (re-declaring with different ones fails with PRECONDITION_FAILED and changing
them means deleting the queue and its messages), while a policy can be changed at runtime, by the hub or an
operator, and RabbitMQ applies it to the existing queue at once. The policy is applied before the queues are
declared so a new queue never exists without dead-lettering, even for a moment.

Message bodies are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import socket
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import aio_pika
import aiormq
import aiormq.abc
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractRobustChannel,
    AbstractRobustConnection,
    FieldValue,
)
from aiormq.exceptions import (
    AuthenticationError,
    ChannelAccessRefused,
    ChannelInvalidStateError,
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    DeliveryError,
    ProbableAuthenticationError,
    PublishError,
)
from pamqp.body import ContentBody
from yarl import URL

from hub.backoff import Backoff
from hub.errors import (
    BrokerBlocked,
    BrokerUnavailable,
    ConfigError,
    FatalError,
    TopologyError,
    Unroutable,
)
from hub.metrics import QueueStats
from hub.transport.amqp_delivery import (
    LINK_ERRORS,
    AmqpDelivery,
    Consumer,
    Epoch,
    Subscription,
    abandon,
    to_delivery,
)
from hub.transport.amqp_stream import AmqpStreamDelivery, read_stream
from hub.transport.base import HeaderValue, StreamOffset
from hub.transport.management import DEFAULT_MANAGEMENT_URL, ManagementClient, ManagementError
from hub.transport.policies import QueuePolicy, check_topology, queue_policies
from hub.transport.topic import validate_routing_key
from hub.transport.topology import Topology

__all__ = ["AmqpDelivery", "AmqpTransport"]

log = structlog.get_logger(__name__)

# Reasons to try a subscription again later; RuntimeError covers aio-pika's "connection was not opened".
_RESUBSCRIBE_ERRORS: tuple[type[BaseException], ...] = (*LINK_ERRORS, RuntimeError, BrokerUnavailable)
_REDECLARE_ERRORS: tuple[type[BaseException], ...] = (*_RESUBSCRIBE_ERRORS, TopologyError)
_CHANNEL_OPEN_ERRORS: tuple[type[BaseException], ...] = (*LINK_ERRORS, RuntimeError)


def _is_blocked(connection: AbstractConnection | None) -> bool:
    """True while the broker has sent ``connection.blocked`` and not yet ``connection.unblocked``.

    aiormq 7 tracks this only in a name-mangled ``asyncio.Event`` (set = unblocked) and exposes it solely
    through ``await Connection.ready()``, which waits instead of answering. Reading the event is the one
    way to answer "blocked right now?" without waiting; if a future aiormq renames it, this returns False
    and the publish timeout remains the backstop (``test_blocked_connection_*`` would then fail).
    """
    if connection is None or connection.transport is None:
        return False
    event = getattr(connection.transport.connection, "_Connection__connection_unblocked", None)
    return isinstance(event, asyncio.Event) and not event.is_set()


class _RedactFrames(logging.Filter):
    """Replace message bodies (and frames carrying them) in aiormq's log arguments with a type note.

    aiormq logs whole frames at DEBUG ("Received frame ...", "Prepare to send ...") and, at WARNING, a
    frame sent after close; a content-body frame is the message body (personal data). Simpul never logs
    bodies, so the arguments are redacted at the source whatever the logging configuration.
    """

    _types = (bytes, bytearray, memoryview, ContentBody, aiormq.abc.ChannelFrame, aiormq.abc.DeliveredMessage)

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, self._types) for a in args):
            record.args = tuple(
                f"<{type(a).__name__} redacted>" if isinstance(a, self._types) else a for a in args
            )
        return True


def _install_frame_redaction() -> None:
    for name in ("aiormq.connection", "aiormq.connection.marshall", "aiormq.channel"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactFrames) for f in logger.filters):
            logger.addFilter(_RedactFrames())


def _last_frame_at(connection: AbstractConnection | None) -> float | None:
    """Loop time of the last frame aiormq read on ``connection`` (any frame: a confirm, a heartbeat), or
    None if unknown.

    aiormq 7 keeps it only in a name-mangled attribute, for its own stuck-connection check; if a future
    aiormq renames it this returns None and the silent-link rule stays off (aiormq's heartbeat remains;
    ``test_last_frame_time_is_readable`` would then fail).
    """
    if connection is None or connection.transport is None:
        return None
    value = getattr(connection.transport.connection, "_Connection__last_frame_time", None)
    return value if isinstance(value, float) else None


# A live RabbitMQ connection carries a frame at least every ~heartbeat s: the broker checks every
# heartbeat/2 s whether it sent anything since the last check and sends a heartbeat if not, so two checks
# (~heartbeat s) is its longest silence. 1.5x leaves room for timer and event-loop jitter (measured: a link
# delaying every chunk 1.5 s showed 2.0 s gaps at heartbeat 2).
_SILENCE_HEARTBEATS = 1.5


def _link_is_silent(*, now: float, last_frame_at: float, overdue_at: float, heartbeat: float) -> bool:
    """The silent-link rule (module doc): a confirm went overdue at ``overdue_at`` with no frame read since
    then, and none for ``_SILENCE_HEARTBEATS`` heartbeats."""
    return last_frame_at <= overdue_at and now - last_frame_at >= heartbeat * _SILENCE_HEARTBEATS


def _drop_connection(connection: AbstractConnection) -> bool:
    """Drop ``connection``'s link the way aiormq drops a stuck one: mark it stuck (so its writer aborts the
    socket instead of sending ``Connection.Close`` and waiting for a flush that a dead link never does)
    and stop its reader; the robust connection then reconnects. False if aiormq's internals are not as
    expected (nothing is done then)."""
    transport = connection.transport
    if transport is None:
        return False
    inner = transport.connection
    reader = getattr(inner, "_reader_task", None)  # an aiormq TaskWrapper around an asyncio.Task
    if not callable(getattr(reader, "cancel", None)) or _last_frame_at(connection) is None:
        return False
    grace = getattr(inner, "_Connection__heartbeat_grace_timeout", None)
    if not isinstance(grace, int | float):
        return False
    inner._Connection__last_frame_time = asyncio.get_running_loop().time() - grace - 1.0  # type: ignore[attr-defined]
    reader.cancel()  # type: ignore[union-attr]
    return True


def _is_connected(connection: AbstractConnection | None) -> bool:
    if connection is None or connection.is_closed or not connection.connected.is_set():
        return False
    transport = connection.transport
    return transport is not None and not transport.connection.is_closed


# The longest wait between reconnect rounds once every cluster address has failed in a row.
_MAX_RECONNECT_INTERVAL = 10.0

# At most one publisher channel renewal after a nack per this many seconds: a burst of nacks (every
# publish in flight) costs one new channel, and a queue that keeps refusing (a length limit with
# reject-publish) cannot make the transport churn channels at the publish rate.
_RENEW_AFTER_NACK_S = 1.0


class _ClusterConnection(aio_pika.RobustConnection):
    """aio-pika's robust connection (channels restored on reconnect) over several addresses of one cluster.

    ``connect_robust`` knows one URL. This connection starts on ``addresses[start]`` and moves to the next
    address before every reconnect attempt; after each full round of failed attempts the pause between
    attempts doubles, up to ``_MAX_RECONNECT_INTERVAL``, and a successful connect resets it.
    """

    def __init__(self, addresses: Sequence[URL], start: int, **kwargs: Any) -> None:
        self.addresses = list(addresses)
        self._at = start
        self._failures = 0
        super().__init__(self.addresses[start], **kwargs)
        self._base_interval: float = self.reconnect_interval

    # aio-pika's RobustConnection runs its private ``__connect_transport`` for every (re)connect attempt and
    # offers no other hook before one; the name-mangled override is the seam (test_amqp_cluster checks it).
    async def _RobustConnection__connect_transport(self) -> None:
        if self.connection_attempt or self._failures:
            self._at = (self._at + 1) % len(self.addresses)
            self.url = self.addresses[self._at]
        try:
            await super()._RobustConnection__connect_transport()  # type: ignore[misc]
        except BaseException:
            self._failures += 1
            if self._failures % len(self.addresses) == 0:
                self.reconnect_interval = min(self.reconnect_interval * 2, _MAX_RECONNECT_INTERVAL)
            raise
        self._failures = 0
        self.reconnect_interval = self._base_interval

    @property
    def address(self) -> str:
        """``host:port`` of the address this connection uses (or tries) now."""
        return f"{self.url.host}:{self.url.port}"


class AmqpTransport:
    """RabbitMQ implementation of :class:`hub.transport.base.Transport`.

    :param url: ``amqp://user:password@host:5672/vhost`` (``amqps://`` for TLS). The user becomes every
        message's ``user_id``.
    :param topology: what :meth:`start` declares.
    :param urls: more addresses of the same cluster (same user and vhost as ``url``); see the module doc.
    :param management_url: management API with credentials, for policies and their verification.
    :param management_urls: more management APIs of the same cluster, tried in order when one is unreachable.
    :param heartbeat: AMQP heartbeat in seconds (10-20 recommended; aiormq notices a dead peer after
        ``3 x (heartbeat + 1)`` s, a publishing link with a confirm overdue is dropped after
        ``1.5 x heartbeat`` s of silence).
    :param publish_timeout: seconds a publish may take, waiting for a slot and for the confirm included.
    :param max_inflight: most publishes awaiting a confirm at once.
    :param name: connection name shown to operators (``<name>:publish`` and ``<name>:consume``);
        default ``simpul-hub/<hostname>/<pid>``.
    :param reconnect_interval: seconds between reconnect attempts of the robust connections.
    :param connect_timeout: seconds for the first connection in :meth:`start`.
    :param policy_timeout: seconds :meth:`start` waits for policies to show as effective on queues.
    :param close_timeout: seconds :meth:`close` waits for in-flight publishes (default ``publish_timeout``).
    """

    def __init__(
        self,
        url: str,
        topology: Topology,
        *,
        urls: Sequence[str] = (),
        management_url: str = DEFAULT_MANAGEMENT_URL,
        management_urls: Sequence[str] = (),
        heartbeat: int = 15,
        publish_timeout: float = 10.0,
        max_inflight: int = 256,
        name: str | None = None,
        reconnect_interval: float = 1.0,
        connect_timeout: float = 10.0,
        policy_timeout: float = 15.0,
        close_timeout: float | None = None,
    ) -> None:
        if heartbeat < 1:
            raise ConfigError("must be at least 1 s (0 disables dead-peer detection)", key="heartbeat")
        if publish_timeout <= 0:
            raise ConfigError("must be positive", key="publish_timeout")
        if max_inflight < 1:
            raise ConfigError("must be at least 1", key="max_inflight")
        _install_frame_redaction()
        self.topology = topology
        self.name = name or f"simpul-hub/{socket.gethostname()}/{os.getpid()}"
        self.heartbeat = heartbeat
        self.publish_timeout = publish_timeout
        self.max_inflight = max_inflight
        self.reconnect_interval = reconnect_interval
        self.connect_timeout = connect_timeout
        self.policy_timeout = policy_timeout
        self.close_timeout = publish_timeout if close_timeout is None else close_timeout
        self._urls = [URL(u) for u in dict.fromkeys([url, *urls])]
        if any(u.scheme not in ("amqp", "amqps") for u in self._urls):
            raise ConfigError("must be an amqp:// or amqps:// URL", key="broker_url")
        first = self._urls[0]
        self.user = first.user or "guest"
        self.vhost = unquote(first.raw_path[1:]) or "/"
        if any(
            (u.user or "guest", unquote(u.raw_path[1:]) or "/") != (self.user, self.vhost) for u in self._urls
        ):
            raise ConfigError("every cluster address must use the same user and vhost", key="broker_urls")
        self._management_urls = list(dict.fromkeys([management_url, *management_urls]))
        self._stats_api: ManagementClient | None = None  # queue_stats' client, opened on first use
        self._stats_index = 0  # which management URL that client talks to (the next one when unreachable)
        self._pub_conn: AbstractRobustConnection | None = None
        self._con_conn: AbstractRobustConnection | None = None
        self._pub_channel: AbstractRobustChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._slots = asyncio.Semaphore(max_inflight)
        self._inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._subscriptions: set[Subscription] = set()
        self._declare_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._started = False
        self._closing = False
        self._blocked_logged = False
        self._lost: set[str] = set()
        self._renewed_at = float("-inf")  # loop time of the last renewal after a nack
        self._overdue_at: float | None = None  # loop time of a confirm timeout not yet cleared (silent link)
        self._abandoned_at = float("-inf")  # loop time the publish connection was last dropped as silent

    # -- Transport protocol ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect both connections, apply the policies, declare the topology and verify the policies.

        Raises :class:`~hub.errors.BrokerUnavailable` if the broker or its management API cannot be
        reached, :class:`~hub.errors.ConfigError` if the login is refused, and
        :class:`~hub.errors.TopologyError` if the topology is unsafe, conflicts with existing entities or
        a work queue does not show its dead-letter policy. Idempotent: calling it again re-applies and
        re-verifies everything on the existing connections.
        """
        if self._closing:
            raise RuntimeError("transport is closed")
        check_topology(self.topology)
        try:
            if self._pub_conn is None:
                self._pub_conn = await self._connect("publish")
            if self._con_conn is None:
                self._con_conn = await self._connect("consume")
            if self._pub_channel is None:
                channel = await self._pub_conn.channel(publisher_confirms=True, on_return_raises=True)
                self._pub_channel = channel
            policies = queue_policies(self.topology)
            await self._apply_policies(policies)
            await self.declare_topology()
            await self._verify_policies(policies)
        except BaseException:
            await self._close_connections()
            raise
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch(), name=f"{self.name}:watch")
        self._started = True
        log.info(
            "transport_started",
            transport="amqp",
            connection=self.name,
            vhost=self.vhost,
            queues=len(self.topology.queues),
            policies=[p.name for p in policies],
        )

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
        if not _is_connected(self._pub_conn) or self._pub_channel is None or self._pub_channel.is_closed:
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
            if _is_blocked(self._pub_conn):
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

    def consume(self, queue: str, *, prefetch: int) -> AsyncIterator[AmqpDelivery]:
        """Iterate deliveries of ``queue`` with at most ``prefetch`` unacknowledged (``prefetch`` >= 1).

        The subscription starts on the first ``__anext__``; it survives reconnects, channel errors and the
        queue being deleted (the topology is re-declared), and ends when :meth:`close` is called (or the
        iterator's ``aclose()``).
        """
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1 (0 would mean unbounded)")
        if queue not in {q.name for q in self.topology.queues}:
            raise TopologyError(f"queue {queue!r} is not part of the topology")
        sub = Subscription(queue=queue, prefetch=prefetch, buffer=asyncio.Queue(maxsize=prefetch))
        if self._closing:
            sub.stop.set()
        self._subscriptions.add(sub)
        consumer = Consumer(self._start_subscription, self._stop_subscription, sub)
        # An iterator dropped without close() (e.g. its task was cancelled) must not pin `prefetch`
        # unacked messages until the transport closes: stopping the subscription closes its channel.
        weakref.finalize(consumer, abandon, sub).atexit = False
        return consumer

    def read_stream(
        self, queue: str, *, offset: StreamOffset, prefetch: int
    ) -> AsyncIterator[AmqpStreamDelivery]:
        """Read stream ``queue`` of the topology from ``offset`` (see :mod:`hub.transport.amqp_stream`) on
        the consume connection; raises ``BrokerUnavailable`` when the link drops (resume by offset)."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1 (a stream consumer needs basic.qos)")
        spec = next((q for q in self.topology.queues if q.name == queue), None)
        if spec is None or spec.kind != "stream":
            raise TopologyError(f"queue {queue!r} is not a stream of the topology")
        if self._con_conn is None or not self._started or self._closing:
            raise BrokerUnavailable("transport is not started")
        return read_stream(self._con_conn, queue, offset, prefetch)

    @property
    def ready(self) -> bool:
        """True while started, connected for publishing and not blocked by a broker alarm."""
        return (
            self._started
            and not self._closing
            and _is_connected(self._pub_conn)
            and self._pub_channel is not None
            and not self._pub_channel.is_closed
            and not _is_blocked(self._pub_conn)
        )

    @property
    def blocked(self) -> bool:
        """True while the broker blocks this transport's publishing connection (memory or disk alarm)."""
        return _is_blocked(self._pub_conn)

    @property
    def inflight(self) -> int:
        """Publishes currently holding a slot (written or about to be, awaiting their confirm)."""
        return self._inflight

    async def queue_stats(self, queues: Collection[str]) -> dict[str, QueueStats]:
        """Depth (ready + unacknowledged) and consumers of ``queues`` as the management API counts them,
        in one request on a client kept for the next call; a queue the broker does not list is left out.
        Raises :class:`~hub.transport.management.ManagementError` when the API cannot answer."""
        if self._closing:  # a client opened now would outlive the transport
            raise BrokerUnavailable("transport is closed")
        urls = self._management_urls
        for attempt in range(len(urls)):
            if self._stats_api is None:
                self._stats_api = ManagementClient(urls[self._stats_index], timeout=2.0)
            try:
                listed = await self._stats_api.list_queues(self.vhost)
                break
            except ManagementError as exc:
                if not exc.unreachable or attempt + 1 == len(urls):
                    raise
                await self._stats_api.close()  # a cluster: ask the next node's API
                self._stats_api = None
                self._stats_index = (self._stats_index + 1) % len(urls)
        wanted = set(queues)
        return {
            str(q["name"]): QueueStats(int(q.get("messages") or 0), int(q.get("consumers") or 0))
            for q in listed
            if q.get("name") in wanted
        }

    async def close(self) -> None:
        """Stop consumers, wait up to ``close_timeout`` for in-flight confirms, close both connections."""
        if self._closing:
            return
        self._closing = True
        subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            sub.stop.set()  # all at once: each may take a moment to cancel its consumer
        await asyncio.gather(*(self._stop_subscription(sub) for sub in subscriptions))
        if self._inflight:
            try:
                async with asyncio.timeout(self.close_timeout):
                    await self._idle.wait()
            except TimeoutError:
                log.warning("close_abandoned_inflight_publishes", connection=self.name, count=self._inflight)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._close_connections()
        if self._stats_api is not None:
            await self._stats_api.close()
            self._stats_api = None
        log.info("transport_closed", transport="amqp", connection=self.name)

    # -- topology ------------------------------------------------------------------------------------------

    async def declare_topology(self, *, on: str = "publish") -> None:
        """Declare durable exchanges, durable quorum queues and bindings (idempotent), on a short-lived
        channel of the ``publish`` or ``consume`` connection.

        Raises :class:`~hub.errors.TopologyError` if an entity exists with other settings.
        """
        connection = self._pub_conn if on == "publish" else self._con_conn
        if connection is None:
            raise BrokerUnavailable("not connected to the broker")
        async with self._declare_lock:
            channel = await connection.channel(publisher_confirms=False)
            entity = ""
            try:
                for spec in self.topology.exchanges:
                    entity = f"exchange {spec.name!r}"
                    await channel.declare_exchange(spec.name, spec.type, durable=True)
                queues = {}
                for q in self.topology.queues:
                    entity = f"queue {q.name!r}"
                    queues[q.name] = await channel.declare_queue(
                        q.name, durable=True, arguments=dict(q.arguments())
                    )
                for binding in self.topology.bindings:
                    entity = f"binding {binding.exchange} -> {binding.queue} ({binding.pattern})"
                    await queues[binding.queue].bind(binding.exchange, binding.pattern)
            except ChannelPreconditionFailed:
                raise TopologyError(f"{entity} already exists with different settings") from None
            except ChannelAccessRefused:
                raise TopologyError(f"not allowed to declare {entity}") from None
            finally:
                with contextlib.suppress(*LINK_ERRORS):
                    await asyncio.wait_for(channel.close(), timeout=5)
        log.info("topology_declared", transport="amqp", vhost=self.vhost, via=on)

    async def _management(self, what: str, work: Callable[[ManagementClient], Awaitable[None]]) -> None:
        """Run ``work`` against the first management API that answers (a cluster lists several)."""
        for index, url in enumerate(self._management_urls):
            try:
                async with ManagementClient(url) as api:
                    await work(api)
                return
            except ManagementError as exc:
                if exc.unreachable and index + 1 < len(self._management_urls):
                    log.warning("management_api_unreachable", action="next_address", what=what)
                    continue
                raise self._management_failure(exc, what) from None

    async def _apply_policies(self, policies: list[QueuePolicy]) -> None:
        if not policies:
            return

        async def work(api: ManagementClient) -> None:
            for policy in policies:
                body = policy.as_api_body()
                await api.put_policy(
                    self.vhost,
                    policy.name,
                    pattern=body["pattern"],
                    definition=body["definition"],
                    apply_to=body["apply-to"],
                    priority=body["priority"],
                )
                log.info("policy_applied", vhost=self.vhost, policy=policy.name, queues=list(policy.queues))

        await self._management("apply policies", work)

    async def _verify_policies(self, policies: list[QueuePolicy]) -> None:
        """Check that every work queue has our policy in effect, polling up to ``policy_timeout``.

        The queue's effective ``policy`` name is read from ``GET /api/queues/{vhost}?disable_stats=true``
        (the queue records: current at once) and the policy's definition from ``GET /api/policies``;
        when ``GET /api/queues/{vhost}/{name}`` already carries ``effective_policy_definition`` (it comes
        from the statistics database, which lags 5-10 s behind a new quorum queue) that must match too.
        """
        expected = {queue: policy for policy in policies for queue in policy.queues}
        if not expected:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.policy_timeout
        pending = dict(expected)
        seen: dict[str, str | None] = {}

        async def work(api: ManagementClient) -> None:
            for policy in policies:
                stored = await api.get_policy(self.vhost, policy.name)
                if stored is None or stored.get("definition") != dict(policy.definition):
                    raise TopologyError(f"policy {policy.name!r} is missing or was changed concurrently")
            while pending:
                records = {q.get("name"): q for q in await api.list_queues(self.vhost, stats=False)}
                for queue, policy in list(pending.items()):
                    seen[queue] = (records.get(queue) or {}).get("policy")
                    if seen[queue] != policy.name:
                        continue
                    detail = await api.get_queue(self.vhost, queue) or {}
                    effective = detail.get("effective_policy_definition")
                    if effective and any(effective.get(k) != v for k, v in policy.definition.items()):
                        seen[queue] = f"{policy.name} (effective definition differs)"
                        continue
                    del pending[queue]
                if not pending:
                    break
                if loop.time() >= deadline:
                    queue = sorted(pending)[0]
                    raise TopologyError(
                        f"queue {queue!r} does not show dead-letter policy {pending[queue].name!r} "
                        f"as effective (effective policy: {seen.get(queue)!r}); a policy of "
                        "higher priority may override it"
                    )
                await asyncio.sleep(0.2)

        await self._management("verify policies", work)
        log.info("policies_verified", vhost=self.vhost, queues=sorted(expected))

    def _management_failure(self, exc: ManagementError, what: str) -> Exception:
        if exc.unreachable:
            return BrokerUnavailable(f"management API unreachable, cannot {what}: {exc}")
        return TopologyError(f"management API refused to {what}: {exc}")

    # -- connections ---------------------------------------------------------------------------------------

    async def _connect(self, role: str) -> _ClusterConnection:
        """Connect to the first address that answers, in a shuffled order (hubs spread over a cluster)."""
        addresses = [
            u.update_query(
                heartbeat=str(self.heartbeat),
                name=f"{self.name}:{role}",
                reconnect_interval=f"{self.reconnect_interval:g}",
            )
            for u in self._urls
        ]
        order = random.sample(range(len(addresses)), len(addresses))
        failure = ""
        for start in order:
            connection = _ClusterConnection(addresses, start, loop=asyncio.get_running_loop())
            try:
                await connection.connect(timeout=self.connect_timeout)
            except (AuthenticationError, ProbableAuthenticationError):
                await _close_connection_quietly(connection)
                raise ConfigError(
                    "broker refused the login (wrong credentials, unknown vhost or no permission)",
                    key="broker_url",
                ) from None
            except LINK_ERRORS as exc:  # AMQPConnectionError is an AMQPError
                await _close_connection_quietly(connection)
                failure = type(exc).__name__
                if len(addresses) > 1:
                    log.warning("broker_address_unreachable", address=connection.address, error=failure)
                continue
            connection.close_callbacks.add(self._on_connection_closed)
            connection.reconnect_callbacks.add(self._on_reconnected)
            log.info(
                "broker_connected",
                connection=f"{self.name}:{role}",
                vhost=self.vhost,
                address=connection.address,
            )
            return connection
        raise BrokerUnavailable(f"cannot connect to the broker ({failure})")

    def connected_address(self, role: str = "publish") -> str | None:
        """``host:port`` the ``publish`` or ``consume`` connection uses (or is trying) now; None if closed."""
        connection = self._pub_conn if role == "publish" else self._con_conn
        return connection.address if isinstance(connection, _ClusterConnection) else None

    def _on_connection_closed(
        self, connection: AbstractConnection | None, exc: BaseException | None, /
    ) -> None:
        if self._closing:
            return
        self._exchanges.clear()
        role = self._role_of(connection)
        # aio-pika calls this after every failed reconnect attempt too: warn once per outage.
        level = log.debug if role in self._lost else log.warning
        self._lost.add(role)
        level(
            "broker_connection_lost",
            connection=role,
            address=connection.address if isinstance(connection, _ClusterConnection) else None,
            error=type(exc).__name__ if exc is not None else None,
        )

    def _on_reconnected(self, connection: AbstractRobustConnection | None, /) -> None:
        role = self._role_of(connection)
        self._lost.discard(role)
        address = connection.address if isinstance(connection, _ClusterConnection) else None
        log.info("broker_reconnected", connection=role, address=address)
        if connection is self._pub_conn and self._started and not self._closing:
            # Possibly another node, or a broker that lost its definitions: declare what we need again.
            task = asyncio.create_task(self._redeclare(), name=f"{self.name}:redeclare")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _redeclare(self) -> None:
        try:
            await self.declare_topology(on="publish")
        except _REDECLARE_ERRORS as exc:
            log.warning("redeclare_after_reconnect_failed", connection=self.name, error=type(exc).__name__)

    def _role_of(self, connection: AbstractConnection | None) -> str:
        role = "publish" if connection is self._pub_conn else "consume"
        return f"{self.name}:{role}"

    async def _close_connections(self) -> None:
        self._pub_channel = None
        self._exchanges.clear()
        for attr in ("_con_conn", "_pub_conn"):
            connection: AbstractRobustConnection | None = getattr(self, attr)
            setattr(self, attr, None)
            if connection is None:
                continue
            try:
                await asyncio.wait_for(connection.close(), timeout=max(self.close_timeout, 1.0))
            except LINK_ERRORS as exc:
                log.warning("connection_close_failed", connection=self.name, error=type(exc).__name__)

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
        if _is_blocked(self._pub_conn):
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
                blocked = _is_blocked(self._pub_conn)
                if blocked != was_blocked:
                    was_blocked = blocked
                    self._blocked_logged = blocked
                    if blocked:
                        log.warning("broker_blocked", connection=f"{self.name}:publish")
                    else:
                        log.info("broker_unblocked", connection=f"{self.name}:publish")
                channel = self._pub_channel
                if channel is not None and channel.is_closed and _is_connected(self._pub_conn):
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
        last = _last_frame_at(self._pub_conn)
        if self._overdue_at is None or (last is not None and last > self._overdue_at):
            self._overdue_at = now
        self._abandon_if_silent()

    def _abandon_if_silent(self) -> None:
        """Drop the publish connection if the silent-link rule holds (module doc), at most once per
        ``max(heartbeat, publish_timeout)``, so a broker that keeps a link open without a word cannot make
        the transport reconnect faster than that."""
        overdue_at = self._overdue_at
        connection = self._pub_conn
        if overdue_at is None or connection is None or self._closing or not _is_connected(connection):
            return
        last = _last_frame_at(connection)
        if last is None:
            return
        now = asyncio.get_running_loop().time()
        if last > overdue_at:  # frames came after the timeout: a live link, a slow broker
            self._overdue_at = None
            return
        if not _link_is_silent(now=now, last_frame_at=last, overdue_at=overdue_at, heartbeat=self.heartbeat):
            return
        if now - self._abandoned_at < max(self.heartbeat, self.publish_timeout):
            return
        if not _drop_connection(connection):
            return
        self._abandoned_at = now
        self._overdue_at = None
        log.warning(
            "publisher_connection_abandoned",
            connection=f"{self.name}:publish",
            address=connection.address if isinstance(connection, _ClusterConnection) else None,
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
            await _close_quietly(old)
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
            await _close_quietly(channel)
            return
        self._pub_channel = channel
        self._exchanges.clear()
        log.warning("publisher_channel_renewed", connection=f"{self.name}:publish", reason="nack")
        await asyncio.sleep(self.publish_timeout)
        await _close_quietly(old)

    # -- consumers -----------------------------------------------------------------------------------------

    def _start_subscription(self, sub: Subscription) -> None:
        if not self._started:
            raise RuntimeError("call start() before consuming")
        sub.task = asyncio.create_task(self._run_subscription(sub), name=f"{self.name}:consume:{sub.queue}")

    async def _stop_subscription(self, sub: Subscription) -> None:
        sub.stop.set()
        self._subscriptions.discard(sub)
        task = sub.task
        if task is not None and not task.done():
            try:
                async with asyncio.timeout(5):
                    await asyncio.shield(task)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run_subscription(self, sub: Subscription) -> None:
        try:
            await self._supervise(sub)
        except Exception as exc:  # a bug, not a broker condition (those are retried): surface it
            sub.error = exc
            log.error(
                "consumer_supervisor_failed", queue=sub.queue, error=type(exc).__name__, detail=str(exc)
            )
        finally:
            self._subscriptions.discard(sub)
            sub.stop.set()  # whatever ended the supervisor also ends the iterator

    async def _supervise(self, sub: Subscription) -> None:
        """Keep one consumer on ``sub.queue`` alive until ``sub.stop``: one channel per attempt."""
        failures = 0  # consecutive failed attempts: the back-off's exponent

        async def back_off() -> None:
            nonlocal failures
            await _sleep_or_stop(_RESUBSCRIBE_BACKOFF.delay(failures), sub.stop)
            failures += 1

        for attempt in itertools.count():
            if sub.stop.is_set():
                return
            connection = self._con_conn
            if connection is None:
                return
            channel: AbstractRobustChannel | None = None
            try:
                await _wait_or_stop(connection.ready(), sub.stop)
                if sub.stop.is_set():
                    return
                channel = await connection.channel(publisher_confirms=False)
                outcome = await self._consume_on(channel, sub, attempt)
                if outcome == "cancelled":
                    log.warning("consumer_cancelled_by_broker", queue=sub.queue, action="redeclare_topology")
                    await self.declare_topology(on="consume")
                    failures = 0
                elif outcome == "channel_closed":
                    log.warning("consumer_channel_closed", queue=sub.queue, action="resubscribe")
                    await back_off()
            except ChannelNotFoundEntity:
                log.warning("consumer_queue_missing", queue=sub.queue, action="redeclare_topology")
                with contextlib.suppress(*LINK_ERRORS, TopologyError, BrokerUnavailable):
                    await self.declare_topology(on="consume")
                await back_off()
            except _RESUBSCRIBE_ERRORS as exc:
                log.warning("consumer_resubscribe_failed", queue=sub.queue, error=type(exc).__name__)
                await back_off()
            except TopologyError as exc:
                log.error("consumer_topology_error", queue=sub.queue, error=str(exc))
                await back_off()
            finally:
                dropped = sub.purge_stale()
                if dropped:
                    log.info("stale_deliveries_dropped", queue=sub.queue, count=dropped)
                # A fresh channel per attempt; closing the old one (unless the whole transport is closing,
                # which closes the connection) keeps aio-pika from restoring it and returns its unacked
                # messages to the queue.
                if channel is not None and not self._closing:
                    await _close_quietly(channel)

    async def _consume_on(self, channel: AbstractRobustChannel, sub: Subscription, attempt: int) -> str:
        """Subscribe on ``channel`` and wait; returns ``stopped``, ``cancelled`` or ``channel_closed``."""
        underlay = await channel.get_underlay_channel()
        epoch = Epoch()
        cancelled = asyncio.Event()
        tag_box: list[str] = []

        def on_cancel(frame: aiormq.spec.Basic.Cancel) -> None:
            if not tag_box or frame.consumer_tag == tag_box[0]:
                cancelled.set()

        underlay.on_consumer_cancel_callbacks.add(on_cancel)
        try:
            await underlay.basic_qos(prefetch_count=sub.prefetch)
            ok = await underlay.basic_consume(
                sub.queue, self._deliver_callback(sub, underlay, epoch), no_ack=False
            )
            tag = ok.consumer_tag or ""
            tag_box.append(tag)
            log.info("consumer_subscribed", queue=sub.queue, prefetch=sub.prefetch, attempt=attempt)
            closing = underlay.closing
            waiters = {
                asyncio.ensure_future(sub.stop.wait()): "stopped",
                asyncio.ensure_future(cancelled.wait()): "cancelled",
            }
            try:
                done, _ = await asyncio.wait([*waiters, closing], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                if not closing.done():
                    closing.cancel()
            outcome = next((waiters[w] for w in done if w in waiters), "channel_closed")
            if cancelled.is_set():
                outcome = "cancelled"
            if outcome == "stopped":
                with contextlib.suppress(*LINK_ERRORS):
                    await underlay.basic_cancel(tag, timeout=2)
            else:
                epoch.valid = False
            return outcome
        finally:
            underlay.on_consumer_cancel_callbacks.discard(on_cancel)

    def _deliver_callback(
        self, sub: Subscription, channel: aiormq.abc.AbstractChannel, epoch: Epoch
    ) -> Callable[[aiormq.abc.DeliveredMessage], Coroutine[Any, Any, None]]:
        async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
            delivery = to_delivery(message, sub.queue, channel, epoch)
            if delivery is None:
                return
            # Bounded: the broker sends at most `prefetch` unacked, the buffer holds `prefetch`.
            await sub.buffer.put(delivery)

        return on_message


# Between re-subscribe attempts: 0.2 s doubling to 5 s, no jitter (one hub's few consumers, one broker).
_RESUBSCRIBE_BACKOFF = Backoff(base_s=0.2, cap_s=5.0, jitter=False)


async def _sleep_or_stop(delay: float, stop: asyncio.Event) -> None:
    """Sleep ``delay`` seconds, waking early when ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await stop.wait()


async def _wait_or_stop(awaitable: Awaitable[Any], stop: asyncio.Event) -> None:
    waiter = asyncio.ensure_future(awaitable)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((waiter, stopper), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not waiter.done():
            waiter.cancel()
    if waiter.done() and not waiter.cancelled():
        waiter.result()


async def _close_connection_quietly(connection: AbstractConnection) -> None:
    with contextlib.suppress(*LINK_ERRORS, RuntimeError):
        await asyncio.wait_for(connection.close(), timeout=5)


async def _close_quietly(channel: AbstractChannel) -> None:
    if channel.is_closed and not isinstance(channel, aio_pika.RobustChannel):
        return
    with contextlib.suppress(*LINK_ERRORS, RuntimeError):
        await asyncio.wait_for(channel.close(), timeout=5)
