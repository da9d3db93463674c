"""Finding adapters: the entry-point group ``simpul.adapters`` (installed packages) plus registrations.

A regional team publishes ``[project.entry-points."simpul.adapters"] my_source = "my_pkg:PLUGIN"`` and
``pip install``s the package; ``simpul adapters list`` then shows it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from hub.adapters.model import AdapterPlugin
from hub.errors import ConfigError

GROUP = "simpul.adapters"
_registered: dict[str, AdapterPlugin] = {}


def register(plugin: AdapterPlugin) -> None:
    """Register a plugin in this process (tests, notebooks); an installed entry point is the usual way."""
    _registered[plugin.name] = plugin


def discover() -> dict[str, AdapterPlugin]:
    """Every known plugin by name. A broken entry point is an error naming it, not a silent skip."""
    plugins: dict[str, AdapterPlugin] = {}
    for ep in entry_points(group=GROUP):
        try:
            plugin = ep.load()
        except Exception as exc:
            raise ConfigError(
                f"adapter entry point {ep.value!r} cannot be loaded: {exc}", key=ep.name
            ) from exc
        if not isinstance(plugin, AdapterPlugin):
            raise ConfigError(f"entry point {ep.value!r} is not an AdapterPlugin", key=ep.name)
        plugins[plugin.name] = plugin
    plugins.update(_registered)
    return plugins


def get(name: str) -> AdapterPlugin:
    """The plugin called ``name``; ``ConfigError`` listing the known ones otherwise."""
    plugins = discover()
    try:
        return plugins[name]
    except KeyError:
        known = ", ".join(sorted(plugins)) or "none"
        raise ConfigError(f"no adapter named {name!r} (installed: {known})", key="kind") from None
