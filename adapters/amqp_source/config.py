"""Configuration of the ``amqp_source``: the source system's own broker, where its records wait, how
they are batched, and where each record's identity sits in a message body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class AmqpSourceConfig(BaseModel):
    """Consume JSON records that an existing system publishes on its own RabbitMQ."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(
        description="amqp:// or amqps:// URL of the source system's broker, vhost included (holds a password)"
    )
    queue: str | None = Field(None, description="An existing queue to consume (not declared, only checked)")
    exchange: str | None = Field(
        None, description="An existing exchange to bind Simpul's own queue to (instead of queue)"
    )
    binding_keys: list[str] = Field(
        default_factory=lambda: ["#"], min_length=1, description="Binding keys on exchange"
    )
    own_queue: str | None = Field(
        None, description="Name of the queue declared in exchange mode; default simpul.<adapter name>"
    )
    own_queue_type: Literal["quorum", "classic"] = Field(
        "quorum", description="Type of the queue declared in exchange mode (durable either way)"
    )
    prefetch: int = Field(
        200, ge=1, le=10_000, description="Unacked upstream messages at most (memory bound)"
    )
    batch_messages: int = Field(100, ge=1, le=10_000, description="Messages per batch at most")
    batch_records: int = Field(2_000, ge=1, le=100_000, description="Stop adding messages beyond this")
    linger_ms: float = Field(50.0, ge=0, le=10_000, description="How long a partial batch waits for more")
    records_path: str | None = Field(
        None, description="Dotted path to the record, or array of records, in a body; none = the body"
    )
    id_path: str = Field(min_length=1, description="Dotted path of the source record id in a record")
    revision_path: str | None = Field(
        None,
        description="Dotted path of the revision: an integer, or an ISO date/time as epoch milliseconds",
    )
    payload_path: str | None = Field(
        None, description="Dotted path of the part handed to the mapping; none = the whole record"
    )
    op_path: str | None = Field(None, description="Dotted path of a field that can mark a withdrawal")
    withdraw_values: list[str] = Field(
        default_factory=lambda: ["withdraw", "delete", "deleted", "dihapus"],
        description="Values at op_path that mean the record was withdrawn",
    )
    heartbeat_s: int = Field(15, ge=5, le=60, description="AMQP heartbeat; notices a dead link fast")
    connect_timeout_s: float = Field(10.0, gt=0, le=120, description="Seconds for one connection attempt")

    @model_validator(mode="after")
    def _one_origin(self) -> AmqpSourceConfig:
        if (self.queue is None) == (self.exchange is None):
            raise ValueError("give exactly one of queue and exchange")
        if self.batch_messages > self.prefetch:
            raise ValueError("batch_messages cannot exceed prefetch (a batch could never fill)")
        if not self.url.get_secret_value().startswith(("amqp://", "amqps://")):
            raise ValueError("url must be an amqp:// or amqps:// URL")
        return self
