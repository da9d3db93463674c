"""The adapter sections of the node's settings: the source and sink adapter instances it runs
(``[[sources]]``, ``[[sinks]]``) and the central warehouse, its built-in sink (``[sink]``).

Imports pydantic and ``hub.settings.base`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from hub.settings.base import _Section


class SourceEntry(_Section):
    """One configured source adapter instance. ``config`` is checked against the adapter's own model."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="Instance name (logs, metrics)")
    kind: str = Field(min_length=1, description="Adapter name, as listed by `simpul adapters list`")
    schema_name: str = Field(alias="schema", description="Target payload schema")
    system: str = Field(min_length=1, max_length=100, description="Source system id")
    office: str = Field(description="Kode wilayah of the office that owns the source, or 'pusat'")
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict, description="Adapter-specific settings")
    mapping: dict[str, Any] | None = Field(None, description="Declarative mapping to the schema")


class SinkEntry(_Section):
    """One configured sink adapter instance, consuming its own queue bound to the ingest exchange."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="Instance name; its queue's suffix")
    kind: str = Field(min_length=1, description="Adapter name, as listed by `simpul adapters list`")
    bindings: list[str] = Field(
        default_factory=lambda: ["#"],
        min_length=1,
        description="Topic patterns selecting what this sink receives",
    )
    enabled: bool = True
    prefetch: int = Field(64, ge=1, le=10_000)
    batch_messages: int = Field(32, ge=1, le=10_000)
    config: dict[str, Any] = Field(default_factory=dict, description="Adapter-specific settings")


class SinkSettings(_Section):
    """The central warehouse (SQLite, the embedded default)."""

    enabled: bool = True
    sqlite_path: Path = Path("var/warehouse.sqlite3")
    prefetch: int = Field(64, ge=1, le=10_000, description="AMQP messages unacked at once")
    batch_messages: int = Field(32, ge=1, le=10_000, description="AMQP messages per commit at most")
    linger_ms: float = Field(
        0.0,
        ge=0,
        le=1000,
        description="How long a group waits for more messages while another group is in hand (0: group "
        "commit, a free slot takes what is waiting at once)",
    )
    concurrency: int = Field(
        1, ge=1, le=16, description="Groups written at once (2: the next is validated while one commits)"
    )
