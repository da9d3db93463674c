"""``webhook``: a source that receives signed pushes (e.g. an early-warning app) on its own HTTP port.

Every push is verified (HMAC-SHA256 over the raw body), deduplicated by event id, and answered 202 only
after the broker confirmed its record; under backpressure or while the broker is away it answers 503 with
Retry-After. ``simulator`` is a sender that signs and retries like the early-warning app (its events fit
the example mapping ``ops/examples/sidini_early_warning.toml``).
"""

from __future__ import annotations

from typing import Any

from adapters.webhook.config import WebhookConfig
from adapters.webhook.sample import read_sample
from adapters.webhook.source import WebhookSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> WebhookSource:
    return WebhookSource(config, context)


PLUGIN = AdapterPlugin(
    name="webhook",
    role="source",
    summary="Receives HMAC-signed pushes; answers 202 only after the broker confirmed",
    config_model=WebhookConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "WebhookConfig", "WebhookSource"]
