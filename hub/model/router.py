"""Routing keys: ``<schema>.v<major>.<kode wilayah words>``, e.g. ``conflict_incident.v1.32.01.05``.

A binding then selects by level or schema: ``*.*.32.#`` is everything from Jawa Barat,
``conflict_incident.v1.#`` one schema nationally. ``depth`` cuts the region words (2 = down to kab/kota)
so that more records share a key and travel together.
"""

from __future__ import annotations


def routing_key(schema_name: str, major: int, kode_wilayah: str, depth: int = 4) -> str:
    """The routing key of a record. ``kode_wilayah`` must be dotted and already validated."""
    words = kode_wilayah.split(".")[:depth]
    return f"{schema_name}.v{major}.{'.'.join(words)}"


def quarantine_key(schema_name: str | None, province: str | None) -> str:
    """The routing key of a quarantine entry: ``q.<schema|unknown>.<province|xx>``."""
    return f"q.{schema_name or 'unknown'}.{province or 'xx'}"


def binding_for_region(kode_wilayah: str) -> str:
    """The topic pattern that selects every schema from one region and everything below it."""
    return f"*.*.{kode_wilayah}.#"
