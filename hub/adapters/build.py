"""Building configured adapter instances: validate every config first, then construct.

``check_adapters`` validates without constructing anything (``simpul check-config``); errors name the
instance and the key, e.g. ``sources[sitimdu-bogor].config.page_size: ...``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from pydantic import BaseModel, ValidationError

from hub.adapters.model import AdapterContext, AdapterPlugin, Role, SinkAdapter, SourceAdapter
from hub.adapters.registry import get
from hub.adapters.state import StateStore
from hub.errors import ConfigError
from hub.metrics import Metrics
from hub.model.records import Mapper, passthrough
from hub.settings import SinkEntry, SourceEntry
from schemas.envelope import SourceIdentity

Entry = SourceEntry | SinkEntry


def _where(entry: Entry) -> str:
    return f"{'sources' if isinstance(entry, SourceEntry) else 'sinks'}[{entry.name}]"


def validate_config(entry: Entry) -> tuple[AdapterPlugin, BaseModel]:
    """The entry's plugin and its validated config; ``ConfigError`` naming every bad key."""
    role: Role = "source" if isinstance(entry, SourceEntry) else "sink"
    try:
        plugin = get(entry.kind)
    except ConfigError as exc:
        raise ConfigError(str(exc), key=f"{_where(entry)}.kind") from None
    if plugin.role != role:
        raise ConfigError(
            f"{entry.kind} is a {plugin.role} adapter, not a {role}", key=f"{_where(entry)}.kind"
        )
    try:
        config = plugin.config_model.model_validate(entry.config)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_where(entry)}.config.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise ConfigError(problems) from None
    return plugin, config


def mapper_for(entry: SourceEntry, state: StateStore | None = None) -> Mapper:
    """The entry's declarative mapping compiled, or ``passthrough`` when it has none. With ``state``,
    content-derived revisions are kept in the source's state (else in memory)."""
    if entry.mapping is None:
        return passthrough
    from hub.mapping import StateRevisions, compile_mapping

    try:
        revisions = StateRevisions(state, entry.name) if state is not None else None
        return compile_mapping(entry.mapping, revisions=revisions)
    except ConfigError as exc:
        raise ConfigError(str(exc), key=f"{_where(entry)}.mapping") from None


def check_adapters(sources: list[SourceEntry], sinks: list[SinkEntry]) -> None:
    """Validate every adapter's config (and every source's mapping); nothing is started."""
    for kind, entries in (("source", sources), ("sink", sinks)):
        names = [e.name for e in entries]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"{kind} names must be unique: {', '.join(duplicates)}", key=f"{kind}s")
    for source in sources:
        validate_config(source)
        mapper_for(source)
    for sink in sinks:
        validate_config(sink)


def instance_dir(state_dir: Path, name: str) -> Path:
    """The private folder of the adapter instance ``name`` under the node's ``state_dir``
    (``AdapterContext.state_dir``: where its relative paths resolve). Not created here."""
    return state_dir / "adapters" / name


def _context(
    entry: Entry,
    state: StateStore,
    state_dir: Path,
    metrics: Metrics,
    schema: str,
    identity: SourceIdentity,
    mapper: Mapper,
    ready: Callable[[], bool],
) -> AdapterContext:
    folder = instance_dir(state_dir, entry.name)
    folder.mkdir(parents=True, exist_ok=True)
    return AdapterContext(
        name=entry.name,
        schema=schema,
        identity=identity,
        state=state,
        state_dir=folder,
        metrics=metrics,
        mapper=mapper,
        ready=ready,
    )


def build_source(
    entry: SourceEntry,
    state: StateStore,
    state_dir: Path,
    metrics: Metrics,
    ready: Callable[[], bool] = lambda: True,
) -> tuple[SourceAdapter, Mapper]:
    """Construct one source adapter (its config already validated by ``check_adapters``)."""
    plugin, config = validate_config(entry)
    mapper = mapper_for(entry, state)
    identity = SourceIdentity(system=entry.system, office=entry.office, adapter=entry.name)
    context = _context(entry, state, state_dir, metrics, entry.schema_name, identity, mapper, ready)
    # The role was checked in validate_config, so this factory builds a source.
    return cast(SourceAdapter, plugin.factory(config, context)), mapper


def build_sink(
    entry: SinkEntry,
    state: StateStore,
    state_dir: Path,
    metrics: Metrics,
    node: str,
    ready: Callable[[], bool] = lambda: True,
) -> SinkAdapter:
    """Construct one sink adapter (its config already validated by ``check_adapters``)."""
    plugin, config = validate_config(entry)
    identity = SourceIdentity(system=node, office="pusat", adapter=entry.name)
    context = _context(entry, state, state_dir, metrics, "*", identity, passthrough, ready)
    return cast(SinkAdapter, plugin.factory(config, context))
