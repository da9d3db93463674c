"""The fault suite's own RabbitMQ node (``ops/scripts/rabbit-node.sh``): ``simpul-faults@localhost``,
AMQP 5682, management 15682, data under /tmp, with the management and shovel plugins (the levels
scenarios run a kab/kota node's uplink shovel on it). Broker-level faults go here, never to the machine's
main broker. The fixtures ``own_broker`` and ``own_vhost`` are in ``conftest.py``."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "ops" / "scripts" / "rabbit-node.sh"
OWN_AMQP = os.environ.get("SIMPUL_FAULT_AMQP", "amqp://guest:guest@127.0.0.1:5682")
OWN_MGMT = os.environ.get("SIMPUL_FAULT_MGMT", "http://guest:guest@127.0.0.1:15682")
PLUGINS = "rabbitmq_management,rabbitmq_shovel,rabbitmq_shovel_management"


def rabbit(*args: str, timeout: float = 180) -> str:
    """Run ``rabbit-node.sh ARGS`` (our own node only); raises if it fails."""
    env = {"SIMPUL_RABBIT_PLUGINS": PLUGINS, **os.environ}
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert done.returncode == 0, f"rabbit-node.sh {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


async def arabbit(*args: str, timeout: float = 180) -> str:
    return await asyncio.to_thread(rabbit, *args, timeout=timeout)


def own_url(vhost: str) -> str:
    return f"{OWN_AMQP}/{quote(vhost, safe='')}"
