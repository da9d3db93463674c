"""Adapters: the source and sink ends that connect regional systems and the central warehouse to the bus.

Each package declares a ``PLUGIN`` (``hub.adapters.model.AdapterPlugin``) named by an entry point of the
``simpul.adapters`` group; the hub finds it there and never imports an adapter package. An adapter may
import the hub from its adapter framework down (``hub.adapters``, ``hub.consume.sink``, ``hub.ingest``,
``hub.quarantine``, ``hub.mapping``, ``hub.model``, ``hub.transport``, the foundations) and ``schemas``;
not the hub's features or faces (contract ``adapters-below-features``). Adapter packages are independent
of each other, but for ``postgres_sink``, which shares ``sqlite_sink``'s row serialisation so both
warehouses agree on what "the same content" is."""
