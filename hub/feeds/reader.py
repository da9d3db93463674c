"""Opening the warehouse the feeds and completeness read (``hub.adapters.warehouse`` has the contract).

``open_reader(settings)`` picks the warehouse named by ``[feeds] warehouse`` and asks its sink plugin,
found through the registry by name, for a reader (``AdapterPlugin.open_feed_reader``): the hub imports no
sink package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.adapters.build import instance_dir, validate_config
from hub.adapters.registry import get
from hub.adapters.warehouse import WarehouseReader
from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.settings import Settings

_KEY = "feeds.warehouse"


def open_reader(settings: Settings) -> WarehouseReader:
    """The reader of the warehouse ``[feeds] warehouse`` names: ``sqlite`` (the ``[sink]`` file, read by
    the ``sqlite`` plugin) or the name of a sink in ``[[sinks]]`` whose plugin offers a feed reader (its
    connection settings are reused). ``ConfigError`` on ``feeds.warehouse`` otherwise."""
    name = settings.feeds.warehouse
    if name == "sqlite":
        plugin = get("sqlite")
        path = settings.sink.sqlite_path
        config = plugin.config_model.model_validate({"path": path})
        state_dir = path.parent
    else:
        entry = next((s for s in settings.sinks if s.name == name), None)
        if entry is None:
            raise ConfigError("not 'sqlite' nor the name of a sink in [[sinks]]", key=_KEY)
        plugin, config = validate_config(entry)
        state_dir = instance_dir(settings.state_dir, entry.name)
    if plugin.open_feed_reader is None:
        raise ConfigError(f"the {plugin.name} sink keeps no warehouse the feeds can read", key=_KEY)
    return plugin.open_feed_reader(config, state_dir)
