"""Transports: the seam between the hub and a message broker.

``base`` holds the protocol every transport implements; ``amqp`` is the RabbitMQ one, with its parts
``amqp_publish`` (confirmed publishing), ``amqp_consume`` (supervised subscriptions), ``amqp_delivery``
(what a consumer holds), ``amqp_stream`` (stream reads), ``amqp_connection`` (cluster connections and the
link's state) and ``amqp_topology`` (policies and declarations on the broker); ``amqp_foreign`` consumes a
queue on (and publishes to) a broker Simpul does not own, for the ``amqp_source`` adapter: these are the
only modules of the hub, the schemas and the adapters that import aio-pika, aiormq or pamqp (contract
``amqp-client``);
``memory`` is an in-memory one with the same topic routing rules, for unit tests and adapter authors,
with its parts ``memory_state`` (plain data), ``memory_broker`` (routing, acks, dead-lettering) and
``memory_delivery`` (what a consumer holds);
``topology``, ``policies`` and ``topic`` describe and check what is declared; ``factory`` builds the
transport and topology a node's settings ask for; ``management`` talks to the management API.

May import only the foundations (``hub.settings``, ``hub.errors``, ...) and ``schemas``: nothing of the
hub above it."""

from hub.transport.base import Delivery, Transport

__all__ = ["Delivery", "Transport"]
