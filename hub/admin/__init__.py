"""What operators act with and look at: the admin audit log (``audit``), redrive of quarantined records
(``redrive``), lineage of one record (``lineage``), the node's observer (``observer``), config checks
(``config_check``) and the client of the admin API that the CLI uses (``client``).

May import ``hub.completeness``, the adapter framework and every layer below it (consume, ingest,
quarantine, mapping, trust, model, transport, the foundations); not its siblings (feeds, levels, kit) nor
catalog, the HTTP face, the node or the CLI. (The observer reads the node through ``ObserverInputs``, the
narrow view the node hands it.)"""
