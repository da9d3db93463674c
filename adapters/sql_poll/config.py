"""Config of the ``sql_poll`` source: which database, which table or query, which columns drive the cursor."""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.mapping.timezones import parse_tz

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$")


class SqlPollConfig(BaseModel):
    """One polled table (or query) of a regional database."""

    model_config = ConfigDict(extra="forbid")

    engine: Literal["postgresql", "mysql"] = Field(description="Database engine (mysql also covers MariaDB)")
    host: str = Field("127.0.0.1", min_length=1, description="Database host")
    port: int | None = Field(
        None, ge=1, le=65535, description="Port; default 5432 (postgresql) or 3306 (mysql)"
    )
    user: str = Field(min_length=1, description="Database user (read-only rights are enough and advised)")
    password: SecretStr = Field(SecretStr(""), description="Password (prefer the SIMPUL_ environment)")
    database: str = Field(min_length=1, description="Database name")
    table: str | None = Field(None, description="Table to poll, optionally schema-qualified (schema.table)")
    query: str | None = Field(
        None,
        description="A SELECT to poll instead of a table (wrapped as a subquery; it must return the key and "
        "updated_at columns; with mysql write a literal % as %%)",
    )
    key_column: str = Field(
        description="Unique key column: the source record id and the cursor's tie-breaker"
    )
    updated_at_column: str = Field(description="Column stamped on every change (timestamp or datetime)")
    deleted_at_column: str | None = Field(
        None, description="Soft-delete column: a row where it is not NULL is sent as op=withdraw"
    )
    revision_column: str | None = Field(
        None,
        description="Integer version column; default: the change time (later of updated_at and deleted_at) "
        "in microseconds since the epoch",
    )
    source_timezone: str = Field(
        "WIB", description="Zone of the database's naive timestamps: WIB, WITA, WIT, +07:00 or an IANA name"
    )
    batch_size: int = Field(500, ge=1, le=10_000, description="Rows per page (one SourceBatch, one commit)")
    poll_interval_s: float = Field(10.0, gt=0, le=86_400, description="Pause after a poll that found nothing")
    settle_s: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="Rows changed within this many seconds of the database's clock wait for the next poll "
        "(a transaction committing late with an earlier stamp is not skipped)",
    )
    connect_timeout_s: float = Field(10.0, gt=0, le=300, description="Connection timeout")
    query_timeout_s: float = Field(
        60.0, gt=0, le=3600, description="A page query slower than this is retried"
    )
    stop_when_idle: bool = Field(
        False, description="End after a poll finds nothing new (one-shot runs, tests)"
    )

    @field_validator("key_column", "updated_at_column", "deleted_at_column", "revision_column")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and not _IDENT.match(value):
            raise ValueError("must be a plain column name (letters, digits, underscore)")
        return value

    @field_validator("table")
    @classmethod
    def _table(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE.match(value):
            raise ValueError("must be a plain table name, optionally schema.table")
        return value

    @field_validator("source_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if parse_tz(value) is None:
            raise ValueError("must name a zone (auto/office are mapping options, not a database's zone)")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SqlPollConfig:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.query is not None and not self.query.lstrip().lower().startswith(("select", "with")):
            raise ValueError("query must be a SELECT")
        return self

    @property
    def tz(self) -> tzinfo:
        """The source time zone."""
        zone = parse_tz(self.source_timezone)
        assert zone is not None  # checked by the validator
        return zone

    @property
    def effective_port(self) -> int:
        """The configured port or the engine's default."""
        return self.port or (5432 if self.engine == "postgresql" else 3306)
