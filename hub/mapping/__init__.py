"""Declarative mappings from a source's raw records to a payload schema (being built with the adapter kit)."""

from __future__ import annotations

from typing import Any

from hub.errors import ConfigError
from hub.records import Mapper


def compile_mapping(spec: dict[str, Any]) -> Mapper:
    """Compile a mapping spec into a ``Mapper``; ``ConfigError`` names the bad key."""
    raise ConfigError("declarative mappings are not available in this build yet")
