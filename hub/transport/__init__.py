"""Transports: the seam between the hub and a message broker.

``base`` holds the protocol every transport implements; ``amqp`` is the RabbitMQ one (the only module of
the hub that imports aio-pika); ``memory`` is an in-memory one with the same topic routing rules, for unit
tests and adapter authors.
"""

from hub.transport.base import Delivery, Transport

__all__ = ["Delivery", "Transport"]
