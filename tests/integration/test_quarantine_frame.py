"""A quarantined original larger than the broker's max_message_size (1 MiB, as ops/rabbitmq/rabbitmq.conf
sets it) is still quarantined: on a RabbitMQ node of our own with that limit, a 2 MiB record sent in
quarantine mode is accepted (202) and filed with the head of its original, where a raw 1.2 MiB message
is refused by the same broker."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from hub.node import Node
from tests.helpers import item, node_settings, until
from tests.unit.test_http_ingest import post

pytestmark = [pytest.mark.broker]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "scripts" / "rabbit-node.sh"
AMQP_PORT, MGMT_PORT, DIST_PORT = 5697, 15697, 25697
ONE_MIB = 1024 * 1024


def rabbit(*args: str) -> str:
    env = os.environ | {
        "SIMPUL_RABBIT_NAME": "simpul-qframe",
        "SIMPUL_RABBIT_AMQP_PORT": str(AMQP_PORT),
        "SIMPUL_RABBIT_MGMT_PORT": str(MGMT_PORT),
        "SIMPUL_RABBIT_DIST_PORT": str(DIST_PORT),
        "SIMPUL_RABBIT_DIR": "/tmp/simpul-rabbit-simpul-qframe",
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, f"rabbit-node.sh {' '.join(args)}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def small_frame_broker() -> Iterator[str]:
    """Our own node with max_message_size = 1 MiB (set at runtime: it applies to new channels)."""
    rabbit("start")
    try:
        rabbit("ctl", "eval", f"application:set_env(rabbit, max_message_size, {ONE_MIB}).")
        yield f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"
    finally:
        rabbit("wipe")


async def test_oversized_original_is_quarantined_under_the_frame_limit(
    small_frame_broker: str, tmp_path: Path
) -> None:
    connection = await aio_pika.connect_robust(small_frame_broker)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.default_exchange.publish(aio_pika.Message(b"x" * (ONE_MIB // 2)), "nowhere")  # fits
        with pytest.raises(Exception):  # noqa: B017  (the broker's refusal closes the channel)
            await channel.default_exchange.publish(
                aio_pika.Message(b"x" * (ONE_MIB + ONE_MIB // 5)), "nowhere"
            )
    finally:
        await connection.close()

    settings = node_settings(
        tmp_path,
        broker={"url": small_frame_broker, "management_url": f"http://guest:guest@127.0.0.1:{MGMT_PORT}"},
    )
    async with Node(settings) as node:
        big = item("ormas_registration", "FRAME-1", catatan="z" * (2 * ONE_MIB))
        status, body, _ = await post(node, "ormas_registration", big, query="?on_invalid=quarantine")
        assert status == 202 and body["quarantined"] == 1, body
        await until(lambda: node.quarantine_store.count() == 1, timeout=20)
        (entry,) = node.quarantine_store.list()
        assert entry.original_truncated and entry.original_bytes and entry.original_bytes > 2 * ONE_MIB
        assert node.transport.ready  # the node's channels were never closed by the broker
