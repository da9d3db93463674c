"""A 3-node RabbitMQ cluster of the tests' own, through ``ops/scripts/cluster.sh`` (never the main node).

``simpul-c<i>@localhost`` (i = 1..3) on AMQP 5750+i and management 15750+i, under /tmp/simpul-cluster. The
``cluster`` fixture (module scope) starts it from an empty folder and wipes it (kill -9 of its own nodes,
folder deleted) afterwards, also when a test fails. ``fresh_vhost`` gives a test a vhost of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from hub.transport.management import ManagementClient, ManagementError
from tests.netns_forward import Forwarder

SCRIPT = Path(__file__).resolve().parents[1] / "ops" / "scripts" / "cluster.sh"
BASE = 5750  # clear of the single test nodes (5682, 5692, 5702, 5712)


@dataclass(frozen=True)
class Cluster:
    """The test cluster: node ``i`` (1-based) listens on AMQP ``BASE+i`` and management ``10000+BASE+i``."""

    size: int = 3

    def run(self, *args: str, timeout: float = 300) -> str:
        """``cluster.sh ARGS``; raises ``AssertionError`` with its stderr if it fails."""
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=self.environment(),
        )
        assert done.returncode == 0, f"cluster.sh {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    def environment(self) -> dict[str, str]:
        """The environment ``cluster.sh`` runs with."""
        return dict(os.environ)

    async def arun(self, *args: str, timeout: float = 300) -> str:
        return await asyncio.to_thread(self.run, *args, timeout=timeout)

    async def node(self, i: int, *args: str, timeout: float = 300) -> str:
        """``rabbit-node.sh ARGS`` for node ``i`` (start, stop, kill, ctl ...)."""
        return await self.arun("node", str(i), *args, timeout=timeout)

    async def kill(self, i: int) -> float:
        """``kill -9`` of node ``i``'s beam from this process; returns ``time.monotonic()`` of the signal,
        after waiting until the process is gone."""
        pid = int((await self.node(i, "pid", timeout=30)).strip())
        at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.05)
        return at

    def indexes(self) -> range:
        return range(1, self.size + 1)

    def amqp_port(self, i: int) -> int:
        return BASE + i

    def amqp(self, i: int, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{BASE + i}/{quote(vhost, safe='')}"

    def management(self, i: int) -> str:
        return f"http://guest:guest@127.0.0.1:{10000 + BASE + i}"

    def urls(self, vhost: str) -> list[str]:
        return [self.amqp(i, vhost) for i in self.indexes()]

    def management_urls(self) -> list[str]:
        return [self.management(i) for i in self.indexes()]

    def index_of(self, address: str | None) -> int:
        """The node index of a ``host:port`` AMQP address (as ``AmqpTransport.connected_address`` gives)."""
        assert address is not None, "not connected"
        return int(address.rsplit(":", 1)[1]) - BASE

    def index_of_node(self, node_name: str) -> int:
        """``simpul-c2@localhost`` -> 2."""
        return int(node_name.split("@", 1)[0].removeprefix("simpul-c"))

    async def api(self, path: str, *, avoid: int | None = None) -> object:
        """GET ``/api<path>`` from the first node (other than ``avoid``) whose management API answers."""
        last: Exception | None = None
        for i in self.indexes():
            if i == avoid:
                continue
            try:
                async with ManagementClient(self.management(i)) as api:
                    return await api.request("GET", path)
            except ManagementError as exc:
                last = exc
        raise AssertionError(f"no management API answered: {last}")

    async def leader(self, vhost: str, queue: str, *, avoid: int | None = None) -> int:
        """The index of the node leading quorum queue ``queue`` now."""
        info = await self.api(f"/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}", avoid=avoid)
        assert isinstance(info, dict) and info.get("leader"), info
        return self.index_of_node(str(info["leader"]))

    async def members(self, vhost: str, queue: str) -> list[str]:
        info = await self.api(f"/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}")
        assert isinstance(info, dict), info
        return sorted(info.get("members") or [])

    async def running(self, i: int) -> bool:
        try:
            await self.node(i, "status", timeout=30)
        except AssertionError:
            return False
        return True

    async def heal(self) -> None:
        """Every node running, alarms off, and every node seeing all of them (after a scenario)."""
        for i in self.indexes():
            if not await self.running(i):
                await self.node(i, "start")
            await self.node(i, "ctl", "set_disk_free_limit", "50MB")
        await self.arun("start")  # waits until cluster_status shows every node running

    async def create_vhost(self) -> str:
        vhost = f"simpul-cl-{uuid.uuid4().hex[:10]}"
        async with ManagementClient(self.management(1)) as api:
            await api.create_vhost(vhost, description="simpul cluster tests")
            await api.set_permissions(vhost, "guest")
        return vhost

    @contextlib.asynccontextmanager
    async def vhost(self) -> AsyncIterator[str]:
        """A fresh vhost; afterwards every node runs again (``heal``) and the vhost is deleted."""
        vhost = await self.create_vhost()
        try:
            yield vhost
        finally:
            await self.heal()
            await self.delete_vhost(vhost)

    async def delete_vhost(self, vhost: str) -> None:
        for i in self.indexes():
            with contextlib.suppress(ManagementError):
                async with ManagementClient(self.management(i)) as api:
                    await api.delete_vhost(vhost)
                return


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A fresh 3-node cluster for this module; wiped afterwards whatever happened."""
    c = Cluster()
    c.run("wipe")
    try:
        c.run("start", str(c.size))
        yield c
    finally:
        c.run("wipe")


