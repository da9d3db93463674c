"""Building configured adapter instances: validate every config first, then construct.

``check_sources`` validates without constructing anything (``simpul check-config``); errors name the
instance and the key, e.g. ``sources[sitimdu-bogor].config.page_size: ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from pydantic import BaseModel, ValidationError

from hub.adapters.model import AdapterContext, AdapterPlugin, SourceAdapter
from hub.adapters.registry import get
from hub.errors import ConfigError
from hub.metrics import Metrics
from hub.records import Mapper, passthrough
from hub.settings import SourceEntry
from hub.state import StateStore
from schemas.envelope import SourceIdentity


def _where(entry: SourceEntry) -> str:
    return f"sources[{entry.name}]"


def validate_config(entry: SourceEntry) -> tuple[AdapterPlugin, BaseModel]:
    """The entry's plugin and its validated config; ``ConfigError`` naming every bad key."""
    try:
        plugin = get(entry.kind)
    except ConfigError as exc:
        raise ConfigError(str(exc), key=f"{_where(entry)}.kind") from None
    if plugin.role != "source":
        raise ConfigError(f"{entry.kind} is a {plugin.role} adapter", key=f"{_where(entry)}.kind")
    try:
        config = plugin.config_model.model_validate(entry.config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(entry)}.config.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise ConfigError(problems) from None
    return plugin, config


def mapper_for(entry: SourceEntry) -> Mapper:
    """The entry's declarative mapping compiled, or ``passthrough`` when it has none."""
    if entry.mapping is None:
        return passthrough
    from hub.mapping import compile_mapping

    try:
        return compile_mapping(entry.mapping)
    except ConfigError as exc:
        raise ConfigError(str(exc), key=f"{_where(entry)}.mapping") from None


def check_sources(entries: list[SourceEntry]) -> None:
    """Validate every source's config and mapping; nothing is started."""
    names = [e.name for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"source names must be unique: {', '.join(duplicates)}", key="sources")
    for entry in entries:
        validate_config(entry)
        mapper_for(entry)


def build_source(
    entry: SourceEntry, state: StateStore, state_dir: Path, metrics: Metrics
) -> tuple[SourceAdapter, Mapper]:
    """Construct one source adapter (its config already validated by ``check_sources``)."""
    plugin, config = validate_config(entry)
    mapper = mapper_for(entry)
    folder = state_dir / "adapters" / entry.name
    folder.mkdir(parents=True, exist_ok=True)
    context = AdapterContext(
        name=entry.name,
        schema=entry.schema_name,
        identity=SourceIdentity(system=entry.system, office=entry.office, adapter=entry.name),
        state=state,
        state_dir=folder,
        metrics=metrics,
        mapper=mapper,
    )
    # The role was checked above, so this factory builds a source.
    return cast(SourceAdapter, plugin.factory(config, context)), mapper
