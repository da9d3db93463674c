"""The ministry's feeds at the central node: the HTTP feed API (``http``, ``face``; JSON, NDJSON,
server-sent events) with per-consumer scopes and redaction (``access``), stable cursor paging (``pager``)
over the warehouse the settings name (``reader``, through its sink plugin), its OpenAPI part (``openapi``)
and replay from the RabbitMQ stream (``replay``, ``replay_jobs``).

May import ``hub.completeness``, the adapter framework and every layer below it; not its siblings
(levels, admin, kit) nor catalog, the HTTP face, the node or the CLI."""
