"""Test doubles and the adapter contract kit, shipped with Simpul for its own tests and for adapter authors.

``fakes``: ``MemoryTransport`` re-exported, ``FakeSource``, ``FakeSink`` and their plugins. ``contract``
(with ``contract_support`` and ``contract_source``): ``check_source_contract``, ``check_sink_contract``
and ``example_envelopes``. The top layer: may import anything in ``hub`` (a contract check runs a whole
node in memory); nothing in ``hub`` imports it.
"""
