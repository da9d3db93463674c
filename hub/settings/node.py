"""The node's settings: ``SIMPUL_*`` environment variables over a TOML file over defaults, validated up front.

Nested keys use ``__`` in the environment (``SIMPUL_BROKER__URL``). ``load_settings`` raises
``ConfigError`` naming the bad key before anything starts.
"""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hub.errors import ConfigError
from hub.settings.feeds import CompletenessSettings, FeedApiSettings
from schemas.classification import Classification

# A fixed development key so the demo and tests run out of the box. A node refuses to start with it
# unless ``dev_mode`` is on: production keys come from the environment or a secrets file.
DEV_KEY = base64.b64encode(b"simpul-development-key-not-secret").decode()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BrokerSettings(_Section):
    """RabbitMQ connection and publishing limits.

    On a cluster, ``urls`` lists the other nodes' AMQP addresses (same user and vhost as ``url``) and
    ``management_urls`` their management APIs: the node connects to one address, and when that connection is
    lost reconnects to another (shuffled, with backoff). ``replicas`` sets how many nodes hold each quorum
    queue and stream when they are *created* (RabbitMQ refuses to re-declare an existing queue with another
    value, so it must stay the same for the life of the queues; grow an existing queue with
    ``rabbitmq-queues grow``).
    """

    url: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="AMQP URL, vhost included")
    urls: list[str] = Field(
        default_factory=list, description="More AMQP URLs of the same cluster (same user and vhost as url)"
    )
    management_url: str = Field("http://guest:guest@127.0.0.1:15672", description="Management API base URL")
    management_urls: list[str] = Field(
        default_factory=list, description="More management API base URLs of the same cluster"
    )
    replicas: int = Field(
        0,
        ge=0,
        le=9,
        description="Quorum queue / stream replicas at creation (x-quorum-initial-group-size, "
        "x-initial-cluster-size); 0 = the broker's default, which is every cluster node",
    )
    heartbeat_s: int = Field(15, ge=5, le=60, description="AMQP heartbeat; 10-20 s notices a dead peer fast")
    publish_timeout_s: float = Field(10.0, gt=0, le=120, description="Max wait for a publisher confirm")
    max_inflight: int = Field(256, ge=1, le=10_000, description="AMQP messages awaiting confirm at once")
    prefix: str = Field(
        "simpul", pattern=r"^[a-z][a-z0-9_-]{0,30}$", description="Exchange/queue name prefix"
    )
    delivery_limit: int = Field(10, ge=1, le=1000, description="Deliveries before a message is dead-lettered")

    @model_validator(mode="after")
    def _one_cluster(self) -> BrokerSettings:
        # Every address must log in as the same user on the same vhost: the user is stamped into each
        # message's user_id, and the topology lives in one vhost.
        def login(url: str) -> tuple[str | None, str]:
            parts = urlsplit(url)
            return parts.username, unquote(parts.path[1:]) or "/"

        if self.urls and any(login(u) != login(self.url) for u in self.urls):
            raise ValueError("every address in urls must use the same user and vhost as url")
        return self

    def all_urls(self) -> list[str]:
        """``url`` then ``urls``, without repeats."""
        return list(dict.fromkeys([self.url, *self.urls]))

    def all_management_urls(self) -> list[str]:
        """``management_url`` then ``management_urls``, without repeats."""
        return list(dict.fromkeys([self.management_url, *self.management_urls]))


class BatchSettings(_Section):
    """Several records with one routing key travel in one AMQP message; these bound the grouping."""

    max_records: int = Field(100, ge=1, le=5000, description="Records per AMQP message at most")
    max_bytes: int = Field(512 * 1024, ge=1024, le=900 * 1024, description="Body size per message at most")
    linger_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="How long a partial batch waits for company, only while earlier messages await confirms",
    )
    max_pending_records: int = Field(20_000, ge=1, description="Records accepted but not yet confirmed")


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


