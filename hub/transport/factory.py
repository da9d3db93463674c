"""Building a transport and its topology: from a URL, or from a node's settings.

``make_transport("memory://", topology)`` gives a :class:`~hub.transport.memory.MemoryTransport`,
``make_transport("amqp://user:pass@host/vhost", topology, ...)`` an
:class:`~hub.transport.amqp.AmqpTransport` (aio-pika is imported only then). :func:`topology_for` is the
topology a node's settings call for and :func:`amqp_transport_for` the AMQP transport they describe; the
node, the topology commands and the catalogue all take them from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.errors import ConfigError
from hub.settings import Settings
from hub.transport.topology import (
    Topology,
    default_topology,
    with_feed,
    with_replicas,
    with_sinks,
    with_uplink,
    without_central,
)

if TYPE_CHECKING:
    from hub.transport.amqp import AmqpTransport
    from hub.transport.base import Transport
    from hub.transport.memory import MemoryTransport

__all__ = ["amqp_transport_for", "make_transport", "topology_for"]


def make_transport(url: str, topology: Topology, **options: Any) -> AmqpTransport | MemoryTransport:
    """A transport for ``url`` (``memory://``, ``amqp://``, ``amqps://``); ``options`` go to its class."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from hub.transport.memory import MemoryTransport

        return MemoryTransport(topology, **options)
    if scheme in ("amqp", "amqps"):
        from hub.transport.amqp import AmqpTransport

        return AmqpTransport(url, topology, **options)
    raise ConfigError("unsupported URL scheme (use amqp://, amqps:// or memory://)", key="broker_url")


def topology_for(settings: Settings) -> Topology:
    """The node's topology: the default one plus a queue per configured sink."""
    b = settings.broker
    base = default_topology(b.prefix, delivery_limit=b.delivery_limit)
    sinks = [(e.name, e.bindings) for e in settings.sinks if e.enabled]
    topology = with_sinks(base, sinks, delivery_limit=b.delivery_limit)
    if settings.uplink.enabled:
        topology = with_uplink(topology, delivery_limit=b.delivery_limit)
        if not settings.sink.enabled:
            topology = without_central(topology)
    if settings.feed.stream:
        topology = with_feed(topology, max_age=settings.feed.max_age)
    if b.replicas:
        topology = with_replicas(topology, b.replicas)
    return topology


def amqp_transport_for(settings: Settings, topology: Topology) -> Transport:
    """The AMQP transport of a node's ``[broker]`` settings, declaring ``topology`` when started."""
    from hub.transport.amqp import AmqpTransport

    b = settings.broker
    return AmqpTransport(
        b.url,
        topology,
        urls=b.urls,
        management_url=b.management_url,
        management_urls=b.management_urls,
        heartbeat=b.heartbeat_s,
        publish_timeout=b.publish_timeout_s,
        max_inflight=b.max_inflight,
        name=settings.node,
    )
