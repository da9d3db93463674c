"""Transports: the seam between the hub and a message broker.

``base`` holds the protocol every transport implements; ``amqp`` (with ``amqp_delivery`` and
``amqp_stream``) is the RabbitMQ one, the only modules of the hub that import aio-pika, aiormq or pamqp;
``memory`` is an in-memory one with the same topic routing rules, for unit tests and adapter authors;
``topology``, ``policies`` and ``topic`` describe and check what is declared; ``factory`` builds the
transport and topology a node's settings ask for; ``management`` talks to the management API.

May import only the foundations (``hub.settings``, ``hub.errors``, ...) and ``schemas``: nothing of the
hub above it."""

from hub.transport.base import Delivery, Transport

__all__ = ["Delivery", "Transport"]
