"""Config of the ``webhook`` source: where it listens, how pushes are verified, and its limits."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from hub.errors import FatalError


class WebhookConfig(BaseModel):
    """A self-contained receiver: its own aiohttp server on ``host:port`` (port 0 = any free port).

    The shared secret is given literally (``secret``) or by environment variable name (``secret_env``),
    exactly one of them.
    """

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0 for every interface)")
    port: int = Field(0, ge=0, le=65535, description="Port to listen on; 0 picks a free one (see .port)")
    path: str = Field("/webhook", pattern=r"^/[A-Za-z0-9/_.-]*$", description="Route that takes POSTs")
    secret: SecretStr | None = Field(None, description="Shared HMAC-SHA256 secret (prefer secret_env)")
    secret_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Environment variable holding the secret"
    )
    signature_header: str = Field("X-Signature", description="Header with sha256=<hex HMAC of the raw body>")
    event_id_header: str = Field("X-Event-Id", description="Header with the sender's event id")
    event_id_path: str | None = Field(
        "event_id", description="Dotted body path of the event id, used when the header is absent"
    )
    record_id_path: str | None = Field(
        None, description="Dotted body path of the record id; null = the event id is the record id"
    )
    revision_path: str | None = Field(
        None, description="Dotted body path of a time or number giving the revision; null = revision 0"
    )
    source_utc_offset: str = Field(
        "+07:00", pattern=r"^[+-]\d{2}:\d{2}$", description="Offset for revision times without one"
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Larger: 413")
    max_pending: int = Field(
        256, ge=1, le=100_000, description="Requests waiting for their confirm at once; beyond: 503"
    )
    coalesce_max: int = Field(
        32, ge=1, le=5000, description="Waiting requests carried in one batch (1 = a batch per request)"
    )
    confirm_timeout_s: float = Field(
        10.0, gt=0, le=300, description="Longest wait for the broker's confirm before answering 503"
    )
    retry_after_s: int = Field(5, ge=1, le=3600, description="Retry-After sent with every 503")

    @model_validator(mode="after")
    def _one_secret(self) -> WebhookConfig:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("give exactly one of secret or secret_env")
        return self

    def secret_bytes(self) -> bytes:
        """The secret; ``FatalError`` naming the variable (never its value) when it is unset or empty."""
        if self.secret is not None:
            return self.secret.get_secret_value().encode()
        assert self.secret_env is not None
        value = os.environ.get(self.secret_env, "")
        if not value:
            raise FatalError(f"environment variable {self.secret_env} (the webhook secret) is not set")
        return value.encode()
