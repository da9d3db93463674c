"""The way out: a batching consumer (``consumer``) hands deliveries to the sink worker
(``sink_worker``), which verifies, upcasts (``upcast``) and writes them through the sink seam (``sink``),
acking only after the sink committed. A sink that stores JSON is handed verified records as they
arrived (``checked``), with no envelope model built per record; what is refused is filed in quarantine
(``filing``).

May import ``hub.ingest`` (validation helpers) and every layer below it: quarantine, mapping, trust,
model, transport and the foundations. Sinks (adapters) implement ``hub.consume.sink.Sink``."""
