"""``sqlite``: the central warehouse sink on SQLite: idempotent, revision-aware storage of applied
envelopes (``store``, ``schema``, ``rows``), its async face and plugin (``sink``), and how it is read back
(``reader``: the feeds' reader and the read-only trace of ``simpul lineage``)."""

from adapters.sqlite_sink.store import ApplyResult, SqliteWarehouse
from hub.consume.sink import ApplyStatus

__all__ = ["ApplyResult", "ApplyStatus", "SqliteWarehouse"]