class UplinkSettings(_Section):
    """The link to the parent level (nodes below pusat). The hub verifies and forwards into ``upward``;
    crossing to the parent's broker is a RabbitMQ shovel that ``simpul topology render`` writes."""

    enabled: bool = Field(False, description="Forward verified records to the parent level")
    parent_uri: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/%2F",
        description="AMQP URI of the parent's broker with this office's user there (used by the shovel)",
    )
    parent_uris: list[str] = Field(
        default_factory=list,
        description="More AMQP URIs of the parent's cluster nodes; the shovel picks one per (re)connect",
    )
    parent_exchange: str = Field("simpul.ingest", description="Parent exchange the shovel publishes to")
    hold_classifications: list[Classification] = Field(
        default_factory=lambda: [Classification.SANGAT_RAHASIA],
        description="Records of these classifications are held at this level, not forwarded",
    )
    prefetch: int = Field(256, ge=1, le=10_000)
    batch_messages: int = Field(64, ge=1, le=10_000)


class FeedSettings(_Section):
    """The replayable feed (pusat): a RabbitMQ stream bound to the ingest exchange."""

    stream: bool = Field(False, description="Declare the stream <prefix>.feed")
    max_age: str = Field("365D", pattern=r"^[0-9]+[YMDhms]$", description="Stream retention, e.g. 365D")


