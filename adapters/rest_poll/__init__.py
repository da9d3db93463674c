"""``rest_poll``: a source that polls a regional system's JSON REST API (e.g. a legacy PHP conflict app).

Pages become batches; an ``updated_since`` cursor (with tie-breaking on the record id) advances only after
the broker confirmed a page. Retries with back-off and jitter, a rate limit and timeouts protect both
sides; refused credentials stop the adapter. ``simulator`` imitates such an API for tests and the demo
(its records fit the example mapping ``ops/examples/sitimdu_conflict.toml``).
"""

from __future__ import annotations

from typing import Any

from adapters.rest_poll.config import RestPollConfig
from adapters.rest_poll.sample import read_sample
from adapters.rest_poll.source import RestPollSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> RestPollSource:
    return RestPollSource(config, context)


PLUGIN = AdapterPlugin(
    name="rest_poll",
    role="source",
    summary="Polls a JSON REST API page by page with an updated_since cursor",
    config_model=RestPollConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "RestPollConfig", "RestPollSource"]
