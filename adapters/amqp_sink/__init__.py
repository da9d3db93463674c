"""The ``amqp_sink``: forwards envelopes to an exchange on another broker or vhost with publisher confirms,
persistent, one message per envelope or batched; ``write`` returns after the confirms.

See ``adapters.amqp_sink.sink`` for message ids, the receiver's dedupe and the failure chain.
"""

from __future__ import annotations

from typing import Any

from adapters.amqp_sink.config import AmqpSinkConfig
from adapters.amqp_sink.sink import AmqpSink
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> AmqpSink:
    return AmqpSink(config, context)


PLUGIN = AdapterPlugin(
    name="amqp_sink",
    role="sink",
    summary="Forwards envelopes to another broker's exchange with publisher confirms",
    config_model=AmqpSinkConfig,
    factory=_make,
)

__all__ = ["PLUGIN", "AmqpSink", "AmqpSinkConfig"]
