"""The RabbitMQ transport (aio-pika / aiormq): :class:`AmqpTransport`, what the rest of the hub uses.

What it guarantees, and the broker facts behind each choice (see ``docs/reliability.md``), each
explained where it is done:

- **Publish returns only after the broker's confirm**, at most ``max_inflight`` at once; **a nack renews
  the publisher channel** (RabbitMQ 3.10's per-channel quorum-queue client, issue 19); **a silent link is
  abandoned early**; **blocked publishers** are refused at once: :mod:`hub.transport.amqp_publish`.
- **Consumers are ours, not aio-pika's**, each on its own channel, re-subscribed by a supervisor; stale
  acks are skipped: :mod:`hub.transport.amqp_consume` (what a consumer holds:
  :mod:`hub.transport.amqp_delivery`; stream reads: :mod:`hub.transport.amqp_stream`).
- **A cluster**: every connection starts on a shuffled address and moves to the next one on every
  reconnect attempt: :mod:`hub.transport.amqp_connection`, with what aiormq knows of a link.
- **Topology**: dead-letter policies through the management API first, then exchanges, quorum queues and
  bindings, then a check that the policies are in effect: :mod:`hub.transport.amqp_topology`.
- **Two connections** (``<name>:publish`` and ``<name>:consume``), both robust (aio-pika restores their
  channels) with a 10-20 s heartbeat, so a blocked publisher never stops acks, and a dead peer is noticed in
  well under a minute. After a reconnect of the publish connection the topology is declared again (another
  node, or a broker that lost its definitions). This module: the settings, the connections, start and close.

One of the modules of the hub allowed to import aio-pika and aiormq (only ``hub.transport.amqp*`` may); of
the hub it imports the foundations (``hub.errors``, ``hub.metrics``) and the transport modules below it.
Message bodies are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Collection, Sequence
from urllib.parse import unquote

import structlog
from aio_pika.abc import AbstractConnection, AbstractRobustConnection
from yarl import URL

from hub.errors import BrokerUnavailable, ConfigError, TopologyError
from hub.metrics import QueueStats
from hub.transport.amqp_connection import ClusterConnection, address_of, connect, install_frame_redaction
from hub.transport.amqp_consume import RESUBSCRIBE_ERRORS, AmqpConsuming
from hub.transport.amqp_delivery import LINK_ERRORS, AmqpDelivery
from hub.transport.amqp_publish import AmqpPublishing
from hub.transport.amqp_topology import apply_policies, declare, verify_policies
from hub.transport.management import DEFAULT_MANAGEMENT_URL, ManagementClient, ManagementError
from hub.transport.policies import check_topology, queue_policies
from hub.transport.topology import Topology

__all__ = ["AmqpDelivery", "AmqpTransport"]

log = structlog.get_logger(__name__)

_REDECLARE_ERRORS: tuple[type[BaseException], ...] = (*RESUBSCRIBE_ERRORS, TopologyError)


class AmqpTransport(AmqpPublishing, AmqpConsuming):
    """RabbitMQ implementation of :class:`hub.transport.base.Transport`: publishing is
    :class:`~hub.transport.amqp_publish.AmqpPublishing`, consuming
    :class:`~hub.transport.amqp_consume.AmqpConsuming`; this class owns the settings, the two connections,
    the topology on the broker and the lifecycle.

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
        install_frame_redaction()
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
        self._declare_lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._started = False
        self._closing = False
        self._lost: set[str] = set()
        self._init_publishing()
        self._init_consuming()

    # -- Transport protocol (publish, ready, blocked and inflight: AmqpPublishing; consume and read_stream:
    # AmqpConsuming) ---------------------------------------------------------------------------------------

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
            await apply_policies(self._management_urls, self.vhost, policies)
            await self.declare_topology()
            await verify_policies(self._management_urls, self.vhost, policies, timeout=self.policy_timeout)
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
        channel of the ``publish`` or ``consume`` connection (see :mod:`hub.transport.amqp_topology`).

        Raises :class:`~hub.errors.TopologyError` if an entity exists with other settings.
        """
        connection = self._pub_conn if on == "publish" else self._con_conn
        if connection is None:
            raise BrokerUnavailable("not connected to the broker")
        async with self._declare_lock:
            await declare(connection, self.topology)
        log.info("topology_declared", transport="amqp", vhost=self.vhost, via=on)

    # -- connections ---------------------------------------------------------------------------------------

    async def _connect(self, role: str) -> ClusterConnection:
        """Connect as ``<name>:<role>`` to the first address that answers
        (:func:`hub.transport.amqp_connection.connect`), and follow the connection's losses and reconnects."""
        connection = await connect(
            self._urls,
            name=f"{self.name}:{role}",
            heartbeat=self.heartbeat,
            reconnect_interval=self.reconnect_interval,
            timeout=self.connect_timeout,
            vhost=self.vhost,
        )
        connection.close_callbacks.add(self._on_connection_closed)
        connection.reconnect_callbacks.add(self._on_reconnected)
        return connection

    def connected_address(self, role: str = "publish") -> str | None:
        """``host:port`` the ``publish`` or ``consume`` connection uses (or is trying) now; None if closed."""
        connection = self._pub_conn if role == "publish" else self._con_conn
        return address_of(connection)

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
            address=address_of(connection),
            error=type(exc).__name__ if exc is not None else None,
        )

    def _on_reconnected(self, connection: AbstractRobustConnection | None, /) -> None:
        role = self._role_of(connection)
        self._lost.discard(role)
        address = address_of(connection)
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