@pytest.fixture
async def fresh_vhost(cluster: Cluster) -> AsyncIterator[str]:
    """A vhost of the test's own on the cluster; every node running again afterwards."""
    async with cluster.vhost() as vhost:
        yield vhost


# -- the same cluster inside network namespaces (real partitions) ------------------------------------------

SUBNET = "10.231.0"


@dataclass
class Side:
    """Where a hub sits: forwarders from 127.0.0.1 into namespace ``simpul-n<home>``, to every node."""

    home: int
    forwarder: Forwarder
    amqp_ports: dict[int, int]
    mgmt_ports: dict[int, int]

    def amqp(self, i: int, vhost: str) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_ports[i]}/{quote(vhost, safe='')}"

    def management(self, i: int) -> str:
        return f"http://guest:guest@127.0.0.1:{self.mgmt_ports[i]}"

    def urls(self, vhost: str) -> list[str]:
        return [self.amqp(i, vhost) for i in sorted(self.amqp_ports)]

    def management_urls(self) -> list[str]:
        return [self.management(i) for i in sorted(self.mgmt_ports)]

    def index_of(self, address: str | None) -> int:
        assert address is not None, "not connected"
        port = int(address.rsplit(":", 1)[1])
        return next(i for i, p in self.amqp_ports.items() if p == port)


class NetnsCluster(Cluster):
    """The 3-node cluster with node i in namespace ``simpul-n<i>`` (``cluster.sh`` with
    ``SIMPUL_CLUSTER_NETNS=1``). The test process reaches it through :class:`Side` forwarders; the
    default side (for vhosts and the management API) sits next to node 1."""

    def __init__(self, size: int = 3) -> None:
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "sides", {})

    def environment(self) -> dict[str, str]:
        return {**os.environ, "SIMPUL_CLUSTER_NETNS": "1"}

    def side(self, home: int) -> Side:
        sides: dict[int, Side] = self.sides  # type: ignore[attr-defined]
        if home not in sides:
            forwarder = Forwarder(f"simpul-n{home}")
            sides[home] = Side(
                home,
                forwarder,
                {i: forwarder.forward(f"{SUBNET}.{i}", BASE + i) for i in self.indexes()},
                {i: forwarder.forward(f"{SUBNET}.{i}", 10000 + BASE + i) for i in self.indexes()},
            )
        return sides[home]

    def amqp(self, i: int, vhost: str) -> str:
        return self.side(1).amqp(i, vhost)

    def management(self, i: int) -> str:
        return self.side(1).management(i)

    def index_of(self, address: str | None) -> int:
        raise TypeError("use the Side the hub was given: side.index_of(address)")

    async def heal(self) -> None:
        for i in self.indexes():
            await self.arun("heal", str(i))
        await super().heal()

    def close(self) -> None:
        sides: dict[int, Side] = self.sides  # type: ignore[attr-defined]
        for side in sides.values():
            side.forwarder.close()
        sides.clear()


@pytest.fixture(scope="module")
def netns_cluster() -> Iterator[NetnsCluster]:
    """A fresh 3-node cluster in network namespaces of its own; nodes and namespaces removed afterwards."""
    c = NetnsCluster()
    c.run("wipe")
    c.run("netns", "down")
    try:
        c.run("netns", "up", str(c.size))
        c.run("start", str(c.size))
        yield c
    finally:
        c.close()
        c.run("wipe")
        c.run("netns", "down")


@pytest.fixture
async def netns_vhost(netns_cluster: NetnsCluster) -> AsyncIterator[str]:
    """A vhost of the test's own on the namespaced cluster; links healed and every node running after."""
    async with netns_cluster.vhost() as vhost:
        yield vhost