class BrokerUser(_Section):
    """A broker user ``simpul topology render`` creates on this node's vhost, with least privilege by role.

    ``source``: an office publishing its records; ``shovel``: the user a child level's shovel logs in as.
    Both may only write to the ingest exchange, under routing keys of their office's region. ``hub``: the
    node's own user (everything under the prefix); ``consumer``: a ministry application reading the feed.
    Without ``password_hash`` the user must already exist and only gets its permissions.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$", description="Broker user name")
    office: str = Field(description="Kode wilayah of the office (dotted, e.g. 32.01) or 'pusat'")
    role: Literal["source", "shovel", "hub", "consumer"] = "source"
    password_hash: str | None = Field(
        None, description="rabbit_password_hashing_sha256, from `simpul topology hash-password`"
    )

    @field_validator("office")
    @classmethod
    def _office_exists(cls, value: str) -> str:
        if not office_exists(value):
            raise ValueError("must be 'pusat' or an existing dotted kode wilayah such as 32.01")
        return value

    @field_validator("password_hash")
    @classmethod
    def _hash_shape(cls, value: str | None) -> str | None:
        # 4 bytes of salt + a SHA-256 digest, base64: what RabbitMQ's sha256 hashing stores.
        if value is not None:
            try:
                raw = base64.b64decode(value, validate=True)
            except ValueError as exc:
                raise ValueError("must be base64 (use `simpul topology hash-password`)") from exc
            if len(raw) != 36:
                raise ValueError("must be a rabbit_password_hashing_sha256 hash (36 bytes)")
        return value


class Settings(BaseSettings):
    """All settings of one Simpul node."""

    model_config = SettingsConfigDict(env_prefix="SIMPUL_", env_nested_delimiter="__", extra="forbid")

    node: str = Field("pusat", pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", description="Node name in lineage")
    level: Literal["kecamatan", "kabkota", "provinsi", "pusat"] = "pusat"
    region: str | None = Field(
        None, description="Kode wilayah this node serves (e.g. 32.01); records outside it are refused"
    )
    dev_mode: bool = Field(False, description="Allows the built-in development keys")
    state_dir: Path = Field(Path("var"), description="Where SQLite state (quarantine, cursors) lives")
    token_key: str = Field(DEV_KEY, description="Base64 key for NIK tokens (HMAC-SHA256)")
    quarantine_key: str = Field(DEV_KEY, description="Base64 32-byte-able key sealing quarantined originals")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    shutdown_timeout_s: float = Field(15.0, gt=0, le=600)
    source_fatal_retry_s: float = Field(
        30.0, gt=0, le=3600, description="A source whose records the broker routes nowhere retries this often"
    )
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    sink: SinkSettings = Field(default_factory=SinkSettings)
    sources: list[SourceEntry] = Field(default_factory=list, description="Source adapter instances")
    sinks: list[SinkEntry] = Field(default_factory=list, description="Extra sink adapter instances")
    uplink: UplinkSettings = Field(default_factory=UplinkSettings)
    feed: FeedSettings = Field(default_factory=FeedSettings)
    feeds: FeedApiSettings = Field(default_factory=FeedApiSettings)
    completeness: CompletenessSettings = Field(default_factory=CompletenessSettings)
    broker_users: list[BrokerUser] = Field(
        default_factory=list, description="Broker users `simpul topology render` creates (offices, shovels)"
    )
    trust: TrustSettings = Field(default_factory=TrustSettings)
    quarantine_consumer: bool = Field(
        True,
        description="File entries from the broker's quarantine queue into this process's store; false for "
        "extra worker processes (simpul-worker@), so the node's one store holds its whole quarantine",
    )
    admin_tokens: dict[str, AdminToken] = Field(default_factory=dict, description="Admin API token -> holder")

    @field_validator("token_key", "quarantine_key")
    @classmethod
    def _key_is_base64(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise ValueError("must be base64") from exc
        if len(raw) < 16:
            raise ValueError("must decode to at least 16 bytes")
        return value

    @model_validator(mode="after")
    def _broker_users_fit(self) -> Settings:
        names = [u.name for u in self.broker_users]
        if len(names) != len(set(names)):
            raise ValueError("broker_users: duplicate user names")
        for user in self.broker_users:
            inside = (
                self.region is None or user.office == self.region or user.office.startswith(self.region + ".")
            )
            if user.role in ("source", "shovel") and not inside:
                raise ValueError(f"broker_users: {user.name}'s office lies outside the node's region")
            if user.role == "consumer" and not self.feed.stream:
                raise ValueError(f"broker_users: consumer {user.name} needs feed.stream = true")
        return self

    def key_bytes(self, name: Literal["token_key", "quarantine_key"]) -> bytes:
        """The decoded key; refuses the development key outside dev mode."""
        value = getattr(self, name)
        if value == DEV_KEY and not self.dev_mode:
            raise ConfigError("the development key may only be used with dev_mode = true", key=name)
        return base64.b64decode(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file (passed as init kwargs), so an operator can override one key.
        return (env_settings, init_settings)


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read ``path`` (TOML) if given, apply ``overrides`` and the environment, and validate everything.

    Raises ``ConfigError`` whose message names every bad key, e.g. ``broker.heartbeat_s: ...``.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError("config file not found", key=str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML ({exc})", key=str(path)) from exc
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors(include_input=False)
        )
        raise ConfigError(problems) from None
    wrong = _unknown_offices(settings)
    if wrong:
        raise ConfigError("; ".join(f"{where}: {_NOT_AN_OFFICE}" for where in wrong))
    return settings


_NOT_AN_OFFICE = "is not an existing kode wilayah (write it dotted, e.g. 32.01), nor 'pusat'"


def _unknown_offices(settings: Settings) -> list[str]:
    """Where ``settings`` name an office or region that is neither ``pusat`` nor an existing dotted kode
    wilayah: ``region``, ``sources[<name>].office``, ``http.api_keys[...].office`` (an API key is a
    secret: never named). ``broker_users`` check their own offices as they are read.

    Not a field validator: pydantic's error location would name the API key. ``simpul check-config``
    reports the same codes with their lines (``hub.admin.config_check``); this keeps a node from starting
    with them, where records would then be refused one by one as outside an office that does not exist."""
    written: list[tuple[str, str | None]] = [("region", settings.region)]
    written += [(f"sources[{s.name}].office", s.office) for s in settings.sources]
    written += [("http.api_keys[...].office", key.office) for key in settings.http.api_keys.values()]
    return [where for where, code in written if code is not None and not office_exists(code)]


def office_exists(code: str) -> bool:
    """Whether ``code`` names an office: ``pusat``, or an existing kode wilayah written dotted."""
    if code == "pusat":
        return True
    from schemas.regions import default_index

    region = default_index().get(code)
    return region is not None and region.code == code
