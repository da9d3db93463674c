"""``simpul demo``: simulated regional systems of every kind feed one node through a real broker.

One module per job: ``main`` (the run), ``sources`` (what a demo source kind is), one module per kind
(``ingest``: offices over HTTP, with ``plan`` and ``offices``; ``rest``, ``webhook``, ``files``, ``sql``:
the real adapters against their simulators), ``expect`` (the ledgers), ``check`` (record by record),
``report`` (the summary) and ``progress`` (the progress line).
"""
