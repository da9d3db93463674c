"""Checking a node config given as TOML text, as ``simpul check-config`` does, with per-field problems.

Used by ``POST /v1/admin/config/validate``. The text is checked as written: the environment of the
process doing the check (``SIMPUL_*`` variables) is *not* applied, so a running node validating a config
for another node does not mix its own overrides in. Problems name keys and rules, never values (a config
holds passwords and keys).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from hub.errors import ConfigError
from hub.settings import Settings


class _AsWritten(Settings):
    """``Settings`` from the given values only: no ``SIMPUL_*`` environment variables."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class ConfigReport:
    """The outcome: ``problems`` (``{"loc", "message"}`` each) empty means valid; then ``summary`` says
    what the config describes."""

    problems: list[dict[str, str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.problems


def check_config_text(text: str) -> ConfigReport:
    """Parse and validate ``text``: TOML syntax, every setting, every adapter config and mapping."""
    if not text.strip():
        return ConfigReport([{"loc": "$", "message": "the config is empty; a node needs at least `node`"}])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return ConfigReport([{"loc": "$", "message": f"not valid TOML ({exc})"}])
    try:
        settings: Settings = _AsWritten(**data)
    except ValidationError as exc:
        return ConfigReport(
            [
                {"loc": ".".join(str(p) for p in err["loc"]) or "$", "message": err["msg"]}
                for err in exc.errors(include_input=False, include_url=False)
            ]
        )
    from hub.adapters.build import check_adapters

    try:
        check_adapters(settings.sources, settings.sinks)
    except ConfigError as exc:
        return ConfigReport([_problem_of(exc)])
    return ConfigReport(
        summary={
            "node": settings.node,
            "level": settings.level,
            "sources": [s.name for s in settings.sources],
            "sinks": [s.name for s in settings.sinks],
        }
    )


def _problem_of(exc: ConfigError) -> dict[str, str]:
    """An adapter problem: ``key: message`` split into its location and text where it has one."""
    text = str(exc)
    if exc.key is not None:
        return {"loc": exc.key, "message": text[len(exc.key) + 2 :]}
    loc, sep, message = text.partition(": ")
    return {"loc": loc, "message": message} if sep and " " not in loc else {"loc": "$", "message": text}
