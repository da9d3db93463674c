"""``simpul adapters list`` and ``simpul adapters show NAME``: installed adapters and their config reference,
generated from the plugins themselves (``hub.adapters.registry.discover``), so it cannot go stale."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from hub.adapters.registry import discover, get
from schemas.pii import nested_models


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in [header, *rows]
    ]


def list_lines() -> list[str]:
    """A table of every installed adapter: name, role, one-line summary."""
    plugins = discover()
    if not plugins:
        return ["no adapters installed (a package declares them under the `simpul.adapters` entry point)"]
    rows = [
        (p.name, p.role, p.summary.splitlines()[0]) for p in sorted(plugins.values(), key=lambda p: p.name)
    ]
    return _table(("adapter", "role", "summary"), rows)


def type_name(annotation: Any) -> str:
    """A short readable type: ``int``, ``list[str]``, ``Path | None``, ``Literal['a', 'b']``."""
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    text = str(annotation)
    for noise in ("typing.", "pathlib.", "collections.abc.", "datetime.", "decimal."):
        text = text.replace(noise, "")
    return text


_WIDE = 40  # a longer default is printed in full below the table, one item per line


def _default_value(info: Any) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return info.default


def _default(info: Any) -> str:
    if info.default_factory is None and info.default is PydanticUndefined:
        return "-"
    text = json.dumps(_default_value(info), default=str, ensure_ascii=False)
    return text if len(text) <= _WIDE else "(in full below)"


def _rows(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, str, str, str]]:
    for name, info in model.model_fields.items():
        required = "required" if info.is_required() else "optional"
        description = (info.description or "").strip() or "(no description)"
        yield prefix + name, type_name(info.annotation), _default(info), required, description
        for step, nested in nested_models(info.annotation):
            yield from _rows(nested, f"{prefix}{name}.{step + '.' if step else ''}")


def _long_defaults(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """``name = [`` then one item per line: the defaults too wide for the table, never cut short."""
    for name, info in model.model_fields.items():
        if _default(info) == "(in full below)":
            value = _default_value(info)
            items = value if isinstance(value, list) else [value]
            yield f"{prefix}{name} = ["
            yield from (f"    {json.dumps(item, default=str, ensure_ascii=False)}," for item in items)
            yield "]"
        for step, nested in nested_models(info.annotation):
            yield from _long_defaults(nested, f"{prefix}{name}.{step + '.' if step else ''}")


def show_lines(name: str) -> list[str]:
    """The adapter's summary and its config reference: field, type, default, required, description."""
    plugin = get(name)
    section = "sources" if plugin.role == "source" else "sinks"
    lines = [
        f"{plugin.name} ({plugin.role}): {plugin.summary}",
        f"config model: {plugin.config_model.__module__}.{plugin.config_model.__name__}",
        f'use: [[{section}]] kind = "{plugin.name}", settings in [{section}.config]',
        "",
    ]
    rows = list(_rows(plugin.config_model))
    if not rows:
        return [*lines, "(no settings)"]
    lines += _table(("field", "type", "default", "required", "description"), rows)
    long = list(_long_defaults(plugin.config_model))
    if long:
        lines += ["", "defaults in full (a TOML list to copy and extend):", *long]
    return lines
