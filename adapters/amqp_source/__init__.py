"""The ``amqp_source``: consumes JSON records an existing system already publishes on its own RabbitMQ
(its broker and vhost; an existing queue, or Simpul's own queue bound to the system's exchange) and
acks each upstream message only after Simpul's broker confirmed every record it carried.

See ``adapters.amqp_source.source`` (batches and acks), ``records`` (body -> records, identity paths),
``upstream`` (the broker consumer) and ``simulator`` (an early-warning app publishing to its broker); the
AMQP client code of both is ``hub.transport.amqp_foreign``.
"""

from __future__ import annotations

from typing import Any

from adapters.amqp_source.config import AmqpSourceConfig
from adapters.amqp_source.sample import read_sample
from adapters.amqp_source.source import AmqpSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> AmqpSource:
    return AmqpSource(config, context)


PLUGIN = AdapterPlugin(
    name="amqp_source",
    role="source",
    summary="Consumes JSON records from a source system's own RabbitMQ; acks upstream after confirm",
    config_model=AmqpSourceConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "AmqpSource", "AmqpSourceConfig"]
