"""The ministry's feeds at the central node: a warehouse reader with stable cursor paging, the HTTP feed
API (JSON, NDJSON, server-sent events) with per-consumer scopes and redaction, and replay from the
RabbitMQ stream (``hub.feeds.replay``)."""
