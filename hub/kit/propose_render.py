"""The proposal of ``simpul mapping propose`` (``Proposal``) and its TOML: the adapter config, then the
mapping with a comment on every schema field. ``toml_key`` and ``toml_value`` serve the workbench too.

Imports ``hub.errors`` and ``hub.adapters.model`` only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from hub.adapters.model import SampleRead
from hub.errors import ConfigError


@dataclass
class Proposal:
    """The proposed ``[[sources]]`` block and, per schema field, how it was matched."""

    block: dict[str, Any]
    comments: dict[str, str]
    read: SampleRead
    text: str = ""


# --- TOML out, with a comment per field ------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise."""
    return key if _BARE.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    """One TOML value, inline (tables as inline tables; dates and times as TOML's own)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        raise ConfigError("TOML has no null")
    return json.dumps(str(value), ensure_ascii=False)


def render(proposal: Proposal) -> str:
    """The block as TOML: the adapter config, then the mapping with a comment on every schema field."""
    block, comments = proposal.block, proposal.comments
    mapping = block["mapping"]
    lines = [
        f"# Proposed by `simpul mapping propose` from a {block['kind']} sample: check every line, then put",
        "# this block into the node config and run `simpul check-config` and `simpul mapping test`.",
        "[[sources]]",
    ]
    lines += [f"{k} = {toml_value(block[k])}" for k in ("name", "kind", "schema", "system", "office")]
    lines += [
        "",
        "[sources.config]                      # `simpul adapters show "
        + block["kind"]
        + "` lists every key",
    ]
    for key, value in block["config"].items():
        if value is None:
            continue
        todo = "   # TODO" if isinstance(value, str) and "TODO" in value else ""
        lines.append(f"{toml_key(key)} = {toml_value(value)}{todo}")
    for note in proposal.read.notes:
        lines.append(f"# read: {note}")
    lines += ["", "[sources.mapping]"]
    for key in ("version", "id", "revision", "reported_at", "none_values", "drop", "ignore"):
        if key in mapping:
            comment = comments.get(f"${key}")
            lines.append(f"{key} = {toml_value(mapping[key])}" + (f"   # {comment}" if comment else ""))
        elif f"${key}" in comments:
            lines.append(f"# {key}: {comments[f'${key}']}")
    for rule in mapping.get("skip", []):
        comment = comments.get("$skip")
        lines += ["", "[[sources.mapping.skip]]" + (f"   # {comment}" if comment else "")]
        lines += [f"{key} = {toml_value(value)}" for key, value in rule.items()]
    lines += ["", "[sources.mapping.fields]"]
    fields = mapping["fields"]
    for path, comment in comments.items():
        if path.startswith("$"):
            continue
        if path in fields:
            lines.append(f"{toml_key(path)} = {toml_value(fields[path])}   # {comment}")
        else:
            lines.append(f"# {path}: {comment}")
    return "\n".join(lines) + "\n"
