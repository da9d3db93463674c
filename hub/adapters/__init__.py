"""The adapter model: how source and sink adapters declare themselves and are run by the hub.

Adapter *implementations* live in the top-level ``adapters`` package or in a team's own package; they are
found through the entry-point group ``simpul.adapters`` (see ``hub.adapters.registry``).
"""

from hub.adapters.model import (
    AdapterContext,
    AdapterPlugin,
    SinkAdapter,
    SourceAdapter,
    SourceBatch,
)

__all__ = ["AdapterContext", "AdapterPlugin", "SinkAdapter", "SourceAdapter", "SourceBatch"]
