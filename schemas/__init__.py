"""Shared, versioned schemas of Simpul: the envelope, the payloads, value types, region reference data,
and the domain rules every part reads the same way (``periods``: which period and status a payload
names).

Below the hub: imports nothing of ``hub`` but its exception tree, ``hub.errors`` (contract
``schemas-below-hub``)."""
