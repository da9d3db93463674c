"""The hub's HTTP face: record ingest (``ingest``), the admin API (``admin``), the status page
(``status_page``) and the application that mounts them with health, metrics, the catalogue and the
feeds (``app``). The JSON answer and error shape is the foundation ``hub.responses``.

May import ``hub.catalog`` and every layer below it; not the node, the demo or the CLI."""
