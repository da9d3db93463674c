"""Configuration of the ``amqp_sink``: where envelopes are forwarded and how they are packed."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class AmqpSinkConfig(BaseModel):
    """Forward envelopes to an exchange on another broker or vhost, with publisher confirms."""

    model_config = ConfigDict(extra="forbid")

    url: SecretStr = Field(description="amqp:// or amqps:// URL of the receiving broker, vhost included")
    exchange: str = Field(min_length=1, description="Exchange the envelopes are published to")
    routing_key: str | None = Field(
        None,
        description="Fixed routing key; none = the envelope's own key, <schema>.v<major>.<kode wilayah>",
    )
    mode: Literal["per_envelope", "batched"] = Field(
        "per_envelope",
        description="One message per envelope (message id = the envelope's), or several envelopes with one "
        "routing key per message",
    )
    batch_max_records: int = Field(100, ge=1, le=5_000, description="Envelopes per message in batched mode")
    batch_max_bytes: int = Field(512 * 1024, ge=1024, le=16 * 1024 * 1024, description="Body size cap")
    declare_exchange: bool = Field(
        False, description="Declare the exchange (durable) instead of expecting the receiver to own it"
    )
    exchange_type: Literal["topic", "direct", "fanout", "headers"] = Field(
        "topic", description="Exchange type when declare_exchange is set"
    )
    publish_timeout_s: float = Field(10.0, gt=0, le=120, description="Max wait for one publisher confirm")
    heartbeat_s: int = Field(15, ge=5, le=60, description="AMQP heartbeat; notices a dead link fast")
    max_attempts: int = Field(
        5, ge=1, le=100, description="Publish attempts within one write before it fails (and is redelivered)"
    )
    backoff_s: float = Field(0.5, gt=0, le=60, description="First pause between attempts (doubles, jittered)")
    backoff_cap_s: float = Field(15.0, gt=0, le=600, description="Longest pause between attempts")

    @model_validator(mode="after")
    def _amqp_url(self) -> AmqpSinkConfig:
        if not self.url.get_secret_value().startswith(("amqp://", "amqps://")):
            raise ValueError("url must be an amqp:// or amqps:// URL")
        return self
