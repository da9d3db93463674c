"""Configuration of the ``webhook_sink``: the receiver, the shared secret, batching and retries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class WebhookSinkConfig(BaseModel):
    """POST envelopes as signed JSON arrays to a receiver URL."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="Receiver URL the batches are POSTed to")
    secret: SecretStr = Field(description="Shared secret of the HMAC-SHA256 X-Signature (16+ characters)")
    batch_max_records: int = Field(100, ge=1, le=5_000, description="Envelopes per POST at most")
    timeout_s: float = Field(10.0, gt=0, le=300, description="Seconds one POST may take (connect to answer)")
    max_attempts: int = Field(
        5, ge=1, le=100, description="POST attempts per batch within one write before the write fails"
    )
    backoff_s: float = Field(0.5, gt=0, le=60, description="First pause between attempts (doubles, jittered)")
    backoff_cap_s: float = Field(30.0, gt=0, le=600, description="Longest pause between attempts")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers (e.g. an API key)")

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the shared secret must have at least 16 characters")
        return value
