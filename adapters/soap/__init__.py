"""The ``soap`` source: polls a SOAP 1.1/1.2 operation by date window (licensing services, BPS-coded
registers) and offers each returned record; the cursor is the end of the last fully confirmed window.

See ``adapters.soap.source`` for windows and cursor, ``adapters.soap.client`` for how faults and HTTP
errors are classified, ``adapters.soap.xml`` for what a parsed record looks like, and
``adapters.soap.simulator`` for a research-permit service to test against.
"""

from __future__ import annotations

from typing import Any

from adapters.soap.config import SoapSourceConfig
from adapters.soap.sample import read_sample
from adapters.soap.source import SoapSource
from hub.adapters.model import AdapterContext, AdapterPlugin


def _make(config: Any, context: AdapterContext) -> SoapSource:
    return SoapSource(config, context)


PLUGIN = AdapterPlugin(
    name="soap",
    role="source",
    summary="Polls a SOAP 1.1/1.2 operation by date window (e.g. a DPMPTSP research-permit service)",
    config_model=SoapSourceConfig,
    factory=_make,
    read_sample=read_sample,
)

__all__ = ["PLUGIN", "SoapSource", "SoapSourceConfig"]
