"""The ``webhook_sink``: POSTs envelopes as signed JSON arrays (``X-Signature: sha256=<hmac>``,
``X-Simpul-Message-Id``) to a receiver, retrying 5xx/408/429/timeouts with back-off up to a limit; a
refusal (other 4xx) fails the write at once. After a failed write the broker redelivers the message and
the refused envelope alone is finally quarantined (``sink_refused``): see ``adapters.webhook_sink.sink``
for the whole chain and ``adapters.webhook_sink.simulator`` for a receiver to test against.
"""

from __future__ import annotations

from typing import Any

from adapters.webhook_sink.config import WebhookSinkConfig
from adapters.webhook_sink.sink import WebhookSink
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> WebhookSink:
    return WebhookSink(config, context)


PLUGIN = AdapterPlugin(
    name="webhook_sink",
    role="sink",
    summary="POSTs envelopes as signed JSON arrays to a receiver URL, with bounded retries",
    config_model=WebhookSinkConfig,
    factory=_make,
)

__all__ = ["PLUGIN", "WebhookSink", "WebhookSinkConfig"]
