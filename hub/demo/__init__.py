"""``simpul demo``: simulated regional systems of every kind feed one node through a real broker.

One module per job: ``main`` (the run), ``sources`` (what a demo source kind is), one module per kind
(``ingest``: offices over HTTP, with ``plan`` and ``offices``; ``rest``, ``webhook``, ``files``, ``sql``:
the real adapters, configured by name, against their simulators), ``levels`` (three levels joined by
shovels), ``expect`` (the ledgers), ``check`` (record by record), ``report`` (the summary) and
``progress`` (the progress line).

May import the node and everything below it. Of the adapter packages it imports only the simulators
they ship (the far side of the wire: a contract exception, listed in pyproject.toml); the adapters
themselves come through the registry and the warehouse through the node's sink."""
