"""The way out: a batching consumer (``consumer``) hands deliveries to the sink worker
(``sink_worker``), which verifies, upcasts (``upcast``) and writes them through the sink seam (``sink``),
acking only after the sink committed.

May import the foundations, ``hub.model``, ``hub.transport`` (its protocol), ``hub.trust``,
``hub.ingest.validation`` and ``hub.quarantine``. Sinks (adapters) implement ``hub.consume.sink.Sink``.
"""
