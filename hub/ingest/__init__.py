"""The way in: a record is validated and enveloped (``validation``), offered through the pipeline
(``pipeline``) and published with confirms in batches (``publisher``).

May import the foundations, ``hub.model``, ``hub.transport`` (its protocol), ``hub.trust``,
``hub.mapping`` and ``hub.quarantine`` (to file what does not fit). Nothing here imports a face (HTTP,
CLI, admin) or the node.
"""
