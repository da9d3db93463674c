"""The adapter framework: how source and sink adapters declare themselves (``model``), are found
(``registry``), built from config (``build``), run (``runner``, with their cursors in ``state``), and how
a warehouse sink offers to be read back (``warehouse``: the feed reader and trace contracts).

Adapter *implementations* live in the top-level ``adapters`` package or in a team's own package; they are
found through the entry-point group ``simpul.adapters`` (see ``hub.adapters.registry``), never imported
by the hub.

May import ``hub.consume``, ``hub.ingest`` and every layer below them (quarantine, mapping, trust, model,
transport, the foundations) and ``schemas``; not the features above (completeness, feeds, levels, admin,
kit, catalog, http, node, demo, cli)."""

from hub.adapters.model import (
    AdapterContext,
    AdapterPlugin,
    SinkAdapter,
    SourceAdapter,
    SourceBatch,
)

__all__ = ["AdapterContext", "AdapterPlugin", "SinkAdapter", "SourceAdapter", "SourceBatch"]
