"""The central warehouse sink on SQLite: idempotent, revision-aware storage of applied envelopes."""

from adapters.sqlite_sink.store import ApplyResult, SqliteWarehouse
from hub.consume.sink import ApplyStatus

__all__ = ["ApplyResult", "ApplyStatus", "SqliteWarehouse"]
