"""Config of the ``postgres`` warehouse sink."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

IDENT = r"^[a-z_][a-z0-9_]{0,62}$"


class PostgresSinkConfig(BaseModel):
    """Where the central warehouse lives and how many connections it may use."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", min_length=1, description="PostgreSQL host")
    port: int = Field(5432, ge=1, le=65535, description="PostgreSQL port")
    user: str = Field(min_length=1, description="User; needs CREATE on the database for the first start")
    password: SecretStr = Field(SecretStr(""), description="Password (prefer the SIMPUL_ environment)")
    database: str = Field(min_length=1, description="Database name")
    db_schema: str = Field(
        "simpul", pattern=IDENT, description="Schema holding the records and applied_log tables"
    )
    pool_min: int = Field(1, ge=1, le=100, description="Connections kept open")
    pool_max: int = Field(4, ge=1, le=100, description="Connections at most (one per concurrent write)")
    connect_timeout_s: float = Field(10.0, gt=0, le=300, description="Connection timeout")
    command_timeout_s: float = Field(
        60.0, gt=0, le=3600, description="A statement slower than this fails the write"
    )
