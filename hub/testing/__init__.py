"""Test doubles and the adapter contract kit, shipped with Simpul for its own tests and for adapter authors.

``fakes``: ``MemoryTransport`` re-exported, ``FakeSource``, ``FakeSink`` and their plugins. ``contract``:
``check_source_contract``, ``check_sink_contract`` and ``example_envelopes``. May import anything in ``hub``
(a contract check runs a whole node in memory); nothing in ``hub`` imports it.
"""
