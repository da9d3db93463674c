"""Functions the mapping tests name through the python escape hatch (``tests.unit.mapping.funcs:...``)."""

from __future__ import annotations

from typing import Any

from hub.errors import FieldIssue, MappingError


def victims(value: Any, raw: dict[str, Any]) -> int:
    """Dead plus injured, from two columns."""
    return int(raw["korban_md"]) + int(raw["korban_luka"])


def shout(value: Any, raw: dict[str, Any]) -> Any:
    """The value upper-cased (a custom transform after the rule's own steps)."""
    return value.upper() if isinstance(value, str) else value


def explode(value: Any, raw: dict[str, Any]) -> Any:
    """Fails with a message that contains the value (the mapping must not pass it on)."""
    raise ValueError(f"cannot handle {value}")


def refuse(value: Any, raw: dict[str, Any]) -> Any:
    """Reports its own value-free issue."""
    raise MappingError("bad", issues=[FieldIssue("", "custom_rule", "the custom check failed")])


def add_skala(payload: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Post-processing: a scale from the victim count."""
    payload["skala"] = "kabupaten_kota" if payload.get("korban", {}).get("luka", 0) > 10 else "lokal"
    return payload


not_callable = 42
