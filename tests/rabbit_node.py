"""A RabbitMQ node of a test's own, through ``ops/scripts/rabbit-node.sh`` (never the machine's main node).

Each test module that needs a broker it may kill, reconfigure or fill with users gets one with its own name,
ports and folder; ``run("start")`` starts it, ``run("wipe")`` kills it and deletes its folder.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "ops" / "scripts" / "rabbit-node.sh"
SHOVEL_PLUGINS = ("rabbitmq_management", "rabbitmq_shovel", "rabbitmq_shovel_management")


@dataclass(frozen=True)
class BrokerNode:
    """One test broker node: ``simpul-<name>@localhost`` on the given AMQP, management and Erlang ports."""

    name: str
    amqp_port: int
    mgmt_port: int
    dist_port: int
    plugins: tuple[str, ...] = ("rabbitmq_management",)
    extra_conf: Path | None = None

    @property
    def folder(self) -> Path:
        return Path(f"/tmp/simpul-rabbit-simpul-{self.name}")

    @property
    def amqp(self) -> str:
        """``amqp://guest:guest@127.0.0.1:<port>`` (no vhost)."""
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}"

    @property
    def management(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.mgmt_port}"

    def run(self, *args: str, timeout: float = 240) -> str:
        """``rabbit-node.sh ARGS`` for this node; raises ``AssertionError`` with its stderr if it fails."""
        env = os.environ | {
            "SIMPUL_RABBIT_NAME": f"simpul-{self.name}",
            "SIMPUL_RABBIT_AMQP_PORT": str(self.amqp_port),
            "SIMPUL_RABBIT_MGMT_PORT": str(self.mgmt_port),
            "SIMPUL_RABBIT_DIST_PORT": str(self.dist_port),
            "SIMPUL_RABBIT_DIR": str(self.folder),
            "SIMPUL_RABBIT_PLUGINS": ",".join(self.plugins),
        }
        if self.extra_conf is not None:
            env["SIMPUL_RABBIT_EXTRA_CONF"] = str(self.extra_conf)
        done = subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"rabbit-node.sh {' '.join(args)} ({self.name}): {done.stderr[-2000:]}"
        return done.stdout
