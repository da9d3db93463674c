"""The levels demo's broker side: vhosts, the rendered uplink shovels (made, removed), queue depths."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from hub.demo.levels_plan import LevelNode
from hub.levels.render import render_definitions
from hub.settings import Settings
from hub.transport.management import ManagementClient


async def put_shovel(node: LevelNode, settings: Settings) -> None:
    """Create (or replace) the node's rendered uplink shovel through its management API."""
    async with ManagementClient(node.management) as api:
        for param in render_definitions(settings)["parameters"]:
            path = f"/parameters/shovel/{quote(node.vhost, safe='')}/{quote(param['name'], safe='')}"
            await api.request("PUT", path, json={"value": param["value"]})


async def delete_shovel(node: LevelNode, settings: Settings) -> None:
    """Remove the node's uplink shovel (the link is down; records wait in this node's broker)."""
    async with ManagementClient(node.management) as api:
        for param in render_definitions(settings)["parameters"]:
            path = f"/parameters/shovel/{quote(node.vhost, safe='')}/{quote(param['name'], safe='')}"
            await api.request("DELETE", path, ok_missing=True)


async def queue_depth(node: LevelNode, queue: str) -> int:
    async with ManagementClient(node.management) as api:
        info = await api.get_queue(node.vhost, queue)
    return int((info or {}).get("messages", 0) or 0)


async def fresh_vhosts(nodes: list[LevelNode]) -> None:
    """(Re)create each node's vhost on its broker, with guest allowed (the demo's and tests' user)."""
    for n in nodes:
        async with ManagementClient(n.management) as api:
            await api.wait_until_ready(timeout=30)
            await api.delete_vhost(n.vhost)
            await api.create_vhost(n.vhost, description="simpul levels (recreated by every run)")
            await api.set_permissions(n.vhost, "guest")


async def drop_vhosts(nodes: list[LevelNode]) -> None:
    """Delete each node's vhost (its shovels and queues go with it)."""
    for n in nodes:
        async with ManagementClient(n.management) as api:
            await api.delete_vhost(n.vhost)


def shovel_switch(node: LevelNode) -> tuple[Callable[[dict[str, Settings]], Awaitable[None]], ...]:
    """``cut`` and ``restore`` for ``node``'s uplink by removing and re-creating its shovel."""

    async def cut(settings: dict[str, Settings]) -> None:
        await delete_shovel(node, settings[node.name])

    async def restore(settings: dict[str, Settings]) -> None:
        await put_shovel(node, settings[node.name])

    return cut, restore
