"""What operators act with and look at: the admin audit log (``audit``), redrive of quarantined records
(``redrive``), lineage of one record (``lineage``), the node's observer (``observer``), config checks
(``config_check``) and the client of the admin API that the CLI uses (``client``).

May import everything below the faces: foundations, model, transport, trust, mapping, quarantine, ingest,
consume and the adapter framework. Not the node, the HTTP face or the CLI.
"""
