"""A node config from a TOML or YAML file, validated like ``simpul run`` validates it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.errors import ConfigError
from hub.settings import Settings, SourceEntry, load_settings


def load_config(path: Path) -> Settings:
    """The settings in ``path`` (``.yaml``/``.yml`` as YAML, anything else as TOML)."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return load_settings(path)
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("config file not found", key=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({type(exc).__name__})", key=str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("a config file holds a mapping of settings", key=str(path))
    return load_settings(None, **data)


def source_entry(settings: Settings, name: str) -> SourceEntry:
    """The source entry called ``name``; ``ConfigError`` listing the configured ones otherwise."""
    for entry in settings.sources:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in settings.sources) or "none"
    raise ConfigError(f"no source named {name!r} in the config (sources: {known})", key="--adapter")
