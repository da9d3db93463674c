"""Records that did not fit: the entry (``entry``), sealing of originals (``sealing``), filing an entry
on the quarantine exchange with a confirm (``filer``), the node's store (``store``) and the worker that
fills it from the quarantine queue (``worker``). Redrive, which sends an entry back through ingest, is an
operator action and lives in ``hub.admin.redrive``.

May import ``hub.mapping``, ``hub.trust``, ``hub.model``, ``hub.transport`` (its protocol) and the
foundations; nothing above."""
