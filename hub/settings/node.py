"""The node's settings: ``SIMPUL_*`` environment variables over a TOML file over defaults, validated up front.

Nested keys use ``__`` in the environment (``SIMPUL_BROKER__URL``). ``load_settings`` raises
``ConfigError`` naming the bad key before anything starts.

This module: ``Settings`` (the whole node, its sections by name) and ``load_settings``. The sections live
by area: ``hub.settings.broker``, ``hub.settings.access``, ``hub.settings.adapters`` and
``hub.settings.feeds``; ``hub.settings.base`` holds their base and ``office_exists``. Imports
``hub.errors``, pydantic(-settings) and the settings modules only.
"""

from __future__ import annotations

import base64
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hub.errors import ConfigError
from hub.settings.access import AdminToken, HttpSettings, TrustSettings
from hub.settings.adapters import SinkEntry, SinkSettings, SourceEntry
from hub.settings.base import office_exists
from hub.settings.broker import BatchSettings, BrokerSettings, BrokerUser, FeedSettings, UplinkSettings
from hub.settings.feeds import CompletenessSettings, FeedApiSettings

# A fixed development key so the demo and tests run out of the box. A node refuses to start with it
# unless ``dev_mode`` is on: production keys come from the environment or a secrets file.
DEV_KEY = base64.b64encode(b"simpul-development-key-not-secret").decode()


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
