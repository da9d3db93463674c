"""The key registry: which public key speaks for which office, since when, until when; which broker user is
which office.

A JSON file (TOML is read too)::

    {"keys":  {"jabar-2026a": {"office": "32", "public_key": "<base64, 32 bytes>",
                               "not_before": "2026-01-01T00:00:00+00:00", "revoked_at": null}},
     "users": {"simpul-32": "32"}}

Rotation: an office may have several keys valid at once (sign with the new one, keep the old one until
its records have drained, then revoke it). Revocation: a record signed by a key at or after its
``revoked_at`` is refused. A thief could back-date the signing time, but every record older than the
replay window (``trust.max_age_s``) is refused anyway: from ``revoked_at`` + window on, nothing signed by
the key passes.

Every verifier re-reads the file when it changed, checking at most every ``reload_s`` seconds: a
revocation takes effect everywhere within ``reload_s`` (default 30 s) of the file being replaced. A file
that fails to parse keeps the previous registry in force (logged), so a bad edit cannot open the gates.

In ``dev_mode`` the development keys (``dev-<office>``, derived from a public seed) are known without a
file, so the demo and tests run with signatures on. Outside dev mode they are unknown.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.errors import ConfigError
from hub.trust.signing import DEV_KEY_PREFIX, KEY_ID, dev_private_key

log = structlog.get_logger(__name__)
OFFICE = re.compile(r"^(pusat|\d{2}(\.\d{2}){0,2}(\.\d{4})?)$")


def covers(outer: str, inner: str) -> bool:
    """True if office ``outer`` is ``inner`` or one of its ancestors (``pusat`` covers every region)."""
    return outer == "pusat" or inner == outer or inner.startswith(outer + ".")


class KeyModel(BaseModel):
    """One key as written in the registry file."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    office: str = Field(pattern=OFFICE.pattern, description="Kode wilayah of the office, or pusat")
    public_key: str = Field(description="Raw 32-byte Ed25519 public key, base64")
    not_before: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None

    @field_validator("public_key")
    @classmethod
    def _raw_key(cls, value: str) -> str:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be base64") from None
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return value


class RegistryModel(BaseModel):
    """The whole registry file."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    keys: dict[str, KeyModel] = Field(default_factory=dict)
    users: dict[str, str] = Field(default_factory=dict, description="Broker user -> office")

    @field_validator("keys")
    @classmethod
    def _key_ids(cls, value: dict[str, KeyModel]) -> dict[str, KeyModel]:
        for key_id in value:
            if not KEY_ID.match(key_id):
                raise ValueError("key ids are 1-64 letters, digits, dots, dashes or underscores")
        return value

    @field_validator("users")
    @classmethod
    def _offices(cls, value: dict[str, str]) -> dict[str, str]:
        for office in value.values():
            if not OFFICE.match(office):
                raise ValueError("a user's office is a kode wilayah or pusat")
        return value


@dataclass(frozen=True)
class KeyEntry:
    """A usable registry key."""

    key_id: str
    office: str
    public_key: Ed25519PublicKey
    not_before: datetime | None = None
    revoked_at: datetime | None = None


def read_registry(path: Path) -> RegistryModel:
    """Parse a registry file (JSON, or TOML by suffix); raises ``ConfigError`` naming what is wrong."""
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError("key registry file not found", key=str(path)) from None
    try:
        data: Any = tomllib.loads(text.decode()) if str(path).endswith(".toml") else orjson.loads(text)
    except (tomllib.TOMLDecodeError, orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"key registry is not readable ({type(exc).__name__})", key=str(path)) from None
    try:
        return RegistryModel.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)
        )
        raise ConfigError(problems, key=str(path)) from None


def write_registry(path: Path, registry: RegistryModel) -> None:
    """Replace the registry file atomically (JSON), so a verifier never reads half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(registry.model_dump(mode="json"), option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)


class KeyRegistry:
    """Looks up keys and broker users; re-reads its file when it changed (at most every ``reload_s``)."""

    def __init__(
        self,
        path: Path | None,
        *,
        dev_mode: bool = False,
        reload_s: float = 30.0,
        users: Mapping[str, str] | None = None,
        own_keys: Mapping[str, KeyEntry] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = Path(path) if path is not None else None
        self._dev_mode = dev_mode
        self._reload_s = reload_s
        self._extra_users = dict(users or {})  # e.g. the node's own login user -> its office
        self._own_keys = dict(own_keys or {})  # the node's own signing key, unless the file names it
        self._clock = clock
        self._keys: dict[str, KeyEntry] = {}
        self._users: dict[str, str] = dict(self._extra_users)
        self._stamp: tuple[int, int] | None = None
        self._checked = clock()
        if self._path is not None:
            self._load(read_registry(self._path))  # a bad file at start stops the node (ConfigError)
            self._stamp = self._file_stamp()

    def key(self, key_id: str) -> KeyEntry | None:
        """The key registered under ``key_id``, or a development key in dev mode, else None."""
        self._maybe_reload()
        entry = self._keys.get(key_id) or self._own_keys.get(key_id)
        if entry is None and self._dev_mode and key_id.startswith(DEV_KEY_PREFIX):
            office = key_id[len(DEV_KEY_PREFIX) :]
            if OFFICE.match(office):
                entry = KeyEntry(key_id, office, dev_private_key(office).public_key())
                self._keys[key_id] = entry
        return entry

    def office_of_user(self, user: str) -> str | None:
        """The office a broker user speaks for, or None if the user is not registered."""
        self._maybe_reload()
        return self._users.get(user)

    def reload(self) -> None:
        """Re-read the file now (the timed check calls this when the file changed)."""
        if self._path is None:
            return
        try:
            model = read_registry(self._path)
        except ConfigError as exc:
            log.error("key_registry_unreadable", path=str(self._path), error=str(exc))
            return
        self._load(model)
        self._stamp = self._file_stamp()
        log.info("key_registry_loaded", path=str(self._path), keys=len(model.keys), users=len(model.users))

    def _maybe_reload(self) -> None:
        now = self._clock()
        if self._path is None or now - self._checked < self._reload_s:
            return
        self._checked = now
        if self._file_stamp() != self._stamp:
            self.reload()

    def _file_stamp(self) -> tuple[int, int] | None:
        assert self._path is not None
        try:
            st = self._path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load(self, model: RegistryModel) -> None:
        keys = {}
        for key_id, k in model.keys.items():
            public = Ed25519PublicKey.from_public_bytes(base64.b64decode(k.public_key))
            keys[key_id] = KeyEntry(key_id, k.office, public, k.not_before, k.revoked_at)
        self._keys = keys
        self._users = {**model.users, **self._extra_users}
