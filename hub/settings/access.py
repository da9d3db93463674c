"""The access sections of the node's settings: the HTTP face (``[http]``: ingest admission, TLS and the
ingest API keys, ``ApiKey``), trust (``[trust]``: signatures, the key registry, identity checks, the
replay window, ingest rate limits) and the operators' admin API tokens (``AdminToken``).

Imports pydantic and ``hub.settings.base`` only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from hub.settings.base import _Section


class ApiKey(_Section):
    """What one ingest API key may do: which source system it speaks for and under which region."""

    system: str = Field(min_length=1, max_length=100)
    office: str = Field(description="Kode wilayah of the sending office; records must lie under it")
    schemas: list[str] = Field(default_factory=list, description="Allowed schema names; empty = all")


class HttpSettings(_Section):
    """The HTTP face: ingest, health and metrics."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="Larger bodies get 413")
    max_batch_records: int = Field(5000, ge=1, description="Records per request at most")
    # 8, measured: 552 regions sending 500-record batches finished sooner with 8 than with 32 (365.6 s vs
    # 559 s), without confirm timeouts or redeliveries, and with less memory (479 vs 753 MB peak RSS).
    max_concurrent_requests: int = Field(
        8, ge=1, le=10_000, description="Ingest requests handled at once; beyond it they wait (below)"
    )
    # Waiting requests hold a connection, not a body (read only once admitted; with Expect: 100-continue
    # not even sent): on election day waiting instead of 503 at once cut 503s and raised the rate
    # (hub/http/admission.py, docs/performance.md).
    max_waiting_requests: int = Field(
        1024, ge=0, le=100_000, description="Ingest requests waiting for a place; beyond it 503 at once"
    )
    # Under the 60 s that proxies and clients commonly allow a request; a wait that runs out costs the
    # client a Retry-After sleep and can leave places idle (election quick run: 20 s -> 131 x 503, 36.9 s;
    # 60 s -> none, 22.6 s).
    max_wait_s: float = Field(
        50.0, ge=0, le=300, description="How long a request waits for a place before 503 + Retry-After"
    )
    api_keys: dict[str, ApiKey] = Field(default_factory=dict, description="API key -> source identity")
    tls_cert: Path | None = Field(None, description="PEM certificate (chain): serve HTTPS instead of HTTP")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self


class TrustSettings(_Section):
    """Signatures, the key registry, identity checks, the replay window and ingest rate limits (hub.trust)."""

    signing_key_path: Path | None = Field(
        None,
        description="PEM Ed25519 private key of this node's office; dev mode derives a dev key without it",
    )
    key_id: str | None = Field(None, description="Key id of signing_key_path as registered, e.g. jabar-2026a")
    registry_path: Path | None = Field(
        None, description="Key registry (JSON): key id -> office, key, validity"
    )
    registry_reload_s: float = Field(30.0, gt=0, le=3600, description="Registry re-read check interval")
    require_signatures: bool | None = Field(
        None, description="Quarantine unsigned records at the consumer (default: on unless dev_mode)"
    )
    require_user: bool | None = Field(
        None, description="Quarantine deliveries without a validated user_id (default: on unless dev_mode)"
    )
    max_age_s: float = Field(
        14 * 86400.0, gt=0, description="Replay window: older signed records quarantined"
    )
    max_future_s: float = Field(300.0, ge=0, description="Clock skew tolerated for signing times")
    evidence: bool = Field(True, description="Keep the hash-chained evidence log of the central consumer")
    ingest_rate_per_s: float = Field(0.0, ge=0, description="Ingest requests per second per office; 0 = off")
    ingest_burst: int = Field(20, ge=1, description="Requests an office may send at once before the rate")
    max_nesting_depth: int = Field(32, ge=2, le=512, description="Deepest nesting of one ingest item")


class AdminToken(_Section):
    """An operator credential for the admin API: ``read`` may look, ``act`` may also change things."""

    name: str = Field(min_length=1, max_length=100, description="Who holds it (goes into the audit log)")
    role: Literal["read", "act"] = "read"
